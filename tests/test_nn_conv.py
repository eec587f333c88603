"""Convolution, pooling and spatial layers against torch: values, gradients (also of second
order), module reprs, initialization bounds and error texts."""
import math

import numpy as np
import pytest

import lightgrad
import lightgrad.nn as lnn
import lightgrad.nn.functional as LF

from ._compare import check


def _pair(torch, arrays, dtype="float64"):
    lg = [lightgrad.tensor(a, dtype=getattr(lightgrad, dtype), requires_grad=True)
          for a in arrays]
    th = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True) for a in arrays]
    return lg, th


def _same(a, b, rtol=1e-7, atol=1e-9):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


CONV_CASES = [
    ("conv2d", (2, 3, 7, 6), (4, 3, 3, 2), dict(stride=2, padding=(1, 2), dilation=(2, 1))),
    ("conv2d", (2, 4, 5, 6), (6, 2, 3, 3), dict(stride=(1, 2), padding=1, groups=2)),
    ("conv2d", (2, 6, 7, 6), (6, 2, 3, 2), dict(stride=(2, 1), padding=(2, 0), dilation=(1, 2),
                                                groups=3)),
    ("conv2d", (1, 2, 5, 6), (3, 2, 2, 3), dict(padding="same", dilation=2)),
    ("conv2d", (1, 2, 5, 6), (3, 2, 3, 3), dict(padding="valid")),
    ("conv2d", (2, 3, 7, 6), (4, 3, 2, 2), dict(stride=3, padding=3)),
    ("conv1d", (2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, groups=2)),
    ("conv1d", (4, 9), (2, 4, 4), dict(padding="same")),
    ("conv_transpose2d", (2, 4, 3, 4), (4, 3, 3, 2), dict(stride=2, padding=1,
                                                          output_padding=1, groups=2)),
    ("conv_transpose2d", (2, 4, 3, 4), (4, 3, 3, 2), dict(stride=(2, 3), padding=(0, 1),
                                                          dilation=2)),
    ("conv_transpose2d", (4, 3, 4), (4, 2, 2, 2), dict(stride=2, padding=2)),
    ("conv_transpose1d", (2, 4, 5), (4, 3, 3), dict(stride=2, output_padding=1)),
]


@pytest.mark.parametrize("name,xs,ws,kw", CONV_CASES)
def test_conv_values_and_grads(torch, name, xs, ws, kw):
    rng = np.random.default_rng(0)
    transposed = "transpose" in name
    nb = ws[1] * kw.get("groups", 1) if transposed else ws[0]
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(nb)]
    (lx, lw, lb), (tx, tw, tb) = _pair(torch, arrays)
    with pytest.warns(UserWarning) if kw.get("padding") == "same" and ws[-1] % 2 == 0 and \
            kw.get("dilation", 1) % 2 else _nothing():
        lo = getattr(LF, name)(lx, lw, lb, **kw)
    to = getattr(torch.nn.functional, name)(tx, tw, tb, **kw)
    _same(lo, to)
    assert type(lo.grad_fn).__name__ == type(to.grad_fn).__name__
    u = rng.standard_normal(tuple(to.shape))
    lg_g = lightgrad.autograd.grad(lo, (lx, lw, lb), lightgrad.tensor(u), create_graph=True)
    th_g = torch.autograd.grad(to, (tx, tw, tb), torch.tensor(u), create_graph=True)
    for a, b in zip(lg_g, th_g):
        _same(a, b)
    # second order: d/d(x, w) of <grad_x, v> + <grad_w, r>
    v = rng.standard_normal(xs)
    r = rng.standard_normal(ws)
    ls = (lg_g[0] * lightgrad.tensor(v)).sum() + (lg_g[1] * lightgrad.tensor(r)).sum()
    ts = (th_g[0] * torch.tensor(v)).sum() + (th_g[1] * torch.tensor(r)).sum()
    for a, b in zip(lightgrad.autograd.grad(ls, (lx, lw)), torch.autograd.grad(ts, (tx, tw))):
        _same(a, b)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_conv_float32_matches(torch):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((4, 3, 9, 9)), rng.standard_normal((5, 3, 3, 3))]
    (lx, lw), (tx, tw) = _pair(torch, arrays, "float32")
    lo, to = LF.conv2d(lx, lw, padding=1), torch.nn.functional.conv2d(tx, tw, padding=1)
    assert lo.dtype == lightgrad.float32
    _same(lo, to, rtol=1e-5, atol=1e-5)
    lo.sum().backward()
    to.sum().backward()
    _same(lx.grad, tx.grad, rtol=1e-5, atol=1e-5)
    _same(lw.grad, tw.grad, rtol=1e-5, atol=1e-4)


