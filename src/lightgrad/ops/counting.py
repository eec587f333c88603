"""Counting and bucketing: bincount, histc, histogram, searchsorted and bucketize. torch has
no derivative for any of them: bincount (of weights) and histogram record its NotImplemented
node when an input requires grad, so backward fails there; the others return plain tensors."""
import builtins
import math
import warnings

import numpy as np

from .. import _dtype
from .. import return_types as _rt
from .._creation import linspace
from .._tensor import Tensor, _make
from ._batching import arg, set_arg
from ._core import Sample as S, defop, emit, grad_on, publish, record_multi, to_out
from .arithmetic import NotImplementedNode
from .joining import stack

# the C++ type names torch prints in histogram's dtype errors
_CPP = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char",
        "int16": "short int", "int32": "int", "int64": "long int", "uint8": "unsigned char",
        "bool": "bool", "complex64": "c10::complex<float>",
        "complex128": "c10::complex<double>"}


# -- argument checks, as torch's Python argument parser words them ----------------------------
def _want_tensor(fn, name, pos, v):
    if not isinstance(v, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(v).__name__}")


def _want_int(fn, name, v):
    """v as a Python int; torch also takes a one-element integer tensor."""
    if isinstance(v, Tensor) and v._data.dtype.kind in "iu" and v._data.size == 1:
        return int(v._data.reshape(-1)[0])
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(v).__name__}")
    return int(v)


def _want_number(fn, name, v):
    """v (a Python number or one-element tensor) as a float, as torch's Scalar.to<double>."""
    if isinstance(v, Tensor) and v._data.size == 1:
        v = v._data.reshape(-1)[0].item()
    if isinstance(v, np.generic):
        v = v.item()
    if not isinstance(v, (bool, int, float, complex)):
        raise TypeError(f"{fn}(): argument '{name}' must be Number, not {type(v).__name__}")
    if isinstance(v, complex):
        if v.imag:
            raise RuntimeError("value cannot be converted to type double without overflow")
        v = v.real
    return float(v)


def _bad_args(fn, *args, **kwargs):
    names = [type(a).__name__ for a in args] + [f"{k}={type(v).__name__}"
                                                for k, v in kwargs.items()]
    return TypeError(f"{fn}() received an invalid combination of arguments - got "
                     f"({', '.join(names)}), but expected one of: ...")


def _not_implemented(kernel, x):
    return NotImplementedError(f"\"{kernel}\" not implemented for "
                               f"'{_dtype.from_numpy_dtype(x.dtype)._legacy}'")


def _num(v):
    """A double as C++'s ostream prints it in torch's messages (%g, 'nan', '-nan', 'inf')."""
    if math.isnan(v):
        return "-nan" if math.copysign(1.0, v) < 0 else "nan"
    return f"{v:g}"


def _requiring(*ts):
    """The tensors among ts that require grad: the edges of torch's NotImplemented node."""
    return tuple(t for t in ts if isinstance(t, Tensor) and t._rg)


# -- vmap: the op on each example ---------------------------------------------------------------
def _per_example(c, args, kwargs):
    """The vmap rule of an op whose output shape does not depend on the batch: the op on each
    example in turn, the results stacked (torch's vmap falls back to the same loop for these
    ops). Examples whose shapes differ (bincount's) fail in stack, with torch's message."""
    n = c.size(*args, *kwargs.values())

    def pick(v, i):
        return v._p[i] if c.batched(v) else v
    outs = [c(*[pick(a, i) for a in args], **{k: pick(v, i) for k, v in kwargs.items()})
            for i in range(n)]
    if isinstance(outs[0], tuple):      # histogram: stack each field
        return c.wrap(type(outs[0])([stack(list(f)) for f in zip(*outs)]))
    return c.wrap(stack(outs))


