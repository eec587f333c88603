"""Layers and activations against torch: reprs, forward values, gradients and node names
with copied weights; dropout, embedding, distances, default init and nn.utils."""
import math
import warnings

import numpy as np
import pytest

import lightgrad as lg
import lightgrad.nn as lnn
import lightgrad.nn.functional as LF


def _pair(torch, arr, requires_grad=True):
    a = lg.tensor(arr, dtype=lg.float64, requires_grad=requires_grad)
    b = torch.tensor(arr, dtype=torch.float64, requires_grad=requires_grad)
    return a, b


def _copy(lm, tm, torch):
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lm.state_dict().items()})


def _close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


def _err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return type(e).__name__, str(e)
    return None


def _check_module(torch, lm, tm, *arrays, rtol=1e-10):
    """Same output, node name and gradients (inputs and parameters) for copied weights."""
    lm.double()
    tm.double()
    _copy(lm, tm, torch)
    ins = [_pair(torch, a) for a in arrays]
    ly, ty = lm(*[a for a, _ in ins]), tm(*[b for _, b in ins])
    _close(ly, ty, rtol)
    assert type(ly.grad_fn).__name__ == type(ty.grad_fn).__name__
    up = np.random.default_rng(3).standard_normal(tuple(ty.shape))
    ly.backward(lg.tensor(up))
    ty.backward(torch.tensor(up))
    for a, b in ins:
        _close(a.grad, b.grad, rtol)
    for p, q in zip(lm.parameters(), tm.parameters()):
        _close(p.grad, q.grad, rtol)


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 5, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(torch, shape, bias):
    lm, tm = lnn.Linear(3, 2, bias=bias), torch.nn.Linear(3, 2, bias=bias)
    assert repr(lm) == repr(tm)
    _check_module(torch, lm, tm, RNG.standard_normal(shape))


def test_linear_node_names(torch):
    w, tw = _pair(torch, RNG.standard_normal((2, 3)))
    b, tb = _pair(torch, RNG.standard_normal(2))
    for shape in [(4, 3), (3,), (2, 5, 3)]:
        x, tx = _pair(torch, RNG.standard_normal(shape))
        y, ty = LF.linear(x, w, b), torch.nn.functional.linear(tx, tw, tb)
        assert y.grad_fn.name() == ty.grad_fn.name()
        assert [f.name() for f, _ in y.grad_fn.next_functions if f] == \
            [f.name() for f, _ in ty.grad_fn.next_functions if f]


def test_bilinear(torch):
    lm, tm = lnn.Bilinear(3, 2, 4), torch.nn.Bilinear(3, 2, 4)
    assert repr(lm) == repr(tm)
    _check_module(torch, lm, tm, RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2)))
    lm, tm = lnn.Bilinear(3, 2, 4, bias=False), torch.nn.Bilinear(3, 2, 4, bias=False)
    _check_module(torch, lm, tm, RNG.standard_normal((2, 2, 3)), RNG.standard_normal((2, 2, 2)))


ACTIVATIONS = [
    ("ReLU", (), {}), ("ReLU", (True,), {}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}),
    ("ELU", (), {}), ("ELU", (0.5,), {}), ("CELU", (0.7,), {}), ("SELU", (), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SiLU", (), {}), ("Mish", (), {}),
    ("Sigmoid", (), {}), ("Tanh", (), {}), ("Softplus", (), {}),
    ("Softplus", (), {"beta": 2, "threshold": 1}), ("Softsign", (), {}), ("Hardtanh", (), {}),
    ("Hardtanh", (-2, 0.5), {}), ("ReLU6", (), {}), ("Hardswish", (), {}),
    ("Hardsigmoid", (), {}), ("LogSigmoid", (), {}), ("Softmax", (), {"dim": 1}),
    ("LogSoftmax", (0,), {}), ("Softmin", (1,), {}), ("GLU", (), {}), ("GLU", (0,), {}),
    ("Threshold", (0.1, 20.0), {}), ("Hardshrink", (), {}), ("Softshrink", (0.3,), {}),
    ("Tanhshrink", (), {}),
]


