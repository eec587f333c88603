"""Tensor printing, character for character as torch prints (spec section 8).

The layout follows torch's `torch/_tensor_str.py` behaviour: one formatter per tensor (two
for complex: real and imaginary parts), chosen from the non-zero finite values only; every
element right-aligned to the formatter's width; `floor((linewidth - indent) / (width + 2))`
elements per line; summarization with `edgeitems` above `threshold`; suffixes (`dtype=`,
`grad_fn=` / `requires_grad=True`) wrapped onto a new line when they would pass `linewidth`.

Subclasses: a Tensor subclass prints as `ClassName(...)` unless its own class body sets
`_print_plain = True` (torch prints `nn.Parameter` as `tensor(...)`); such a class's
`__repr__` may prepend a header, e.g. `"Parameter containing:\\n" + Tensor.__repr__(self)`.
"""
import contextlib
import math

import numpy as np

from . import _backend, _dtype
from ._tensor import Tensor, _make

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "tensor_repr"]


class _PrintOptions:
    __slots__ = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")

    def __init__(self):
        self.precision, self.threshold, self.edgeitems, self.linewidth = 4, 1000, 3, 80
        self.sci_mode = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set print options as torch.set_printoptions does.

    NOTE: like torch, every call sets `sci_mode` to the value passed (None, i.e. automatic,
    when omitted), while the other options keep their values unless given.

    >>> set_printoptions(precision=2)
    """
    if profile is not None and profile in _PROFILES:
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = _PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current options as a dict that set_printoptions(**d) accepts."""
    return {k: getattr(PRINT_OPTS, k) for k in _PrintOptions.__slots__}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change print options: `with printoptions(precision=2): print(t)`."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# -- element formatting ------------------------------------------------------------------
class _Formatter:
    """Decides int_mode / fixed / sci notation and the common width for one real array."""
    __slots__ = ("floating", "int_mode", "sci_mode", "max_width")

    def __init__(self, a):
        self.floating = a.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        flat = a.reshape(-1)
        if not self.floating:
            if flat.size:
                if flat.dtype.kind == "b":
                    w = 4 if flat.all() else 5          # "True" / "False"
                else:
                    # the longest decimal string belongs to the minimum or the maximum
                    w = max(len(str(int(flat.min()))), len(str(int(flat.max()))))
                self.max_width = max(1, w)
            return
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return                                  # nothing decides: "0." / "nan" as is
        mags = np.abs(vals).astype(np.float64)
        lo, hi = float(mags.min()), float(mags.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        sci = PRINT_OPTS.sci_mode
        if sci is None:
            sci = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        self.sci_mode = bool(sci)
        p = PRINT_OPTS.precision
        # distinct values suffice for the width; formatting is the slow part
        pyvals = np.unique(vals).tolist() if vals.size > 64 else vals.tolist()
        if self.sci_mode:
            w = max(len(f"{v:.{p}e}") for v in pyvals)
        elif self.int_mode:
            w = max(len(f"{v:.0f}") for v in pyvals) + 1   # +1 for the trailing "."
        else:
            w = max(len(f"{v:.{p}f}") for v in pyvals)
        self.max_width = max(self.max_width, w)

    def format(self, value):
        if self.floating:
            if self.sci_mode:
                s = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
            elif self.int_mode:
                s = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    s += "."
            else:
                s = f"{value:.{PRINT_OPTS.precision}f}"
        else:
            s = f"{value}"
        return " " * (self.max_width - len(s)) + s


def _complex_str(real_str, imag_str):
    imag_str = (imag_str + "j").lstrip()
    # a sign already there (negative, -0.0, or "+") joins directly
    return real_str + imag_str if imag_str[0] in "+-" else real_str + "+" + imag_str


def _element(val, f1, f2):
    if f2 is None:
        return f1.format(val)
    return _complex_str(f1.format(val.real), f2.format(val.imag))


def _vector_str(a, indent, summarize, f1, f2):
    width = f1.max_width + 2
    if f2 is not None:
        width += f2.max_width + 1                   # the imaginary part and its "j"
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / width))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([_element(v, f1, f2) for v in a[:e].tolist()] + [" ..."]
                + [_element(v, f1, f2) for v in a[-e:].tolist()])
    else:
        data = [_element(v, f1, f2) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(a, indent, summarize, f1, f2):
    if a.ndim == 0:
        v = a.item()
        return _element(v, f1, f2)
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, f1, f2)
    e = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * e:
        rows = ([_nested_str(a[i], indent + 1, summarize, f1, f2) for i in range(e)] + ["..."]
                + [_nested_str(a[i], indent + 1, summarize, f1, f2) for i in range(n - e, n)])
    else:
        rows = [_nested_str(a[i], indent + 1, summarize, f1, f2) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _summarized(a):
    """The values a summarized print shows (the formatter looks at these only)."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        # NOTE: with edgeitems=0, a[-0:] is the whole row, as in torch
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return np.empty((0,) * a.ndim, a.dtype)
    n = a.shape[0]
    idx = list(range(e)) + list(range(n - e, n)) if n > 2 * e else range(n)
    return np.stack([_summarized(a[i]) for i in idx])


def _data_str(a, indent):
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    shown = _summarized(a) if summarize else a
    if a.dtype.kind == "c":
        f1, f2 = _Formatter(shown.real), _Formatter(shown.imag)
    else:
        f1, f2 = _Formatter(shown), None
    return _nested_str(a, indent, summarize, f1, f2)


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    # NOTE: torch's count: the last line's length plus one (plus two without a newline)
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            parts.append(", " + s)
            last += len(s) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t, tensor_contents=None):
    """repr(t) as torch writes it."""
    cls = type(t)
    plain = cls is Tensor or cls.__dict__.get("_print_plain", False)
    prefix = "tensor(" if plain else f"{cls.__name__}("
    indent = len(prefix)
    a = t._data
    dt = t.dtype
    suffixes = []
    if t.device.type != _backend.get_default_device().type:
        suffixes.append(f"device='{t.device}'")
    default = _dtype.get_default_dtype()
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        if dt not in (default, _dtype._defaults.complex, _dtype.int64, _dtype.bool):
            suffixes.append(f"dtype={dt}")
        body = None
    if tensor_contents is not None:
        body = tensor_contents
    elif body is None:
        body = _data_str(a, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    tangent = t._x.get("tangent") if t._x else None
    if tangent is not None:
        suffixes.append(f"tangent={tensor_repr(_make(tangent))}")
    return _add_suffixes(prefix + body, suffixes, indent)


def _repr(self, *, tensor_contents=None):
    return tensor_repr(self, tensor_contents)


Tensor.__repr__ = Tensor.__str__ = _repr    # the tensor core leaves printing to this module
