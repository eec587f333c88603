"""Every collective against NumPy's reduction of all ranks' inputs (run under mpiexec)."""
import numpy as np

import lightgrad as torch
import lightgrad.distributed as dist
from lightgrad.distributed import ReduceOp


def data(r, shape=(2, 3), dtype=np.float64):
    """Rank r's input: known to every rank, so each can compute the expected result."""
    rng = np.random.default_rng(100 + r)
    if np.dtype(dtype).kind == "f":
        return rng.uniform(0.5, 1.5, shape).astype(dtype)
    return rng.integers(-5, 6, shape).astype(dtype)


def close(t, want):
    got = t.numpy() if hasattr(t, "numpy") else t
    assert got.dtype == np.asarray(want).dtype, (got.dtype, np.asarray(want).dtype)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def main():
    dist.init_process_group("mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    assert dist.is_initialized() and dist.get_backend() == "mpi"
    every = [data(k) for k in range(n)]
    reductions = {ReduceOp.SUM: np.sum, ReduceOp.AVG: np.mean, ReduceOp.MAX: np.max,
                  ReduceOp.MIN: np.min, ReduceOp.PRODUCT: np.prod}
    for op, fn in reductions.items():
        for async_op in (False, True):
            for dtype in (np.float32, np.float64, np.int64):
                mine = [data(k, dtype=dtype) for k in range(n)]
                t = torch.from_numpy(mine[r].copy())
                work = dist.all_reduce(t, op=op, async_op=async_op)
                if async_op:
                    assert work.wait() is True and work.is_completed()
                else:
                    assert work is None
                want = fn(np.stack(mine), axis=0)
                if op == ReduceOp.AVG and dtype == np.int64:
                    want = np.sum(np.stack(mine), axis=0) // n
                close(t, want.astype(dtype))
    # in place on a non-contiguous view writes through to the base
    base = torch.from_numpy(np.zeros((3, 4)) + r + 1)
    view = base.t()
    dist.all_reduce(view)
    close(base, np.full((3, 4), n * (n + 1) / 2))
    # 0-d and bool
    s = torch.tensor(float(r))
    dist.all_reduce(s, op=ReduceOp.MAX)
    assert s.item() == n - 1
    b = torch.tensor([r == 0, False, True])
    dist.all_reduce(b)                          # SUM on bool is a logical or
    assert b.tolist() == [True, False, True]

    for src in range(n):
        for async_op in (False, True):
            t = torch.from_numpy(every[r].copy())
            w = dist.broadcast(t, src=src, async_op=async_op)
            if async_op:
                w.wait()
            close(t, every[src])

    for async_op in (False, True):
        out = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(n)]
        w = dist.all_gather(out, torch.from_numpy(every[r].copy()), async_op=async_op)
        if async_op:
            assert w.result() is out
        for k in range(n):
            close(out[k], every[k])
    big = torch.zeros(2 * n, 3, dtype=torch.float64)
    dist.all_gather_into_tensor(big, torch.from_numpy(every[r].copy()))
    close(big, np.concatenate(every))

    objs = [None] * n
    dist.all_gather_object(objs, {"rank": r, "word": "x" * r})
    assert objs == [{"rank": k, "word": "x" * k} for k in range(n)], objs
    lst = [r, "a"] if r == n - 1 else [None, None]
    dist.broadcast_object_list(lst, src=n - 1)
    assert lst == [n - 1, "a"]

    for dst in range(n):
        for op, fn in reductions.items():
            t = torch.from_numpy(every[r].copy())
            w = dist.reduce(t, dst=dst, op=op, async_op=True)
            w.wait()
            close(t, fn(np.stack(every), axis=0) if r == dst else every[r])

    # reduce_scatter: input_list[k] on rank q is data(q)[k-th chunk view] -> rank r gets
    # the reduction over q of rank q's r-th input
    inputs = {q: [data(10 * q + k, (4,)) for k in range(n)] for q in range(n)}
    for op, fn in reductions.items():
        out = torch.zeros(4, dtype=torch.float64)
        dist.reduce_scatter(out, [torch.from_numpy(a.copy()) for a in inputs[r]], op=op)
        close(out, fn(np.stack([inputs[q][r] for q in range(n)]), axis=0))
    out = torch.zeros(4, dtype=torch.float64)
    flat = torch.from_numpy(np.concatenate(inputs[r]))
    dist.reduce_scatter_tensor(out, flat, async_op=True).wait()
    close(out, np.sum(np.stack([inputs[q][r] for q in range(n)]), axis=0))

    gl = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(n)] if r == 0 else None
    dist.gather(torch.from_numpy(every[r].copy()), gl, dst=0)
    if r == 0:
        for k in range(n):
            close(gl[k], every[k])
    t = torch.zeros(2, 3, dtype=torch.float64)
    sl = [torch.from_numpy(a.copy()) for a in every] if r == 1 else None
    dist.scatter(t, sl, src=1)
    close(t, every[r])

    # point to point around a ring, blocking and non-blocking
    right, left = (r + 1) % n, (r - 1) % n
    if r % 2 == 0:
        dist.send(torch.from_numpy(every[r].copy()), right)
        t = torch.zeros(2, 3, dtype=torch.float64)
        assert dist.recv(t, left) == left
    else:
        t = torch.zeros(2, 3, dtype=torch.float64)
        assert dist.recv(t) == left             # any source
        dist.send(torch.from_numpy(every[r].copy()), right)
    close(t, every[left])
    t = torch.zeros(2, 3, dtype=torch.float64)
    ws = dist.isend(torch.from_numpy(every[r].copy()), right, tag=7)
    wr = dist.irecv(t, left, tag=7)
    wr.wait()
    ws.wait()
    close(t, every[left])

    dist.barrier()
    dist.barrier(async_op=True).wait()
    dist.destroy_process_group()
    assert not dist.is_initialized()
    print(f"collectives ok on rank {r} of {n}", flush=True)


if __name__ == "__main__":
    main()
