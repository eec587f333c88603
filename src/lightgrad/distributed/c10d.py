"""The default process group (MPI's COMM_WORLD) and torch.distributed's collectives on it.

Every collective first compares the participants' tensor metadata with one small
Allgather (16 int64 per rank), so a shape or dtype mismatch raises the same clear error on
every rank instead of corrupting memory or hanging; then the arrays themselves go through
MPI's buffer interface. Only the default group is supported (`group=None` or
`group.WORLD`).
"""
import enum
import os
import struct
import sys
import time
import traceback

import numpy as np

from .. import _backend

__all__ = ["ReduceOp", "Work", "GroupMember", "group", "is_available", "is_mpi_available",
           "init_process_group", "is_initialized", "get_rank", "get_world_size", "get_backend",
           "destroy_process_group", "barrier", "all_reduce", "broadcast", "all_gather",
           "all_gather_into_tensor", "all_gather_object", "broadcast_object_list", "reduce",
           "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter", "send", "recv",
           "isend", "irecv"]

_NOT_INIT = ("Default process group has not been initialized, please make sure to call "
             "init_process_group.")


class ReduceOp:
    """Reduction operations; `ReduceOp.SUM` etc. are members of `ReduceOp.RedOpType`."""
    RedOpType = enum.IntEnum("RedOpType", [("SUM", 0), ("AVG", 1), ("PRODUCT", 2), ("MIN", 3),
                                           ("MAX", 4), ("BAND", 5), ("BOR", 6), ("BXOR", 7)])
    RedOpType.__module__ = __name__
    RedOpType.__str__ = lambda self: f"RedOpType.{self.name}"   # as torch prints it


for _op in ReduceOp.RedOpType:
    setattr(ReduceOp, _op.name, _op)


class GroupMember:
    """Sentinels as torch has them: `group.WORLD` is None and means the default group."""
    WORLD = None
    NON_GROUP_MEMBER = -100


group = GroupMember

# the process group: MPI module, communicator, the excepthook we replaced
_pg = {"MPI": None, "comm": None, "prev_hook": None}


