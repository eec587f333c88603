"""Medium models, lightgrad against torch (and hand-written NumPy for (l)), side by side.

  (i) a small CNN training step: Conv2d(1,16,3,p=1), BatchNorm2d, ReLU, MaxPool2d(2),
      Conv2d(16,32,3,p=1), BatchNorm2d, ReLU, MaxPool2d(2), Flatten, Linear, cross-entropy,
      optim.SGD(momentum=0.9); batch 64 of 1x8x8 and of 1x28x28
  (j) an LSTM step: nn.LSTM(32 -> hidden 128), seq 32, batch 32, Linear head on the last
      step, MSE loss, optim.Adam
  (k) a TransformerEncoderLayer step: d_model 128, 4 heads, feed-forward 512, dropout 0.1,
      batch_first, seq 64, batch 16, mean-square loss, optim.Adam
  (l) a 50-op elementwise chain (add, mul, sin, tanh, exp of a scaled input, ...) forward
      and backward at 1, 100, 10k and 1M elements: where lightgrad's per-op overhead stops
      mattering and the kernels decide

Each runs in torch, lightgrad and `lightgrad.compile` of the same step (captured on its
second and third calls, during the warm-up, then replayed). Targets (issue #11): eager (i),
(j), (k) at most 1.0x torch, compiled at most 0.8x. Same method as bench.py
(interleaved blocks, median of per-block ratios, default threads).
Run: python benchmarks/bench_models.py [--blocks N] [--only i,j,k,l]
"""
import argparse
import platform
import time

import numpy as np

from bench import compare


def cnn_factory(mod, size):
    nn = mod.nn
    mod.manual_seed(0)
    flat = 32 * (size // 4) ** 2
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(flat, 10))
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((64, 1, size, size), dtype=np.float32))
    y = mod.tensor(rng.integers(0, 10, 64))
    opt = mod.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def lstm_factory(mod):
    nn = mod.nn
    mod.manual_seed(0)
    lstm, head = nn.LSTM(32, 128, batch_first=True), nn.Linear(128, 1)
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((32, 32, 32), dtype=np.float32))
    y = mod.tensor(rng.standard_normal((32, 1), dtype=np.float32))
    opt = mod.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)

    def step():
        opt.zero_grad()
        out, _ = lstm(x)
        loss = ((head(out[:, -1]) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return step


def transformer_factory(mod):
    nn = mod.nn
    mod.manual_seed(0)
    layer = nn.TransformerEncoderLayer(128, 4, dim_feedforward=512, dropout=0.1,
                                       batch_first=True)
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((16, 64, 128), dtype=np.float32))
    opt = mod.optim.Adam(layer.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = (layer(x) ** 2).mean()
        loss.backward()
        opt.step()
    return step


def chain_factory(mod, n):
    """50 elementwise ops (10 rounds of five), then sum and backward; the gradients add up
    in x.grad (which a compiled step must then compute: its effect is seen)."""
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal(n, dtype=np.float32), requires_grad=True)

    def step():
        h = x
        for _ in range(10):
            h = (h * 0.5 + 0.1).sin().tanh() * x
        h.sum().backward()
    return step


def chain_numpy(n):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n, dtype=np.float32)

    def step():
        hs, h = [], x
        for _ in range(10):
            a = h * np.float32(0.5) + np.float32(0.1)
            s = np.sin(a)
            t = np.tanh(s)
            hs.append((h, a, s, t))
            h = t * x
        g, gx = np.ones_like(x), np.zeros_like(x)
        for _h, a, _s, t in reversed(hs):
            gx += g * t
            g = g * x * (1 - t * t) * np.cos(a) * np.float32(0.5)
        gx += g
    return step


def main():
    import torch

    import lightgrad
    import lightgrad.utils
    lightgrad.utils.tune_malloc()   # opt in, as a training script would (docs/benchmarks.md)
    p = argparse.ArgumentParser()
    p.add_argument("--blocks", type=int, default=11)
    p.add_argument("--only", default="i,j,k,l")
    args = p.parse_args()
    only = set(args.only.split(","))
    def both(f, *a):    # torch eager, lightgrad eager and lightgrad.compile of the same step
        return {"torch": f(torch, *a), "lightgrad": f(lightgrad, *a),
                "compiled": lightgrad.compile(f(lightgrad, *a))}
    rows = []
    if "i" in only:
        rows.append(compare("(i) CNN + BatchNorm, batch 64 of 1x8x8, SGD momentum",
                            both(cnn_factory, 8), 30, args.blocks))
        rows.append(compare("(i) CNN + BatchNorm, batch 64 of 1x28x28, SGD momentum",
                            both(cnn_factory, 28), 5, args.blocks))
    if "j" in only:
        rows.append(compare("(j) LSTM 32->128, seq 32, batch 32, Adam", both(lstm_factory), 3,
                            args.blocks))
    if "k" in only:
        rows.append(compare("(k) TransformerEncoderLayer d=128, 4 heads, seq 64, batch 16, Adam",
                            both(transformer_factory), 3, args.blocks))
    if "l" in only:
        for n, number in ((1, 200), (100, 200), (10_000, 50), (1_000_000, 2)):
            rows.append(compare(f"(l) 50-op elementwise chain, {n:,} elements",
                                {**both(chain_factory, n), "numpy": chain_numpy(n)}, number,
                                args.blocks))
    print(f"machine: {platform.machine()}, python {platform.python_version()}, numpy "
          f"{np.__version__}, torch {torch.__version__}, date {time.strftime('%Y-%m-%d')}\n")
    print("| workload | torch (ms) | lightgrad (ms) | compiled (ms) | numpy (ms) | "
          "lightgrad/torch | compiled/torch | numpy/torch |")
    print("|---|---|---|---|---|---|---|---|")
    for name, med, ratio in rows:
        npy = f"{med['numpy'] / 1e3:.3f}" if "numpy" in med else "-"
        npr = f"{ratio['numpy']:.2f}" if "numpy" in ratio else "-"
        print(f"| {name} | {med['torch'] / 1e3:.3f} | {med['lightgrad'] / 1e3:.3f} | "
              f"{med['compiled'] / 1e3:.3f} | {npy} | {ratio['lightgrad']:.2f} | "
              f"{ratio['compiled']:.2f} | {npr} |")


if __name__ == "__main__":
    main()
