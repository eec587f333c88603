"""Failure behaviour: mismatched collectives raise clear errors; an uncaught exception on
one rank ends the whole job."""
import sys
import time

import numpy as np

import lightgrad as torch
import lightgrad.distributed as dist


def expect_error(fn, *words):
    try:
        fn()
    except RuntimeError as e:
        for w in words:
            assert w in str(e), (w, str(e))
        return str(e)
    raise AssertionError("no error")


def mismatch(r, n):
    msg = expect_error(lambda: dist.all_reduce(torch.zeros(2 + (r == 1))),
                       "all_reduce", "differ in shape or dtype", "rank 0: float32 tensor of "
                       "shape [2]", "rank 1: float32 tensor of shape [3]")
    if r == 0:
        print(msg, flush=True)
    dtype = torch.float64 if r == n - 1 else torch.float32
    expect_error(lambda: dist.broadcast(torch.zeros(2, dtype=dtype), src=0),
                 "broadcast", f"rank {n - 1}: float64")
    out = [torch.zeros(2) for _ in range(n - (r == 0))]
    expect_error(lambda: dist.all_gather(out, torch.zeros(2)), "all_gather",
                 "invalid arguments on rank(s) [0]")
    # the group is still usable after those errors
    t = torch.ones(3)
    dist.all_reduce(t)
    assert t.tolist() == [float(n)] * 3
    if r == 0:
        dist.send(torch.zeros(4, dtype=torch.int64), 1)
    elif r == 1:
        expect_error(lambda: dist.recv(torch.zeros(4), 0), "rank 0 sent a int64 tensor "
                     "of shape [4]", "receiving tensor is a float32 tensor of shape [4]")
    print(f"mismatch ok on rank {r} of {n}", flush=True)


def crash(r, n):
    if r == 1:
        time.sleep(0.2)             # the others are already blocked in the collective
        raise ValueError("boom on purpose")
    dist.all_reduce(torch.ones(3))
    time.sleep(30)                  # never reached: the job is aborted first


def main():
    dist.init_process_group("mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    {"mismatch": mismatch, "crash": crash}[sys.argv[1]](r, n)


if __name__ == "__main__":
    np.seterr(all="raise")
    main()