def is_available():
    """True when mpi4py can be imported (the MPI backend is usable)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


is_mpi_available = is_available


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError("lightgrad.distributed needs mpi4py and an MPI library: "
                           "pip install 'lightgrad[distributed]' (mpi4py mpich)") from e
    return MPI


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the default process group; rank and world size come from MPI (mpiexec)."""
    if _pg["comm"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if backend is not None and str(backend).lower() != "mpi":
        raise ValueError(f"lightgrad.distributed supports only the 'mpi' backend, got "
                         f"'{backend}'")
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    if world_size not in (-1, None) and world_size != comm.size:
        raise ValueError(f"world_size={world_size} does not match MPI's world size "
                         f"{comm.size}; start the job with mpiexec -n {world_size}")
    if rank not in (-1, None) and rank != comm.rank:
        raise ValueError(f"rank={rank} does not match MPI's rank {comm.rank}")
    _pg.update(MPI=MPI, comm=comm, prev_hook=sys.excepthook)
    _share_cores(MPI, comm)
    sys.excepthook = _abort_on_exception


def _share_cores(MPI, comm):
    """Ranks on one machine split its cores: each gets cores // (ranks there) BLAS threads,
    where every rank's BLAS would otherwise start one thread per core and they would fight
    over them (torchrun sets OMP_NUM_THREADS=1 for the same reason). A number the user chose
    wins: OMP_NUM_THREADS or OPENBLAS_NUM_THREADS in the environment, set_num_threads
    before init_process_group, or set_num_threads after it."""
    if _backend._threads["n"] is not None or any(
            v in os.environ for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")):
        return
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    ranks_here = local.size
    local.Free()
    if ranks_here > 1:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        _backend.set_num_threads(max(1, cores // ranks_here))


def _abort_on_exception(exc_type, exc, tb):
    """An uncaught exception on one rank must end the whole job: the other ranks may be
    blocked in a collective this rank will never join, so print, then MPI_Abort.

    MPI_Abort tears the job down at once, and output that mpiexec has not yet read from this
    rank's stdout/stderr pipes would be lost: the traceback and the summary line go out in
    one write, then the rank waits (up to 10 s) until mpiexec has read both pipes."""
    prev = _pg["prev_hook"] or sys.__excepthook__
    MPI = _pg["MPI"]
    comm = MPI.COMM_WORLD if MPI is not None else None
    if comm is None:
        return prev(exc_type, exc, tb)
    summary = (f"lightgrad.distributed: rank {comm.rank} of {comm.size} failed with "
               f"{exc_type.__name__}: {exc}; aborting the job\n")
    try:
        if prev is sys.__excepthook__:      # Python's own hook: its text, in the same write
            text = "".join(traceback.format_exception(exc_type, exc, tb)) + summary
        else:
            prev(exc_type, exc, tb)
            text = summary
        if sys.stderr is not sys.__stderr__:     # the program redirected it: write there
            sys.stderr.write(text)
            text = ""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        _write_all(2, text.encode("utf-8", "backslashreplace"))
        _wait_read(10.0)
    finally:
        comm.Abort(1)


def _write_all(fd, data):
    while data:
        try:
            data = data[os.write(fd, data):]
        except InterruptedError:
            continue
        except OSError:
            return


def _wait_read(timeout):
    """Wait until the reader of this process's stdout and stderr pipes (mpiexec) has taken
    every byte written to them (FIONREAD counts the unread bytes of a pipe from either
    end); files and terminals need no wait."""
    try:
        import fcntl
        import stat
        import termios
    except ImportError:     # not POSIX
        return
    deadline = time.monotonic() + timeout
    for fd in (1, 2):
        try:
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                continue
            while time.monotonic() < deadline:
                unread = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]
                if unread <= 0:
                    break
                time.sleep(0.002)
        except OSError:
            continue


def is_initialized():
    return _pg["comm"] is not None


def _comm(grp=None):
    comm = _pg["comm"]
    if comm is None:
        raise ValueError(_NOT_INIT)
    if grp is not None and grp is not GroupMember.WORLD:
        raise ValueError("lightgrad.distributed supports only the default group")
    return comm


def get_rank(group=None):
    return _comm(group).rank


def get_world_size(group=None):
    return _comm(group).size


def get_backend(group=None):
    _comm(group)
    return "mpi"


def destroy_process_group(group=None):
    """Leave the default group (MPI itself finalizes at interpreter exit)."""
    if _pg["comm"] is None:
        raise AssertionError("Process group cannot be None")
    if sys.excepthook is _abort_on_exception:
        sys.excepthook = _pg["prev_hook"]
    _pg.update(comm=None, prev_hook=None)


class Work:
    """The handle of an async collective: `wait()` blocks until it completes and its results
    are in the tensors."""

    def __init__(self, requests=(), finish=None, result=None):
        self._requests = list(requests)
        self._finish = finish
        self._result = result if result is not None else []
        self._done = False

    def wait(self, timeout=None):
        if not self._done:
            if self._requests:
                _pg["MPI"].Request.Waitall(self._requests)
            self._done = True
            if self._finish is not None:
                self._finish()
        return True

    def is_completed(self):
        if not self._done and (not self._requests
                               or _pg["MPI"].Request.Testall(self._requests)):
            self.wait()
        return self._done

    def is_success(self):
        return self.is_completed()

    def result(self):
        self.wait()
        return self._result

    def __repr__(self):
        return f"<lightgrad.distributed.Work completed={self._done}>"


# ---- metadata checks -----------------------------------------------------------------

_META = 16  # ok flag, dtype char, ndim, numel, then up to 12 dims


def _meta(arr, ok=True):
    m = np.zeros(_META, np.int64)
    if arr is not None:
        shape = arr.shape
        m[:4] = (1 if ok else 0, ord(arr.dtype.char), len(shape), arr.size)
        dims = shape[:_META - 4] if len(shape) <= _META - 4 else (hash(shape),)
        m[4:4 + len(dims)] = dims
    else:
        m[0] = 1 if ok else 0
    return m


def _describe(m):
    if m[1] == 0:
        return "no tensor"
    ndim = int(m[2])
    dims = [int(d) for d in m[4:4 + ndim]] if ndim <= _META - 4 else f"{ndim} dims"
    return f"{np.dtype(chr(m[1])).name} tensor of shape {dims}"


def _check(comm, name, arr, ok=True, problem=""):
    """Allgather every rank's (dtype, shape, local-arguments-valid) and raise the same
    RuntimeError on every rank when they disagree, before any data moves."""
    if comm.size == 1 and ok:
        return
    mine = _meta(arr, ok)
    every = np.empty((comm.size, _META), np.int64)
    comm.Allgather(mine, every)
    if not every[:, 0].all():
        bad = [int(r) for r in np.flatnonzero(every[:, 0] == 0)]
        why = f": {problem}" if problem else ""
        raise RuntimeError(f"lightgrad.distributed.{name}: invalid arguments on rank(s) "
                           f"{bad}{why}")
    if arr is not None and not (every[:, 1:] == every[0, 1:]).all():
        lines = "; ".join(f"rank {r}: {_describe(every[r])}" for r in range(comm.size))
        raise RuntimeError(f"lightgrad.distributed.{name}: the tensors differ in shape or "
                           f"dtype across ranks ({lines})")


# ---- buffers -------------------------------------------------------------------------

def _staged(t):
    """A contiguous array MPI may read and write, plus a function that writes it back into
    the tensor (a no-op when the tensor's own array is already contiguous)."""
    arr = t._data
    if arr.dtype == np.float16:         # MPI has no half type: reduce in float32
        buf = arr.astype(np.float32)
    elif arr.flags.c_contiguous:
        buf = arr
    else:
        buf = np.ascontiguousarray(arr)

    def back():
        if buf is not arr:
            np.copyto(arr, buf, casting="unsafe")
        t._vc[0] += 1
    return buf, back


_MPI_OPS = {ReduceOp.SUM: "SUM", ReduceOp.AVG: "SUM", ReduceOp.PRODUCT: "PROD",
            ReduceOp.MIN: "MIN", ReduceOp.MAX: "MAX", ReduceOp.BAND: "BAND",
            ReduceOp.BOR: "BOR", ReduceOp.BXOR: "BXOR"}
# bool arrays reduce with logical operations (MPI defines no arithmetic on C_BOOL)
_BOOL_OPS = {"SUM": "LOR", "MAX": "LOR", "BOR": "LOR", "PROD": "LAND", "MIN": "LAND",
             "BAND": "LAND", "BXOR": "LXOR"}


def _mpi_op(op, dtype):
    try:
        name = _MPI_OPS[op]
    except (KeyError, TypeError):
        raise ValueError(f"unsupported reduce op {op!r}") from None
    if dtype == np.bool_:
        name = _BOOL_OPS[name]
    return getattr(_pg["MPI"], name)


def _average(buf, n):
    if buf.dtype.kind in "fc":
        buf /= n
    else:                               # integers: torch-like floor of the mean
        buf //= n


def _run(async_op, start, blocking, finish=None, result=None):
    """Either start the non-blocking MPI call and hand back a Work, or run the blocking one
    and finish at once."""
    if async_op:
        return Work(start(), finish, result)
    blocking()
    if finish is not None:
        finish()
    return None


def _chain(*fns):
    def run():
        for f in fns:
            f()
    return run


# ---- collectives ---------------------------------------------------------------------

def barrier(group=None, async_op=False, device_ids=None):
    comm = _comm(group)
    return _run(async_op, lambda: [comm.Ibarrier()], comm.Barrier)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` over all ranks; every rank gets the result in place."""
    comm = _comm(group)
    _check(comm, "all_reduce", tensor._data)
    buf, back = _staged(tensor)
    mop = _mpi_op(op, buf.dtype)
    MPI = _pg["MPI"]
    finish = back if op != ReduceOp.AVG else _chain(lambda: _average(buf, comm.size), back)
    return _run(async_op, lambda: [comm.Iallreduce(MPI.IN_PLACE, buf, mop)],
                lambda: comm.Allreduce(MPI.IN_PLACE, buf, mop), finish, [tensor])


def broadcast(tensor, src=0, group=None, async_op=False, group_src=None):
    """Copy rank `src`'s tensor into `tensor` on every rank."""
    comm = _comm(group)
    src = src if group_src is None else group_src
    _check(comm, "broadcast", tensor._data, 0 <= src < comm.size, f"src={src} out of range")
    buf, back = _staged(tensor)
    return _run(async_op, lambda: [comm.Ibcast(buf, root=src)],
                lambda: comm.Bcast(buf, root=src), back, [tensor])


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce onto rank `dst` in place; other ranks' tensors are left as they were."""
    comm = _comm(group)
    dst = dst if group_dst is None else group_dst
    _check(comm, "reduce", tensor._data, 0 <= dst < comm.size, f"dst={dst} out of range")
    MPI = _pg["MPI"]
    root = comm.rank == dst
    buf, back = _staged(tensor)
    mop = _mpi_op(op, buf.dtype)
    send, recv = (MPI.IN_PLACE, buf) if root else (buf, None)
    finish = None
    if root:
        finish = back if op != ReduceOp.AVG else _chain(lambda: _average(buf, comm.size), back)
    return _run(async_op, lambda: [comm.Ireduce(send, recv, mop, root=dst)],
                lambda: comm.Reduce(send, recv, mop, root=dst), finish, [tensor])


def _same_as(tensors, ref, count):
    return (len(tensors) == count and all(
        tuple(t.shape) == tuple(ref.shape) and t._data.dtype == ref._data.dtype
        for t in tensors))


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] <- rank r's tensor, on every rank."""
    comm = _comm(group)
    ok = _same_as(tensor_list, tensor, comm.size)
    _check(comm, "all_gather", tensor._data, ok,
           "tensor_list must hold world_size tensors shaped like the input")
    send = np.ascontiguousarray(tensor._data)
    out = np.empty((comm.size,) + send.shape, send.dtype)

    def finish():
        for t, part in zip(tensor_list, out):
            t._data[...] = part
            t._vc[0] += 1
    return _run(async_op, lambda: [comm.Iallgather(send, out)],
                lambda: comm.Allgather(send, out), finish, tensor_list)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Concatenate every rank's input along dim 0 into output_tensor."""
    comm = _comm(group)
    inp = input_tensor._data
    ok = (output_tensor._data.dtype == inp.dtype
          and output_tensor._data.size == inp.size * comm.size)
    _check(comm, "all_gather_into_tensor", inp, ok,
           "output must have world_size times the input's elements and its dtype")
    send = np.ascontiguousarray(inp)
    buf, back = _staged(output_tensor)
    return _run(async_op, lambda: [comm.Iallgather(send, buf)],
                lambda: comm.Allgather(send, buf), back, [output_tensor])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """output on rank r <- the reduction over ranks of input_list[r]."""
    comm = _comm(group)
    ok = _same_as(input_list, output, comm.size)
    _check(comm, "reduce_scatter", output._data, ok,
           "input_list must hold world_size tensors shaped like the output")
    send = np.stack([np.asarray(t._data) for t in input_list])
    return _reduce_scatter(comm, output, send, op, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `input` over ranks and give rank r its r-th chunk along dim 0."""
    comm = _comm(group)
    ok = (input._data.dtype == output._data.dtype
          and input._data.size == output._data.size * comm.size)
    _check(comm, "reduce_scatter_tensor", output._data, ok,
           "input must have world_size times the output's elements and its dtype")
    return _reduce_scatter(comm, output, np.ascontiguousarray(input._data), op, async_op)


def _reduce_scatter(comm, output, send, op, async_op):
    buf, back = _staged(output)
    if send.dtype != buf.dtype:         # float16 staged as float32
        send = send.astype(buf.dtype)
    mop = _mpi_op(op, buf.dtype)
    finish = back if op != ReduceOp.AVG else _chain(lambda: _average(buf, comm.size), back)
    return _run(async_op, lambda: [comm.Ireduce_scatter_block(send, buf, mop)],
                lambda: comm.Reduce_scatter_block(send, buf, mop), finish, [output])


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False, group_dst=None):
    """gather_list[r] <- rank r's tensor, on rank `dst` only."""
    comm = _comm(group)
    dst = dst if group_dst is None else group_dst
    root = comm.rank == dst
    ok = 0 <= dst < comm.size and (not root or _same_as(gather_list or [], tensor, comm.size))
    _check(comm, "gather", tensor._data, ok,
           "gather_list on dst must hold world_size tensors shaped like the input")
    send = np.ascontiguousarray(tensor._data)
    out = np.empty((comm.size,) + send.shape, send.dtype) if root else None

    def finish():
        if root:
            for t, part in zip(gather_list, out):
                t._data[...] = part
                t._vc[0] += 1
    return _run(async_op, lambda: [comm.Igather(send, out, root=dst)],
                lambda: comm.Gather(send, out, root=dst), finish, gather_list or [])


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False, group_src=None):
    """tensor on rank r <- scatter_list[r] of rank `src`."""
    comm = _comm(group)
    src = src if group_src is None else group_src
    root = comm.rank == src
    ok = 0 <= src < comm.size and (not root or _same_as(scatter_list or [], tensor, comm.size))
    _check(comm, "scatter", tensor._data, ok,
           "scatter_list on src must hold world_size tensors shaped like the output")
    send = np.stack([np.asarray(t._data) for t in scatter_list]) if root else None
    buf, back = _staged(tensor)
    if send is not None and send.dtype != buf.dtype:
        send = send.astype(buf.dtype)
    return _run(async_op, lambda: [comm.Iscatter(send, buf, root=src)],
                lambda: comm.Scatter(send, buf, root=src), back, [tensor])


def all_gather_object(object_list, obj, group=None):
    """object_list[r] <- rank r's picklable obj."""
    comm = _comm(group)
    gathered = comm.allgather(obj)
    if len(object_list) != len(gathered):
        raise ValueError(f"object_list must have world_size ({comm.size}) entries, got "
                         f"{len(object_list)}")
    object_list[:] = gathered


def broadcast_object_list(object_list, src=0, group=None, device=None, group_src=None):
    """object_list <- rank src's object_list (pickled)."""
    comm = _comm(group)
    src = src if group_src is None else group_src
    object_list[:] = comm.bcast(list(object_list) if comm.rank == src else None, root=src)


# ---- point to point: a 16-int64 header travels first, so recv can check the buffer -----

def _p2p_check(comm, name, tensor, peer):
    if not 0 <= peer < comm.size:
        raise ValueError(f"lightgrad.distributed.{name}: rank {peer} is out of range for "
                         f"world size {comm.size}")
    if peer == comm.rank:
        raise ValueError(f"lightgrad.distributed.{name}: a rank cannot {name} to itself")


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    comm = _comm(group)
    dst = dst if group_dst is None else group_dst
    _p2p_check(comm, "send", tensor, dst)
    data = np.ascontiguousarray(tensor._data)
    header = _meta(data)
    return Work([comm.Isend(header, dest=dst, tag=tag), comm.Isend(data, dest=dst, tag=tag)])


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send `tensor` to rank `dst` (blocks until the buffer may be reused)."""
    isend(tensor, dst, group, tag, group_dst).wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor` from rank `src` (any rank when None); returns the sender."""
    comm = _comm(group)
    MPI = _pg["MPI"]
    src = src if group_src is None else group_src
    if src is not None:
        _p2p_check(comm, "recv", tensor, src)
    header = np.empty(_META, np.int64)
    status = MPI.Status()
    comm.Recv(header, source=MPI.ANY_SOURCE if src is None else src, tag=tag, status=status)
    sender = status.Get_source()
    buf, back = _staged(tensor)
    if buf.dtype != tensor._data.dtype:
        buf = tensor._data.copy()
    if not (header[1:] == _meta(tensor._data)[1:]).all():
        raise RuntimeError(f"lightgrad.distributed.recv: rank {sender} sent a "
                           f"{_describe(header)} but the receiving tensor is a "
                           f"{_describe(_meta(tensor._data))}")
    comm.Recv(buf, source=sender, tag=tag)
    back()
    return sender


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Non-blocking recv; the header is matched on wait(), which returns True."""
    w = Work()
    w._finish = lambda: recv(tensor, src, group, tag, group_src)
    return w
