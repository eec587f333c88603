"""Bicubic (and trilinear / 3-d nearest) interpolation against torch: values, gradients,
node names, nn.Upsample and torch's error texts."""
import numpy as np
import pytest

import lightgrad
import lightgrad.nn.functional as LF

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = [("float64", 1e-7, 1e-10), ("float32", 1e-5, 1e-5)]


def _pair(shape, dtype, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return (lightgrad.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))


def _check(shape, dtype, rtol, atol, fl, ft):
    """Run fl on lightgrad and ft on torch; compare outputs, node names and input grads."""
    xl, xt = _pair(shape, dtype)
    yl, yt = fl(xl), ft(xt)
    assert tuple(yl.shape) == tuple(yt.shape)
    assert str(yl.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    assert type(yl.grad_fn).__name__ == type(yt.grad_fn).__name__
    np.testing.assert_allclose(yl.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(dtype)
    yl.backward(lightgrad.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xl.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)


BICUBIC = [
    dict(scale_factor=2),
    dict(scale_factor=3, align_corners=True),
    dict(scale_factor=0.5),                       # downscaling
    dict(scale_factor=(0.4, 1.7)),                # non-integer, mixed
    dict(scale_factor=(1.3, 1.1)),                # width keeps its size (4 -> 4)
    dict(scale_factor=(2.5, 0.75), align_corners=True),
    dict(scale_factor=1.3, recompute_scale_factor=True),
    dict(scale_factor=0.6, recompute_scale_factor=False),
    dict(size=(7, 3)),
    dict(size=(1, 1)),
    dict(size=(1, 9), align_corners=True),
    dict(size=5, align_corners=False),
]


@pytest.mark.parametrize("dtype,rtol,atol", DTYPES)
@pytest.mark.parametrize("kw", BICUBIC, ids=str)
def test_bicubic_matches_torch(kw, dtype, rtol, atol):
    _check((2, 3, 5, 4), dtype, rtol, atol,
           lambda x: LF.interpolate(x, mode="bicubic", **kw),
           lambda x: TF.interpolate(x, mode="bicubic", **kw))


@pytest.mark.parametrize("ac", [False, True])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 2, 1, 3), (3, 1, 2, 2)])
def test_bicubic_tiny_inputs(shape, ac):
    # neighbours outside the input are border-replicated (clamped source indices)
    _check(shape, "float64", 1e-7, 1e-10,
           lambda x: LF.interpolate(x, size=(4, 5), mode="bicubic", align_corners=ac),
           lambda x: TF.interpolate(x, size=(4, 5), mode="bicubic", align_corners=ac))


@pytest.mark.parametrize("dtype,rtol,atol", DTYPES)
@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=(3, 7), align_corners=True),
                                dict(scale_factor=(0.5, 1.5))], ids=str)
def test_upsample_module_bicubic(kw, dtype, rtol, atol):
    ml = lightgrad.nn.Upsample(mode="bicubic", **kw)
    mt = torch.nn.Upsample(mode="bicubic", **kw)
    assert repr(ml) == repr(mt)
    _check((1, 2, 4, 6), dtype, rtol, atol, ml, mt)


