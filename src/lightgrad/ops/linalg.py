"""Matrix products (mm, matmul, bmm, mv, dot, outer, addmm family, einsum, tensordot, kron,
cross, trace), each beside its derivative rule. Decompositions live in linalg_ext."""
import string
import warnings

import numpy as np

from .._tensor import Tensor, _make
from .._graph.grad_mode import state as _state
from ._core import (NP, T, binary_operands, declare, inplace_method, node_class, record,
                    to_tensor)

__all__ = ["mm", "matmul", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm",
           "addmv", "addbmm", "baddbmm", "addr", "einsum", "tensordot", "trace", "kron",
           "cross", "chain_matmul"]

# c10's scalar type names, as some error texts print them ("float != double")
_C10 = {"float32": "float", "float64": "double", "float16": "c10::Half",
        "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int", "int16": "short int",
        "int8": "signed char",
        "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
        "complex128": "c10::complex<double>"}


fresh_node = node_class  # every node_class call makes a class of its own


def _rg(t):
    return isinstance(t, Tensor) and t._rg


def _tensor(x):
    return x if isinstance(x, Tensor) else to_tensor(x)


# -- rule-namespace helpers (both namespaces) ----------------------------------------------
def _np_eye(n, m, like):
    return np.eye(n, m, dtype=np.result_type(like))


def _t_eye(n, m, like):
    return _make(np.eye(n, m, dtype=like._data.dtype))


if not hasattr(T, "shape"):      # rules read shapes through ns.shape in both namespaces
    T.shape = lambda x: tuple(x._data.shape)
NP.la_eye = _np_eye
T.la_eye = _t_eye
NP.la_einsum = lambda eq, *ops: _np_einsum(eq, ops)[0]
T.la_einsum = lambda eq, *ops: _einsum_explicit(eq, ops, None)


# -- mm ------------------------------------------------------------------------------------
def _transposed(y):
    """Whether a matrix operand is laid out transposed (F order), as Linear's weight.t() is."""
    return y.ndim >= 2 and not y.flags.c_contiguous and y.flags.f_contiguous


def _mat2_grad(ns, a, g, transposed):
    """a^T g, the gradient of a product's second operand, in that operand's layout: for a
    transposed view of a weight it is computed as (g^T a)^T, so the weight's own gradient
    comes out C-contiguous, ready to become .grad without a copy (torch's layout rule)."""
    if ns.shape(a)[-2] == 1:        # a single row (per-example gradients): an outer product
        return ns.mT(a) * g        # NumPy's stacked matmul is slow for it
    return ns.mT(ns.mT(g) @ a) if transposed else ns.mT(a) @ g


def _mm_rule(ns, g, transposed, self, mat2):
    return (None if mat2 is None else g @ ns.mT(mat2),
            None if self is None else _mat2_grad(ns, self, g, transposed))


def _product_jvp(ta, tb, a, b):
    """d(a @ b) = ta @ b + a @ tb (tangents may be batches: autograd.batched.Batched)."""
    out = None if ta is None else ta @ b
    if tb is not None:
        out = a @ tb if out is None else out + a @ tb
    return out


def _mm_jvp(ns, tangents, meta, a, b):
    return _product_jvp(tangents[0], tangents[1], a, b)


MmBackward0 = node_class("MmBackward0", _mm_rule, saved=("self", "mat2"), jvp=_mm_jvp)


def _mm_check(x, y):
    if x.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if y.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if x.shape[1] != y.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({x.shape[0]}x{x.shape[1]} "
                           f"and {y.shape[0]}x{y.shape[1]})")
    if x.dtype != y.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_C10.get(x.dtype.name, x.dtype.name)} != "
                           f"{_C10.get(y.dtype.name, y.dtype.name)}")


def mm(input, mat2, *, out=None):
    """Matrix product of two 2-D tensors: `torch.mm(a, b)`."""
    a, b = _tensor(input), _tensor(mat2)
    x, y = a._data, b._data
    _mm_check(x, y)
    data = x @ y
    if _state.grad_enabled and (a._rg or b._rg):
        r = record(data, MmBackward0, (a, b), (a if b._rg else None, b if a._rg else None),
                   _transposed(y))
    else:
        r = _make(data)
    return _out(r, out)