POOL_CASES = [
    ("max_pool2d", (2, 3, 6, 6), dict(kernel_size=2)),
    ("max_pool2d", (2, 3, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", (2, 3, 6, 7), dict(kernel_size=(2, 3), stride=1, padding=1, dilation=2)),
    ("max_pool2d", (3, 5, 5), dict(kernel_size=2, ceil_mode=True)),
    ("max_pool1d", (2, 3, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                      count_include_pad=False)),
    ("avg_pool2d", (2, 3, 6, 7), dict(kernel_size=2, divisor_override=3)),
    ("avg_pool1d", (2, 3, 8), dict(kernel_size=3, stride=2, padding=1)),
    ("adaptive_avg_pool2d", (2, 3, 5, 7), dict(output_size=(2, 3))),
    ("adaptive_avg_pool2d", (2, 3, 5, 7), dict(output_size=(None, 4))),
    ("adaptive_avg_pool2d", (2, 3, 5, 7), dict(output_size=1)),
    ("adaptive_avg_pool1d", (2, 3, 7), dict(output_size=3)),
    ("adaptive_max_pool2d", (2, 3, 5, 7), dict(output_size=(2, 3))),
]


@pytest.mark.parametrize("name,xs,kw", POOL_CASES)
def test_pool_values_and_grads(torch, name, xs, kw):
    rng = np.random.default_rng(0)
    (lx,), (tx,) = _pair(torch, [rng.standard_normal(xs)])
    lo, to = getattr(LF, name)(lx, **kw), getattr(torch.nn.functional, name)(tx, **kw)
    _same(lo, to)
    assert type(lo.grad_fn).__name__ == type(to.grad_fn).__name__
    u = rng.standard_normal(tuple(to.shape))
    lo.backward(lightgrad.tensor(u))
    to.backward(torch.tensor(u))
    _same(lx.grad, tx.grad)


@pytest.mark.parametrize("name,kw", [("max_pool2d", dict(kernel_size=3, stride=2, padding=1,
                                                         ceil_mode=True)),
                                     ("max_pool2d", dict(kernel_size=2, dilation=2)),
                                     ("max_pool1d", dict(kernel_size=2)),
                                     ("adaptive_max_pool2d", dict(output_size=(2, 3)))])
def test_pool_indices(torch, name, kw):
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 7))
    if name == "max_pool1d":
        x = x[:, :, 0]
    lo, li = getattr(LF, name)(lightgrad.tensor(x), return_indices=True, **kw)
    to, ti = getattr(torch.nn.functional, name)(torch.tensor(x), return_indices=True, **kw)
    assert li.dtype == lightgrad.int64 and not li.requires_grad
    np.testing.assert_array_equal(li.numpy(), ti.numpy())
    np.testing.assert_array_equal(lo.numpy(), to.numpy())


def test_max_pool_nan_and_ties(torch):
    x = np.array([[[[1.0, 1.0, np.nan, 2.0], [0.0, 1.0, 3.0, 3.0]]]])
    lo, li = LF.max_pool2d(lightgrad.tensor(x), 2, return_indices=True)
    to, ti = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(lo.numpy(), to.numpy())
    np.testing.assert_array_equal(li.numpy(), ti.numpy())