def test_bicubic_same_size_rescale_gradient():
    # torch's CPU backward copies the gradient when the output size equals the input size
    # even though a scale_factor != 1 made the forward a real resampling, so its gradient
    # disagrees with its own forward (torch.autograd.gradcheck fails). lightgrad returns the
    # true adjoint of the forward instead.
    xl, xt = _pair((1, 2, 5, 4), "float64")
    yl = LF.interpolate(xl, scale_factor=1.1, mode="bicubic")
    yt = TF.interpolate(xt, scale_factor=1.1, mode="bicubic")
    np.testing.assert_allclose(yl.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    g = np.random.default_rng(2).standard_normal((1, 2, 5, 4))
    yl.backward(lightgrad.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.numpy(), g)       # torch: a copy
    # lightgrad: <g, f(x)> = <f^T(g), x> for the linear map f
    lhs = float((g * yl.detach().numpy()).sum())
    rhs = float((xl.grad.numpy() * xl.detach().numpy()).sum())
    assert abs(lhs - rhs) < 1e-10 * max(1.0, abs(lhs))
    assert not np.allclose(xl.grad.numpy(), g)


def test_bicubic_double_backward_and_overshoot():
    xl, xt = _pair((1, 1, 3, 3), "float64")
    yl = LF.interpolate(xl, scale_factor=2, mode="bicubic")
    yt = TF.interpolate(xt, scale_factor=2, mode="bicubic")
    gl = lightgrad.ones(tuple(yl.shape), dtype=lightgrad.float64, requires_grad=True)
    gt = torch.ones(tuple(yt.shape), dtype=torch.float64, requires_grad=True)
    (dl,) = lightgrad.autograd.grad(yl, xl, gl, create_graph=True)
    (dt,) = torch.autograd.grad(yt, xt, gt, create_graph=True)
    assert type(dl.grad_fn).__name__ == type(dt.grad_fn).__name__ \
        == "UpsampleBicubic2DBackwardBackward0"
    np.testing.assert_allclose(dl.detach().numpy(), dt.detach().numpy(), rtol=1e-10)
    # cubic convolution overshoots a step edge, unlike bilinear
    step = np.zeros((1, 1, 1, 4))
    step[..., 2:] = 1.0
    y = LF.interpolate(lightgrad.tensor(step), size=(1, 8), mode="bicubic").numpy()
    ref = TF.interpolate(torch.tensor(step), size=(1, 8), mode="bicubic").numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    assert y.min() < 0 and y.max() > 1


@pytest.mark.parametrize("mode,kw", [
    ("trilinear", dict(scale_factor=2)),
    ("trilinear", dict(scale_factor=(0.5, 1.5, 2.2))),
    ("trilinear", dict(size=(3, 1, 4), align_corners=True)),
    ("nearest", dict(scale_factor=1.6)),
    ("nearest-exact", dict(size=(2, 5, 3))),
], ids=str)
def test_3d_modes_match_torch(mode, kw):
    for dtype, rtol, atol in DTYPES:
        _check((2, 2, 3, 2, 4), dtype, rtol, atol,
               lambda x: LF.interpolate(x, mode=mode, **kw),
               lambda x: TF.interpolate(x, mode=mode, **kw))


def _err(shape, **kw):
    """(type, message) of the error torch and lightgrad raise for interpolate(x, **kw)."""
    out = []
    for m, F in ((torch, TF), (lightgrad, LF)):
        with pytest.raises(Exception) as e:
            F.interpolate(m.ones(*shape), **kw)
        out.append((type(e.value).__name__, str(e.value)))
    return out


@pytest.mark.parametrize("shape,kw", [
    ((1, 1, 3), dict(scale_factor=2, mode="bicubic")),
    ((1, 1, 3, 3, 3), dict(scale_factor=2, mode="bicubic")),
    ((3, 3), dict(scale_factor=2, mode="bicubic")),
    ((1, 1, 3, 3), dict(scale_factor=2, mode="bogus")),
    ((1, 1, 3, 3), dict(scale_factor=2, mode="trilinear")),
    ((1, 1, 3, 3, 3), dict(scale_factor=2, mode="bilinear")),
    ((1, 1, 3), dict(scale_factor=2, mode="trilinear")),
    ((1, 1, 3, 3), dict(scale_factor=2, mode="linear")),
    ((1, 1, 3), dict(scale_factor=2, mode="linear", antialias=True)),
    ((1, 1, 3, 3), dict(scale_factor=2, mode="nearest", antialias=True)),
    ((1, 1, 3, 3), dict(size=(2,), mode="bicubic")),
    ((1, 1, 3, 3), dict(scale_factor=(2, 2, 2), mode="bicubic")),
    ((1, 1, 3, 3), dict(size=(2.0, 3), mode="bicubic")),
    ((1, 1, 3, 3), dict(size=(2, 3), mode="bicubic", recompute_scale_factor=True)),
    ((1, 1, 3, 3), dict(size=(2, 3), scale_factor=2, mode="bicubic")),
    ((1, 1, 3, 3), dict(mode="bicubic")),
    ((1, 1, 3, 3), dict(scale_factor=0.1, mode="bicubic")),
    ((1, 1, 3, 3), dict(size=(0, 2), mode="bicubic")),
    ((1, 1, 0, 3), dict(size=(2, 2), mode="bicubic")),
    ((1, 1, 3), dict(scale_factor=0.1, mode="linear")),
    ((1, 1, 3, 3, 3), dict(scale_factor=0.1, mode="trilinear")),
    ((1, 1, 3, 3), dict(scale_factor=2, mode="nearest", align_corners=True)),
], ids=str)
def test_errors_match_torch(shape, kw):
    t, lg = _err(shape, **kw)
    assert lg == t


@pytest.mark.parametrize("mode", ["bicubic", "bilinear"])
@pytest.mark.parametrize("kw", [dict(scale_factor=0.5), dict(scale_factor=(0.3, 2.5)),
                                dict(size=(2, 9), align_corners=True), dict(size=(1, 3)),
                                dict(scale_factor=(1.0, 0.4), align_corners=False)], ids=str)
def test_antialias_matches_torch(mode, kw):
    for dtype, rtol, atol in DTYPES:
        _check((1, 2, 7, 6), dtype, rtol, atol,
               lambda x: LF.interpolate(x, mode=mode, antialias=True, **kw),
               lambda x: TF.interpolate(x, mode=mode, antialias=True, **kw))
