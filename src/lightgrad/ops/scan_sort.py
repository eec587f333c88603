"""Softmax, scans (cumsum, cumprod, cummax, ...) and sorting (sort, topk, kthvalue, median,
mode), each declared once with its rule."""
import numpy as np

from .. import _dtype
from .. import return_types as _rt
from .._tensor import _make
from ._batching import along_dim, composite, reduce_over, softmax_like
from ._core import RESULT, T, Sample as S, defop, node_class, publish, record, to_out
from ._views import inplace_method
from .reduction import (_check_nonempty_dim, _even_meta, _evenly_rule, _finish, _float_input,
                        _kept_shape, _legacy, _nan_input, _no_int_grad, _one_dim, _rg,
                        _sel_meta, _select_result, _select_rule, _sum_dtype, _with)


# -- softmax / log_softmax --------------------------------------------------------------
def _softmax_rule(ns, g, d, y):
    gy = g * y
    return (gy - y * ns.sum(gy, d, keepdims=True),)


def _log_softmax_rule(ns, g, d, y):
    return (g - ns.exp(y) * ns.sum(g, d, keepdims=True),)


SoftmaxBackward0 = node_class("SoftmaxBackward0", _softmax_rule, saved=("result",),
                              meta=("dim",))
LogSoftmaxBackward0 = node_class("LogSoftmaxBackward0", _log_softmax_rule, saved=("result",),
                                 meta=("dim",))


def _softmax_input(input, dim, dtype, kernel):
    if dtype is not None and input._data.dtype != dtype.np:
        input = input.to(dtype)
    x = input._data
    if x.dtype.kind not in "fc" and x.size:     # (torch returns an empty int input as is)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_legacy(x.dtype)}\'')
    if dim is None:
        raise TypeError("softmax() missing required argument 'dim'")
    return input, x, _one_dim(dim, x.ndim)


