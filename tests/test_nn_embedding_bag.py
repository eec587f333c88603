"""F.embedding_bag and nn.EmbeddingBag against torch (float64): values, the gradients of the
weight and of per_sample_weights, every mode with 1-D input + offsets and 2-D input,
padding_idx, include_last_offset, max_norm, scale_grad_by_freq (with torch's CPU bug
pytorch/pytorch#190063 checked against the documented rule), vmap, the module's
parameters, from_pretrained and repr, and torch's errors."""
import itertools

import numpy as np
import pytest

import lightgrad as lg
import lightgrad.nn.functional as LF

rng = np.random.default_rng(0)


def _np(t):
    return t.detach().numpy()


def _close(a, b, tol=1e-12):
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def _both(torch, a, grad=False):
    if a is None:
        return None, None
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return torch.tensor(a, requires_grad=grad), lg.tensor(a, requires_grad=grad)
    return torch.tensor(a), lg.tensor(a)


def _compare(torch, indices, offsets=None, psw=False, n=6, d=3, **kw):
    """embedding_bag in both, then the gradients for a random upstream gradient."""
    tw, lw = _both(torch, rng.standard_normal((n, d)), grad=True)
    ti, li = _both(torch, indices)
    to_, lo_ = _both(torch, offsets)
    tp, lp = _both(torch, rng.uniform(0.5, 2, np.shape(indices)) if psw else None, grad=True)
    t = torch.nn.functional.embedding_bag(ti, tw, to_, per_sample_weights=tp, **kw)
    x = LF.embedding_bag(li, lw, lo_, per_sample_weights=lp, **kw)
    assert tuple(x.shape) == tuple(t.shape)
    _close(t, x)
    assert type(x.grad_fn).__name__ == type(t.grad_fn).__name__ == "EmbeddingBagBackward0"
    assert len(x.grad_fn.next_functions) == len(t.grad_fn.next_functions) == 2
    g = rng.standard_normal(tuple(t.shape))
    t.backward(torch.tensor(g))
    x.backward(lg.tensor(g))
    _close(tw.grad, lw.grad)
    if psw:
        _close(tp.grad, lp.grad)
    return x


IDX = [0, 2, 4, 2, 1, 5, 3, 2]
CASES = [
    dict(offsets=[0, 3]), dict(offsets=[0, 2, 2, 5]),                     # an empty bag
    dict(offsets=[0]), dict(offsets=[0, 8]),                              # ends: one, empty
    dict(offsets=[0, 3, 8], include_last_offset=True),
    dict(offsets=[0, 3, 6], include_last_offset=True),   # torch CPU: last bag to the end
    dict(offsets=[0, 3], padding_idx=2), dict(offsets=[0, 1, 4], padding_idx=-4),
    dict(offsets=[0, 2, 5], padding_idx=0, include_last_offset=True)]


@pytest.mark.parametrize("mode,case", list(itertools.product(["sum", "mean", "max"],
                                                             range(len(CASES)))))
def test_1d_with_offsets_matches_torch(torch, mode, case):
    _compare(torch, IDX, mode=mode, **CASES[case])


@pytest.mark.parametrize("case", range(len(CASES)))
def test_per_sample_weights_matches_torch(torch, case):
    _compare(torch, IDX, psw=True, mode="sum", **CASES[case])


@pytest.mark.parametrize("mode,padding_idx", list(itertools.product(["sum", "mean", "max"],
                                                                    [None, 3])))
def test_2d_input_matches_torch(torch, mode, padding_idx):
    idx = rng.integers(0, 6, (4, 3))
    idx[1] = 3                                   # a bag of padding only: zeros
    _compare(torch, idx, mode=mode, padding_idx=padding_idx)
    if mode == "sum":
        _compare(torch, idx, mode=mode, padding_idx=padding_idx, psw=True)
    _compare(torch, np.zeros((0, 3), np.int64), mode=mode)      # no bags


