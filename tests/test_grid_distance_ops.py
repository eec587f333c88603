"""torch.cdist / torch.pdist, torch.linalg.lstsq and F.affine_grid / F.grid_sample against
torch, on larger random inputs than the op-table samples (tests/test_ops.py runs those):
values, gradients (and grid_sample's second derivatives), node names, the lstsq fields
each driver fills, vmap, and torch's errors and warnings."""
import itertools
import warnings

import numpy as np
import pytest

import lightgrad
from lightgrad.func import vmap

torch = pytest.importorskip("torch")
INF = float("inf")
TOL = {"float64": 1e-9, "float32": 1e-4}


def _pair(a, grad=True):
    return (lightgrad.tensor(a, requires_grad=grad and a.dtype.kind == "f"),
            torch.tensor(a, requires_grad=grad and a.dtype.kind == "f"))


def _np(t):
    return t.detach().numpy()


def _same_outputs(ours, ref, tol):
    """Values, shape, dtype, requires_grad and node name of each output."""
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert tuple(a.shape) == tuple(b.shape)
        assert a.dtype.name == str(b.dtype).replace("torch.", "")
        np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)
        assert a.requires_grad == b.requires_grad
        if b.grad_fn is not None:
            assert type(a.grad_fn).__name__ == type(b.grad_fn).__name__


def _same_grads(outs, ins, tol, seed=1):
    """Gradients of (lightgrad, torch) output pairs for one random upstream gradient."""
    rng = np.random.default_rng(seed)
    ups = [rng.standard_normal(tuple(b.shape)).astype(_np(b).dtype) for _, b in outs]
    gl = lightgrad.autograd.grad([a for a, _ in outs], [a for a, _ in ins],
                                 [lightgrad.tensor(u) for u in ups], allow_unused=True)
    gt = torch.autograd.grad([b for _, b in outs], [b for _, b in ins],
                             [torch.tensor(u) for u in ups], allow_unused=True)
    for a, b in zip(gl, gt):
        if b is None:
            assert a is None or not np.any(a.numpy())
        else:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol)


