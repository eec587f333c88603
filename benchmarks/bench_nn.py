"""nn workloads, lightgrad against torch (and hand-written NumPy), side by side.

  (d) a batch-256 MLP on raw tensors, 784-512-512-10: relu(x@w1+b1), relu(h@w2+b2), h@w3+b3,
      F.cross_entropy, manual SGD under no_grad; targets <= 1.25x torch, <= 1.1x NumPy
  (e) the digits CNN, batch 64 of 1x8x8: Conv2d(1,16,3,p=1), ReLU, MaxPool2d(2),
      Conv2d(16,32,3,p=1), ReLU, MaxPool2d(2), Flatten, Linear(128,10), cross-entropy,
      optim.SGD; target <= 1.5x torch
  (d) compiled: lightgrad.compile of the MLP step against torch eager, torch.compile (where it
      compiles; --no-torch-compile skips it) and NumPy

Same method as bench.py (interleaved blocks, median of per-block ratios, default threads).
Run: python benchmarks/bench_nn.py [--blocks N]
"""
import argparse
import platform
import time

import numpy as np

from bench import compare, compiled_fns, print_compiled, torch_compile_fns


def mlp_factory(mod):
    F = mod.nn.functional
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((256, 784), dtype=np.float32))
    y = mod.tensor(rng.integers(0, 10, 256))
    sizes = [(784, 512), (512, 512), (512, 10)]
    ws = [mod.tensor(rng.standard_normal(s, dtype=np.float32) * 0.05, requires_grad=True)
          for s in sizes]
    bs = [mod.zeros(s[1], requires_grad=True) for s in sizes]
    params = ws + bs

    def step():
        h = (x @ ws[0] + bs[0]).relu()
        h = (h @ ws[1] + bs[1]).relu()
        loss = F.cross_entropy(h @ ws[2] + bs[2], y)
        loss.backward()
        with mod.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None
    return step


def mlp_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 784), dtype=np.float32)
    y = rng.integers(0, 10, 256)
    sizes = [(784, 512), (512, 512), (512, 10)]
    ws = [rng.standard_normal(s, dtype=np.float32) * 0.05 for s in sizes]
    bs = [np.zeros(s[1], np.float32) for s in sizes]
    n = len(y)

    def step():
        z1 = x @ ws[0] + bs[0]
        h1 = np.maximum(z1, 0)
        z2 = h1 @ ws[1] + bs[1]
        h2 = np.maximum(z2, 0)
        logits = h2 @ ws[2] + bs[2]
        m = logits.max(1, keepdims=True)
        e = np.exp(logits - m)
        s = e.sum(1, keepdims=True)
        loss = (np.log(s) + m - logits[np.arange(n), y][:, None]).mean()  # noqa: F841
        g = e / s
        g[np.arange(n), y] -= 1
        g /= n
        gw3, gb3 = h2.T @ g, g.sum(0)
        g = (g @ ws[2].T) * (z2 > 0)
        gw2, gb2 = h1.T @ g, g.sum(0)
        g = (g @ ws[1].T) * (z1 > 0)
        gw1, gb1 = x.T @ g, g.sum(0)
        for p, gp in zip(ws + bs, (gw1, gw2, gw3, gb1, gb2, gb3)):
            p -= 0.01 * gp
    return step


def cnn_factory(mod):
    nn = mod.nn
    mod.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 10))
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((64, 1, 8, 8), dtype=np.float32))
    y = mod.tensor(rng.integers(0, 10, 64))
    opt = mod.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def main():
    import torch

    import lightgrad
    import lightgrad.utils
    lightgrad.utils.tune_malloc()   # opt in, as a training script would (docs/benchmarks.md)
    p = argparse.ArgumentParser()
    p.add_argument("--blocks", type=int, default=15)
    p.add_argument("--no-torch-compile", action="store_true")
    args = p.parse_args()
    rows = [
        compare("(d) MLP 784-512-512-10, batch 256, raw tensors + F.cross_entropy",
                {"torch": mlp_factory(torch), "lightgrad": mlp_factory(lightgrad),
                 "numpy": mlp_numpy()}, 20, args.blocks),
        compare("(e) digits CNN, batch 64, nn + optim.SGD",
                {"torch": cnn_factory(torch), "lightgrad": cnn_factory(lightgrad)}, 50,
                args.blocks),
    ]
    compiled = [compare("(d) MLP 784-512-512-10, batch 256, compiled step", compiled_fns(
        mlp_factory, mlp_numpy), 20, args.blocks)]
    fns = None if args.no_torch_compile else torch_compile_fns(mlp_factory)
    tc_rows = [fns and compare("", fns, 20, args.blocks)]
    print(f"machine: {platform.machine()}, python {platform.python_version()}, numpy "
          f"{np.__version__}, torch {torch.__version__}, date {time.strftime('%Y-%m-%d')}\n")
    print("| workload | torch (us) | lightgrad (us) | numpy (us) | lightgrad/torch | "
          "lightgrad/numpy | target |")
    print("|---|---|---|---|---|---|---|")
    (name, med, ratio), (name2, med2, ratio2) = rows
    print(f"| {name} | {med['torch']:.0f} | {med['lightgrad']:.0f} | {med['numpy']:.0f} | "
          f"{ratio['lightgrad']:.2f} | {ratio['lightgrad/numpy']:.2f} | "
          "<= 1.25 torch, <= 1.1 numpy |")
    print(f"| {name2} | {med2['torch']:.0f} | {med2['lightgrad']:.0f} | - | "
          f"{ratio2['lightgrad']:.2f} | - | <= 1.5 torch |")
    print_compiled(compiled, tc_rows, "-")


if __name__ == "__main__":
    main()