def test_int32_indices_and_offsets(torch):
    _compare(torch, np.array(IDX, np.int32), np.array([0, 4], np.int32), mode="sum")
    _compare(torch, np.array(IDX, np.int32), np.array([0, 4]), mode="max")


def test_float32(torch):
    w = rng.standard_normal((6, 3)).astype(np.float32)
    t = torch.nn.functional.embedding_bag(torch.tensor(IDX), torch.tensor(w), torch.tensor([0, 3]))
    x = LF.embedding_bag(lg.tensor(IDX), lg.tensor(w), lg.tensor([0, 3]))
    assert x.dtype == lg.float32
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-6)


def _freq_reference(idx, offsets, n, d, g, mode, padding_idx=None):
    """The documented rule: each entry's gradient (1 / bag size for mean) divided by the
    frequency of its index in the whole mini-batch; padding rows get none."""
    idx = np.asarray(idx)
    bag = np.searchsorted(offsets, np.arange(len(idx)), side="right") - 1
    keep = idx != padding_idx if padding_idx is not None else np.ones(len(idx), bool)
    count = np.bincount(bag[keep], minlength=len(offsets))
    freq = np.bincount(idx, minlength=n)
    out = np.zeros((n, d))
    for i in np.flatnonzero(keep):
        s = 1.0 / count[bag[i]] if mode == "mean" else 1.0
        out[idx[i]] += g[bag[i]] * s / freq[idx[i]]
    return out


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_scale_grad_by_freq(torch, mode):
    # torch's CPU kernel is right when the k-th smallest unique index has the count of the
    # k-th entry of the sorted indices: [0, 1, 1, 2, 2] (counts 1, 2, 2 and 1, 2, 2)
    _compare(torch, [1, 0, 1, 2, 2], [0, 2], mode=mode, scale_grad_by_freq=True)
    _compare(torch, [2, 0, 1, 5, 4], [0, 2], mode=mode, scale_grad_by_freq=True,
             padding_idx=5)
    # mixed counts: torch divides some rows by another index's count (#190063); lightgrad
    # follows the documented rule
    idx, offsets, n, d = [0, 2, 4, 2, 1], [0, 2], 6, 3
    w = lg.tensor(rng.standard_normal((n, d)), requires_grad=True)
    out = LF.embedding_bag(lg.tensor(idx), w, lg.tensor(offsets), mode=mode,
                           scale_grad_by_freq=True)
    g = rng.standard_normal(tuple(out.shape))
    out.backward(lg.tensor(g))
    np.testing.assert_allclose(w.grad.numpy(), _freq_reference(idx, offsets, n, d, g, mode))
    tw = torch.tensor(w.detach().numpy(), requires_grad=True)
    torch.nn.functional.embedding_bag(torch.tensor(idx), tw, torch.tensor(offsets), mode=mode,
                                      scale_grad_by_freq=True).backward(torch.tensor(g))
    wrong = ~np.isclose(tw.grad.numpy(), w.grad.numpy()).all(1)
    assert wrong.tolist() == [False, False, False, False, True, False]   # row 4: / count(2)


def test_max_norm_renormalizes_like_torch(torch):
    w = rng.standard_normal((6, 3)) * 3
    tw, lw = torch.tensor(w), lg.tensor(w)
    for norm_type in (2.0, 1.0):
        t = torch.nn.functional.embedding_bag(torch.tensor(IDX), tw, torch.tensor([0, 3]),
                                              max_norm=1.5, norm_type=norm_type)
        x = LF.embedding_bag(lg.tensor(IDX), lw, lg.tensor([0, 3]), max_norm=1.5,
                             norm_type=norm_type)
        _close(t, x)
        _close(tw, lw)          # the rows used were scaled down in place
    assert np.linalg.norm(lw.numpy()[IDX], axis=1).max() <= 1.5 + 1e-6


