"""lightgrad against torch and hand-written NumPy, side by side in one process.

Workloads (issue #2, item 6):
  (a) the chapter's network: n=100, 3 -> 32 -> 1, manual SGD under no_grad; time per step
  (b) per-op overhead: c = (a*b + a).sum(); c.backward() on 2x2 tensors
  (c) import time of lightgrad against `import numpy` (fresh interpreters)
  compiled rows: (a) and (b) as `lightgrad.compile(step)` (capture and replay) against torch
  eager, torch.compile(step) where it runs (it needs a C compiler; --no-torch-compile skips
  it) and NumPy; target lightgrad.compile <= 0.3x torch

Method: the frameworks run interleaved block by block (A B C A B C ...), each block after a
warm-up, gc.collect() and a 50 ms sleep (BLAS/OpenMP threads spin down), and the report gives
the median over blocks of the per-block ratio lightgrad/torch and numpy/torch. Both libraries
run at their default thread settings. Run: python benchmarks/bench.py [--blocks N]
"""
import argparse
import gc
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

# Seconds to sleep before each timed block, so the other library's spinning BLAS/OpenMP
# worker threads have gone idle and do not steal this block's core.
SETTLE = 0.05


def chapter_step_factory(mod):
    """One SGD step of the chapter's network in lightgrad or torch."""
    mod.manual_seed(0)
    x = mod.randn(100, 3)
    y = (x[:, 0] * 0.2 - x[:, 1] * 1.3 - x[:, 2] * 0.5 + mod.randn(100)).unsqueeze(1)
    w1 = mod.randn(3, 32, requires_grad=True)
    w2 = mod.randn(32, 1, requires_grad=True)
    b1 = mod.zeros(1, 32, requires_grad=True)
    b2 = mod.zeros(1, 1, requires_grad=True)
    params = (w1, w2, b1, b2)

    def step():
        y_pred = x.mm(w1).add(b1).clamp(min=0).mm(w2).add(b2)
        loss = (y_pred - y).pow(2).mean()
        loss.backward()
        with mod.no_grad():
            for p in params:
                p.sub_(1e-4 * p.grad)
            for p in params:
                p.grad.zero_()
    return step