@defop(nodes=(SoftmaxBackward0,), batch=softmax_like, samples=[
    S((2, 3), args=(1,), np_ref=lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    S((2, 2, 2), args=(0,), id="3d"), S((), args=(0,), id="0d")])
def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along `dim`, with the row max shifted out."""
    input, x, d = _softmax_input(input, dim, dtype, "softmax_kernel_impl")
    if x.size:
        e = np.exp(x - np.max(x, axis=d, keepdims=True))
        data = e / np.sum(e, axis=d, keepdims=True)
    else:
        data = x.copy()
    if _rg(input):
        return record(data, SoftmaxBackward0, (input,), (RESULT,), meta=d)
    return _make(data)


@defop(nodes=(LogSoftmaxBackward0,), batch=softmax_like, samples=[
    S((2, 3), args=(-1,), np_ref=lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
    S((3, 2), args=(0,), id="dim0")])
def log_softmax(input, dim=None, dtype=None):
    """x - logsumexp(x) along `dim`, computed stably."""
    input, x, d = _softmax_input(input, dim, dtype, "log_softmax_kernel_impl")
    if x.size:
        s = x - np.max(x, axis=d, keepdims=True)
        data = s - np.log(np.sum(np.exp(s), axis=d, keepdims=True))
    else:
        data = x.copy()
    if _rg(input):
        return record(data, LogSoftmaxBackward0, (input,), (RESULT,), meta=d)
    return _make(data)


# -- scans: cumsum / cumprod / cummax / cummin / logcumsumexp ---------------------------
_CTYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
          "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
          "bool": "bool", "complex64": "c10::complex<float>",
          "complex128": "c10::complex<double>"}


def _scan_inplace(fn):
    """cumsum_/cumprod_: torch refuses a dtype= other than the tensor's own."""
    method = inplace_method(fn)

    def op_(self, dim, *, dtype=None):
        if dtype is not None and dtype != self.dtype:
            _one_dim(dim, self._data.ndim)          # a bad dim is reported first
            a, b = (_CTYPE.get(str(t).replace("lightgrad.", ""), str(t))
                    for t in (self.dtype, dtype))
            raise RuntimeError(f"Bad in-place call: input tensor dtype {a} and output tensor "
                               f"dtype {b} should match")
        return method(self, dim, dtype=dtype)
    op_.__name__ = op_.__qualname__ = method.__name__
    return op_


CumsumBackward0 = node_class("CumsumBackward0", lambda ns, g, d: (ns.red_revcumsum(g, d),),
                             meta=("dim",))


@defop(nodes=(CumsumBackward0,), inplace=_scan_inplace, batch=along_dim(1), samples=[
    S((2, 3), args=(1,), np_ref=lambda x: x.cumsum(1)), S((), args=(0,), id="0d")])
def cumsum(input, dim, *, dtype=None, out=None):
    """Running sum along `dim`. Integer and bool inputs give int64."""
    x = input._data
    dtype = dtype or (out.dtype if out is not None else None)   # torch sums in out's dtype
    sdt = _sum_dtype(x, dtype)
    _no_int_grad(input, sdt)
    bc = sdt is not None and x.dtype != sdt
    d = _one_dim(dim, x.ndim)
    data = np.cumsum(x, axis=d, dtype=sdt) if d is not None else x.astype(sdt or x.dtype)
    data = data.reshape(x.shape)
    if _rg(input):
        return _finish(record(data, CumsumBackward0, (input,), meta=d, bcast=bc), out)
    return _finish(_make(data), out)


def _cumprod_rule(ns, g, d, x, y):
    if d is None:
        return (g,)
    if not ns.red_anyzero(x):
        return (ns.red_revcumsum(g * y, d) / x,)
    # NOTE: with zeros, y/x is undefined: for each k recompute the running products with
    # x_k := 1 (row k of an (n, n) stack) and sum g_i over i >= k. O(n^2), exact.
    n = ns.red_shape(x)[d]
    xs, gs = ns.swapaxes(x, d, -1), ns.swapaxes(g, d, -1)
    s = ns.red_shape(xs)
    eye = ns.red_eye(n, x)
    rows = ns.reshape(xs, s[:-1] + (1, n)) * (1 - eye) + eye
    prods = ns.red_cumprod(rows, -1) * ns.red_triu(n, x)
    gk = ns.sum(ns.reshape(gs, s[:-1] + (1, n)) * prods, -1)
    return (ns.swapaxes(gk, d, -1),)


CumprodBackward0 = node_class("CumprodBackward0", _cumprod_rule, saved=("self", "result"),
                              meta=("dim",))


@defop(nodes=(CumprodBackward0,), inplace=_scan_inplace, batch=along_dim(1), samples=[
    S((2, 3), args=(1,), np_ref=lambda x: x.cumprod(1)),
    S(make_inputs=_with([[2.0, 0.0, 3.0, 0.0, 1.5]]), args=(0,), id="zeros"),
    S(make_inputs=_with([[[1.5, 0.0, 2.0], [0.5, 2.0, -1.0]]]), args=(-1,), id="one-zero")])
def cumprod(input, dim, *, dtype=None, out=None):
    """Running product along `dim`; its gradient is exact with zeros in the input."""
    x = input._data
    dtype = dtype or (out.dtype if out is not None else None)   # in out's dtype, as torch
    sdt = _sum_dtype(x, dtype)
    _no_int_grad(input, sdt)
    if sdt is not None and x.dtype != sdt:
        input = input.to(_dtype.from_numpy_dtype(np.dtype(sdt)))
        x = input._data
    d = _one_dim(dim, x.ndim)
    data = np.cumprod(x, axis=d) if d is not None else x.copy()
    if _rg(input):
        return _finish(record(data, CumprodBackward0, (input,), (input, RESULT), meta=d), out)
    return _finish(_make(data), out)


def _scan_rule(ns, g, meta):
    shape, d, idx = meta
    return (ns.red_scatter(g, idx, d, shape),)


CummaxBackward0 = node_class("CummaxBackward0", _scan_rule,
                             meta=("self_sym_sizes", "dim", "indices"))
CumminBackward0 = node_class("CumminBackward0", _scan_rule,
                             meta=("self_sym_sizes", "dim", "indices"))


def _cum_extreme(name, largest, cls):
    def fn(input, dim, *, out=None):
        x = input._data
        d = _one_dim(dim, x.ndim)
        if d is None:
            values, idx = x.copy(), np.zeros((), np.int64)
        else:
            xs = np.moveaxis(x, d, 0)
            vals = np.empty_like(xs)
            ids = np.zeros(xs.shape, np.int64)
            isf = x.dtype.kind in "fc"
            if xs.shape[0]:
                cur, cur_i = xs[0].copy(), np.zeros(xs.shape[1:], np.int64)
                vals[0], ids[0] = cur, cur_i
                for i in range(1, xs.shape[0]):
                    v = xs[i]
                    take = v >= cur if largest else v <= cur
                    if isf:      # NaN takes over and then stays
                        take = (take & ~np.isnan(cur)) | (np.isnan(v) & ~np.isnan(cur))
                    cur = np.where(take, v, cur)
                    cur_i = np.where(take, i, cur_i)
                    vals[i], ids[i] = cur, cur_i
            values, idx = np.moveaxis(vals, 0, d), np.moveaxis(ids, 0, d)
        if _rg(input):
            v = record(values, cls, (input,), meta=(x.shape, d, idx))
        else:
            v = _make(values)
        r = getattr(_rt, name)((v, _make(idx)))
        if out is not None:
            to_out(r[0], out[0])
            to_out(r[1], out[1])
            return getattr(_rt, name)((out[0], out[1]))
        return r
    fn.__name__ = fn.__qualname__ = name
    return fn


cummax = defop(_cum_extreme("cummax", True, CummaxBackward0), nodes=(CummaxBackward0,),
               batch=along_dim(1), samples=[
                   S((2, 3), args=(1,), np_ref=lambda x: np.maximum.accumulate(x, 1))])
cummin = defop(_cum_extreme("cummin", False, CumminBackward0), nodes=(CumminBackward0,),
               batch=along_dim(1), samples=[S((3, 2), args=(0,))])


def _lcse_rule(ns, g, d, x, y):
    if d is None:
        return (g,)
    # d x_k = sum_{i >= k} g_i exp(x_k - y_i); a per-row constant shift keeps exp in range
    c = ns.red_amaxc(x, d)
    return (ns.exp(x - c) * ns.red_revcumsum(g * ns.exp(c - y), d),)


LogcumsumexpBackward0 = node_class("LogcumsumexpBackward0", _lcse_rule,
                                   saved=("self", "result"), meta=("dim",))


@defop(nodes=(LogcumsumexpBackward0,), batch=along_dim(1), samples=[
    S((2, 3), args=(1,), np_ref=lambda x: np.log(np.exp(x).cumsum(1)))])
def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(x))) along `dim`, computed stably."""
    input = _float_input(input)
    x = input._data
    d = _one_dim(dim, x.ndim)
    if d is None or x.size == 0:
        data = x.copy()
    else:
        data = np.logaddexp.accumulate(x, axis=d)
    if _rg(input):
        return _finish(record(data, LogcumsumexpBackward0, (input,), (input, RESULT),
                              meta=d), out)
    return _finish(_make(data), out)


# -- sort / argsort / topk / kthvalue / median / mode ----------------------------------
SortBackward0 = node_class("SortBackward0", _select_rule, meta=_sel_meta)
SortBackward1 = node_class("SortBackward1", _select_rule, meta=_sel_meta)
TopkBackward0 = node_class("TopkBackward0", _select_rule, meta=_sel_meta)
KthvalueBackward0 = node_class("KthvalueBackward0", _select_rule, meta=_sel_meta)
MedianBackward1 = node_class("MedianBackward1", _select_rule, meta=_sel_meta)
NanmedianBackward1 = node_class("NanmedianBackward1", _select_rule, meta=_sel_meta)
ModeBackward0 = node_class("ModeBackward0", _select_rule, meta=_sel_meta)
MedianBackward0 = node_class("MedianBackward0", _evenly_rule, saved=("self", "result"),
                             meta=_even_meta)
NanmedianBackward0 = node_class("NanmedianBackward0", _evenly_rule, saved=("self", "result"),
                                meta=_even_meta)


def _argsort_np(x, d, descending):
    """Stable sort order along d; NaN sorts as the largest value, as in torch."""
    if d is None:
        return np.zeros((), np.int64)
    if x.dtype == np.bool_ or x.dtype.kind == "u":
        x = x.astype(np.int64)
    if not descending:
        return np.argsort(x, axis=d, kind="stable").astype(np.int64)
    if x.dtype.kind == "f":
        # primary key: NaN first; secondary: larger first (stable)
        xs = np.moveaxis(x, d, -1)
        order = np.lexsort((-xs, ~np.isnan(xs)), axis=-1)
        return np.moveaxis(order, -1, d).astype(np.int64)
    # for ints: reverse-stable via sorting the negation (bounded above by int64 max)
    return np.argsort(-x.astype(np.int64) if x.dtype != np.int64 else
                      np.where(x == np.iinfo(np.int64).min, np.iinfo(np.int64).max, -x),
                      axis=d, kind="stable").astype(np.int64)


def _out_pair(r, out, name):
    if out is None:
        return r
    to_out(r[0], out[0])
    to_out(r[1], out[1])
    return getattr(_rt, name)((out[0], out[1]))


@defop(nodes=(SortBackward0, SortBackward1), batch=along_dim(1, default=-1), samples=[
    S((2, 3), args=(1,), np_ref=lambda x: np.sort(x, 1)),
    S((3, 2), args=(0,), kwargs={"descending": True}, id="desc"),
    S((4,), kwargs={"stable": True}, id="stable")])
def sort(input, dim=-1, descending=False, *, stable=None, out=None):
    """Sorted values and their indices along `dim` (stable)."""
    x = input._data
    d = _one_dim(dim, x.ndim)
    idx = _argsort_np(x, d, descending)
    cls = SortBackward0 if stable is None else SortBackward1
    return _out_pair(_select_result("sort", input, idx, d, True, cls), out, "sort")


@defop(batch=along_dim(1, default=-1),
       samples=[S((2, 3), args=(1,), kwargs={"descending": True})])
def argsort(input, dim=-1, descending=False, *, stable=False):
    x = input._data
    return _make(_argsort_np(x, _one_dim(dim, x.ndim), descending))


@defop(nodes=(SortBackward0,), batch=composite(lambda lg, x: lg.sort(x, 0).values),
       samples=[S((3, 2), np_ref=lambda x: np.sort(x, 0))])
def msort(input, *, out=None):
    r = sort(input, 0)[0]
    return _finish(r, out)


@defop(nodes=(TopkBackward0,), batch=along_dim(2, default=-1), samples=[
    S((2, 3), args=(2,)), S((3, 2), args=(2,), kwargs={"dim": 0, "largest": False},
                            id="smallest")])
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The k largest (or smallest) elements along `dim` and their indices."""
    x = input._data
    d = _one_dim(dim, x.ndim)
    n = x.shape[d] if d is not None else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    idx = _argsort_np(x, d, largest)
    if d is not None:
        idx = np.take(idx, np.arange(k), axis=d)
    elif k == 0:
        raise RuntimeError("selected index k out of range")
    return _out_pair(_select_result("topk", input, idx, d, True, TopkBackward0), out, "topk")