SPATIAL_CASES = [
    ("pad", (2, 3, 4), dict(pad=(1, 2))),
    ("pad", (2, 3, 4), dict(pad=(1, -1, 2, 0), value=2.0)),
    ("pad", (2, 3, 4, 5), dict(pad=(1, 2, 2, 1), mode="reflect")),
    ("pad", (2, 3, 4, 5), dict(pad=(1, 2, 2, 1), mode="replicate")),
    ("pad", (2, 3, 4, 5), dict(pad=(1, 2, 2, 1), mode="circular")),
    ("pad", (2, 3, 4), dict(pad=(3, 2), mode="reflect")),
    ("pad", (2, 3, 4), dict(pad=(1, 2), mode="circular")),
    ("interpolate", (2, 3, 4, 5), dict(scale_factor=2)),
    ("interpolate", (2, 3, 4, 5), dict(scale_factor=1.7)),
    ("interpolate", (2, 3, 4, 5), dict(size=(7, 3), mode="bilinear")),
    ("interpolate", (2, 3, 4, 5), dict(scale_factor=1.5, mode="bilinear")),
    ("interpolate", (2, 3, 4, 5), dict(size=(7, 3), mode="bilinear", align_corners=True)),
    ("interpolate", (2, 3, 4), dict(size=7, mode="linear")),
    ("interpolate", (2, 3, 4), dict(scale_factor=0.5, mode="nearest")),
    ("interpolate", (2, 3, 4, 5), dict(size=(7, 3), mode="nearest-exact")),
    ("unfold", (2, 3, 5, 6), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1,
                                  stride=(2, 1))),
    ("unfold", (3, 4, 4), dict(kernel_size=2)),
    ("fold", (2, 18, 12), dict(output_size=(5, 6), kernel_size=(2, 3), dilation=(1, 2),
                               padding=1, stride=(2, 1))),
    ("pixel_shuffle", (2, 8, 3, 2), dict(upscale_factor=2)),
    ("pixel_unshuffle", (2, 2, 4, 6), dict(downscale_factor=2)),
]


@pytest.mark.parametrize("name,xs,kw", SPATIAL_CASES)
def test_spatial_values_and_grads(torch, name, xs, kw):
    rng = np.random.default_rng(0)
    (lx,), (tx,) = _pair(torch, [rng.standard_normal(xs)])
    lo, to = getattr(LF, name)(lx, **kw), getattr(torch.nn.functional, name)(tx, **kw)
    _same(lo, to)
    assert type(lo.grad_fn).__name__ == type(to.grad_fn).__name__
    u = rng.standard_normal(tuple(to.shape))
    lo.backward(lightgrad.tensor(u))
    to.backward(torch.tensor(u))
    _same(lx.grad, tx.grad)


ERRORS = [
    "torch.nn.functional.conv2d(torch.ones(2, 4, 6, 6), torch.ones(6, 4, 3, 3), padding='same',"
    " stride=2)",
    "torch.nn.functional.conv2d(torch.ones(2, 4, 6, 6), torch.ones(6, 4, 3, 3), padding='foo')",
    "torch.nn.functional.conv2d(torch.ones(2, 4, 6, 6), torch.ones(6, 3, 3, 3))",
    "torch.nn.functional.conv2d(torch.ones(2, 4, 6, 6), torch.ones(6, 4, 3, 3), groups=3)",
    "torch.nn.functional.conv2d(torch.ones(2, 4, 6, 6), torch.ones(6, 4, 7, 7))",
    "torch.nn.functional.conv2d(torch.ones(6, 6), torch.ones(6, 4, 3, 3))",
    "torch.nn.functional.conv2d(torch.ones(2, 4, 6, 6), torch.ones(6, 4, 3, 3), padding=-1)",
    "torch.nn.functional.conv2d(torch.ones(2, 4, 6, 6), torch.ones(6, 4, 3, 3), stride=0)",
    "torch.nn.functional.conv2d(torch.ones(2, 4, 6, 6), torch.ones(6, 4, 3, 3), torch.ones(5))",
    "torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2).double())",
    "torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3).double(), torch.ones(1, 1, 2, 2))",
    "torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2), "
    "torch.ones(1).double())",
    "torch.nn.functional.conv_transpose2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2)"
    ".double())",
    "torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3, dtype=torch.long), "
    "torch.ones(1, 1, 2, 2, dtype=torch.long))",
    "torch.nn.functional.max_pool2d(torch.arange(16).reshape(1, 1, 4, 4), 2)",
    "torch.nn.functional.max_pool2d(torch.ones(2, 4, 6, 6), 3, padding=2)",
    "torch.nn.functional.max_pool2d(torch.ones(2, 4, 6, 6), 7)",
    "torch.nn.functional.max_pool2d(torch.ones(2, 4, 6, 6), 2, stride=0)",
    "torch.nn.functional.avg_pool2d(torch.ones(2, 4, 6, 6), 3, padding=2)",
    "torch.nn.functional.pad(torch.ones(2, 4, 6, 6), (1, 2, 3))",
    "torch.nn.functional.pad(torch.ones(2, 4, 6, 6), (7, 7), mode='reflect')",
    "torch.nn.functional.pad(torch.ones(2, 4, 6, 6), (6, 6, 1, 1), mode='reflect')",
    "torch.nn.functional.pixel_shuffle(torch.ones(2, 4, 6, 6), 3)",
    "torch.nn.functional.interpolate(torch.ones(2, 4, 6, 6))",
    "torch.nn.functional.interpolate(torch.ones(2, 4, 6, 6), size=3, scale_factor=2)",
    "torch.nn.functional.interpolate(torch.ones(2, 4, 6, 6), size=3, align_corners=True)",
    "torch.nn.functional.fold(torch.ones(2, 18, 16), (5, 6), (2, 3), dilation=(1, 2), "
    "padding=1, stride=(2, 1))",
    "torch.nn.functional.fold(torch.ones(2, 17, 12), (5, 6), (2, 3))",
    "torch.nn.Conv2d(3, 4, 3, groups=2)",
    "torch.nn.Conv2d(4, 3, 3, groups=2)",
    "torch.nn.Conv2d(4, 4, 3, stride=2, padding='same')",
]