def test_saved_weight_only_with_per_sample_weights():
    """As torch, the weight is saved only for per_sample_weights' gradient: changing it in
    place afterwards is an error there only."""
    w = lg.randn(6, 3, dtype=lg.float64, requires_grad=True)
    idx, off = lg.tensor(IDX), lg.tensor([0, 3])
    out = LF.embedding_bag(idx, w, off, mode="sum")
    assert out.grad_fn._saved_weight is None
    with lg.no_grad():
        w.add_(1)
    out.sum().backward()
    psw = lg.ones(len(IDX), dtype=lg.float64, requires_grad=True)
    out = LF.embedding_bag(idx, w, off, mode="sum", per_sample_weights=psw)
    with lg.no_grad():
        w.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_double_backward_through_per_sample_weights():
    w = lg.randn(6, 3, dtype=lg.float64, requires_grad=True)
    psw = lg.rand(len(IDX), dtype=lg.float64, requires_grad=True)
    out = LF.embedding_bag(lg.tensor(IDX), w, lg.tensor([0, 3]), mode="sum",
                           per_sample_weights=psw)
    gw, gp = lg.autograd.grad((out ** 2).sum(), (w, psw), create_graph=True)
    assert lg.autograd.gradgradcheck(
        lambda a, b: LF.embedding_bag(lg.tensor(IDX), a, lg.tensor([0, 3]), mode="sum",
                                      per_sample_weights=b), (w, psw))
    (gw.sum() + gp.sum()).backward()
    assert w.grad is not None and psw.grad is not None


# -- vmap -------------------------------------------------------------------------------------
def _loop(fn, *xs, dims):
    n = next(x.shape[0] for x, d in zip(xs, dims) if d == 0)
    return lg.stack([fn(*[x[i] if d == 0 else x for x, d in zip(xs, dims)]) for i in range(n)])


@pytest.mark.parametrize("kw", [dict(mode="sum"), dict(mode="mean", padding_idx=2),
                                dict(mode="max", padding_idx=1),
                                dict(mode="mean", include_last_offset=True)])
def test_vmap_matches_a_loop(kw):
    w = lg.randn(3, 6, 4, dtype=lg.float64)
    idx = lg.tensor(rng.integers(0, 6, (3, 7)))
    off = lg.tensor([0, 2, 2, 7] if kw.get("include_last_offset") else [0, 2, 2])
    psw = lg.rand(3, 7, dtype=lg.float64)
    vm = lg.func.vmap

    def f(i, ww, p=None):
        return LF.embedding_bag(i, ww, off, per_sample_weights=p, **kw)
    # batched indices, one weight; batched weight with shared or batched indices
    _close(vm(f, in_dims=(0, None))(idx, w[0]), _loop(f, idx, w[0], dims=(0, None)))
    _close(vm(f, in_dims=(None, 0))(idx[0], w), _loop(f, idx[0], w, dims=(None, 0)))
    _close(vm(f, in_dims=(0, 0))(idx, w), _loop(f, idx, w, dims=(0, 0)))
    if kw["mode"] == "sum":
        for dims in [(None, None, 0), (0, 0, 0), (None, 0, 0)]:
            _close(vm(f, in_dims=dims)(idx[0] if dims[0] is None else idx,
                                       w[0] if dims[1] is None else w, psw),
                   _loop(f, idx[0] if dims[0] is None else idx,
                         w[0] if dims[1] is None else w, psw, dims=dims))


def test_vmap_2d_input_and_per_example_gradients():
    w = lg.randn(6, 4, dtype=lg.float64)
    idx = lg.tensor(rng.integers(0, 6, (5, 2, 3)))   # 5 examples of 2 bags of 3

    def loss(ww, i):
        return LF.embedding_bag(i, ww, mode="mean", padding_idx=0).pow(2).sum()
    grads = lg.func.vmap(lg.func.grad(loss), in_dims=(None, 0))(w, idx)
    for k in range(5):
        _close(grads[k], lg.func.grad(loss)(w, idx[k]))