def _message(fn):
    """(exception type, message) of fn(), with torch's module name for the dtype / Size
    names that lightgrad prints under its own."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as e:      # noqa: BLE001
        return type(e).__name__, str(e).replace("lightgrad.", "torch.")
    return None


def _errors_match(expr, env):
    """expr raises the same error in lightgrad and torch; env(m) gives its names."""
    ours = _message(lambda: eval(expr, dict(env(lightgrad), m=lightgrad)))
    ref = _message(lambda: eval(expr, dict(env(torch), m=torch)))
    assert ref is not None
    assert ours == ref


# -- cdist / pdist -------------------------------------------------------------------------
CDIST_SHAPES = [((7, 5), (9, 5)), ((30, 4), (6, 4)), ((2, 1, 8, 3), (4, 26, 3)),
                ((3, 6, 4), (3, 6, 4))]
MODES = ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
         "donot_use_mm_for_euclid_dist"]


def _coarse(rng, shape, dtype):
    """Values on a half-integer lattice: exact ties (the inf-norm) and zero differences."""
    return (np.round(rng.standard_normal(shape) * 2) / 2).astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, INF])
@pytest.mark.parametrize("shapes", CDIST_SHAPES, ids=str)
def test_cdist_matches_torch(shapes, p, dtype):
    rng = np.random.default_rng(0)
    a, b = _coarse(rng, shapes[0], dtype), _coarse(rng, shapes[1], dtype)
    if a.shape == b.shape:
        b[..., :2, :] = a[..., :2, :]           # zero distances: torch's zero gradient
    for mode in MODES:
        (al, at), (bl, bt) = _pair(a), _pair(b)
        ours, ref = lightgrad.cdist(al, bl, p, mode), torch.cdist(at, bt, p, mode)
        _same_outputs([ours], [ref], TOL[dtype])
        _same_grads([(ours, ref)], [(al, at), (bl, bt)], TOL[dtype])


def test_cdist_node_names_follow_torchs_paths():
    """p = 2 goes through the matrix-product formula (a view of _euclidean_dist's result)
    when asked, or by default for more than 25 rows; empty inputs never do."""
    def name(r1, r2, **kw):
        x = lightgrad.randn(r1, 3, dtype=lightgrad.float64, requires_grad=True)
        return lightgrad.cdist(x, lightgrad.randn(r2, 3, dtype=lightgrad.float64), **kw).grad_fn
    assert type(name(26, 3)).__name__ == "ViewBackward0"
    assert type(name(26, 3).next_functions[0][0]).__name__ == "EuclideanDistBackward0"
    assert type(name(3, 25)).__name__ == "CdistBackward0"
    assert type(name(3, 2, compute_mode="use_mm_for_euclid_dist")).__name__ == "ViewBackward0"
    assert type(name(26, 3, p=1.0)).__name__ == "CdistBackward0"
    assert type(name(30, 0)).__name__ == "CdistBackward0"
    assert type(name(30, 3, compute_mode="donot_use_mm_for_euclid_dist")).__name__ == \
        "CdistBackward0"


def test_distance_ops_are_functions_only():
    """As in torch: torch.cdist / torch.pdist, no Tensor methods."""
    for name in ("cdist", "pdist"):
        assert hasattr(lightgrad, name) and not hasattr(lightgrad.Tensor, name)


def test_cdist_empty_inputs_match_torch():
    for s1, s2 in [((0, 3), (4, 3)), ((3, 0), (4, 0)), ((2, 0, 3), (2, 4, 3))]:
        (al, at), (bl, bt) = _pair(np.ones(s1)), _pair(np.ones(s2))
        _same_outputs([lightgrad.cdist(al, bl)], [torch.cdist(at, bt)], 0)


def test_cdist_double_backward():
    """torch's _cdist_backward has no derivative; lightgrad's rule is differentiable: the
    Hessian-vector product of the p = 2 distance equals a finite difference."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    v = rng.standard_normal((4, 3))

    def grad_at(x):
        xt = lightgrad.tensor(x, requires_grad=True)
        return lightgrad.autograd.grad(lightgrad.cdist(xt, lightgrad.tensor(b)).sum(), xt)[0]
    xt = lightgrad.tensor(a, requires_grad=True)
    g = lightgrad.autograd.grad(lightgrad.cdist(xt, lightgrad.tensor(b)).sum(), xt,
                                create_graph=True)[0]
    hv = lightgrad.autograd.grad((g * lightgrad.tensor(v)).sum(), xt)[0].numpy()
    eps = 1e-6
    fd = (grad_at(a + eps * v).numpy() - grad_at(a - eps * v).numpy()) / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, INF])
def test_pdist_matches_torch(p, dtype):
    rng = np.random.default_rng(1)
    a = _coarse(rng, (9, 4), dtype)
    a[3] = a[1]                                 # a zero distance
    al, at = _pair(a)
    ours, ref = lightgrad.pdist(al, p), torch.pdist(at, p)
    _same_outputs([ours], [ref], TOL[dtype])
    _same_grads([(ours, ref)], [(al, at)], TOL[dtype])
    for n in (0, 1):                            # no pairs
        _same_outputs([lightgrad.pdist(lightgrad.ones(n, 3))], [torch.pdist(torch.ones(n, 3))], 0)


DISTANCE_ERRORS = [
    "m.cdist(a[0], b)", "m.cdist(a, b[0])", "m.cdist(a, b[:, :3])", "m.cdist(a, b, p=-1)",
    "m.cdist(a, b, p=float('nan'))", "m.cdist(a.long(), b.long())", "m.cdist(a, b.double())",
    "m.cdist(a.double(), b)", "m.cdist(a, b, compute_mode='foo')",
    "m.cdist(a, b, compute_mode=None)", "m.cdist(a.half(), b.half())",
    "m.cdist(m.ones(2, 3, 4), m.ones(3, 5, 4))",
    "m.pdist(a[0])", "m.pdist(m.ones(2, 3, 4))", "m.pdist(a, p=-1)", "m.pdist(a.long())",
    "m.pdist(a.half())",
]