@defop(nodes=(KthvalueBackward0,), batch=along_dim(2, default=-1), samples=[
    S((2, 3), args=(2,), np_ref=lambda x: np.sort(x, -1)[:, 1]),
    S((3, 2), args=(1, 0), kwargs={"keepdim": True}, id="keepdim")])
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The k-th smallest element along `dim` and its index."""
    x = input._data
    d = _one_dim(dim, x.ndim)
    n = x.shape[d] if d is not None else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension "
                           f"{d if d is not None else 0}")
    idx = _argsort_np(x, d, False)
    if d is not None:
        idx = np.take(idx, [k - 1], axis=d)
    return _out_pair(_select_result("kthvalue", input, idx, d, keepdim, KthvalueBackward0),
                     out, "kthvalue")


def _median_index(x, d, ignore_nan):
    """Index (kept dim) of the lower median along d. NaN: torch's median returns the first
    NaN; nanmedian skips NaNs (all-NaN slices give a NaN)."""
    order = _argsort_np(x, d, False)               # NaNs last, stable
    n = x.shape[d]
    if x.dtype.kind == "f":
        nans = np.sum(np.isnan(x), axis=d, keepdims=True)
    else:
        nans = np.zeros(_kept_shape(x.shape, (d,)), np.int64)
    valid = n - nans
    if ignore_nan:
        pos = np.where(valid > 0, (valid - 1) // 2, 0)
    else:
        pos = np.where(nans > 0, valid, (n - 1) // 2)
    return np.take_along_axis(order, pos, d)


def _median(name, ignore_nan, full_cls, dim_cls):
    def fn(input, dim=None, keepdim=False, *, out=None):
        x = input._data
        if dim is None:
            if x.size == 0:
                data = np.array(np.nan, dtype=x.dtype) if x.dtype.kind == "f" else None
                if data is None:
                    raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                                     "input.numel() == 0.")
            else:
                flat = x.reshape(-1)
                data = flat[_median_index(flat, 0, ignore_nan)[0]]
            if _rg(input):
                return record(data, full_cls, (input,), (input, RESULT),
                              meta=(x.shape, tuple(range(x.ndim)), False))
            return _make(data)
        d = _one_dim(dim, x.ndim)
        _check_nonempty_dim(name, x, d)
        idx = _median_index(x, d, ignore_nan) if d is not None else np.zeros((), np.int64)
        return _out_pair(_select_result(name, input, idx, d, keepdim, dim_cls), out, name)
    fn.__name__ = fn.__qualname__ = name
    return fn


median = defop(_median("median", False, MedianBackward0, MedianBackward1),
               nodes=(MedianBackward0, MedianBackward1),
               batch=reduce_over(1, values_only=True), samples=[
                   S((2, 3), np_ref=lambda x: np.sort(x, None)[2]),
                   S((2, 2), np_ref=lambda x: np.sort(x, None)[1], id="even"),
                   S((2, 3), args=(1,), id="dim"),
                   S((4, 2), args=(0,), kwargs={"keepdim": True}, id="keepdim")])
nanmedian = defop(_median("nanmedian", True, NanmedianBackward0, NanmedianBackward1),
                  nodes=(NanmedianBackward0, NanmedianBackward1),
                  batch=reduce_over(1, values_only=True),
                  samples=[S(make_inputs=_nan_input),
                           S(make_inputs=_nan_input, args=(1,), id="dim")])


@defop(nodes=(ModeBackward0,), batch=along_dim(1, default=-1), samples=[S((2, 3), args=(1,))])
def mode(input, dim=-1, keepdim=False, *, out=None):
    """The most frequent value along `dim` (the smallest among equally frequent ones) and
    the index of its last occurrence, as torch reports it."""
    x = input._data
    d = _one_dim(dim, x.ndim)
    if d is None:
        idx = np.zeros((), np.int64)
    else:
        _check_nonempty_dim("mode", x, d)
        xs = np.moveaxis(x, d, -1)
        rows = xs.reshape(-1, xs.shape[-1])
        best = np.zeros(rows.shape[0], np.int64)
        for r, row in enumerate(rows):
            vals, counts = np.unique(row, return_counts=True)
            v = vals[np.argmax(counts)]                 # first max count = smallest value
            best[r] = np.flatnonzero((row == v) | (np.isnan(row) & np.isnan(v))
                                     if row.dtype.kind == "f" else row == v)[-1]
        idx = np.expand_dims(best.reshape(xs.shape[:-1]), d)
    return _out_pair(_select_result("mode", input, idx, d, keepdim, ModeBackward0), out,
                     "mode")


T.red_cumsum = lambda x, dim: x if dim is None else cumsum(x, dim)
T.red_cumprod = lambda x, dim: cumprod(x, dim)

__all__ = publish(globals())
