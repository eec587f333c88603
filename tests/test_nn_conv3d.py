"""3-d convolution, pooling and normalization layers against torch: outputs and gradients
(also of second order) with the same weights, module reprs, init bounds and error texts."""
import math

import numpy as np
import pytest

import lightgrad
import lightgrad.nn as lnn
import lightgrad.nn.functional as LF


def _same(a, b, rtol=1e-7, atol=1e-9):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


def _copy(torch, lm, tm):
    """torch's module gets lightgrad's parameters and buffers."""
    with torch.no_grad():
        for (n, p), (tn, tp) in zip(lm.named_parameters(), tm.named_parameters()):
            assert n == tn and tuple(p.shape) == tuple(tp.shape)
            tp.copy_(torch.from_numpy(p.detach().numpy().copy()))


def _run(torch, lm, tm, x, dtype="float64", rtol=1e-7, create_graph=False):
    """Forward both modules on x, then compare outputs and the input and parameter grads."""
    lm, tm = lm.to(getattr(lightgrad, dtype)), tm.to(getattr(torch, dtype))
    _copy(torch, lm, tm)
    lx = lightgrad.tensor(x, dtype=getattr(lightgrad, dtype), requires_grad=True)
    tx = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    lo, to = lm(lx), tm(tx)
    atol = 1e-9 if dtype == "float64" else 1e-5   # float32 sums differ in order from torch's
    if isinstance(to, tuple):
        assert np.array_equal(lo[1].numpy(), to[1].numpy())
        assert lo[1].dtype == lightgrad.int64
        lo, to = lo[0], to[0]
    _same(lo, to, rtol, atol)
    assert type(lo.grad_fn).__name__ == type(to.grad_fn).__name__
    u = np.random.default_rng(1).standard_normal(tuple(to.shape))
    lps, tps = [lx] + list(lm.parameters()), [tx] + list(tm.parameters())
    lg = lightgrad.autograd.grad(lo, lps, lightgrad.tensor(u, dtype=lo.dtype),
                                 create_graph=create_graph)
    tg = torch.autograd.grad(to, tps, torch.tensor(u, dtype=to.dtype), create_graph=create_graph)
    for a, b in zip(lg, tg):
        _same(a, b, rtol, atol)
    return lg, tg, lps, tps


CONV = [
    dict(in_channels=2, out_channels=3, kernel_size=2),
    dict(in_channels=2, out_channels=4, kernel_size=(1, 2, 3), stride=2, padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=(2, 2, 1), stride=(1, 2, 1),
         padding=(1, 0, 2), dilation=(2, 1, 1), groups=2, bias=False),
    dict(in_channels=3, out_channels=3, kernel_size=3, padding="same", groups=3),
    dict(in_channels=2, out_channels=2, kernel_size=2, padding="valid", stride=3),
    dict(in_channels=2, out_channels=3, kernel_size=2, padding=3, stride=2),
]


@pytest.mark.parametrize("kw", CONV)
@pytest.mark.parametrize("unbatched", [False, True])
def test_conv3d_module_against_torch(torch, kw, unbatched):
    lightgrad.manual_seed(0)
    lm, tm = lnn.Conv3d(**kw), torch.nn.Conv3d(**kw)
    shape = (kw["in_channels"], 4, 5, 5) if unbatched else (2, kw["in_channels"], 4, 5, 5)
    x = np.random.default_rng(0).standard_normal(shape)
    _run(torch, lm, tm, x)


def test_conv3d_float32_and_double_backward(torch):
    lm = lnn.Conv3d(2, 3, 2, stride=(2, 1, 1), padding=1)
    tm = torch.nn.Conv3d(2, 3, 2, (2, 1, 1), 1)
    x = np.random.default_rng(2).standard_normal((2, 2, 3, 4, 4))
    _run(torch, lm, tm, x, "float32", rtol=1e-5)
    lg, tg, lps, tps = _run(torch, lm, tm, x, create_graph=True)
    # the second derivative of the input grad's square sum, w.r.t. input and weight
    ls = lightgrad.autograd.grad((lg[0] ** 2).sum() + (lg[1] ** 3).sum(), lps[:2])
    ts = torch.autograd.grad((tg[0] ** 2).sum() + (tg[1] ** 3).sum(), tps[:2])
    for a, b in zip(ls, ts):
        _same(a, b)


def test_conv3d_init_bounds_and_shapes():
    m = lnn.Conv3d(4, 6, (2, 3, 1), groups=2)
    assert tuple(m.weight.shape) == (6, 2, 2, 3, 1) and tuple(m.bias.shape) == (6,)
    bound = 1 / math.sqrt(2 * 2 * 3 * 1)
    assert float(m.weight.abs().max()) <= bound and float(m.bias.abs().max()) <= bound
    assert float(m.weight.abs().max()) > bound / 2     # uniform over the range, not zeros