@pytest.mark.parametrize("expr", DISTANCE_ERRORS)
def test_distance_errors_match_torch(expr):
    _errors_match(expr, lambda m: {"a": m.ones(3, 4), "b": m.ones(5, 4)})


def test_distance_ops_under_vmap_match_torch():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 4, 2)), rng.standard_normal((5, 2))
    ours = vmap(lambda u: lightgrad.cdist(u, lightgrad.tensor(y), p=1.0))(lightgrad.tensor(x))
    ref = torch.func.vmap(lambda u: torch.cdist(u, torch.tensor(y), p=1.0))(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
    ours = vmap(lambda u: lightgrad.cdist(lightgrad.tensor(y), u))(lightgrad.tensor(x))
    ref = torch.func.vmap(lambda u: torch.cdist(torch.tensor(y), u))(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # torch: no batching rule for pdist
        ref = torch.func.vmap(torch.pdist)(torch.tensor(x))
    np.testing.assert_allclose(vmap(lightgrad.pdist)(lightgrad.tensor(x)).numpy(), ref.numpy(),
                               rtol=1e-12)


# -- linalg.lstsq --------------------------------------------------------------------------
DRIVERS = [None, "gels", "gelsy", "gelsd", "gelss"]
LSTSQ_SHAPES = [((8, 5), (8, 3)), ((5, 8), (5, 2)), ((6, 6), (6,)), ((3, 7, 4), (3, 7, 2)),
                ((1, 7, 4), (3, 7, 2)), ((3, 7, 4), (3, 7)), ((2, 1, 6, 3), (1, 4, 6, 1)),
                ((1, 6, 3), (6, 2)), ((6, 6, 3), (6, 2))]    # the last two: torch's reading


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("shapes", LSTSQ_SHAPES, ids=str)
def test_lstsq_fields_and_gradients_match_torch(shapes, driver, dtype):
    """Each field as torch's CPU drivers fill it (shape, dtype, values, requires_grad,
    node), and the gradients through the solution and (where filled) the residuals."""
    rng = np.random.default_rng(0)
    (Al, At), (Bl, Bt) = (_pair(rng.standard_normal(s).astype(dtype)) for s in shapes)
    ours = lightgrad.linalg.lstsq(Al, Bl, driver=driver)
    ref = torch.linalg.lstsq(At, Bt, driver=driver)
    tol = 1e-8 if dtype == "float64" else 2e-3
    _same_outputs(ours, ref, tol)
    outs = [(ours.solution, ref.solution)]
    if ref.residuals.numel():
        outs.append((ours.residuals, ref.residuals))
    _same_grads(outs, [(Al, At), (Bl, Bt)], tol)


def test_lstsq_return_type():
    r = lightgrad.linalg.lstsq(lightgrad.ones(3, 2) + lightgrad.eye(3, 2), lightgrad.ones(3, 1))
    assert type(r) is lightgrad.return_types.linalg_lstsq
    assert r._fields == ("solution", "residuals", "rank", "singular_values")
    assert r.solution is r[0] and r.singular_values is r[3]
    assert repr(r).startswith("torch.return_types.linalg_lstsq(\nsolution=tensor(")
    assert r.rank.dtype == lightgrad.int64 and tuple(r.residuals.shape) == (0,)


@pytest.mark.parametrize("driver", [None, "gelsd", "gelss"])
@pytest.mark.parametrize("rcond", [None, 1e-3, 0.3])
def test_lstsq_rank_deficient_matches_torch(driver, rcond):
    """The rank and the singular values of rank-deficient matrices, and the minimum-norm
    solution. gelsy's rank-revealing QR is not reproduced (lightgrad reads the rank off the
    SVD): where rcond drops a singular value that is not negligible, its rank and solution
    can differ from torch's, so that case is not compared."""
    rng = np.random.default_rng(5)
    A = rng.standard_normal((2, 7, 3)) @ rng.standard_normal((2, 3, 5))
    A[1] += rng.standard_normal((7, 5)) * 0.1
    B = rng.standard_normal((2, 7, 2))
    ours = lightgrad.linalg.lstsq(lightgrad.tensor(A), lightgrad.tensor(B), rcond, driver=driver)
    ref = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B), rcond, driver=driver)
    if driver is not None or rcond != 0.3:
        np.testing.assert_array_equal(ours.rank.numpy(), ref.rank.numpy())
    np.testing.assert_allclose(ours.singular_values.numpy(), ref.singular_values.numpy(),
                               atol=1e-10)
    assert tuple(ours.residuals.shape) == tuple(ref.residuals.shape)     # (0,): not full rank
    if driver is not None or rcond != 0.3:
        np.testing.assert_allclose(ours.solution.numpy(), ref.solution.numpy(), atol=1e-9)