def _values_batched(values_pos, values_name, seq_pos, seq_name):
    """searchsorted / bucketize under vmap: with 1-d boundaries that are not batched, the op is
    elementwise in the values, so one call on the physical values answers every example;
    otherwise the op runs on each example."""
    def rule(c, args, kwargs):
        seq = arg(args, kwargs, seq_pos, seq_name)
        if not c.batched(seq) and not c.batched(kwargs.get("sorter")) and \
                isinstance(seq, Tensor) and seq.dim() == 1:
            v = arg(args, kwargs, values_pos, values_name)
            args, kwargs = set_arg(args, kwargs, values_pos, values_name, v._p)
            return c.wrap(c(*args, **kwargs))
        return _per_example(c, args, kwargs)
    rule.__name__ = "elementwise_in_values"
    return rule


# -- binary search --------------------------------------------------------------------------------
def _sorted(row):
    """row is sorted and holds no NaN (a NaN fails every comparison but a lone one's)."""
    return bool(np.all(row[1:] >= row[:-1])) and not (row.dtype.kind == "f" and
                                                       np.isnan(row[:1]).any())


def _bisect(seq, vals, right, lo=None, hi=None):
    """torch's binary search, for every value at once: in its row of `seq` (R, n), within
    [lo, hi), the first position whose entry is >= the value (> with right), by the steps
    of torch's cus_lower_bound / cus_upper_bound (and std::upper_bound). vals: (R, m). NaN
    compares false, as in C++, so a NaN value goes past every entry; unsorted rows give what
    the same steps give."""
    n = seq.shape[1]
    if lo is None and seq.shape[0] == 1 and _sorted(seq[0]):
        # the answer is unique, and NumPy's search finds it (NaN values go last there too)
        return np.searchsorted(seq[0], vals, "right" if right else "left").astype(np.int64)
    flat = seq.reshape(-1)
    base = np.arange(seq.shape[0], dtype=np.int64)[:, None] * n   # each row's offset in flat
    lo = np.zeros(vals.shape, np.int64) if lo is None else lo
    hi = np.full(vals.shape, n, np.int64) if hi is None else hi
    while True:
        live = lo < hi
        if not live.any():
            return lo
        mid = (lo + hi) >> 1
        entry = flat[np.where(live, base + mid, 0)]
        up = ~(entry > vals) if right else ~(entry >= vals)
        lo = np.where(live & up, mid + 1, lo)
        hi = np.where(live & ~up, mid, hi)


# -- bincount -------------------------------------------------------------------------------------
def _ints(*rows):
    return lambda r: [np.array(x, np.int64) for x in rows]


@defop(nodes=(NotImplementedNode,), batch=_per_example, samples=[
    S(make_inputs=_ints([1, 2, 2, 5, 0, 2]), grad=False, np_ref=np.bincount),
    S(make_inputs=_ints([3, 1]), kwargs={"minlength": 6}, grad=False, id="minlength"),
    S(make_inputs=_ints([]), kwargs={"minlength": 3}, grad=False, id="empty"),
    S(make_inputs=lambda r: [np.array([0, 3, 3, 1]), r.uniform(-2, 2, 4)], grad=False,
      id="weights"),
    S(make_inputs=lambda r: [np.array([4, 0]), np.array([2, 5])], args=(2,), grad=False,
      id="int-weights")])