def chapter_step_numpy():
    """The same step with gradients written by hand in NumPy: the floor for this workload."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 3), dtype=np.float32)
    y = (x[:, :1] * 0.2 - x[:, 1:2] * 1.3 - x[:, 2:3] * 0.5
         + rng.standard_normal((100, 1), dtype=np.float32))
    w1 = rng.standard_normal((3, 32), dtype=np.float32)
    w2 = rng.standard_normal((32, 1), dtype=np.float32)
    b1 = np.zeros((1, 32), np.float32)
    b2 = np.zeros((1, 1), np.float32)

    def step():
        nonlocal w1, w2, b1, b2
        h = x @ w1 + b1
        hr = np.maximum(h, 0)
        y_pred = hr @ w2 + b2
        diff = y_pred - y
        g = 2 * diff / diff.size
        gw2 = hr.T @ g
        gb2 = g.sum(0, keepdims=True)
        gh = (g @ w2.T) * (h > 0)
        gw1 = x.T @ gh
        gb1 = gh.sum(0, keepdims=True)
        w1 -= 1e-4 * gw1
        w2 -= 1e-4 * gw2
        b1 -= 1e-4 * gb1
        b2 -= 1e-4 * gb2
    return step


def per_op_factory(mod):
    a = mod.randn(2, 2, requires_grad=True)
    b = mod.randn(2, 2, requires_grad=True)

    def step():
        c = (a * b + a).sum()
        c.backward()
    return step


def per_op_numpy():
    a = np.random.randn(2, 2).astype(np.float32)
    b = np.random.randn(2, 2).astype(np.float32)
    ga = np.zeros_like(a)
    gb = np.zeros_like(b)

    def step():
        c = (a * b + a).sum()  # noqa: F841
        g = np.ones_like(a)
        ga.__iadd__(g * b + g)
        gb.__iadd__(g * a)
    return step


def time_block(fn, number):
    gc.collect()
    time.sleep(SETTLE)
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def compare(name, fns, number, blocks):
    """Median per-block ratios of each function's time to torch's."""
    for fn in fns.values():
        for _ in range(max(number // 10, 5)):
            fn()  # warm-up
    times = {k: [] for k in fns}
    for _ in range(blocks):
        for k, fn in fns.items():
            times[k].append(time_block(fn, number))
    ratios = {k: median_ratio(times[k], times["torch"]) for k in fns if k != "torch"}
    if "numpy" in times:
        ratios["lightgrad/numpy"] = median_ratio(times["lightgrad"], times["numpy"])
    medians = {k: statistics.median(v) * 1e6 for k, v in times.items()}
    return name, medians, ratios


def compiled_fns(factory, numpy_fn):
    """The functions of a compiled row: torch eager, lightgrad.compile of the step, NumPy."""
    import torch

    import lightgrad
    return {"torch": factory(torch), "lightgrad": lightgrad.compile(factory(lightgrad)),
            "numpy": numpy_fn()}


def torch_compile_fns(factory):
    """torch eager and torch.compile of the step, or None where torch.compile fails here.
    Measured after every other row: a process that has run torch.compile times torch's
    eager steps several times slower (measured here), so it would skew the other rows."""
    import torch
    try:
        torch._inductor.config.compile_threads = 1      # no pool of compile workers
    except AttributeError:
        pass
    tc = torch.compile(factory(torch))
    try:
        tc()
    except Exception as e:   # no compiler, or a backend failure: leave the column out
        print(f"torch.compile left out: {type(e).__name__}: {e}", file=sys.stderr)
        return None
    return {"torch": factory(torch), "torch.compile": tc}


def print_compiled(rows, tc_rows, target="<= 0.3"):
    print("\n| compiled workload | torch (us) | lightgrad.compile (us) | numpy (us) | "
          "lightgrad.compile/torch | numpy/torch | torch.compile/torch (separate run) | "
          "target |")
    print("|---|---|---|---|---|---|---|---|")
    for (name, med, ratio), tc in zip(rows, tc_rows):
        tcr = f"{tc[2]['torch.compile']:.2f}" if tc else "-"
        print(f"| {name} | {med['torch']:.1f} | {med['lightgrad']:.1f} | {med['numpy']:.1f} | "
              f"{ratio['lightgrad']:.2f} | {ratio['numpy']:.2f} | {tcr} | {target} |")


def median_ratio(a, b):
    """Median over blocks of a's time over b's time in the same block."""
    return statistics.median(x / y for x, y in zip(a, b))


def import_time(module, runs=7):
    """Median wall time of a fresh interpreter importing `module`, minus a bare start.
    Bytecode is compiled first, as an installed package has it (pip compiles on install)."""
    import compileall
    import importlib.util
    import os
    pkg = os.path.dirname(importlib.util.find_spec(module).origin)
    compileall.compile_dir(pkg, quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(code):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        return time.perf_counter() - t0
    base, lg, np_ = [], [], []
    for _ in range(runs):
        base.append(run("pass"))
        np_.append(run("import numpy"))
        lg.append(run(f"import {module}"))
    b = statistics.median(base)
    return statistics.median(lg) - b, statistics.median(np_) - b


def main():
    import torch

    import lightgrad
    import lightgrad.utils
    lightgrad.utils.tune_malloc()   # opt in, as a training script would (docs/benchmarks.md)
    p = argparse.ArgumentParser()
    p.add_argument("--blocks", type=int, default=21)
    p.add_argument("--no-torch-compile", action="store_true")
    args = p.parse_args()
    tc = not args.no_torch_compile
    rows = [
        compare("(a) chapter network, one SGD step",
                {"torch": chapter_step_factory(torch), "lightgrad": chapter_step_factory(lightgrad),
                 "numpy": chapter_step_numpy()}, 300, args.blocks),
        compare("(b) per-op overhead: (a*b+a).sum().backward() on 2x2",
                {"torch": per_op_factory(torch), "lightgrad": per_op_factory(lightgrad),
                 "numpy": per_op_numpy()}, 2000, args.blocks),
    ]
    compiled = [
        compare("(a) chapter network, compiled step", compiled_fns(
            chapter_step_factory, chapter_step_numpy), 300, args.blocks),
        compare("(b) per-op overhead, compiled", compiled_fns(
            per_op_factory, per_op_numpy), 2000, args.blocks),
    ]
    lg_imp, np_imp = import_time("lightgrad")
    tc_rows = []
    for factory, number in ((chapter_step_factory, 300), (per_op_factory, 2000)):
        fns = torch_compile_fns(factory) if tc else None
        tc_rows.append(fns and compare("", fns, number, args.blocks))
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}")
    print(f"date: {time.strftime('%Y-%m-%d')}\n")
    print("| workload | torch (us) | lightgrad (us) | numpy (us) | lightgrad/torch | "
          "numpy/torch | target |")
    print("|---|---|---|---|---|---|---|")
    for (name, med, ratio), target in zip(rows, ("<= 0.6", "<= 0.6")):
        print(f"| {name} | {med['torch']:.1f} | {med['lightgrad']:.1f} | {med['numpy']:.1f} | "
              f"{ratio['lightgrad']:.2f} | {ratio['numpy']:.2f} | {target} |")
    print(f"| (c) import time | - | {lg_imp * 1e3:.0f} ms | {np_imp * 1e3:.0f} ms (numpy) | "
          f"lightgrad/numpy = {lg_imp / np_imp:.2f} | - | <= 2.5 |")
    print_compiled(compiled, tc_rows)


if __name__ == "__main__":
    main()