@pytest.mark.parametrize("driver", DRIVERS)
def test_lstsq_empty_inputs_match_torch(driver):
    """LAPACK returns at once on an empty matrix: zeros, rank 0 (torch's own gelsd / gelss
    fail an internal assert with no right-hand sides, so those are left out)."""
    cases = [((0, 3), (0, 2)), ((5, 0), (5, 2)), ((2, 0, 3), (2, 0, 1)), ((2, 5, 0), (2, 5, 1))]
    if driver not in ("gelsd", "gelss"):
        cases.append(((5, 3), (5, 0)))
    rng = np.random.default_rng(8)
    for sa, sb in cases:
        (Al, At), (Bl, Bt) = _pair(rng.random(sa)), _pair(rng.random(sb))
        _same_outputs(lightgrad.linalg.lstsq(Al, Bl, driver=driver),
                      torch.linalg.lstsq(At, Bt, driver=driver), 1e-12)


def test_lstsq_double_backward_matches_torch():
    rng = np.random.default_rng(6)
    hs = []
    for m in (lightgrad, torch):
        A = m.tensor(rng.standard_normal((6, 3)) if m is lightgrad else hs[0][2],
                     requires_grad=True)
        B = m.tensor(rng.standard_normal((6, 2)) if m is lightgrad else hs[0][3],
                     requires_grad=True)
        r = m.linalg.lstsq(A, B, driver="gelsd")
        gA, gB = m.autograd.grad((r.solution ** 2).sum() + r.residuals.sum(), (A, B),
                                 create_graph=True)
        h = m.autograd.grad((gA ** 2).sum() + (gB * gB).sum(), (A, B))
        hs.append([t.detach().numpy() for t in h] + [A.detach().numpy(), B.detach().numpy()])
    for a, b in zip(hs[0][:2], hs[1][:2]):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_lstsq_under_vmap_matches_torch():
    rng = np.random.default_rng(7)
    A, B = rng.standard_normal((4, 5, 3)), rng.standard_normal((4, 5, 2))
    for driver in ("gelsy", "gelsd", "gels"):
        def f(m, a, b, driver=driver):
            return tuple(m.linalg.lstsq(a, b, driver=driver))
        ours = vmap(lambda a, b: f(lightgrad, a, b))(lightgrad.tensor(A), lightgrad.tensor(B))
        ref = torch.func.vmap(lambda a, b: f(torch, a, b))(torch.tensor(A), torch.tensor(B))
        for o, r in zip(ours, ref):
            assert tuple(o.shape) == tuple(r.shape)
            np.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-10, atol=1e-12)
    # a vector right side per example, A shared
    ours = vmap(lambda b: lightgrad.linalg.lstsq(lightgrad.tensor(A[0]), b).solution)(
        lightgrad.tensor(B[..., 0]))
    ref = [torch.linalg.lstsq(torch.tensor(A[0]), torch.tensor(b)).solution for b in B[..., 0]]
    np.testing.assert_allclose(ours.numpy(), torch.stack(ref).numpy(), rtol=1e-10)