def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ..., max(input) occurs in the 1-d non-negative integer
    `input` (summing `weights` instead of counting, when given); at least minlength bins."""
    _want_tensor("bincount", "input", 1, input)
    if weights is not None:
        _want_tensor("bincount", "weights", 2, weights)
    minlength = _want_int("bincount", "minlength", minlength)
    x = input._data
    if x.dtype.kind not in "iu":
        raise _not_implemented("bincount_cpu", x)
    w = None
    if weights is not None:
        w = weights._data
        if w.dtype != np.float32:           # torch sums float32 weights as they are, others
            if w.dtype.kind == "c":         # as doubles
                warnings.warn("Casting complex values to real discards the imaginary part",
                              UserWarning, stacklevel=2)
                w = w.real
            w = w.astype(np.float64)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if x.ndim == 1 and x.size == 0:         # torch: int64 zeros, even with weights
        return _make(np.zeros(minlength, np.int64))
    if x.ndim != 1 or x.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if w is not None and (w.ndim != 1 or w.shape[0] != x.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    n = builtins.max(int(x.max()) + 1, minlength)
    if w is None:
        return _make(np.bincount(x, minlength=n).astype(np.int64))
    data = np.zeros(n, w.dtype)
    np.add.at(data, x, w)         # one add after another in the weights' dtype, as torch's loop
    return emit(data, NotImplementedNode, _requiring(weights), meta="bincount")


# -- histc / histogram ----------------------------------------------------------------------------
def _check_out_dtype(x, out, what, suffix=""):
    if out is not None and out._data.dtype != x.dtype:
        raise RuntimeError(f"torch.histogram: input tensor and {what} tensor should have the "
                           f"same dtype, but got input {_CPP[x.dtype.name]} and {what} "
                           f"{_CPP[out._data.dtype.name]}{suffix}")


def _check_bins(bins):
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")


def _edges(lo, hi, n, x):
    """torch's linspace of the bin edges, in the input's dtype (bool has none)."""
    if x.dtype.kind == "b":
        raise _not_implemented("linspace_cpu", x)
    return linspace(lo, hi, n, dtype=_dtype.from_numpy_dtype(x.dtype))._data


def _check_kernel(x):
    if x.dtype.kind != "f":
        raise _not_implemented("histogram_cpu", x)


def _linear_pos(x, edges, local_search):
    """Each element's bin by torch's linear interpolation (computed in x's dtype, as its
    kernel does), then for histogram a search of the neighbouring edges, which is what the
    edges say; `inside`: within [first, last edge] (NaN is not)."""
    left, right = edges[0], edges[-1]
    nb = edges.shape[0] - 1
    with np.errstate(all="ignore"):
        inside = (x >= left) & (x <= right)
        pos = (x - left) * x.dtype.type(nb) / (right - left)
        inside &= np.isfinite(pos)        # a range that rounds to one point in x's dtype
    pos = np.where(inside, pos, 0).astype(np.int64)   # truncation, as static_cast<int64_t>
    if local_search:
        lo, hi = np.maximum(pos - 1, 0), np.minimum(pos + 2, nb + 1)
        pos = _bisect(edges[None], x[None], True, lo[None], hi[None])[0] - 1
    return np.minimum(pos, nb - 1), inside     # the last bin includes its right edge


def _count(pos, inside, w, nb, dtype):
    hist = np.zeros(nb, dtype)
    # one add after another in the input's dtype, as torch's kernel (float16 counts saturate)
    np.add.at(hist, pos[inside], w[inside] if w is not None else dtype.type(1))
    return hist


@defop(batch=_per_example, samples=[
    S((20,), args=(5,)), S((4, 5), args=(6, -1, 1), id="range"),
    S((), args=(3,), id="0d"), S((0,), args=(4,), id="empty"),
    S(make_inputs=lambda r: [np.array([0.1, 0.2, 0.3, 0.7, 0.9, 1.0])], args=(10, 0, 1),
      id="edges")])
def histc(input, bins=100, min=0, max=0, *, out=None):
    """Counts of input's elements in `bins` equal bins over [min, max] (the data's range when
    min == max); elements outside are not counted. Float inputs only, as in torch."""
    _want_tensor("histc", "input", 1, input)
    bins = _want_int("histc", "bins", bins)
    lo, hi = _want_number("histc", "min", min), _want_number("histc", "max", max)
    x = input._data.reshape(-1)
    _check_out_dtype(x, out, "hist")
    _check_bins(bins)
    if lo == hi and x.size:
        if x.dtype.kind == "c":
            raise _not_implemented("aminmax_cpu", x)
        lo, hi = float(np.min(x)), float(np.max(x))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{_num(lo)}, {_num(hi)}] is not finite")
    if not lo < hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    edges = _edges(lo, hi, bins + 1, x)
    _check_kernel(x)
    pos, inside = _linear_pos(x, edges, local_search=False)
    return to_out(_make(_count(pos, inside, None, bins, x.dtype)), out)


def _check_weight(x, weight):
    """weight's array, checked against the flattened input as torch's histogramdd does."""
    if weight is None:
        return None
    w = weight._data
    if w.dtype != x.dtype:
        raise RuntimeError("torch.histogramdd: if weight tensor is provided, input tensor and "
                           f"weight tensor should have the same dtype, but got "
                           f"input({_CPP[x.dtype.name]}), and weight({_CPP[w.dtype.name]})")
    if w.size != x.size:
        raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the "
                           "same shape as the input tensor excluding its innermost dimension, "
                           f"but got input with shape [{x.size}, 1] and weight with shape "
                           f"[{w.size}]")
    return w.reshape(-1)


def _range_of(x, range):
    """The outer bin edges: `range`, or the data's (0, 1 when empty), widened by 0.5 on each
    side when they meet, as torch's select_outer_bin_edges."""
    if range is not None:
        if len(range) != 2:
            raise RuntimeError("torch.histogramdd: for a 1-dimensional histogram range should "
                               f"have 2 elements, but got {len(range)}")
        lo, hi = (_want_number("histogram", "range", v) for v in range)
    elif x.size:
        if x.dtype not in (np.float32, np.float64):
            raise _not_implemented("histogramdd", x)
        lo, hi = float(np.min(x)), float(np.max(x))
    else:
        lo, hi = 0.0, 1.0
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histogramdd: dimension 0's range [{_num(lo)}, {_num(hi)}] "
                           "is not finite")
    if lo > hi:
        raise RuntimeError("torch.histogramdd: min should not exceed max, but got min "
                           f"{_num(lo)} max {_num(hi)} for dimension 0")
    return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)