@pytest.mark.parametrize("name,args,kw", ACTIVATIONS,
                         ids=[f"{n}{a}{kw}" for n, a, kw in ACTIVATIONS])
def test_activation_modules(torch, name, args, kw):
    lm, tm = getattr(lnn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(lm) == repr(tm)
    arr = RNG.uniform(-7, 7, (4, 6))
    if getattr(lm, "inplace", False):
        # in place on a non-leaf: same values and the same node
        x, tx = _pair(torch, arr)
        y, ty = lm(x * 1), tm(tx * 1)
        _close(y, ty)
        assert y.grad_fn.name() == ty.grad_fn.name()
        y.sum().backward()
        ty.sum().backward()
        _close(x.grad, tx.grad)
        return
    # torch rounds some constants (1/alpha, 1/6) through float32 even in float64
    _check_module(torch, lm, tm, arr, rtol=1e-6)


def test_activation_float32_and_edge_values(torch):
    arr = np.array([-30.0, -3.0, -1e-3, 0.0, 1e-3, 3.0, 30.0], dtype=np.float32)
    for fn in ["gelu", "silu", "mish", "softplus", "logsigmoid", "elu", "selu", "hardswish",
               "leaky_relu", "softsign", "hardsigmoid", "relu6"]:
        x = lg.tensor(arr, requires_grad=True)
        tx = torch.tensor(arr, requires_grad=True)
        y, ty = getattr(LF, fn)(x), getattr(torch.nn.functional, fn)(tx)
        assert y.dtype is lg.float32
        _close(y, ty, rtol=1e-5, atol=1e-6)
        y.sum().backward()
        ty.sum().backward()
        _close(x.grad, tx.grad, rtol=1e-5, atol=1e-6)


def test_softmax_implicit_dim_warns(torch):
    x = lg.zeros(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = LF.softmax(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ty = torch.nn.functional.softmax(torch.zeros(2, 3))
    _close(y, ty)
    assert repr(lnn.Softmax()) == repr(torch.nn.Softmax()) == "Softmax(dim=None)"


def test_activation_errors(torch):
    assert _err(lambda: LF.glu(lg.zeros(3, 3))) == _err(
        lambda: torch.nn.functional.glu(torch.zeros(3, 3)))
    assert _err(lambda: LF.gelu(lg.zeros(2), approximate="x")) == _err(
        lambda: torch.nn.functional.gelu(torch.zeros(2), approximate="x"))


def test_flatten_unflatten_identity(torch):
    for lm, tm, shape in [(lnn.Flatten(), torch.nn.Flatten(), (2, 3, 4)),
                          (lnn.Flatten(0, 1), torch.nn.Flatten(0, 1), (2, 3, 4)),
                          (lnn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3)), (4, 6)),
                          (lnn.Identity(3, x=2), torch.nn.Identity(3, x=2), (2, 2))]:
        assert repr(lm) == repr(tm)
        _check_module(torch, lm, tm, RNG.standard_normal(shape))


def test_dropout(torch):
    assert repr(lnn.Dropout()) == repr(torch.nn.Dropout())
    assert repr(lnn.Dropout2d(0.2, True)) == repr(torch.nn.Dropout2d(0.2, True))
    lg.manual_seed(0)
    x = lg.ones(200, 50, requires_grad=True)
    m = lnn.Dropout(0.3)
    y = m(x)
    assert y.grad_fn.name() == "MulBackward0"
    vals = np.unique(y.detach().numpy())
    np.testing.assert_allclose(vals, [0.0, 1 / 0.7], rtol=1e-6)
    frac = (y.detach().numpy() == 0).mean()
    assert abs(frac - 0.3) < 0.02
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())
    m.eval()
    assert m(x) is x
    # the default generator makes it reproducible
    lg.manual_seed(5)
    a = LF.dropout(lg.ones(10))
    lg.manual_seed(5)
    assert np.array_equal(a.numpy(), LF.dropout(lg.ones(10)).numpy())
    assert LF.dropout(lg.ones(3), 1.0).tolist() == [0.0, 0.0, 0.0]
    assert _err(lambda: LF.dropout(lg.ones(2), 1.5)) == _err(
        lambda: torch.nn.functional.dropout(torch.ones(2), 1.5))
    assert _err(lambda: lnn.Dropout(-1)) == _err(lambda: torch.nn.Dropout(-1))
    # channel dropout zeroes whole feature maps
    y = LF.dropout2d(lg.ones(4, 8, 3, 3), 0.5)
    per_map = y.numpy().reshape(32, 9)
    assert all(len(np.unique(r)) == 1 for r in per_map)
    t = lg.ones(3)
    assert LF.dropout(t, 0.5, training=False) is t


