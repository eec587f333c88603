"""Matrix products: mm, matmul (and @), bmm, mv, dot, vdot, outer / ger and the addmm
family (addmm, addmv, addbmm, baddbmm, addr), each declared once with its rule, its vmap
rule and its samples.

einsum, tensordot, inner, kron, trace and cross live in contraction.py; torch.linalg in
linalg_ext.py, linalg_decomp.py and linalg_norms.py."""
import numpy as np

from .._tensor import Tensor, _make
from ._batching import composite, lightgrad, phys
from ._record import exact_out
from ._core import (NP, T, Sample as S, binary_operands, defop, emit, node_class, publish,
                    to_tensor)


# c10's scalar type names, as some error texts print them ("float != double")
_C10 = {"float32": "float", "float64": "double", "float16": "c10::Half",
        "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int", "int16": "short int",
        "int8": "signed char",
        "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
        "complex128": "c10::complex<double>"}


fresh_node = node_class  # every node_class call makes a class of its own


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


# -- vmap: one rule for mm, bmm, mv, dot and matmul ---------------------------------------
def _rmatmul(self, other):
    if not isinstance(other, Tensor):      # torch.matmul takes no scalar: `2. @ t` fails
        return NotImplemented
    return matmul(other, self)


def _matmul_batching(c, args, kwargs):
    """matmul on logical shapes: 1-D operands become a row / a column, the batch dims line
    up, and the extra dims are squeezed again (also mm, mv, bmm, dot, after their checks)."""
    a, b = args[0], args[1]
    if getattr(c.op, "__wrapped__", c.op) is _rmatmul:    # BatchedTensor's other @ self
        a, b = b, a
    name = c.name
    if name in ("mm", "bmm", "mv"):
        want = {"mm": (2, 2), "bmm": (3, 3), "mv": (2, 1)}[name]
        if (a.dim(), b.dim()) != want:
            raise RuntimeError(f"{name}: expected {want[0]}-D and {want[1]}-D tensors, got "
                               f"{a.dim()}-D and {b.dim()}-D")
    if name == "dot":
        if a.dim() != 1 or b.dim() != 1:
            raise RuntimeError(f"1D tensors expected, but got {a.dim()}D and {b.dim()}D "
                               "tensors")
        return (a * b).sum(-1)
    av, bv = a.dim() == 1, b.dim() == 1
    a2 = a.unsqueeze(0) if av else a          # these go through the batching rules
    b2 = b.unsqueeze(-1) if bv else b
    nd = max(a2.dim(), b2.dim())
    r = c.wrap(lightgrad().matmul(phys(c, a2, nd), phys(c, b2, nd)))
    if bv:
        r = r.squeeze(-1)
    if av:
        r = r.squeeze(-2 if not bv else -1)
    return r


def _at(m, x, y):
    """A sample's call: the @ operator."""
    return x @ y



@defop(nodes=(MmBackward0,), batch=_matmul_batching, samples=[
    S((2, 3), (3, 4), np_ref=np.matmul), S((2, 3), (3, 4), method=True, id="method")])
def mm(input, mat2, *, out=None):
    """Matrix product of two 2-D tensors: `torch.mm(a, b)`."""
    a, b = _tensor(input), _tensor(mat2)
    x, y = a._data, b._data
    _mm_check(x, y)
    data = x @ y
    return _out(emit(data, MmBackward0, (a, b), (a if b._rg else None, b if a._rg else None),
                     _transposed(y)), out)



def _out(r, out):
    if out is None:
        return r
    return exact_out(r, out)       # torch's matmul family wants out= of the result's dtype


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
    return emit(data, cls, (a, b), (a if b._rg else None, b if a._rg else None), (va, vb),
                bcast=bcast)


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


@defop(nodes=(DotBackward0,), batch=_matmul_batching,
       samples=[S((3,), (3,), np_ref=np.dot), S((3,), (3,), method=True, id="method")])
def dot(input, tensor, *, out=None):
    """Inner product of two 1-D tensors."""
    a, b = _tensor(input), _tensor(tensor)
    x, y = a._data, b._data
    _dot_checks(x, y)
    return _out(_record_mm(np.asarray(np.dot(x, y)), DotBackward0, a, b, True, True), out)


@defop(nodes=(VdotBackward0,), batch=composite(lambda lg, a, b, *, out=None: (a * b).sum(-1)),
       samples=[S((3,), (3,), method=True, np_ref=np.vdot)])
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


@defop(nodes=(MvBackward0,), batch=_matmul_batching,
       samples=[S((2, 3), (3,), method=True, np_ref=np.matmul)])
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


@defop(nodes=(BmmBackward0,), batch=_matmul_batching,
       samples=[S((2, 2, 3), (2, 3, 2), np_ref=np.matmul)])
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


@defop(aliases=("linalg.matmul",),
       nodes=(MmBackward0, MvBackward0, DotBackward0, _MatmulUnsafeView, _MatmulSqueeze,
              _MatmulClone, _MatmulTranspose),
       dunders={"__matmul__": None, "__rmatmul__": _rmatmul}, batch=_matmul_batching,
       samples=[S((2, 3), (3, 2), np_ref=np.matmul)] + [
           S(a, b, call=_at, np_ref=np.matmul) for a, b in [
               ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 2, 3), (3, 2)),
               ((2, 3), (2, 3, 2)), ((1, 3), (2, 3, 1)), ((2, 2, 3), (2, 3, 2)),
               ((2, 1, 2, 3), (3, 3, 2)), ((1, 2, 3), (2, 3, 2)), ((2, 2, 3), (1, 3, 2)),
               ((2, 2, 3), (3,)), ((3,), (2, 3, 2)), ((2, 2, 3), (2, 2, 3, 1))]] + [
           S((3, 2), (2, 3), call=lambda m, x, y: x.__rmatmul__(y), id="rmatmul"),
           S((4, 3), (3,), call=lambda m, x, y: m.linalg.matmul(x, y), id="linalg")])