def _bin_tensor(x, bins):
    """The edges of a bins tensor, checked as torch's histogramdd does."""
    e = bins._data
    if e.dtype != x.dtype:
        raise RuntimeError("torch.histogramdd: input tensor and bins tensors should have the "
                           f"same dtype, but got input with dtype {_CPP[x.dtype.name]} and bins "
                           f"for dimension 0 with dtype {_CPP[e.dtype.name]}")
    if e.ndim != 1:
        raise RuntimeError("torch.histogramdd: bins tensor should have one dimension, but got "
                           f"{e.ndim} dimensions in the bins tensor for dimension 0")
    if e.size == 0:
        raise RuntimeError("torch.histogramdd: bins tensor should have at least 1 element, but "
                           "got 0 elements in the bins tensor for dimension 0")
    return e


@defop(nodes=(NotImplementedNode,), batch=_per_example, samples=[
    S((20,), args=(5,), grad=False, np_ref=lambda x: np.histogram(x, 5)[0]),
    S((3, 4), args=(4,), kwargs={"range": (-1.0, 1.5), "density": True}, grad=False,
      id="range-density"),
    S((0,), args=(3,), grad=False, id="empty"), S((), args=(2,), grad=False, id="0d"),
    S(make_inputs=lambda r: [r.uniform(-2, 2, 12), np.array([-2.0, -0.5, 0.0, 1.0, 2.0])],
      nondiff=(1,), grad=False, id="bins-tensor",
      np_ref=lambda x, b: np.histogram(x, b)[0]),
    S(make_inputs=lambda r: [r.uniform(-2, 2, 12), np.array([-1.0, 0.0, 0.5, 2.0])],
      kwargs={"density": True}, grad=False, id="bins-tensor-density"),
    S(make_inputs=lambda r: [r.uniform(-2, 2, (2, 3)), r.uniform(0, 1, 6)],
      call=lambda m, x, w: m.histogram(x, 4, weight=w), grad=False, id="weight"),
    S(make_inputs=lambda r: [r.uniform(-2, 2, 6), r.uniform(0, 1, 6)],
      call=lambda m, x, w: m.histogram(x, 3, weight=w, density=True), grad=False,
      id="weight-density")])
