"""What the checkpoint readers and the writer share: the error type, dtype names, Parameters,
and the bounds-checked view of a storage."""
import pickle
import sys

import numpy as np

from .. import _dtype

MAX_DEPTH = 500     # nesting deeper than this is refused (a crafted file could recurse)


class CheckpointError(pickle.UnpicklingError, RuntimeError):
    """A checkpoint that lightgrad refuses to load: corrupt, crafted or unsupported."""


def fail(msg):
    raise CheckpointError(f"lightgrad.load: invalid checkpoint: {msg}")


def dtypes():
    return {d.name: d for d in _dtype._ALL}


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def short(v):
    s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


def is_parameter(t):
    nn = sys.modules.get("lightgrad.nn")      # no nn imported: no Parameter exists
    return nn is not None and isinstance(t, nn.Parameter)


def make_parameter(t, requires_grad):
    from ..nn import Parameter      # nn loads only when a checkpoint holds a Parameter
    return Parameter(t, requires_grad=requires_grad)


def view(buf, np_dtype, offset, shape, stride, what):
    """An ndarray over `buf` after checking that every element lies inside it (offset in
    bytes, stride in elements)."""
    if not (isinstance(shape, (list, tuple)) and all(is_int(s) and s >= 0 for s in shape)):
        fail(f"{what}: shape must be a list of non-negative ints, got {shape!r}")
    if not (isinstance(stride, (list, tuple)) and len(stride) == len(shape)
            and all(is_int(s) for s in stride)):
        fail(f"{what}: stride must be a list of {len(shape)} ints, got {stride!r}")
    if not is_int(offset) or offset < 0:
        fail(f"{what}: offset must be a non-negative int, got {offset!r}")
    item = np_dtype.itemsize
    if 0 not in shape:
        lo = offset + item * sum(min(0, (n - 1) * s) for n, s in zip(shape, stride))
        hi = offset + item * sum(max(0, (n - 1) * s) for n, s in zip(shape, stride)) + item
        if lo < 0 or hi > len(buf):
            fail(f"{what}: shape {list(shape)}, stride {list(stride)} and offset {offset} "
                 f"reach bytes [{lo}, {hi}) outside its storage of {len(buf)} bytes")
        arr = np.ndarray(tuple(shape), np_dtype, buffer=buf, offset=offset,
                         strides=tuple(s * item for s in stride))
    else:   # no element is read; keep the saved strides (NumPy's own empty arrays drop them)
        arr = np.ndarray(tuple(shape), np_dtype, buffer=bytearray(0),
                         strides=tuple(s * item for s in stride))
    if not np_dtype.isnative:
        arr = arr.astype(np_dtype.newbyteorder("="))
    if arr.dtype == np.bool_ and arr.size and arr.view(np.uint8).max() > 1:
        fail(f"{what}: bool tensor holds bytes other than 0 and 1")
    return arr