def _out(r, out):
    if out is None:
        return r
    from ._core import to_out
    return to_out(r, out)


# -- the general matmul rule: one rule for dot, mv, bmm and every broadcasting case ---------
def _matmul_rule(ns, g, meta, a, b):
    """a @ b with a 1-D `a` read as a row (1, k) and a 1-D `b` as a column (k, 1); the
    engine sums broadcast batch dims (bcast=True). meta: (a is 1-D, b is 1-D[, b is laid
    out transposed])."""
    va, vb = meta[0], meta[1]
    sg = ns.shape(g)
    if va:
        g = ns.reshape(g, tuple(sg[:len(sg) - (0 if vb else 1)]) + (1,) +
                       (() if vb else (sg[-1],)))
    if vb:
        g = ns.reshape(g, tuple(ns.shape(g)) + (1,))
    ga = gb = None
    if b is not None:
        bm = ns.reshape(b, (-1, 1)) if vb else b
        ga = g @ ns.mT(bm)
        if va:
            s = ns.shape(ga)
            ga = ns.reshape(ga, tuple(s[:-2]) + (s[-1],))
    if a is not None:
        am = ns.reshape(a, (1, -1)) if va else a
        gb = _mat2_grad(ns, am, g, len(meta) > 2 and meta[2])
        if vb:
            s = ns.shape(gb)
            gb = ns.reshape(gb, tuple(s[:-1]))
    return ga, gb


_MM_SAVED = ("self", "other")
MvBackward0 = fresh_node("MvBackward0", _matmul_rule, saved=("self", "vec"), meta=("vector",))
DotBackward0 = fresh_node("DotBackward0", _matmul_rule, saved=("self", "tensor"),
                          meta=("vector",))
VdotBackward0 = fresh_node("VdotBackward0", _matmul_rule, saved=("self", "other"),
                           meta=("vector",))
BmmBackward0 = fresh_node("BmmBackward0", _matmul_rule, saved=("self", "mat2"),
                          meta=("vector",))
# matmul's other cases: torch reaches them through views of mm/mv/bmm; one fused node here
_MatmulUnsafeView = fresh_node("UnsafeViewBackward0", _matmul_rule, _MM_SAVED, ("vector",))
_MatmulSqueeze = fresh_node("SqueezeBackward4", _matmul_rule, _MM_SAVED, ("vector",))
_MatmulClone = fresh_node("CloneBackward0", _matmul_rule, _MM_SAVED, ("vector",))
_MatmulTranspose = fresh_node("TransposeBackward0", _matmul_rule, _MM_SAVED, ("vector",))


def _record_mm(data, cls, a, b, va, vb, bcast=False):
    if _state.grad_enabled and (a._rg or b._rg):
        return record(data, cls, (a, b), (a if b._rg else None, b if a._rg else None),
                      (va, vb), bcast=bcast)
    return _make(data)


def _dot_checks(x, y, name="dot"):
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src "
                           f"[{y.shape[0]}] to have the same number of elements, but got "
                           f"{x.shape[0]} and {y.shape[0]} elements respectively")
    if x.dtype != y.dtype:
        raise RuntimeError(f"{name} : expected both vectors to have same dtype, but found "
                           f"{_legacy(x)} and {_legacy(y)}")


def _legacy(x):
    from .._dtype import from_numpy_dtype
    return from_numpy_dtype(x.dtype)._legacy


def dot(input, tensor, *, out=None):
    """Inner product of two 1-D tensors."""
    a, b = _tensor(input), _tensor(tensor)
    x, y = a._data, b._data
    _dot_checks(x, y)
    return _out(_record_mm(np.asarray(np.dot(x, y)), DotBackward0, a, b, True, True), out)


def vdot(input, other, *, out=None):
    """Dot product conjugating the first argument (real tensors: dot)."""
    a, b = _tensor(input), _tensor(other)
    x, y = a._data, b._data
    _dot_checks(x, y, "vdot")
    return _out(_record_mm(np.asarray(np.vdot(x, y)), VdotBackward0, a, b, True, True), out)


def _mv_checks(x, y):
    if x.ndim != 2 or y.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {x.ndim}, {y.ndim}")
    if x.shape[1] != y.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({x.shape[0]}), mat "
                           f"({x.shape[0]}x{x.shape[1]}), vec ({y.shape[0]})")
    if x.dtype != y.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{_legacy(y)}, {_legacy(x)}, and {_legacy(y)}")