def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    """The histogram of input's elements: `bins` equal bins over `range` (the data's range by
    default) or the bins between the edges of a 1-d `bins` tensor; `weight` sums weights
    instead of counting; `density` scales the histogram to integrate to 1."""
    _want_tensor("histogram", "input", 1, input)
    # torch has two forms, (input, int bins, range=...) and (input, Tensor bins): no other
    int_bins = isinstance(bins, (int, np.integer)) and not isinstance(bins, bool)
    if not (int_bins or isinstance(bins, Tensor) and range is None) or \
            not isinstance(density, bool):
        given = {k: v for k, v in (("range", range), ("density", density))
                 if v is not None and v is not False}
        raise _bad_args("histogram", input, bins, **given)
    x = input._data.reshape(-1)
    if out is not None:
        _check_out_dtype(x, out[0], "hist")
        _check_out_dtype(x, out[1], "bin_edges", " for dimension 0")
    if isinstance(bins, Tensor):
        edges = _bin_tensor(x, bins).copy()
        w = _check_weight(x, weight)
        _check_bins(edges.size - 1)
        _check_kernel(x)
        pos = _bisect(edges[None], x[None], True)[0] - 1    # binary search of the edges
        inside = (x >= edges[0]) & (x <= edges[-1])
        pos = np.minimum(pos, edges.size - 2)
    else:
        _check_bins(int(bins))
        edges = _edges(*_range_of(x, range), int(bins) + 1, x)
        w = _check_weight(x, weight)
        _check_kernel(x)
        pos, inside = _linear_pos(x, edges, local_search=True)
    hist = _count(pos, inside, w, edges.size - 1, x.dtype)
    if density:     # torch divides by the total, then by each bin's width, in x's dtype
        with np.errstate(all="ignore"):
            hist = hist / hist.sum(dtype=x.dtype)
            hist = hist / np.diff(edges)
    req = _requiring(input, bins, weight)
    if req and grad_on():
        h, e = record_multi([hist, edges], NotImplementedNode, req, meta="histogram")
    else:
        h, e = _make(hist), _make(edges)
    if out is not None:
        return _rt.histogram((to_out(h, out[0]), to_out(e, out[1])))
    return _rt.histogram((h, e))


# -- searchsorted / bucketize ----------------------------------------------------------------------
def _search_operands(seq_t, values):
    """The sorted sequence's and the values' arrays, in their common dtype (a Python number
    is a wrapped scalar, as in torch: searchsorted(uint8 boundaries, -1) looks for 255)."""
    if isinstance(values, Tensor):
        v = values._data
        if v.dtype == seq_t._data.dtype:
            return seq_t._data, v
    else:
        v = np.asarray(values)
    common = _dtype.result_type(seq_t, values).np
    with np.errstate(all="ignore"):
        return seq_t._data.astype(common, copy=False), v.astype(common, copy=False)


def _check_search(seq, v, sorter, out, out_int32):
    if not (v.ndim > 0 or v.size == 1 and seq.ndim == 1):
        raise RuntimeError("torch.searchsorted(): input value can be a scalar only when "
                           f"boundaries tensor dimension is 1, but we got boundaries tensor "
                           f"dim({seq.ndim}) and input value's dim({v.ndim}) numel({v.size})")
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    if seq.ndim != 1 and (seq.ndim != v.ndim or seq.shape[:-1] != v.shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           "the first N-1 dimensions of boundaries tensor and input value "
                           f"tensor must match, but we got boundaries tensor {list(seq.shape)} "
                           f"and input value tensor {list(v.shape)}")
    if out is not None and out._data.dtype != (np.int32 if out_int32 else np.int64):
        raise RuntimeError("torch.searchsorted(): output tensor's dtype is wrong, it can only "
                           "be Int(int32) or Long(int64) depending on whether out_int32 flag is "
                           f"True, but we got output tensor's dtype {out.dtype._legacy} and "
                           f"out_int32 flag is {bool(out_int32)}")
    if sorter is not None:
        s = sorter._data
        if s.dtype != np.int64:
            raise RuntimeError("torch.searchsorted(): sorter must be a tensor of long dtype "
                               f"but got dtype {sorter.dtype._legacy}")
        if s.shape != seq.shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same "
                               f"size, but got boundary tensor {list(seq.shape)}and got sorter "
                               f"tensor {list(s.shape)}")
        if s.size and (s.min() < 0 or s.max() >= seq.shape[-1]):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")