def test_embedding(torch):
    for kw in [{}, {"padding_idx": 1}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
               {"padding_idx": 0, "scale_grad_by_freq": True}]:
        lm, tm = lnn.Embedding(6, 3, **kw), torch.nn.Embedding(6, 3, **kw)
        assert repr(lm) == repr(tm)
        lm.double()
        tm.double()
        _copy(lm, tm, torch)
        idx = np.array([[0, 1, 5], [1, 1, 2]])
        y, ty = lm(lg.tensor(idx)), tm(torch.tensor(idx))
        _close(y, ty)
        assert y.grad_fn.name() == ty.grad_fn.name() == "EmbeddingBackward0"
        up = RNG.standard_normal(tuple(ty.shape))
        y.backward(lg.tensor(up))
        ty.backward(torch.tensor(up))
        _close(lm.weight.grad, tm.weight.grad)
    pad = lnn.Embedding(5, 2, padding_idx=3)
    assert pad.weight[3].abs().sum().item() == 0
    assert repr(lnn.Embedding(10, 3, padding_idx=0, max_norm=1.0, norm_type=1.0,
                              scale_grad_by_freq=True, sparse=True)) == \
        repr(torch.nn.Embedding(10, 3, padding_idx=0, max_norm=1.0, norm_type=1.0,
                                scale_grad_by_freq=True, sparse=True))


def test_embedding_max_norm_and_pretrained(torch):
    w = RNG.standard_normal((5, 3)) * 3
    lm = lnn.Embedding.from_pretrained(lg.tensor(w), freeze=False, max_norm=1.5)
    tm = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=False, max_norm=1.5)
    idx = [0, 2, 2]
    _close(lm(lg.tensor(idx)), tm(torch.tensor(idx)))
    _close(lm.weight, tm.weight)     # rows 0 and 2 renormalized in place, others untouched
    frozen = lnn.Embedding.from_pretrained(lg.tensor(w))
    assert not frozen.weight.requires_grad
    with pytest.raises(IndexError, match="index out of range in self"):
        lnn.Embedding(3, 2)(lg.tensor([3]))