def mv(input, vec, *, out=None):
    """Matrix-vector product."""
    a, b = _tensor(input), _tensor(vec)
    x, y = a._data, b._data
    _mv_checks(x, y)
    return _out(_record_mm(x @ y, MvBackward0, a, b, False, True), out)


def _bmm_checks(x, y):
    if x.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if y.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if y.shape[0] != x.shape[0] or y.shape[1] != x.shape[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{x.shape[0]}, {x.shape[2]}] but got: [{y.shape[0]}, {y.shape[1]}].")
    if x.dtype != y.dtype:
        raise RuntimeError(f"expected scalar type {_legacy(x)} but found {_legacy(y)}")


def bmm(input, mat2, *, out=None):
    """Batched matrix product of two 3-D tensors with the same batch size."""
    a, b = _tensor(input), _tensor(mat2)
    x, y = a._data, b._data
    _bmm_checks(x, y)
    return _out(_record_mm(np.matmul(x, y), BmmBackward0, a, b, False, False), out)


def _broadcast_shapes(s1, s2):
    n = max(len(s1), len(s2))
    p1, p2 = (1,) * (n - len(s1)) + tuple(s1), (1,) * (n - len(s2)) + tuple(s2)
    out = []
    for i, (u, v) in enumerate(zip(p1, p2)):
        if u != v and u != 1 and v != 1:
            raise RuntimeError(f"The size of tensor a ({u}) must match the size of tensor b "
                               f"({v}) at non-singleton dimension {i}")
        out.append(max(u, v) if u != 0 and v != 0 else 0)
    return tuple(out)


def matmul_general(a, b):
    """torch.matmul for every case but 2-D @ 2-D, in one fused node named as torch names it."""
    x, y = a._data, b._data
    da, db = x.ndim, y.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{da}D and {db}D")
    if da == 1 and db == 1:
        return dot(a, b)
    if da == 2 and db == 1:
        return mv(a, b)
    if da == 2 and db == 2:
        return mm(a, b)
    k = x.shape[-1]
    m2 = y.shape[0] if db == 1 else y.shape[-2]
    if da == 1:                                      # 1-D @ 2-D goes through mm
        if db == 2:
            if k != m2:
                raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied (1x{k} and "
                                   f"{y.shape[0]}x{y.shape[1]})")
            if x.dtype != y.dtype:
                _mm_check(x[None], y)
    if da >= 3 and db <= 2 and k != m2:
        rows = int(np.prod(x.shape[:-1]))
        if db == 1:
            raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k}), vec ({m2})")
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and "
                           f"{y.shape[0]}x{y.shape[1]})")
    batch = _broadcast_shapes(x.shape[:-2], y.shape[:-2])
    if k != m2:
        nb = int(np.prod(batch))
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{nb}, {k}] but got: [{nb}, {m2}].")
    if x.dtype != y.dtype:
        if db == 1:
            raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                               f"{_legacy(y)}, {_legacy(x)}, and {_legacy(y)}")
        if db <= 2:
            _mm_check(x.reshape(-1, k), y.reshape(m2, -1))
        raise RuntimeError(f"expected scalar type {_legacy(x)} but found {_legacy(y)}")
    data = np.matmul(x, y)
    if not (_state.grad_enabled and (a._rg or b._rg)):
        return _make(data)
    # which node torch ends with (aten/src/ATen/native/LinearAlgebra.cpp, _matmul_impl)
    ea, eb = da, db
    if da == 3 and db == 3 and x.shape[0] != y.shape[0]:
        if x.shape[0] == 1 and a._rg:
            ea = 2
        elif y.shape[0] == 1 and b._rg:
            eb = 2
    if ea == 1 and eb == 2:
        cls = _MatmulSqueeze
    elif ea == 2 and eb >= 3 and a._rg:   # folded as (b^T a^T)^T, then .contiguous()
        n, p = data.shape[-2], data.shape[-1]
        cls = _MatmulTranspose if (n == 1 or p == 1 or data.size == 0) else _MatmulClone
    else:
        cls = _MatmulUnsafeView
    return _record_mm(data, cls, a, b, da == 1, db == 1, bcast=True)