@defop(method=False, batch=_values_batched(1, "values", 0, "sorted_sequence"), samples=[
    S(make_inputs=lambda r: [np.sort(r.uniform(-2, 2, 6)), r.uniform(-2, 2, (3, 4))],
      np_ref=np.searchsorted),
    S(make_inputs=lambda r: [np.array([-1.0, 0.0, 0.0, 1.0]), np.array([0.0, 1.0, -3, 2])],
      kwargs={"right": True}, id="right"),
    S(make_inputs=lambda r: [np.array([-1.0, 0.0, 0.0, 1.0]), np.array([0.0, 1.0, -3, 2])],
      kwargs={"side": "right", "out_int32": True}, id="side-int32"),
    S(make_inputs=lambda r: [np.sort(r.uniform(-2, 2, (2, 5)), -1), r.uniform(-2, 2, (2, 3))],
      id="rows"),
    S(make_inputs=lambda r: [np.sort(r.uniform(-2, 2, 5)), r.uniform(-2, 2, (4,))],
      nondiff=(0,), id="values-batched"),
    S(make_inputs=lambda r: [np.array([3.0, -1.0, 2.0, 0.5]), r.uniform(-2, 3, 5),
                             np.array([1, 3, 2, 0])],
      call=lambda m, s, v, o: m.searchsorted(s, v, sorter=o), id="sorter"),
    S(make_inputs=lambda r: [np.sort(r.uniform(-2, 2, 5))], call=lambda m, s: m.searchsorted(
        s, 0.25), id="scalar"),
    S(make_inputs=lambda r: [np.array([1, 3, 5, 7]), np.array([[0, 3], [6, 9]])], id="int")])
def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None,
                 out=None, sorter=None):
    """The index in each row of `sorted_sequence` (the innermost dim) at which each value would
    be inserted to keep it sorted: before equal entries, or after them with right=True /
    side='right'. `sorter` gives the order of an unsorted sequence (argsort's)."""
    if not isinstance(sorted_sequence, Tensor) or not isinstance(values, (Tensor, bool, int,
                                                                          float, complex)):
        raise _bad_args("searchsorted", sorted_sequence, values)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError("torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side != "right":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               f"got side of {side} while right was True")
        right = side == "right"
    seq, v = _search_operands(sorted_sequence, values)
    _check_search(seq, v, sorter, out, out_int32)
    if seq.dtype.kind in "bc":
        raise _not_implemented("searchsorted_out_cpu", seq)
    if sorter is not None:                  # the sorted rows themselves
        seq = np.take_along_axis(seq, sorter._data, -1)
    n = seq.shape[-1]
    if seq.ndim == 1:
        idx = _bisect(seq[None], v.reshape(1, -1), right)
    else:
        rows = int(np.prod(seq.shape[:-1]))
        idx = _bisect(seq.reshape(rows, n), v.reshape(rows, v.shape[-1]), right)
    data = idx.reshape(v.shape).astype(np.int32 if out_int32 else np.int64)
    return to_out(_make(data), out)


@defop(method=False, batch=_values_batched(0, "input", 1, "boundaries"), samples=[
    S(make_inputs=lambda r: [r.uniform(-2, 2, (3, 4)), np.array([-1.0, 0.0, 0.5, 1.5])],
      nondiff=(1,), np_ref=lambda x, b: np.searchsorted(b, x)),
    S(make_inputs=lambda r: [np.array([-1.0, 0.0, 0.7, 2.0]), np.array([-1.0, 0.0, 1.0])],
      kwargs={"right": True, "out_int32": True}, id="right-int32"),
    S(make_inputs=lambda r: [r.uniform(-2, 2, (5,)), np.sort(r.uniform(-2, 2, 4))],
      id="boundaries-batched"),
    S(make_inputs=lambda r: [np.array([[3, -1], [7, 1]]), np.array([0.0, 2.5, 5.0])],
      id="int-input"),
    S(make_inputs=lambda r: [np.sort(r.uniform(-2, 2, 3))], call=lambda m, b: m.bucketize(
        0.5, b), id="scalar")])
def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each input value among the 1-d sorted `boundaries`: searchsorted with the
    arguments the other way round."""
    if not isinstance(boundaries, Tensor) or not isinstance(input, (Tensor, bool, int, float,
                                                                    complex)):
        raise _bad_args("bucketize", input, boundaries)
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got "
                           f"dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


__all__ = publish(globals())