LSTSQ_ERRORS = [
    "m.linalg.lstsq(a[0], b)", "m.linalg.lstsq(a, b.float())", "m.linalg.lstsq(a, b[None])",
    "m.linalg.lstsq(a, b[:4])", "m.linalg.lstsq(a, b[:4, 0])", "m.linalg.lstsq(a, b, driver='foo')",
    "m.linalg.lstsq(a.int(), b.int())", "m.linalg.lstsq(a.half(), b.half())",
    "m.linalg.lstsq(m.ones(2, 5, 3, dtype=m.float64), m.ones(2, 4, dtype=m.float64))",
    "m.linalg.lstsq(m.ones(2, 5, 3, dtype=m.float64), m.ones(5, 2, dtype=m.float64))",
]


@pytest.mark.parametrize("expr", LSTSQ_ERRORS)
def test_lstsq_errors_match_torch(expr):
    _errors_match(expr, lambda m: {"a": m.ones(5, 3, dtype=m.float64),
                                   "b": m.ones(5, 2, dtype=m.float64)})


# -- F.affine_grid / F.grid_sample ---------------------------------------------------------
LF, TF = lightgrad.nn.functional, torch.nn.functional
GRID_CASES = [(nd, mode, pad, ac) for nd, mode, pad, ac in itertools.product(
    (2, 3), ("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection"), (False, True))
    if not (nd == 3 and mode == "bicubic")]


def _grid_ids(case):
    return "{}d-{}-{}-{}".format(*case[:3], "corners" if case[3] else "centres")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", GRID_CASES, ids=_grid_ids)
def test_grid_sample_matches_torch(case, dtype):
    """Random grids reaching outside the input: values and gradients for input and grid."""
    nd, mode, pad, ac = case
    rng = np.random.default_rng(0)
    in_shape = (2, 3) + ((5, 6) if nd == 2 else (3, 4, 5))
    grid_shape = (2,) + ((4, 7) if nd == 2 else (2, 3, 4)) + (nd,)
    (xl, xt), (gl, gt) = _pair(rng.standard_normal(in_shape).astype(dtype)), \
        _pair(rng.uniform(-1.6, 1.6, grid_shape).astype(dtype))
    kw = {"mode": mode, "padding_mode": pad, "align_corners": ac}
    ours, ref = LF.grid_sample(xl, gl, **kw), TF.grid_sample(xt, gt, **kw)
    tol = TOL[dtype] * (10 if mode == "bicubic" else 1)
    _same_outputs([ours], [ref], tol)
    _same_grads([(ours, ref)], [(xl, xt), (gl, gt)], tol)


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")       # the unit-size grids
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", GRID_CASES, ids=_grid_ids)
def test_affine_grid_then_grid_sample_matches_torch(case, dtype):
    """Each library's own affine_grid into its grid_sample: an identity (or scaled) theta
    puts points exactly on pixel centres and borders, where the taps and the padding's
    gradient switch, so these land on the same side only if the grids are the same floats
    and grid_sample rounds as torch's kernels do."""
    nd, mode, pad, ac = case
    rng = np.random.default_rng(1)
    shapes = [((1, 2, 4, 5), (1, 2, 4, 5)), ((1, 1, 1, 3), (1, 1, 1, 3)),
              ((2, 2, 3, 3), (2, 2, 6, 6)), ((1, 1, 5, 7), (1, 1, 3, 4))] if nd == 2 else \
        [((1, 2, 2, 3, 4), (1, 2, 2, 3, 4)), ((1, 1, 3, 1, 2), (1, 1, 4, 2, 3))]
    kw = {"mode": mode, "padding_mode": pad, "align_corners": ac}
    for in_shape, size in shapes:
        eye = np.eye(nd, nd + 1)
        for theta in (eye, eye * 1.25, rng.uniform(-1, 1, (nd, nd + 1))):
            (tl, tt) = _pair(np.tile(theta, (in_shape[0], 1, 1)).astype(dtype))
            (xl, xt) = _pair(rng.standard_normal(in_shape).astype(dtype))
            ours = LF.grid_sample(xl, LF.affine_grid(tl, size, align_corners=ac), **kw)
            ref = TF.grid_sample(xt, TF.affine_grid(tt, size, align_corners=ac), **kw)
            _same_outputs([ours], [ref], TOL[dtype] * 10)
            _same_grads([(ours, ref)], [(xl, xt), (tl, tt)], TOL[dtype] * 10)