def matmul(input, other, *, out=None):
    """torch.matmul: dot, mv, mm or a broadcasting batched product, by the inputs' dims."""
    a, b = _tensor(input), _tensor(other)
    if a._data.ndim == 2 and b._data.ndim == 2:
        return mm(a, b, out=out)
    return _out(matmul_general(a, b), out)


T.matmul = matmul


def inner(input, other, *, out=None):
    """Sum product over the last dims (a scalar factor with a 0-d input)."""
    a, b = _tensor(input), _tensor(other)
    if a._data.ndim == 0 or b._data.ndim == 0:
        from .arithmetic import mul
        return _out(mul(a, b), out)
    if a._data.shape[-1] != b._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(a._data.shape)} and {list(b._data.shape)}")
    la = string.ascii_letters[:a._data.ndim - 1]
    lb = string.ascii_letters[26:26 + b._data.ndim - 1]
    return _out(_einsum_explicit(f"{la}z,{lb}z->{la}{lb}", (a, b), "ViewBackward0"), out)


def chain_matmul(*matrices, out=None):
    """Deprecated product of 2-D matrices (use linalg.multi_dot)."""
    from .linalg_ext import multi_dot
    if len(matrices) == 1:
        from .convert import clone
        return clone(matrices[0])
    return _out(multi_dot(list(matrices)), out)


# -- outer ---------------------------------------------------------------------------------
def _outer_rule(ns, g, meta, self, other):
    return (None if other is None else g @ other,
            None if self is None else ns.mT(g) @ self)


_OuterMul = fresh_node("MulBackward0", _outer_rule, ("self", "other"))


def outer(input, vec2, *, out=None):
    """Outer product of two 1-D tensors."""
    a, b, x, y = binary_operands(_tensor(input), _tensor(vec2))
    if x.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {x.ndim}-D")
    if y.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {y.ndim}-D")
    data = np.multiply.outer(x, y)
    if _state.grad_enabled and (a._rg or b._rg):
        sx, sy = a if b._rg else None, b if a._rg else None
        if sx is not None and sx._data.dtype != data.dtype:
            sx = _make(x)    # promoted operand: the grad is cast back by the engine
        if sy is not None and sy._data.dtype != data.dtype:
            sy = _make(y)
        r = record(data, _OuterMul, (a, b), (sx, sy), bcast=True)
    else:
        r = _make(data)
    return _out(r, out)


ger = outer


# -- addmm family: beta * input + alpha * product ------------------------------------------
def _add_product(name, cls, input, m1, m2, beta, alpha, check, product, vec=(False, False),
                 extra=None):
    i, a, b = _tensor(input), _tensor(m1), _tensor(m2)
    x, y = a._data, b._data
    check(x, y)
    prod = product(x, y)
    target = prod.shape
    bias = i._data
    try:
        np.broadcast_to(bias, target)
    except ValueError:
        raise RuntimeError(_expand_error(bias.shape, target)) from None
    if bias.dtype != x.dtype or x.dtype != y.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_legacy(bias)} "
                           f"and {_legacy(y)}")
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        data = np.broadcast_to(prod, target).copy()
    else:
        data = (bias if beta == 1 else bias * beta) + prod
        data = np.asarray(data, dtype=x.dtype)
    if _state.grad_enabled and (i._rg or a._rg or b._rg):
        return record(data, cls, (i, a, b), (a if b._rg else None, b if a._rg else None),
                      (beta, alpha, vec[0], vec[1], _transposed(y)), bcast=True)
    return _make(data)


def _expand_error(shape, target):
    n = len(target)
    s = (1,) * (n - len(shape)) + tuple(shape)
    for d in range(n - 1, -1, -1):
        if s[d] != target[d] and s[d] != 1:
            break
    return (f"The expanded size of the tensor ({target[d]}) must match the existing size "
            f"({s[d]}) at non-singleton dimension {d}.  Target sizes: {list(target)}.  "
            f"Tensor sizes: {list(shape)}")


