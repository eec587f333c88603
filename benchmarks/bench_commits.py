"""lightgrad at two commits, side by side: is a change slower on the benchmark workloads?

Each block times one workload in a fresh interpreter on one source tree (the base commit,
checked out with `git worktree`, or the working tree), in pairs that alternate which tree
runs first; the report gives the median over pairs of head/base (below 1: head is faster).
Workloads: (a) and (b) of bench.py, (d) and (e) of bench_nn.py.
Run: python benchmarks/bench_commits.py --base REF [--blocks N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name -> (module, factory, steps per block)
WORKLOADS = {
    "(a) chapter network, one SGD step": ("bench", "chapter_step_factory", 300),
    "(b) per-op overhead, 2x2": ("bench", "per_op_factory", 2000),
    "(d) MLP 784-512-512-10, batch 256": ("bench_nn", "mlp_factory", 20),
    "(e) digits CNN, batch 64": ("bench_nn", "cnn_factory", 30),
}

# both trees get the same malloc settings from the start of the process: older commits
# tuned malloc when nn_conv was imported, newer ones leave it to lightgrad.utils.tune_malloc
BLOCK = """
import ctypes, sys
libc = ctypes.CDLL(None)
libc.mallopt(-1, 64 << 20), libc.mallopt(-3, 16 << 20)   # M_TRIM_ and M_MMAP_THRESHOLD
sys.path[:0] = [{src!r}, {here!r}]
import lightgrad, lightgrad.nn, lightgrad.utils
from bench import time_block
from {module} import {factory} as factory
step = factory(lightgrad)
for _ in range(max({number} // 10, 5)):
    step()
print(time_block(step, {number}))
"""


def time_in(src, module, factory, number):
    code = BLOCK.format(src=src, here=HERE, module=module, factory=factory, number=number)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=HERE)
    return float(out.stdout.split()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True, help="the commit to compare against")
    p.add_argument("--blocks", type=int, default=9)
    p.add_argument("--only", default="abde", help="workload letters to run, e.g. 'ab'")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, "base")
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", tree, args.base],
                       check=True, capture_output=True)
        try:
            print(f"head (working tree) against {args.base}, median of {args.blocks} block "
                  "pairs; head/base < 1 means head is faster")
            for name, (module, factory, number) in WORKLOADS.items():
                if name[1] not in args.only:
                    continue
                ratios, heads = [], []
                for i in range(args.blocks):
                    # NOTE: the second block of a pair runs measurably slower here (about 4%
                    # on (e)), so the pairs alternate which tree goes first
                    first, second = (tree, ROOT) if i % 2 == 0 else (ROOT, tree)
                    t = {src: time_in(os.path.join(src, "src"), module, factory, number)
                         for src in (first, second)}
                    base, head = t[tree], t[ROOT]
                    ratios.append(head / base)
                    heads.append(head)
                print(f"{name:40s} head {statistics.median(heads) * 1e6:9.1f} us   "
                      f"head/base {statistics.median(ratios):.3f}")
        finally:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", tree],
                           check=True)


if __name__ == "__main__":
    main()
