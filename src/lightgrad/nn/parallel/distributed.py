"""DistributedDataParallel: average gradients across MPI ranks during backward().

How gradients meet (the reducer):
- At construction rank 0's parameters and buffers are broadcast, and the parameters are cut
  into buckets in reverse registration order (roughly the order backward produces their
  gradients): the first bucket holds up to 1 MiB, the others up to `bucket_cap_mb`.
- A post-accumulate-grad hook on every parameter copies its gradient, divided by the world
  size, into its bucket's flat buffer. When a bucket is full it is launched with a
  non-blocking MPI Iallreduce, so it travels while backward computes the earlier layers.
  Buckets launch strictly in index order, which keeps the order of collectives identical on
  every rank.
- The hook of the last parameter to become ready waits for every request and writes the
  averaged gradients back into `.grad`, so the work is done when backward() returns (that
  hook runs inside the engine, before it returns). A forward outside `no_sync()` with grad
  mode on arms the reducer; its hooks do nothing otherwise.
- With `find_unused_parameters=True` the forward output's graph is walked; parameters it
  does not reach are marked ready at once with zeros, and a small allreduce of a "used"
  mask at the end leaves `.grad` untouched for parameters unused on every rank.
"""
import contextlib
import zlib

import numpy as np

from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024


def _tensors_in(obj):
    """Every Tensor in a (nested) forward output."""
    from ..._tensor import Tensor
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors_in(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors_in(o)


def _reached_leaves(outputs):
    """ids of the leaf tensors the outputs' autograd graph reaches."""
    from ..._graph.graph import AccumulateGrad
    leaves, seen, stack = set(), set(), []
    for t in outputs:
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad:
            leaves.add(id(t))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if type(node) is AccumulateGrad:
            var = node.variable
            if var is not None:
                leaves.add(id(var))
            continue
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                stack.append(child)
    return leaves


class _Bucket:
    __slots__ = ("index", "params", "slices", "flat", "left", "request")

    def __init__(self, index, params, dtype):
        self.index = index
        self.params = params
        self.slices, off = [], 0
        for p in params:
            self.slices.append(slice(off, off + p.numel()))
            off += p.numel()
        self.flat = np.zeros(off, dtype)
        self.left = len(params)
        self.request = None


class DistributedDataParallel(Module):
    """Data parallelism over MPI: wrap a model, run one process per shard of each batch,
    and backward() leaves every rank with gradients averaged over all ranks."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None,
                 bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        from ... import distributed as dist
        from ...distributed import c10d
        self._comm = c10d._comm(process_group)  # raises when init_process_group was not called
        self._MPI = c10d._pg["MPI"]
        self.module = module
        self.broadcast_buffers = broadcast_buffers is not False
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        self.world_size = dist.get_world_size()
        self._inv_world = 1.0 / self.world_size
        self._bucket_view = bool(gradient_as_bucket_view)
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb)
                                    * 1024 * 1024)
        seen, params = set(), []
        for p in module.parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                params.append(p)
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self._params = params
        self._verify_same_model()
        if init_sync:
            self._broadcast_coalesced(list(module.parameters()) + list(module.buffers()))
        self._buckets, self._where = self._build_buckets(params)
        self._grad_hooks = [p.register_post_accumulate_grad_hook(self._make_hook(i))
                            for i, p in enumerate(params)]
        self._armed = False
        self._ready = self._fired = 0

    # -- set-up --------------------------------------------------------------------------
    def _verify_same_model(self):
        """Every rank must wrap the same architecture, or the buckets would not line up."""
        desc = repr([(tuple(p.shape), str(p.dtype)) for p in self._params]).encode()
        mine = np.array([len(self._params), zlib.crc32(desc)], np.int64)
        every = np.empty((self.world_size, 2), np.int64)
        self._comm.Allgather(mine, every)
        if not (every == every[0]).all():
            raise RuntimeError(
                "DistributedDataParallel: the module's parameters differ in number, shape or "
                f"dtype across ranks (rank {self._comm.rank} has {len(self._params)} "
                "parameters); every rank must wrap the same model")

    def _broadcast_coalesced(self, tensors):
        """Copy rank 0's tensors to every rank, one Bcast per dtype."""
        by_dtype = {}
        for t in tensors:
            if t is not None:
                by_dtype.setdefault(t._data.dtype.str, []).append(t)
        for group in by_dtype.values():
            flat = np.concatenate([t._data.reshape(-1) for t in group])
            self._comm.Bcast(flat, root=0)
            off = 0
            for t in group:
                n = t._data.size
                t._data[...] = flat[off:off + n].reshape(t._data.shape)
                off += n

    def _build_buckets(self, params):
        buckets, where, open_ = [], {}, {}
        cap_first = min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
        for i in reversed(range(len(params))):
            p = params[i]
            key = p._data.dtype.str
            cur = open_.setdefault(key, ([], [0]))
            cap = cap_first if not any(b[1] == key for b in buckets) else self.bucket_bytes_cap
            nbytes = p._data.nbytes
            if cur[0] and cur[1][0] + nbytes > cap:
                buckets.append((cur[0], key))
                cur = open_[key] = ([], [0])
            cur[0].append(i)
            cur[1][0] += nbytes
        buckets.extend((idx, key) for key, (idx, _) in open_.items() if idx)
        out = []
        for b, (idx, key) in enumerate(buckets):
            out.append(_Bucket(b, [params[i] for i in idx], np.dtype(key)))
            for k, i in enumerate(idx):
                where[i] = (b, k)
        return out, where

    # -- forward -------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        from ..._graph import grad_mode
        if self._armed and self._fired:          # a backward started but did not finish
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting "
                "a new one. This error indicates that your module has parameters that were "
                "not used in producing loss. You can enable unused parameter detection by "
                "passing the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all "
                "`forward` function outputs participate in calculating loss.")
        if self.broadcast_buffers and self.world_size > 1:
            bufs = list(self.module.buffers())
            if bufs:
                self._broadcast_coalesced(bufs)
        out = self.module(*inputs, **kwargs)
        self._armed = grad_mode.state.grad_enabled and self.require_backward_grad_sync
        if self._armed:
            self._prepare_for_backward(out)
        return out

    def _prepare_for_backward(self, out):
        self._ready = 0
        self._fired = 0
        self._next = 0
        self._marked = [False] * len(self._params)
        self._used = np.zeros(len(self._params), np.int32)
        for b in self._buckets:
            b.left = len(b.params)
            b.request = None
        if self.find_unused_parameters:
            reached = _reached_leaves(list(_tensors_in(out)))
            for i, p in enumerate(self._params):
                if id(p) not in reached:
                    self._mark_ready(i, None)

    # -- backward ------------------------------------------------------------------------
    def _make_hook(self, i):
        def hook(param):
            if self._armed:
                self._fired += 1
                self._mark_ready(i, param)
        return hook

    def _mark_ready(self, i, param):
        if self._marked[i]:
            raise RuntimeError(
                "Expected to mark a variable ready only once. This error is caused by one of "
                "the following reasons: 1) Use of a module parameter outside the `forward` "
                "function, or 2) Reused parameters in multiple reentrant backward passes or "
                "backward() called twice on one forward pass.")
        self._marked[i] = True
        b_idx, k = self._where[i]
        b = self._buckets[b_idx]
        view = b.flat[b.slices[k]]
        if param is None:                # unused in this forward: contributes zeros
            view[...] = 0
        else:
            self._used[i] = 1
            out = view.reshape(param._data.shape)
            if out.dtype.kind in "fc":   # divide by the world size while copying (one pass)
                np.multiply(param.grad._data, self._inv_world, out=out)
            else:
                np.copyto(out, param.grad._data)
        b.left -= 1
        if b.left == 0:
            self._launch_ready_buckets()
        self._ready += 1
        if self._ready == len(self._params):
            self._finalize()

    def _launch_ready_buckets(self):
        MPI = self._MPI
        buckets = self._buckets
        while self._next < len(buckets) and buckets[self._next].left == 0:
            b = buckets[self._next]
            b.request = self._comm.Iallreduce(MPI.IN_PLACE, b.flat, MPI.SUM)
            self._next += 1
        # give MPI a chance to progress requests already in flight
        pending = [b.request for b in buckets[:self._next]]
        MPI.Request.Testall(pending)

    def _finalize(self):
        MPI = self._MPI
        MPI.Request.Waitall([b.request for b in self._buckets])
        used = self._used
        if self.find_unused_parameters:
            used = used.copy()
            self._comm.Allreduce(MPI.IN_PLACE, used, MPI.MAX)
        n = self.world_size
        import lightgrad
        for i, p in enumerate(self._params):
            b_idx, k = self._where[i]
            b = self._buckets[b_idx]
            avg = b.flat[b.slices[k]].reshape(p._data.shape)
            if not used[i]:
                continue                 # unused on every rank: .grad stays as it was
            if avg.dtype.kind not in "fc":
                avg //= n
            g = p.grad
            if g is None:
                p.grad = lightgrad.from_numpy(avg if self._bucket_view else avg.copy())
            elif self._bucket_view or (g._base is None and not g._data.flags.c_contiguous):
                # a transposed gradient (as matmul's backward makes for Linear weights) is
                # swapped for a contiguous copy: a straight copy here is cheaper than writing
                # it back transposed, and the optimizer then reads it faster
                g._data = avg if self._bucket_view else avg.copy()
            else:
                g._data[...] = avg
        self._armed = False
        self._ready = self._fired = 0

    # -- user API ------------------------------------------------------------------------
    @contextlib.contextmanager
    def no_sync(self):
        """Forward/backward passes inside skip the gradient averaging; gradients accumulate
        locally and are averaged (accumulated) by the first synced backward after."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old