def _prod_rule(reduce_batch):
    def rule(ns, g, meta, m1, m2):
        beta, alpha, va, vb, transposed = meta
        gi = None if beta == 0 else (g if beta == 1 else g * beta)
        gp = g if alpha == 1 else g * alpha
        if reduce_batch:
            s = ns.shape(gp)
            gp = ns.reshape(gp, (1,) + tuple(s))
            n = ns.shape(m1)[0] if m1 is not None else ns.shape(m2)[0]
            gp = ns.broadcast_to(gp, (n,) + tuple(s))
        ga, gb = _matmul_rule(ns, gp, (va, vb, transposed), m1, m2)
        return gi, ga, gb
    return rule


def _addmm_jvp(ns, tangents, meta, a, b):
    beta, alpha = meta[0], meta[1]
    ti, ta, tb = tangents
    prod = _product_jvp(ta, tb, a, b)
    out = None if prod is None else (prod if alpha == 1 else prod * alpha)
    if ti is not None and beta != 0:
        ti = ti if beta == 1 else ti * beta
        out = ti if out is None else out + ti
    return out


AddmmBackward0 = fresh_node("AddmmBackward0", _prod_rule(False), saved=("mat1", "mat2"),
                            meta=("beta", "alpha", "v1", "v2"), jvp=_addmm_jvp)
AddmvBackward0 = fresh_node("AddmvBackward0", _prod_rule(False), saved=("mat", "vec"),
                            meta=("beta", "alpha", "v1", "v2"))
AddrBackward0 = fresh_node("AddrBackward0", _prod_rule(False), saved=("vec1", "vec2"),
                           meta=("beta", "alpha", "v1", "v2"))
BaddbmmBackward0 = fresh_node("BaddbmmBackward0", _prod_rule(False), saved=("batch1", "batch2"),
                              meta=("beta", "alpha", "v1", "v2"))
AddbmmBackward0 = fresh_node("AddbmmBackward0", _prod_rule(True), saved=("batch1", "batch2"),
                             meta=("beta", "alpha", "v1", "v2"))