def test_vmap_refusals():
    w = lg.randn(2, 6, 3, dtype=lg.float64)
    idx = lg.tensor([[0, 1, 1], [2, 3, 1]])
    off = lg.tensor([0, 1])
    with pytest.raises(RuntimeError, match="vmap: F.embedding_bag with max_norm"):
        lg.func.vmap(lambda ww: LF.embedding_bag(idx[0], ww, off, max_norm=1.0))(w)
    with pytest.raises(RuntimeError, match="vmap: F.embedding_bag with scale_grad_by_freq"):
        lg.func.vmap(lambda i: LF.embedding_bag(i, w[0], off, scale_grad_by_freq=True))(idx)


# -- errors -----------------------------------------------------------------------------------
def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the error itself is compared
        return type(e).__name__, str(e).split("\n")[0].replace("torch.Size", "Size") \
            .replace("lightgrad.Size", "Size").replace("lightgrad.Tensor", "torch.Tensor")
    return None


ERRORS = [
    "eb(t([0, 7]), w, t([0]))", "eb(t([0, -1]), w, t([0]))", "eb(t(I), w, t([1, 3]))",
    "eb(t(I), w, t([0, 9]))", "eb(t(I), w, t([0, 2]), padding_idx=6)",
    "eb(t(I), w, t([0, 2]), padding_idx=-7)", "eb(t(I).double(), w, t([0, 2]))",
    "eb(t(I), w, t([0., 2.]))", "eb(t(I), w, t([0, 2]), mode='max', scale_grad_by_freq=True)",
    "eb(t(I), w, t([0, 2]), mode='max', sparse=True)", "eb(t(I), w, t([0, 2]), mode='foo')",
    "eb(t(I), w, t([0, 2]), mode='mean', per_sample_weights=m.ones(8, dtype=m.float64))",
    "eb(t(I), w, t([0, 2]), mode='sum', per_sample_weights=m.ones(4, dtype=m.float64))",
    "eb(t(I), w, t([[0, 2]]))", "eb(t(I).view(2, 4), w, t([0, 2]))", "eb(t(I).view(2, 4, 1), w)",
    "eb(t(I), w)", "eb(t(I), w[0], t([0]))", "eb(t(I).view(8, 1)[:0].view(2, 0), w)"]


@pytest.mark.parametrize("expr", ERRORS)
def test_errors_as_torch(torch, expr):
    def run(m):
        env = {"eb": m.nn.functional.embedding_bag, "t": m.tensor, "m": m, "I": IDX,
               "w": m.ones(6, 3, dtype=m.float64)}
        return _error(lambda: eval(expr, env))
    want = run(torch)
    assert want is not None
    assert run(lg) == want


def test_per_sample_weights_dtype_error():
    with pytest.raises(RuntimeError, match="'weight' to have the same type as tensor for "
                       r"argument #1 'per_sample_weights'; but type torch.DoubleTensor does "
                       "not equal torch.FloatTensor"):
        LF.embedding_bag(lg.tensor(IDX), lg.ones(6, 3, dtype=lg.float64), lg.tensor([0, 2]),
                         mode="sum", per_sample_weights=lg.ones(8))


def test_old_argument_order_warns_and_swaps(torch):
    w = rng.standard_normal((6, 3))
    with pytest.warns(UserWarning, match="Argument order of nn.functional.embedding_bag"):
        x = LF.embedding_bag(lg.tensor(w), lg.tensor(IDX), lg.tensor([0, 2]))
    _close(x, LF.embedding_bag(lg.tensor(IDX), lg.tensor(w), lg.tensor([0, 2])))


# -- nn.EmbeddingBag --------------------------------------------------------------------------
REPRS = [dict(), dict(mode="sum"), dict(mode="max", sparse=True, include_last_offset=True),
         dict(max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True, padding_idx=0),
         dict(padding_idx=-2, mode="sum")]