def test_conv_transpose3d_module_against_torch(torch):
    kw = dict(in_channels=4, out_channels=2, kernel_size=(2, 3, 2), stride=2, padding=1,
              output_padding=(1, 0, 1), groups=2)
    x = np.random.default_rng(3).standard_normal((2, 4, 2, 3, 3))
    _run(torch, lnn.ConvTranspose3d(**kw), torch.nn.ConvTranspose3d(**kw), x)
    lm, tm = lnn.ConvTranspose3d(2, 3, 2, dilation=2), torch.nn.ConvTranspose3d(2, 3, 2, dilation=2)
    _run(torch, lm, tm, x[0, :2])


POOL = [
    ("MaxPool3d", dict(kernel_size=2)),
    ("MaxPool3d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)),
    ("MaxPool3d", dict(kernel_size=(2, 1, 2), stride=1, dilation=(1, 2, 2))),
    ("MaxPool3d", dict(kernel_size=2, stride=(1, 2, 1), ceil_mode=True, return_indices=True)),
    ("AvgPool3d", dict(kernel_size=2)),
    ("AvgPool3d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("AvgPool3d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                       count_include_pad=False)),
    ("AvgPool3d", dict(kernel_size=(2, 1, 3), stride=(1, 2, 1), divisor_override=5)),
    ("AdaptiveAvgPool3d", dict(output_size=(2, 3, 2))),
    ("AdaptiveAvgPool3d", dict(output_size=(None, 3, 1))),
    ("AdaptiveAvgPool3d", dict(output_size=1)),
]