def _addmm_check(x, y):
    if x.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {x.ndim}-D tensor")
    if y.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {y.ndim}-D tensor")
    _mm_check(x, y)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2)."""
    return _out(_add_product("addmm", AddmmBackward0, input, mat1, mat2, beta, alpha,
                             _addmm_check, np.matmul), out)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec)."""
    return _out(_add_product("addmv", AddmvBackward0, input, mat, vec, beta, alpha,
                             _mv_checks, np.matmul, (False, True)), out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _out(_add_product("baddbmm", BaddbmmBackward0, input, batch1, batch2, beta, alpha,
                             _bmm_checks, np.matmul), out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_b (batch1[b] @ batch2[b])."""
    return _out(_add_product("addbmm", AddbmmBackward0, input, batch1, batch2, beta, alpha,
                             _bmm_checks, lambda x, y: np.matmul(x, y).sum(0)), out)


def _addr_check(x, y):
    if x.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {x.ndim}-D")
    if y.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec2, but got {y.ndim}-D")


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2)."""
    r = _add_product("addr", AddrBackward0, input, vec1, vec2, beta, alpha, _addr_check,
                     lambda x, y: np.multiply.outer(x, y), (False, False))
    return _out(r, out)


# addr's product is an outer product: reuse the matmul rule on (n,1) @ (1,m)
def _addr_rule(ns, g, meta, v1, v2):
    beta, alpha = meta[0], meta[1]
    gi = None if beta == 0 else (g if beta == 1 else g * beta)
    gp = g if alpha == 1 else g * alpha
    return gi, None if v2 is None else gp @ v2, None if v1 is None else ns.mT(gp) @ v1


AddrBackward0._rule = staticmethod(_addr_rule)


# -- trace ---------------------------------------------------------------------------------
def _trace_rule(ns, g, shape):
    return (g * ns.la_eye(shape[0], shape[1], g),)


TraceBackward0 = fresh_node("TraceBackward0", _trace_rule, meta=("self_sym_sizes",))


def trace(input):
    """Sum of the main diagonal of a 2-D tensor."""
    x = input._data
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    if x.dtype == np.bool_:
        raise NotImplementedError('"trace" not implemented for \'Bool\'')
    data = np.asarray(np.trace(x))
    if x.dtype.kind in "biu":
        data = data.astype(np.int64)
    if _state.grad_enabled and input._rg:
        return record(data, TraceBackward0, (input,), meta=x.shape)
    return _make(data)


# -- cross ---------------------------------------------------------------------------------
def _cross_rule(ns, g, dim, self, other):
    return (None if other is None else ns.la_cross(other, g, dim),
            None if self is None else ns.la_cross(g, self, dim))


LinalgCrossBackward0 = fresh_node("LinalgCrossBackward0", _cross_rule, saved=("self", "other"),
                                  meta=("dim",))


def linalg_cross(input, other, *, dim=-1, out=None):
    """Cross product of 3-vectors along `dim`, broadcasting the other dims."""
    a, b = _tensor(input), _tensor(other)
    x, y = a._data, b._data
    if x.ndim != y.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if x.dtype != y.dtype:
        raise RuntimeError(f"expected scalar type {_legacy(x)} but found {_legacy(y)}")
    nd = max(x.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                         f"{nd - 1}], but got {dim})")
    if x.shape[dim] != 3 or y.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{x.shape[dim]} and {y.shape[dim]}")
    _broadcast_shapes(x.shape, y.shape)
    data = np.cross(x, y, axis=dim)
    if _state.grad_enabled and (a._rg or b._rg):
        sx = None if not b._rg else (a if a._data.dtype == data.dtype else _make(x))
        sy = None if not a._rg else (b if b._data.dtype == data.dtype else _make(y))
        r = record(data, LinalgCrossBackward0, (a, b), (sx, sy), dim, bcast=True)
    else:
        r = _make(data)
    return _out(r, out)


def cross(input, other, dim=None, *, out=None):
    """torch.cross: like linalg.cross, but dim defaults to the first dim of size 3."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross."
                      "\nThe default value of dim will change to agree with that of "
                      "linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = _tensor(input)._data.shape
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return linalg_cross(input, other, dim=dim, out=out)


NP.la_cross = lambda a, b, dim: np.cross(a, b, axis=dim)
T.la_cross = lambda a, b, dim: linalg_cross(a, b, dim=dim)


# -- kron ----------------------------------------------------------------------------------
def _kron_rule(ns, g, meta, self, other):
    sa, sb = meta
    n = len(sa)
    inter = []
    for p, q in zip(sa, sb):
        inter += [p, q]
    g4 = ns.reshape(g, tuple(inter))
    ga = gb = None
    if other is not None:
        bshape = []
        for q in sb:
            bshape += [1, q]
        ga = ns.sum(g4 * ns.reshape(other, tuple(bshape)), axis=tuple(range(1, 2 * n, 2)))
    if self is not None:
        ashape = []
        for p in sa:
            ashape += [p, 1]
        gb = ns.sum(g4 * ns.reshape(self, tuple(ashape)), axis=tuple(range(0, 2 * n, 2)))
    return ga, gb


def _kron_rule_outer(ns, g, meta, self, other):
    sa, sb, shape_a, shape_b = meta
    ga, gb = _kron_rule(ns, g, (sa, sb), None if self is None else ns.reshape(self, sa),
                        None if other is None else ns.reshape(other, sb))
    return (None if ga is None else ns.reshape(ga, shape_a),
            None if gb is None else ns.reshape(gb, shape_b))


_KronUnsafeView = fresh_node("UnsafeViewBackward0", _kron_rule_outer, ("self", "other"),
                             ("meta",))


def kron(input, other, *, out=None):
    """Kronecker product; the shorter shape is padded with leading ones."""
    a, b, x, y = binary_operands(_tensor(input), _tensor(other))
    data = np.kron(x, y)
    if _state.grad_enabled and (a._rg or b._rg):
        n = max(x.ndim, y.ndim)
        sa = (1,) * (n - x.ndim) + x.shape
        sb = (1,) * (n - y.ndim) + y.shape
        sx = None if not b._rg else (a if a._data.dtype == data.dtype else _make(x))
        sy = None if not a._rg else (b if b._data.dtype == data.dtype else _make(y))
        r = record(data, _KronUnsafeView, (a, b), (sx, sy), (sa, sb, x.shape, y.shape),
                   bcast=True)
    else:
        r = _make(data)
    return _out(r, out)


# -- einsum --------------------------------------------------------------------------------
def _parse_einsum(eq, ndims):
    eq = eq.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(ndims):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(terms) < len(ndims):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    used = set(c for c in eq if c.isalpha())
    for c in eq:
        if not (c.isalpha() or c in ",.->"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(c)} in "
                               f"the equation string, subscripts must be in [a-zA-Z]")
    spare = [c for c in string.ascii_letters if c not in used]
    n_ell = 0
    for t, nd in zip(terms, ndims):
        if "..." in t:
            n_ell = max(n_ell, nd - (len(t) - 3))
    ell = "".join(spare[:n_ell])
    subs = []
    for i, (t, nd) in enumerate(zip(terms, ndims)):
        if "..." in t:
            k = nd - (len(t) - 3)
            if k < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({len(t) - 3}) is more than the number of dimensions "
                                   f"({nd}) for operand {i}")
            t = t.replace("...", ell[n_ell - k:] if k else "")
        elif len(t) != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) "
                               f"does not match the number of dimensions ({nd}) for operand "
                               f"{i} and no ellipsis was given")
        subs.append(t)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for t in subs:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    return subs, out


def _einsum_rule(ns, g, meta, *ops):
    subs, out, sizes, shapes, needs = meta
    grads = []
    for i, target in enumerate(subs):
        if not needs[i]:
            grads.append(None)
            continue
        others = [(subs[j], ops[j]) for j in range(len(subs)) if j != i]
        uniq = "".join(dict.fromkeys(target))
        avail = set(out).union(*[set(s) for s, _ in others]) if others else set(out)
        keep = "".join(c for c in uniq if c in avail)
        eq = ",".join([out] + [s for s, _ in others]) + "->" + keep
        gi = ns.la_einsum(eq, g, *[o for _, o in others])
        if keep != uniq:        # letters summed only within this operand: broadcast back
            gi = ns.reshape(gi, tuple(sizes[c] if c in keep else 1 for c in uniq))
            gi = ns.broadcast_to(gi, tuple(sizes[c] for c in uniq))
        if uniq != target:      # repeated letters: the grad lives on the diagonal
            spare = [c for c in string.ascii_letters if c not in target and c not in uniq]
            seen, renamed, eyes = set(), [], []
            for c in target:
                if c in seen:
                    f = spare.pop()
                    renamed.append(f)
                    eyes.append(c + f)
                else:
                    seen.add(c)
                    renamed.append(c)
            eq = ",".join([uniq] + eyes) + "->" + "".join(renamed)
            gi = ns.la_einsum(eq, gi, *[ns.la_eye(sizes[e[0]], sizes[e[0]], g) for e in eyes])
        shape = shapes[i]
        full = tuple(sizes[c] for c in target)
        if full != tuple(shape):   # size-1 dims broadcast in the forward
            axes = tuple(d for d, (s, f) in enumerate(zip(shape, full)) if s != f)
            gi = ns.sum(gi, axis=axes, keepdims=True)
        grads.append(gi)
    return tuple(grads)


_EINSUM_NODES = {}


def _einsum_node(name):
    cls = _EINSUM_NODES.get(name)
    if cls is None:
        cls = _EINSUM_NODES[name] = fresh_node(name, _einsum_rule, (), ("equation",))
    return cls


def _einsum_explicit(eq, tensors, name):
    """einsum over explicit subscripts (no ellipsis); name=None picks torch's usual node."""
    tensors = [_tensor(t) for t in tensors]
    arrays = [t._data for t in tensors]
    subs, out = _parse_einsum(eq, [a.ndim for a in arrays])
    dt = arrays[0].dtype
    for a in arrays[1:]:
        if a.dtype != dt:
            raise RuntimeError(f"expected scalar type {_legacy(arrays[0])} but found "
                               f"{_legacy(a)}")
    data, sizes = _np_einsum(eq, arrays, subs, out)
    if not (_state.grad_enabled and any(t._rg for t in tensors)):
        return _make(data)
    if name is None:
        if len(subs) == 1:
            name = "SumBackward1" if set(subs[0]) - set(out) else "PermuteBackward0"
        else:
            summed = set("".join(subs)) - set(out)
            name = "ViewBackward0" if summed else "MulBackward0"
    needs = tuple(t._rg for t in tensors)
    return record(data, _einsum_node(name), tensors, tuple(tensors),
                  (tuple(subs), out, sizes, tuple(a.shape for a in arrays), needs))


def _np_einsum(eq, arrays, subs=None, out=None):
    """np.einsum that also broadcasts size-1 dims of named subscripts, as torch does."""
    if subs is None:
        subs, out = _parse_einsum(eq, [np.ndim(a) for a in arrays])
    arrays = [np.asarray(a) for a in arrays]
    dt = np.result_type(*arrays)
    sizes = {}
    for i, (s, a) in enumerate(zip(subs, arrays)):
        for c, n in zip(s, a.shape):
            old = sizes.get(c)
            if old is None or old == 1:
                sizes[c] = n
            elif n != old and n != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which "
                                   f"does not broadcast with previously seen size {old}")
    full = []
    for s, a in zip(subs, arrays):
        shape = tuple(sizes[c] for c in s)
        full.append(a if a.shape == shape else np.broadcast_to(a, shape))
    data = np.asarray(np.einsum(",".join(subs) + "->" + out, *full, optimize=len(full) > 2))
    if data.dtype != dt:
        data = data.astype(dt)
    return data, sizes


def einsum(equation, *operands):
    """Einstein summation, e.g. `einsum('ij,jk->ik', a, b)`; '...' broadcasts batch dims."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return _einsum_explicit(equation, operands, None)


# -- tensordot -----------------------------------------------------------------------------
def tensordot(a, b, dims=2, out=None):
    """Contract dims of a with dims of b: an int n (last n of a, first n of b) or two lists."""
    a, b = _tensor(a), _tensor(b)
    x, y = a._data, b._data
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da = list(range(x.ndim - dims, x.ndim))
        db = list(range(dims))
        shown_a = [d - x.ndim for d in da]
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
        shown_a = da
    for p, q, s in zip(da, db, shown_a):
        if x.shape[p] != y.shape[q]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{x.shape[p]} in dim {s} and second has size {y.shape[q]} in "
                               f"dim {q}")
    letters = iter(string.ascii_letters)
    la = [next(letters) for _ in range(x.ndim)]
    lb = [next(letters) for _ in range(y.ndim)]
    for p, q in zip(da, db):
        lb[q % y.ndim] = la[p % x.ndim]
    contracted = {la[p % x.ndim] for p in da}
    outl = [c for c in la if c not in contracted] + [c for c in lb if c not in contracted]
    eq = "".join(la) + "," + "".join(lb) + "->" + "".join(outl)
    return _out(_einsum_explicit(eq, (a, b), "ViewBackward0"), out)


declare("mm", "MmBackward0")
declare("matmul", "MmBackward0", "MvBackward0", "DotBackward0", "UnsafeViewBackward0",
        "SqueezeBackward4", "CloneBackward0", "TransposeBackward0")
declare("bmm", "BmmBackward0")
declare("mv", "MvBackward0")
declare("dot", "DotBackward0")
declare("vdot", "VdotBackward0")
declare("inner", "ViewBackward0")
declare("outer ger", "MulBackward0")
declare("addmm", "AddmmBackward0")
declare("addmv", "AddmvBackward0")
declare("addbmm", "AddbmmBackward0")
declare("baddbmm", "BaddbmmBackward0")
declare("addr", "AddrBackward0")
declare("einsum", "ViewBackward0", "MulBackward0", "SumBackward1", "PermuteBackward0")
declare("tensordot", "ViewBackward0")
declare("trace", "TraceBackward0")
declare("kron", "UnsafeViewBackward0")
declare("cross", "LinalgCrossBackward0")

Tensor.mm = mm
Tensor.matmul = matmul
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
Tensor.bmm = bmm
Tensor.mv = mv
Tensor.dot = dot
Tensor.vdot = vdot
Tensor.inner = inner
Tensor.outer = outer
Tensor.ger = ger
Tensor.addmm = addmm
Tensor.addmv = addmv
Tensor.addbmm = addbmm
Tensor.baddbmm = baddbmm
Tensor.addr = addr
Tensor.trace = trace
Tensor.kron = kron
Tensor.cross = cross


for _fn in (addmm, addmv, addbmm, baddbmm, addr):
    setattr(Tensor, _fn.__name__ + "_", inplace_method(_fn))
del _fn