def matmul(input, other, *, out=None):
    """torch.matmul: dot, mv, mm or a broadcasting batched product, by the inputs' dims."""
    a, b = _tensor(input), _tensor(other)
    if a._data.ndim == 2 and b._data.ndim == 2:
        return mm(a, b, out=out)
    return _out(matmul_general(a, b), out)


T.matmul = matmul


# -- outer ---------------------------------------------------------------------------------
def _outer_rule(ns, g, meta, self, other):
    return (None if other is None else g @ other,
            None if self is None else ns.mT(g) @ self)


_OuterMul = fresh_node("MulBackward0", _outer_rule, ("self", "other"))


def _outer_batching(c, args, kwargs):
    a, b = args[0], args[1]
    return a.unsqueeze(-1) * b.unsqueeze(0)


@defop(aliases=("ger",), nodes=(_OuterMul,), batch=_outer_batching, samples=[
    S((3,), (2,), np_ref=np.outer),
    S((2,), (3,), call=lambda m, x, y: x.ger(y), np_ref=np.outer, id="ger")])
def outer(input, vec2, *, out=None):
    """Outer product of two 1-D tensors."""
    a, b, x, y = binary_operands(_tensor(input), _tensor(vec2))
    if x.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {x.ndim}-D")
    if y.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {y.ndim}-D")
    data = np.multiply.outer(x, y)
    sx, sy = a if b._rg else None, b if a._rg else None
    if sx is not None and sx._data.dtype != data.dtype:
        sx = _make(x)    # promoted operand: the grad is cast back by the engine
    if sy is not None and sy._data.dtype != data.dtype:
        sy = _make(y)
    return emit(data, _OuterMul, (a, b), (sx, sy), bcast=True, out=out)



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
        if beta == 1 and prod.dtype == bias.dtype:
            data = np.add(prod, bias, out=prod)     # the product is fresh: add into it
        else:
            data = np.asarray(bias * beta + prod, dtype=x.dtype)
    return emit(data, cls, (i, a, b), (a if b._rg else None, b if a._rg else None),
                (beta, alpha, vec[0], vec[1], _transposed(y)), bcast=True)


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
        gi = g if beta == 1 else g * beta       # beta == 0: zeros, as torch gives
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


def _scaled_sum(product):
    """The vmap rule of an addmm-like op: beta * input + alpha * product(lg, m1, m2), in
    batched ops."""
    return composite(lambda lg, i, a, b, *, beta=1, alpha=1, out=None:
                     beta * i + alpha * product(lg, a, b))


@defop(nodes=(AddmmBackward0,), inplace=True, batch=_scaled_sum(lambda lg, a, b: a @ b),
       samples=[S((3,), (2, 4), (4, 3), np_ref=lambda b, x, y: b + x @ y),
                S((2, 1), (2, 4), (4, 3), kwargs={"beta": 0.5, "alpha": 2}, method=True,
                  id="beta-alpha")])
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2)."""
    return _out(_add_product("addmm", AddmmBackward0, input, mat1, mat2, beta, alpha,
                             _addmm_check, np.matmul), out)


@defop(nodes=(AddmvBackward0,), inplace=True, batch=_scaled_sum(lambda lg, a, v: a @ v),
       samples=[S((2,), (2, 3), (3,), kwargs={"alpha": 3})])
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec)."""
    return _out(_add_product("addmv", AddmvBackward0, input, mat, vec, beta, alpha,
                             _mv_checks, np.matmul, (False, True)), out)


@defop(nodes=(BaddbmmBackward0,), inplace=True, batch=_scaled_sum(lambda lg, a, b: a @ b),
       samples=[S((2, 1, 2), (2, 2, 3), (2, 3, 2), kwargs={"alpha": 0.5})])
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _out(_add_product("baddbmm", BaddbmmBackward0, input, batch1, batch2, beta, alpha,
                             _bmm_checks, np.matmul), out)


@defop(nodes=(AddbmmBackward0,), inplace=True,
       batch=_scaled_sum(lambda lg, a, b: (a @ b).sum(0)),
       samples=[S((2, 2), (3, 2, 3), (3, 3, 2), kwargs={"beta": 2},
                  np_ref=lambda b, x, y: 2 * b + (x @ y).sum(0))])
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_b (batch1[b] @ batch2[b])."""
    return _out(_add_product("addbmm", AddbmmBackward0, input, batch1, batch2, beta, alpha,
                             _bmm_checks, lambda x, y: np.matmul(x, y).sum(0)), out)


def _addr_check(x, y):
    if x.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {x.ndim}-D")
    if y.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec2, but got {y.ndim}-D")


@defop(nodes=(AddrBackward0,), inplace=True, batch=_scaled_sum(lambda lg, a, b: lg.outer(a, b)),
       samples=[S((2, 3), (2,), (3,), np_ref=lambda b, x, y: b + np.outer(x, y))])
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



__all__ = publish(globals())