@pytest.mark.parametrize("case", GRID_CASES, ids=_grid_ids)
def test_grid_sample_second_derivatives_match_torch(case):
    nd, mode, pad, ac = case
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 2) + ((3, 4) if nd == 2 else (2, 3, 4)))
    g = rng.uniform(-1.3, 1.3, (2,) + ((3, 2) if nd == 2 else (2, 2, 2)) + (nd,))
    res = []
    for m in (lightgrad, torch):
        xt, gt = m.tensor(x, requires_grad=True), m.tensor(g, requires_grad=True)
        o = m.nn.functional.grid_sample(xt, gt, mode=mode, padding_mode=pad, align_corners=ac)
        w = m.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape)))
        gx, gg = m.autograd.grad((o * w).sum() + (o * o).sum(), (xt, gt), create_graph=True)
        v = m.tensor(np.sin(np.arange(gg.numel())).reshape(tuple(gg.shape)))
        h = m.autograd.grad((gx * gx).sum() + (gg * v).sum(), (xt, gt), allow_unused=True)
        res.append([np.zeros_like(a) if t is None else t.numpy() for t, a in zip(h, (x, g))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")       # the unit-size grids
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("nd,ac", list(itertools.product((2, 3), (False, True))))
def test_affine_grid_matches_torch(nd, ac, dtype):
    rng = np.random.default_rng(3)
    tl, tt = _pair(rng.standard_normal((3, nd, nd + 1)).astype(dtype))
    for size in [(3, 2, 4, 5), (3, 1, 17, 40)] if nd == 2 else [(3, 2, 2, 3, 4),
                                                                (3, 1, 5, 1, 9)]:
        ours, ref = LF.affine_grid(tl, size, align_corners=ac), \
            TF.affine_grid(tt, size, align_corners=ac)
        _same_outputs([ours], [ref], TOL[dtype])
        _same_grads([(ours, ref)], [(tl, tt)], TOL[dtype])
        eye = np.tile(np.eye(nd, nd + 1), (3, 1, 1)).astype(dtype)   # the base grid itself
        np.testing.assert_array_equal(
            LF.affine_grid(lightgrad.tensor(eye), size, align_corners=ac).numpy(),
            TF.affine_grid(torch.tensor(eye), size, align_corners=ac).numpy())


def test_grid_ops_warn_as_torch():
    """align_corners=None warns at the caller (torch's stacklevel), as does a unit-size
    grid with align_corners=True; explicit align_corners is silent."""
    theta = lightgrad.eye(2, 3).unsqueeze(0)
    x = lightgrad.ones(1, 1, 2, 2)
    for call in (lambda: LF.affine_grid(theta, (1, 1, 2, 2)),
                 lambda: LF.grid_sample(x, lightgrad.zeros(1, 1, 1, 2))):
        with pytest.warns(UserWarning) as rec:
            call()
        assert len(rec) == 1
        assert str(rec[0].message) == (
            "Default grid_sample and affine_grid behavior has changed to align_corners=False "
            "since 1.3.0. Please specify align_corners=True if the old behavior is desired. "
            "See the documentation of grid_sample for details.")
        assert rec[0].filename == __file__
    with pytest.warns(UserWarning, match="unit-size grids when align_corners=True") as rec:
        LF.affine_grid(theta, (1, 1, 1, 3), align_corners=True)
    assert rec[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LF.affine_grid(theta, (1, 1, 1, 3), align_corners=False)
        LF.grid_sample(x, lightgrad.zeros(1, 1, 1, 2), align_corners=True)


GRID_ERRORS = [
    "F.grid_sample(x, g.double(), align_corners=False)",
    "F.grid_sample(x[0], g[0], align_corners=False)",
    "F.grid_sample(x, g[:1], align_corners=False)",
    "F.grid_sample(x, m.ones(2, 3, 3, 3), align_corners=False)",
    "F.grid_sample(x[:, :, :0], g, align_corners=False)",
    "F.grid_sample(x[None], g[None], align_corners=False)",
    "F.grid_sample(m.ones(2, 3, 4, 5), m.ones(2, 3, 3, 3, 2), align_corners=False)",
    "F.grid_sample(m.ones(2, 3, 4, 5, 6), m.ones(2, 3, 3, 3, 3), mode='bicubic', "
    "align_corners=False)",
    "F.grid_sample(x, g, mode='foo')", "F.grid_sample(x, g, padding_mode='foo')",
    "F.grid_sample(x.int(), g.int(), align_corners=False)",
    "F.grid_sample(m.ones(1, 1, 2, 2, 2).int(), m.ones(1, 1, 1, 1, 3).int(), "
    "align_corners=False)",
    "F.affine_grid(t.int(), (2, 3, 4, 5), align_corners=False)",
    "F.affine_grid(t, (2, 3, 4), align_corners=False)",
    "F.affine_grid(t, (2, 3, 4, 5, 6), align_corners=False)",
    "F.affine_grid(t[0], (2, 3, 4, 5), align_corners=False)",
    "F.affine_grid(t, (2, 3, 0, 5), align_corners=False)",
    "F.affine_grid(t, (3, 3, 4, 5), align_corners=False)",
]


@pytest.mark.parametrize("expr", GRID_ERRORS)
def test_grid_errors_match_torch(expr):
    _errors_match(expr, lambda m: {"F": m.nn.functional, "x": m.ones(2, 3, 4, 5),
                                   "g": m.zeros(2, 3, 3, 2), "t": m.ones(2, 2, 3)})


def test_grid_ops_on_empty_outputs_match_torch():
    for xs, gs in [((2, 0, 4, 5), (2, 3, 3, 2)), ((2, 3, 4, 5), (2, 0, 3, 2))]:
        (xl, xt), (gl, gt) = _pair(np.ones(xs)), _pair(np.zeros(gs))
        _same_outputs([LF.grid_sample(xl, gl, align_corners=False)],
                      [TF.grid_sample(xt, gt, align_corners=False)], 0)


def _vmapped_grid_ops(m, vm, x, g, th):
    """grid_sample with both arguments batched, with the grid only, and affine_grid."""
    F = m.nn.functional
    both = vm(lambda a, b: F.grid_sample(a, b, align_corners=True))(m.tensor(x), m.tensor(g))
    grid_only = vm(lambda b: F.grid_sample(m.tensor(x[0]), b, padding_mode="border",
                                           align_corners=False))(m.tensor(g))
    aff = vm(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=False))(m.tensor(th))
    return both, grid_only, aff


@pytest.mark.filterwarnings("ignore:There is a performance drop")   # torch's vmap fallback
def test_grid_ops_under_vmap_match_torch():
    rng = np.random.default_rng(4)
    args = (rng.standard_normal((3, 2, 2, 4, 5)), rng.uniform(-1.2, 1.2, (3, 2, 3, 3, 2)),
            rng.standard_normal((3, 2, 2, 3)))
    ours = _vmapped_grid_ops(lightgrad, vmap, *args)
    ref = _vmapped_grid_ops(torch, torch.func.vmap, *args)
    for a, b in zip(ours, ref):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
