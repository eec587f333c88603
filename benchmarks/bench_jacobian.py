"""Jacobians of f: R^200 -> R^200, f(v) = tanh(W v) * v + cumsum(sin v), float64.

  lightgrad   jacobian(f, x, vectorize=True): one batched backward pass of 200 rows
  lg-loop     jacobian(f, x): one backward pass per row (200 passes)
  torch       torch.autograd.functional.jacobian(f, x, vectorize=True) (vmap)
  torch-loop  torch's jacobian without vectorize
  numpy       the Jacobian written out by hand in NumPy

Target: the batched pass is at least 5x faster than one pass per row. Same method as
bench.py (interleaved blocks, median of per-block ratios).

Also, against torch.func: (g) per-example gradients of a 64-64-10 MLP over a batch of 64,
vmap(grad(loss)); (h) jacfwd of the same f (200 basis tangents in one forward pass).
Run: python benchmarks/bench_jacobian.py [--blocks N]
"""
import argparse
import platform
import time

import numpy as np

from bench import compare

N = 200


def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((N, N)) / 14, rng.standard_normal(N)


def jacobian_factory(mod, vectorize):
    w, x = (mod.tensor(a) for a in data())

    def f(v):
        return mod.tanh(w @ v) * v + v.sin().cumsum(0)
    return lambda: mod.autograd.functional.jacobian(f, x, vectorize=vectorize)


def jacobian_numpy():
    w, x = data()
    lower = np.tril(np.ones((N, N)))

    def jac():
        t = np.tanh(w @ x)
        return (x * (1 - t * t))[:, None] * w + np.diag(t) + lower * np.cos(x)
    return jac


def per_example_factory(mod):
    mod.manual_seed(0)
    model = mod.nn.Sequential(mod.nn.Linear(64, 64), mod.nn.Tanh(), mod.nn.Linear(64, 10))
    params = {k: p.detach() for k, p in model.named_parameters()}
    rng = np.random.default_rng(0)
    x = mod.tensor(rng.standard_normal((64, 64), dtype=np.float32))
    y = mod.tensor(rng.integers(0, 10, 64))

    def loss(p, xi, yi):
        out = mod.func.functional_call(model, p, (xi.unsqueeze(0),))
        return mod.nn.functional.cross_entropy(out, yi.unsqueeze(0))
    grads = mod.func.vmap(mod.func.grad(loss), in_dims=(None, 0, 0))
    return lambda: grads(params, x, y)


def jacfwd_factory(mod):
    w, x = (mod.tensor(a) for a in data())
    jac = mod.func.jacfwd(lambda v: mod.tanh(w @ v) * v + v.sin().cumsum(0))
    return lambda: jac(x)


def check(torch, lightgrad):
    """All five give the same Jacobian."""
    ref = jacobian_numpy()()
    for fn in (jacobian_factory(torch, True), jacobian_factory(lightgrad, True),
               jacobian_factory(lightgrad, False)):
        np.testing.assert_allclose(np.asarray(fn().numpy()), ref, rtol=1e-10, atol=1e-12)


def main():
    import torch

    import lightgrad
    import lightgrad.utils
    lightgrad.utils.tune_malloc()   # opt in, as a training script would (docs/benchmarks.md)
    p = argparse.ArgumentParser()
    p.add_argument("--blocks", type=int, default=9)
    args = p.parse_args()
    check(torch, lightgrad)
    name, med, ratio = compare(
        "(f) Jacobian of R^200 -> R^200",
        {"torch": jacobian_factory(torch, True), "lightgrad": jacobian_factory(lightgrad, True),
         "lg-loop": jacobian_factory(lightgrad, False),
         "torch-loop": jacobian_factory(torch, False), "numpy": jacobian_numpy()},
        5, args.blocks)
    print(f"machine: {platform.machine()}, python {platform.python_version()}, numpy "
          f"{np.__version__}, torch {torch.__version__}, date {time.strftime('%Y-%m-%d')}\n")
    print("| Jacobian of R^200 -> R^200 | time (us) | vs torch vectorized |")
    print("|---|---|---|")
    for k in ("lightgrad", "lg-loop", "torch", "torch-loop", "numpy"):
        r = 1.0 if k == "torch" else ratio[k]
        print(f"| {k} | {med[k]:.0f} | {r:.2f} |")
    speedup = ratio["lg-loop"] / ratio["lightgrad"]
    print(f"\nbatched pass speed-up over one pass per row: {speedup:.1f}x (target >= 5x)\n")
    rows = [compare("(g) per-example gradients, vmap(grad(loss)), MLP 64-64-10, batch 64",
                    {"torch": per_example_factory(torch),
                     "lightgrad": per_example_factory(lightgrad)}, 20, args.blocks),
            compare("(h) jacfwd of the same R^200 -> R^200",
                    {"torch": jacfwd_factory(torch), "lightgrad": jacfwd_factory(lightgrad)},
                    5, args.blocks)]
    print("| transform | torch (us) | lightgrad (us) | lightgrad / torch |")
    print("|---|---|---|---|")
    for name, med, ratio in rows:
        print(f"| {name} | {med['torch']:.0f} | {med['lightgrad']:.0f} | "
              f"{ratio['lightgrad']:.2f} |")


if __name__ == "__main__":
    main()