@pytest.mark.parametrize("name,kw", POOL)
@pytest.mark.parametrize("unbatched", [False, True])
def test_pool3d_modules_against_torch(torch, name, kw, unbatched):
    rng = np.random.default_rng(4)
    shape = (3, 5, 4, 5) if unbatched else (2, 3, 5, 4, 5)
    x = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01   # distinct values
    lm, tm = getattr(lnn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(lm) == repr(tm)
    _run(torch, lm, tm, x)
    _run(torch, lm, tm, x, "float32", rtol=1e-5)


def test_max_pool3d_ties_and_nan_as_torch(torch):
    x = np.zeros((1, 1, 2, 2, 4))
    x[0, 0, 1, 1, 3] = np.nan
    lo, li = LF.max_pool3d(lightgrad.tensor(x), 2, return_indices=True)
    to, ti = torch.nn.functional.max_pool3d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(lo.numpy(), to.numpy())
    np.testing.assert_array_equal(li.numpy(), ti.numpy())


@pytest.mark.parametrize("name", ["BatchNorm3d", "InstanceNorm3d"])
def test_norm3d_modules_against_torch(torch, name):
    x = np.random.default_rng(5).standard_normal((2, 3, 2, 3, 3))
    kw = dict(affine=True, track_running_stats=True) if name == "InstanceNorm3d" else {}
    lm, tm = getattr(lnn, name)(3, **kw), getattr(torch.nn, name)(3, **kw)
    assert repr(lm) == repr(tm)
    with lightgrad.no_grad():
        lm.weight.uniform_(0.5, 1.5)
        lm.bias.uniform_(-1, 1)
    _run(torch, lm, tm, x)
    for a, b in (("running_mean", "running_mean"), ("running_var", "running_var")):
        _same(getattr(lm, a), getattr(tm, b))
    lm.eval()
    tm.eval()
    _run(torch, lm, tm, x)
    if name == "InstanceNorm3d":
        _run(torch, lm, tm, x[0])


REPRS = [
    "Conv3d(2, 4, 3)",
    "Conv3d(2, 4, (1, 2, 3), stride=2, padding=1, dilation=2, groups=2, bias=False, "
    "padding_mode='circular')",
    "Conv3d(2, 4, 3, padding='same')",
    "ConvTranspose3d(4, 2, 3, stride=2, output_padding=1)",
    "MaxPool3d(2)",
    "MaxPool3d((2, 1, 2), stride=1, padding=1, dilation=2, ceil_mode=True, return_indices=True)",
    "AvgPool3d(2)",
    "AvgPool3d((2, 1, 2), stride=1, padding=1, ceil_mode=True, divisor_override=3)",
    "AdaptiveAvgPool3d(2)",
    "AdaptiveAvgPool3d((None, 2, 3))",
    "BatchNorm3d(3, momentum=None, affine=False)",
    "InstanceNorm3d(3, affine=True)",
]


@pytest.mark.parametrize("expr", REPRS)
def test_reprs(torch, expr):
    assert repr(eval("lnn." + expr)) == repr(eval("torch.nn." + expr))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv3d_padding_modes(torch, mode):
    kw = dict(in_channels=2, out_channels=3, kernel_size=(2, 3, 2), padding=(1, 2, 1),
              padding_mode=mode)
    x = np.random.default_rng(6).standard_normal((1, 2, 3, 4, 4))
    _run(torch, lnn.Conv3d(**kw), torch.nn.Conv3d(**kw), x)


X = "lightgrad.randn(1, 2, 3, 4, 4)"
W = "lightgrad.randn(3, 2, 2, 2, 2)"
ERRORS = [
    "F.conv3d(lightgrad.randn(2, 4, 4), W)",
    "F.conv3d(lightgrad.randn(1, 1, 2, 3, 4, 4), W)",
    "F.conv3d(lightgrad.randn(1, 3, 3, 4, 4), W)",
    "F.conv3d(lightgrad.randn(3, 3, 4, 4), W)",
    "F.conv3d(lightgrad.randn(1, 2, 1, 4, 4), W)",
    "F.conv3d(X, lightgrad.randn(3, 2, 2, 2))",
    "F.conv3d(X, W, lightgrad.randn(4))",
    "F.conv3d(X, W, stride=0)",
    "F.conv3d(X, W, stride=(1, 1))",
    "F.conv3d(X, W, padding=(1, 1))",
    "F.conv3d(X, W, dilation=(1, 1))",
    "F.conv3d(X, W, stride=2, padding='same')",
    "F.conv3d(X, W, padding=-1)",
    "F.conv3d(X, W, padding='foo')",
    "F.conv3d(X, lightgrad.randn(3, 1, 2, 2, 2), groups=2)",
    "F.conv3d(X.double(), W)",
    "F.conv_transpose3d(X, lightgrad.randn(2, 2, 2, 2, 2), output_padding=1)",
    "F.max_pool3d(lightgrad.randn(3, 4, 4), 2)",
    "F.max_pool3d(lightgrad.randn(1, 1, 2, 3, 4, 4), 2)",
    "F.max_pool3d(lightgrad.randn(1, 2, 1, 4, 4), 2)",
    "F.max_pool3d(lightgrad.randn(1, 2, 3, 4, 4), 2, dilation=3)",
    "F.max_pool3d(X, 2, padding=2)",
    "F.max_pool3d(X, 2, stride=0)",
    "F.max_pool3d(X, (2, 2))",
    "F.max_pool3d(X, 2, stride=(1, 1))",
    "F.max_pool3d(X, 2, padding=(1, 1))",
    "F.max_pool3d(X, 2, dilation=(1, 1))",
    "F.avg_pool3d(lightgrad.randn(3, 4, 4), 2)",
    "F.avg_pool3d(lightgrad.randn(1, 2, 1, 4, 4), 2, padding=1)",
    "F.avg_pool3d(X, 2, padding=2)",
    "F.avg_pool3d(X, 2, divisor_override=0)",
    "F.avg_pool3d(X, 2, stride=0)",
    "F.avg_pool3d(X, (2, 2))",
    "F.avg_pool3d(X, 2, stride=(1, 1))",
    "F.avg_pool3d(X, 2, padding=(1, 1))",
    "F.adaptive_avg_pool3d(lightgrad.randn(3, 4, 4), 2)",
    "F.adaptive_avg_pool3d(X, (2, 2))",
    "F.adaptive_avg_pool3d(X, (2, -3, 2))",
    "F.adaptive_avg_pool3d(X.long(), 2)",
    "nn.BatchNorm3d(2)(lightgrad.randn(2, 2, 3, 3))",
    "nn.InstanceNorm3d(2)(lightgrad.randn(2, 3, 3))",
    "nn.Conv3d(2, 4, 2)(lightgrad.randn(2, 3, 3))",
]


def _error(mod, expr):
    env = {"lightgrad": mod, "F": mod.nn.functional, "nn": mod.nn}
    env["X"], env["W"] = eval(X, env), eval(W, env)
    try:
        eval(expr, env)
    except Exception as e:       # noqa: BLE001  (the type is compared with torch's)
        return type(e).__name__, str(e).split("\n")[0]
    return None


@pytest.mark.parametrize("expr", ERRORS)
def test_errors_as_torch(torch, expr):
    ours = _error(lightgrad, expr)
    assert ours is not None
    assert ours == _error(torch, expr)


def test_shapes_of_empty_batch_and_zero_output(torch):
    x = lightgrad.randn(0, 2, 3, 4, 4)
    assert tuple(LF.max_pool3d(x, 2).shape) == (0, 2, 1, 2, 2)
    y = LF.adaptive_avg_pool3d(lightgrad.randn(1, 2, 3, 4, 4), (2, 2, 0))
    assert tuple(y.shape) == tuple(torch.nn.functional.adaptive_avg_pool3d(
        torch.randn(1, 2, 3, 4, 4), (2, 2, 0)).shape)