def test_one_hot_normalize_distances(torch):
    F, TF = LF, torch.nn.functional
    t = [0, 2, 1, 2]
    assert F.one_hot(lg.tensor(t)).tolist() == TF.one_hot(torch.tensor(t)).tolist()
    assert F.one_hot(lg.tensor(t), 5).tolist() == TF.one_hot(torch.tensor(t), 5).tolist()
    assert F.one_hot(lg.tensor(t)).dtype is lg.int64
    assert _err(lambda: F.one_hot(lg.tensor([-1]))) == _err(
        lambda: TF.one_hot(torch.tensor([-1])))
    assert _err(lambda: F.one_hot(lg.tensor([3]), 2)) == _err(
        lambda: TF.one_hot(torch.tensor([3]), 2))
    a, ta = _pair(torch, RNG.standard_normal((4, 3)))
    b, tb = _pair(torch, RNG.standard_normal((4, 3)))
    # NOTE: torch's pairwise_distance ends in NormBackward1; lightgrad's norm node is
    # LinalgVectorNormBackward0 (the core's x.norm), so its node name is not compared
    cases = [
        (lambda f, x, y: f.normalize(x), True),
        (lambda f, x, y: f.normalize(x, p=1.0, dim=0), True),
        (lambda f, x, y: f.cosine_similarity(x, y), True),
        (lambda f, x, y: f.cosine_similarity(x, y[:1], dim=-1), True),
        (lambda f, x, y: f.pairwise_distance(x, y), False),
        (lambda f, x, y: f.pairwise_distance(x, y, p=1.0, keepdim=True), False),
        (lambda f, x, y: f.softsign(x) + f.tanhshrink(y), True),
    ]
    for fn, same_node in cases:
        for t_ in (a, b, ta, tb):
            t_.grad = None
        y, ty = fn(F, a, b), fn(TF, ta, tb)
        _close(y, ty)
        assert y.grad_fn.name() == ty.grad_fn.name() or not same_node
        y.sum().backward()
        ty.sum().backward()
        _close(a.grad, ta.grad)


def test_default_init_bounds():
    lg.manual_seed(0)
    m = lnn.Linear(50, 400)
    bound = 1 / math.sqrt(50)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
    # kaiming_uniform(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)): variance bound^2 / 3
    assert abs(w.var() / (bound ** 2 / 3) - 1) < 0.05
    e = lnn.Embedding(1000, 20).weight.detach().numpy()
    assert abs(e.mean()) < 0.02 and abs(e.std() - 1) < 0.02
    bl = lnn.Bilinear(4, 3, 2000).weight.detach().numpy()
    assert np.abs(bl).max() <= 0.5 and np.abs(bl).max() > 0.49


def test_clip_grad_and_vector_conversion(torch):
    from lightgrad.nn import utils as lu
    grads = [RNG.standard_normal((3, 2)) * 4, RNG.standard_normal(5)]
    for norm_type in (2.0, 1, math.inf, 3.0):
        lps = [lnn.Parameter(lg.tensor(g)) for g in grads]
        tps = [torch.nn.Parameter(torch.tensor(g)) for g in grads]
        for p, q, g in zip(lps, tps, grads):
            p.grad, q.grad = lg.tensor(g), torch.tensor(g)
        n = lu.clip_grad_norm_(lps, 1.0, norm_type=norm_type)
        tn = torch.nn.utils.clip_grad_norm_(tps, 1.0, norm_type=norm_type)
        _close(n, tn)
        for p, q in zip(lps, tps):
            _close(p.grad, q.grad)
    p = lnn.Parameter(lg.ones(2))
    p.grad = lg.tensor([0.1, 0.2])
    assert lu.clip_grad_norm_(p, 10.0).item() == pytest.approx(math.sqrt(0.05))
    assert p.grad.tolist() == pytest.approx([0.1, 0.2])
    assert lu.clip_grad_norm_([lnn.Parameter(lg.ones(1))], 1.0).item() == 0.0
    p.grad = lg.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        lu.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    lps = [lnn.Parameter(lg.tensor(g)) for g in grads]
    for p, g in zip(lps, grads):
        p.grad = lg.tensor(g)
    assert lu.clip_grad_value_(lps, 0.5) is None
    assert all(np.abs(p.grad.numpy()).max() <= 0.5 for p in lps)
    m, tm = lnn.Linear(3, 2), torch.nn.Linear(3, 2)
    _copy(m, tm, torch)
    v = lu.parameters_to_vector(m.parameters())
    tv = torch.nn.utils.parameters_to_vector(tm.parameters())
    _close(v, tv)
    assert v.grad_fn.name() == tv.grad_fn.name()
    lu.vector_to_parameters(lg.arange(8.0), m.parameters())
    assert m.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and m.bias.tolist() == [6, 7]
    assert isinstance(m.weight, lnn.Parameter)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        lu.vector_to_parameters([1.0], m.parameters())