@pytest.mark.parametrize("expr", ERRORS)
def test_errors_match_torch(torch, expr):
    check(torch, expr, values=False)


def test_module_argument_errors():
    # torch prints a set here, so only the start of the message is stable
    with pytest.raises(ValueError, match="Invalid padding string 'foo', should be one of"):
        lnn.Conv2d(4, 4, 3, padding="foo")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        lnn.Conv2d(4, 4, 3, padding_mode="x")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported'):
        lnn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")


REPRS = [
    "nn.Conv1d(2, 4, 3)", "nn.Conv2d(1, 16, 3, padding=1)",
    "nn.Conv2d(4, 8, (3, 2), stride=2, padding='valid', dilation=2, groups=2, bias=False, "
    "padding_mode='reflect')",
    "nn.Conv2d(4, 8, 3, padding='same')", "nn.ConvTranspose2d(4, 8, 3, stride=2, "
    "output_padding=1)", "nn.ConvTranspose1d(4, 8, 3)",
    "nn.MaxPool2d(2)", "nn.MaxPool2d((2, 3), stride=1, return_indices=True)",
    "nn.MaxPool1d(3)", "nn.AvgPool2d(2)", "nn.AvgPool2d(3, 2, 1, True, False, 2)",
    "nn.AvgPool1d(3)", "nn.AdaptiveAvgPool2d((2, None))", "nn.AdaptiveAvgPool2d(1)",
    "nn.AdaptiveAvgPool1d(3)", "nn.AdaptiveMaxPool2d(2)",
    "nn.ZeroPad2d(2)", "nn.ConstantPad2d((1, 2, 3, 4), 3.5)", "nn.ReflectionPad2d(1)",
    "nn.ReplicationPad2d((1, 2, 0, 1))", "nn.ConstantPad1d(2, 1.)", "nn.ReflectionPad1d(2)",
    "nn.CircularPad2d(1)", "nn.ZeroPad1d(1)", "nn.PixelShuffle(2)", "nn.PixelUnshuffle(2)",
    "nn.Upsample(scale_factor=2)", "nn.Upsample(size=(3, 4), mode='bilinear', "
    "align_corners=True)", "nn.UpsamplingNearest2d(scale_factor=2)",
    "nn.UpsamplingBilinear2d(scale_factor=2)", "nn.Unfold(2)", "nn.Fold((4, 5), 2)",
    "nn.Unfold((2, 3), dilation=2, padding=1, stride=2)",
]


@pytest.mark.parametrize("expr", REPRS)
def test_module_repr(torch, expr):
    assert repr(eval(expr, {"nn": lnn})) == repr(eval(expr, {"nn": torch.nn}))


def _copy_params(lm, tm):
    for (n1, p1), (n2, p2) in zip(lm.named_parameters(), tm.named_parameters()):
        assert n1 == n2 and tuple(p1.shape) == tuple(p2.shape)
        with lightgrad.no_grad():
            p1.copy_(lightgrad.tensor(p2.detach().numpy()))


