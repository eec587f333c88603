"""torch.testing.assert_close: compare tensors, arrays, numbers and containers of them with
torch's default tolerances per dtype and torch's failure messages."""
import collections.abc

import numpy as np

from . import _dtype
from ._creation import from_numpy
from ._tensor import Tensor

__all__ = ["assert_close"]

# (rtol, atol) by dtype; every other dtype (ints, bool) compares for equality
_TOLERANCES = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7),
               "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}
_NUMBER_TOLERANCES = {int: (0.0, 0.0), float: (1e-7, 1e-7), complex: (1e-7, 1e-7)}


class _Failure(Exception):
    def __init__(self, kind, msg):
        self.kind, self.msg = kind, msg


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless `actual` and `expected` are close: tensors (or NumPy
    arrays) of the same shape and dtype whose elements satisfy |a - e| <= atol + rtol * |e|,
    numbers, booleans, None, and sequences or mappings of these, compared item by item.
    Without rtol/atol, torch's defaults for the dtype apply (float32: 1.3e-6 and 1e-5,
    float64: 1e-7 and 1e-7, integers and bool: equality). msg: a string replacing the
    message, or a callable given it."""
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol,
                   equal_nan=equal_nan, check_dtype=check_dtype, check_stride=check_stride)
    path = []
    try:
        _compare(actual, expected, path, options)
    except _Failure as f:
        if isinstance(msg, str):
            raise f.kind(msg) from None
        text = f.msg
        if path:
            text += "\n\nThe failure occurred for item " + "".join(str([k]) for k in path)
        raise f.kind(msg(text) if callable(msg) else text) from None


def _is_sequence(x):
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, (str, bytes))


def _compare(actual, expected, path, options):
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, "The length of the sequences mismatch: "
                                           f"{len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            path.append(i)
            _compare(a, e, path, options)
            path.pop()
        return
    if isinstance(actual, collections.abc.Mapping) and \
            isinstance(expected, collections.abc.Mapping):
        missing, extra = expected.keys() - actual.keys(), actual.keys() - expected.keys()
        if missing or extra:
            lines = ["The keys of the mappings do not match:"]
            if missing:
                lines.append(f"Missing keys in the actual mapping: {_sorted(missing)}")
            if extra:
                lines.append(f"Additional keys in the actual mapping: {_sorted(extra)}")
            raise _Failure(AssertionError, "\n".join(lines))
        for k in actual:
            path.append(k)
            _compare(actual[k], expected[k], path, options)
            path.pop()
        return
    _compare_leaf(actual, expected, options)


def _sorted(keys):
    try:
        return sorted(keys)
    except TypeError:
        return list(keys)


def _compare_leaf(actual, expected, options):
    if actual is None or expected is None:
        if actual is not expected:
            raise _Failure(AssertionError, f"None mismatch: {actual} is not {expected}")
        return
    if isinstance(actual, (bool, np.bool_)) and isinstance(expected, (bool, np.bool_)):
        if bool(actual) is not bool(expected):
            raise _Failure(AssertionError,
                           f"Booleans mismatch: {bool(actual)} is not {bool(expected)}")
        return
    if _is_number(actual) and _is_number(expected):
        return _compare_numbers(_python_number(actual), _python_number(expected), options)
    if isinstance(actual, (Tensor, np.ndarray)) and isinstance(expected, (Tensor, np.ndarray)):
        related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
        if related and (options["allow_subclasses"] or type(actual) is type(expected)):
            return _compare_tensors(_as_tensor(actual), _as_tensor(expected), options)
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and "
                    f"{type(expected)}.")


def _is_number(x):
    return isinstance(x, (int, float, complex, np.number)) and not isinstance(x, (bool,
                                                                                   np.bool_))


def _python_number(x):
    return x.item() if isinstance(x, np.number) else x


def _as_tensor(x):
    if isinstance(x, Tensor):
        return x
    return from_numpy(np.ascontiguousarray(x) if not x.flags.writeable else x)


def _tolerances(options, *defaults):
    if options["rtol"] is not None:
        return options["rtol"], options["atol"]
    return max(d[0] for d in defaults), max(d[1] for d in defaults)


def _compare_numbers(actual, expected, options):
    if options["check_dtype"] and type(actual) is not type(expected):
        raise _Failure(AssertionError, f"The (d)types do not match: {type(actual)} != "
                                       f"{type(expected)}.")
    rtol, atol = _tolerances(options, _NUMBER_TOLERANCES[type(actual)],
                             _NUMBER_TOLERANCES[type(expected)])
    if actual == expected:
        return
    both_nan = actual != actual and expected != expected
    if both_nan and options["equal_nan"]:
        return
    if abs(actual - expected) <= atol + rtol * abs(expected):
        return
    abs_diff, rel_diff = _scalar_diffs(actual, expected)
    raise _Failure(AssertionError, _mismatch("Scalars", f"Expected {expected} but got {actual}.",
                                             abs_diff, None, atol, rel_diff, None, rtol))


def _compare_tensors(actual, expected, options):
    if actual.shape != expected.shape:
        _attribute_mismatch("shape", actual.shape, expected.shape)
    if actual.dtype is not expected.dtype:
        if options["check_dtype"]:
            _attribute_mismatch("dtype", actual.dtype, expected.dtype)
    if options["check_stride"] and actual.stride() != expected.stride():
        _attribute_mismatch("stride()", actual.stride(), expected.stride())
    rtol, atol = _tolerances(options, _TOLERANCES.get(actual.dtype.name, (0.0, 0.0)),
                             _TOLERANCES.get(expected.dtype.name, (0.0, 0.0)))
    common = _dtype.result_type(actual, expected).np
    a = actual.detach()._data.astype(common, copy=False)
    e = expected.detach()._data.astype(common, copy=False)
    if common.kind in "fc":
        matches = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=options["equal_nan"])
    elif rtol == 0 and atol == 0:
        matches = a == e
    else:
        matches = np.abs(a.astype(np.int64) - e.astype(np.int64)) <= atol + rtol * np.abs(e)
    if matches.all():
        return
    if a.ndim == 0:
        abs_diff, rel_diff = _scalar_diffs(a.item(), e.item())
        raise _Failure(AssertionError, _mismatch(
            "Scalars", f"Expected {e.item()} but got {a.item()}.", abs_diff, None, atol,
            rel_diff, None, rtol))
    raise _Failure(AssertionError, _tensor_mismatch(a, e, matches, rtol, atol))


def _attribute_mismatch(name, actual, expected):
    raise _Failure(AssertionError, f"The values for attribute '{name}' do not match: "
                                   f"{actual} != {expected}.")


def _scalar_diffs(a, e):
    diff = abs(a - e)
    return diff, float("inf") if e == 0 else diff / abs(e)


def _tensor_mismatch(a, e, matches, rtol, atol):
    n, bad, shape = matches.size, int(matches.size - matches.sum()), a.shape
    extra = f"Mismatched elements: {bad} / {n} ({bad / n:.1%})"
    a, e, matches = a.ravel(), e.ravel(), matches.ravel()
    if a.dtype.kind not in "fc":          # integers and bools: differences in int64
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = np.abs(a - e)
        abs_diff[matches] = 0
        rel_diff = abs_diff / np.abs(e)
    if rel_diff.dtype != abs_diff.dtype and abs_diff.dtype.kind == "i":
        # torch divides int64 tensors into the default float dtype
        rel_diff = rel_diff.astype(_dtype.get_default_dtype().np)
    rel_diff[matches] = 0
    i, j = int(np.argmax(abs_diff)), int(np.argmax(rel_diff))   # the first nan, if any
    return _mismatch("Tensor-likes", extra, abs_diff[i].item(), _index(i, shape), atol,
                     rel_diff[j].item(), _index(j, shape), rtol)


def _index(flat, shape):
    return tuple(int(k) for k in np.unravel_index(flat, shape))


def _mismatch(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0
    lines = [f"{identifier} are not {'equal' if equality else 'close'}!", "", extra]
    for kind, diff, idx, tol in (("absolute", abs_diff, abs_idx, atol),
                                 ("relative", rel_diff, rel_idx, rtol)):
        line = f"{kind.title()} difference: {diff}" if idx is None else \
            f"Greatest {kind} difference: {diff} at index {idx}"
        lines.append(line if equality else f"{line} (up to {tol} allowed)")
    return "\n".join(lines)