@pytest.mark.parametrize("kw", REPRS)
def test_module_repr_attributes_and_parameters(torch, kw):
    tm, lm = torch.nn.EmbeddingBag(10, 3, **kw), lg.nn.EmbeddingBag(10, 3, **kw)
    assert repr(lm) == repr(tm)
    assert list(lm.state_dict()) == list(tm.state_dict()) == ["weight"]
    for a in ("num_embeddings", "embedding_dim", "max_norm", "norm_type",
              "scale_grad_by_freq", "mode", "sparse", "include_last_offset", "padding_idx"):
        assert getattr(lm, a) == getattr(tm, a), a
    assert lm.weight.requires_grad and tuple(lm.weight.shape) == (10, 3)
    if lm.padding_idx is not None:
        assert not lm.weight[lm.padding_idx].detach().numpy().any()


def test_module_init_is_standard_normal():
    lg.manual_seed(0)
    w = lg.nn.EmbeddingBag(4000, 5).weight.detach().numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02


@pytest.mark.parametrize("kw", [dict(), dict(mode="sum", padding_idx=1),
                                dict(mode="max"), dict(mode="sum", include_last_offset=True)])
def test_module_forward_backward_matches_torch(torch, kw):
    tm = torch.nn.EmbeddingBag(7, 4, dtype=torch.float64, **kw)
    lm = lg.nn.EmbeddingBag(7, 4, dtype=lg.float64, **kw)
    lm.load_state_dict({k: lg.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    idx = [1, 2, 4, 5, 4, 3, 2, 6]
    off = [0, 3, 8] if kw.get("include_last_offset") else [0, 3]
    args_t = [torch.tensor(idx), torch.tensor(off)]
    args_l = [lg.tensor(idx), lg.tensor(off)]
    if kw.get("mode") == "sum":
        p = rng.uniform(0.5, 2, len(idx))
        args_t.append(torch.tensor(p, requires_grad=True))
        args_l.append(lg.tensor(p, requires_grad=True))
    t, x = tm(*args_t), lm(*args_l)
    _close(t, x)
    g = rng.standard_normal(tuple(t.shape))
    t.backward(torch.tensor(g))
    x.backward(lg.tensor(g))
    _close(tm.weight.grad, lm.weight.grad)
    if len(args_t) == 3:
        _close(args_t[2].grad, args_l[2].grad)
    # 2-D input: each row a bag
    if not kw.get("include_last_offset"):
        i2 = rng.integers(0, 7, (3, 4))
        _close(tm(torch.tensor(i2)), lm(lg.tensor(i2)))


def test_from_pretrained(torch):
    w = rng.standard_normal((5, 3))
    for freeze in (True, False):
        tm = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), freeze=freeze, mode="max",
                                                   padding_idx=1)
        lm = lg.nn.EmbeddingBag.from_pretrained(lg.tensor(w), freeze=freeze, mode="max",
                                                padding_idx=1)
        assert repr(lm) == repr(tm)
        assert lm.weight.requires_grad is (not freeze)
        np.testing.assert_array_equal(lm.weight.detach().numpy(), w)   # padding row kept
        _close(tm(torch.tensor([[0, 1, 2], [3, 4, 1]])), lm(lg.tensor([[0, 1, 2], [3, 4, 1]])))
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dim"):
        lg.nn.EmbeddingBag.from_pretrained(lg.ones(3))


def test_module_errors():
    with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings"):
        lg.nn.EmbeddingBag(4, 2, padding_idx=4)
    with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings"):
        lg.nn.EmbeddingBag(4, 2, padding_idx=-5)
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        lg.nn.EmbeddingBag(4, 2, _weight=lg.ones(4, 3))
    assert lg.nn.EmbeddingBag(4, 2, padding_idx=-1).padding_idx == 3


def test_exported_like_torch():
    import lightgrad.nn.modules as modules
    assert lg.nn.EmbeddingBag is modules.EmbeddingBag
    assert "EmbeddingBag" in modules.sparse.__all__
    assert lg.nn.functional.embedding_bag.__name__ == "embedding_bag"