MODULES = [
    ("Conv2d(3, 4, 3, padding=1)", (2, 3, 5, 5)),
    ("Conv2d(4, 6, (3, 2), stride=2, padding='valid', dilation=(1, 2), groups=2, "
     "padding_mode='reflect')", (2, 4, 7, 7)),
    ("Conv2d(2, 4, 4, padding='same', padding_mode='circular')", (2, 2, 6, 5)),
    ("Conv2d(2, 4, 3, padding=2, padding_mode='replicate', bias=False)", (2, 2, 4, 5)),
    ("Conv1d(2, 4, 3, stride=2)", (2, 2, 9)),
    ("ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)", (2, 3, 4, 4)),
    ("ConvTranspose1d(3, 2, 3, stride=2)", (2, 3, 4)),
    ("MaxPool2d(2)", (2, 3, 6, 6)), ("AvgPool2d(3, stride=2, padding=1)", (2, 3, 6, 6)),
    ("AdaptiveAvgPool2d((2, 3))", (2, 3, 6, 7)), ("Upsample(scale_factor=2, mode='bilinear')",
                                                  (2, 3, 3, 4)),
    ("PixelShuffle(2)", (2, 8, 3, 3)), ("ReflectionPad2d((1, 2, 2, 1))", (2, 3, 4, 4)),
    ("Unfold(2, stride=2)", (2, 3, 4, 4)), ("Fold((4, 4), 2, stride=2)", (2, 12, 4)),
]


@pytest.mark.parametrize("expr,xs", MODULES)
def test_modules_match_torch(torch, expr, xs):
    lm = eval(expr, {}, vars(lnn)).double()
    tm = eval(expr, {}, vars(torch.nn)).double()
    assert [n for n, _ in lm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    _copy_params(lm, tm)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs)
    (lx,), (tx,) = _pair(torch, [x])
    lo, to = lm(lx), tm(tx)
    _same(lo, to)
    u = rng.standard_normal(tuple(to.shape))
    lo.backward(lightgrad.tensor(u))
    to.backward(torch.tensor(u))
    _same(lx.grad, tx.grad)
    for p1, p2 in zip(lm.parameters(), tm.parameters()):
        _same(p1.grad, p2.grad)


def test_conv_transpose_output_size(torch):
    lm, tm = lnn.ConvTranspose2d(2, 3, 3, stride=2).double(), \
        torch.nn.ConvTranspose2d(2, 3, 3, stride=2).double()
    _copy_params(lm, tm)
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    lo = lm(lightgrad.tensor(x), output_size=[10, 10])
    to = tm(torch.tensor(x), output_size=[10, 10])
    assert tuple(lo.shape) == tuple(to.shape) == (1, 3, 10, 10)
    _same(lo, to)


def test_conv_default_init_bounds():
    lightgrad.manual_seed(0)
    m = lnn.Conv2d(4, 8, 3, groups=2)
    bound = 1 / math.sqrt(2 * 9)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert w.shape == (8, 2, 3, 3) and b.shape == (8,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound and w.std() > 0.4 * bound
    t = lnn.ConvTranspose2d(4, 6, 2, groups=2)
    assert t.weight.shape == (4, 3, 2, 2)
    assert np.abs(t.weight.detach().numpy()).max() <= 1 / math.sqrt(3 * 4)
    assert m.weight.dtype == lightgrad.float32 and m.weight.requires_grad
    assert [k for k in m.state_dict()] == ["weight", "bias"]


def test_max_pool_module_return_indices(torch):
    x = np.random.default_rng(3).standard_normal((2, 2, 4, 4))
    lo, li = lnn.MaxPool2d(2, return_indices=True)(lightgrad.tensor(x))
    to, ti = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(li.numpy(), ti.numpy())
    _same(lo, to)


def test_no_grad_outputs_are_plain():
    x = lightgrad.randn(1, 2, 4, 4, requires_grad=True)
    w = lightgrad.randn(3, 2, 3, 3, requires_grad=True)
    with lightgrad.no_grad():
        y = LF.conv2d(x, w)
        p = LF.max_pool2d(x, 2)
    assert y.grad_fn is None and not y.requires_grad and p.grad_fn is None
    y = LF.conv2d(x.detach(), w.detach())
    assert y.is_contiguous() and not y.requires_grad
