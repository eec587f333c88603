"""TransformerDecoderLayer, TransformerDecoder and Transformer against torch: weights copied
through state_dict (tensors via NumPy), float64, eval mode (dropout off); outputs and the
gradients of the inputs and of every parameter, for batch_first and norm_first both ways,
with masks, key padding masks and the is_causal hints; reprs, state_dict keys, the
parameter initialization and torch's errors."""
import itertools
import math
import pickle
import warnings

import numpy as np
import pytest

import lightgrad as lg

pytestmark = pytest.mark.filterwarnings(
    "ignore:Support for mismatched key_padding_mask", "ignore:enable_nested_tensor is True")

rng = np.random.default_rng(0)
D, NHEAD, FF = 8, 2, 16


def _np(t):
    return t.detach().numpy()


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def _pair(a, grad=True):
    import torch
    return torch.tensor(a, requires_grad=grad), lg.tensor(a, requires_grad=grad)


def _copy_state(tm, lm):
    """torch's state_dict into the lightgrad module, through NumPy; the keys must agree."""
    sd = tm.state_dict()
    assert list(sd) == list(lm.state_dict())
    lm.load_state_dict({k: lg.tensor(v.detach().numpy().copy()) for k, v in sd.items()})


def _mask(kind, shape):
    """A (torch, lightgrad) attention mask: bool (True = masked) with key 0 always allowed,
    float (added to the scores), torch's causal mask, or None."""
    import torch
    if kind is None:
        return None, None
    if kind == "causal":
        return (torch.nn.Transformer.generate_square_subsequent_mask(shape[-1],
                                                                     dtype=torch.float64),
                lg.nn.Transformer.generate_square_subsequent_mask(shape[-1], dtype=lg.float64))
    if kind == "bool":
        m = rng.random(shape) > 0.6
        m[..., 0] = False
    else:
        m = rng.standard_normal(shape)
    return torch.tensor(m), lg.tensor(m)


def _seq(batch_first, n, length):
    return (n, length, D) if batch_first else (length, n, D)


def _check_backward(tm, lm, touts, louts, tins, lins):
    """Random upstream gradient: the inputs' and every parameter's gradients agree."""
    import torch
    g = rng.standard_normal(tuple(touts.shape))
    tm.zero_grad()
    lm.zero_grad()
    (touts * torch.tensor(g)).sum().backward()
    (louts * lg.tensor(g)).sum().backward()
    for t, x in zip(tins, lins):
        _close(t.grad, x.grad)
    tp, lp = dict(tm.named_parameters()), dict(lm.named_parameters())
    assert list(tp) == list(lp)
    for k, p in tp.items():
        assert (p.grad is None) == (lp[k].grad is None), k
        if p.grad is not None:
            _close(p.grad, lp[k].grad)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# -- TransformerDecoderLayer ------------------------------------------------------------------
LAYER_CONFIGS = [dict(batch_first=bf, norm_first=nf) for bf, nf in
                 itertools.product([False, True], [False, True])] + [
    dict(activation="gelu", layer_norm_eps=1e-6), dict(bias=False, norm_first=True)]

MASK_CASES = [  # tgt_mask, memory_mask, tgt key padding, memory key padding, tgt_is_causal
    (None, None, None, None, False), ("bool", None, None, None, False),
    ("float", "float", None, None, False), (None, "bool", "bool", "bool", False),
    ("causal", None, None, "bool", True), ("causal", "bool", "bool", None, True),
    ("causal", None, None, None, True)]


@pytest.mark.parametrize("cfg", range(len(LAYER_CONFIGS)))
def test_decoder_layer_matches_torch(torch, cfg):
    kw = LAYER_CONFIGS[cfg]
    T, S, N = 4, 5, 2
    tm = torch.nn.TransformerDecoderLayer(D, NHEAD, FF, dropout=0.0, **kw).double().eval()
    lm = lg.nn.TransformerDecoderLayer(D, NHEAD, FF, dropout=0.0, **kw).double().eval()
    assert repr(lm) == repr(tm)
    _copy_state(tm, lm)
    bf = kw.get("batch_first", False)
    for tmask, mmask, tkpm, mkpm, causal in MASK_CASES:
        tgt, mem = _pair(rng.standard_normal(_seq(bf, N, T))), \
            _pair(rng.standard_normal(_seq(bf, N, S)))
        masks = [_mask(tmask, (T, T)), _mask(mmask, (T, S)), _mask(tkpm, (N, T)),
                 _mask(mkpm, (N, S))]
        names = ["tgt_mask", "memory_mask", "tgt_key_padding_mask", "memory_key_padding_mask"]
        tkw = {n: m[0] for n, m in zip(names, masks)}
        lkw = {n: m[1] for n, m in zip(names, masks)}
        to = _quiet(tm, tgt[0], mem[0], tgt_is_causal=causal, **tkw)
        lo = lm(tgt[1], mem[1], tgt_is_causal=causal, **lkw)
        _close(to, lo)
        _check_backward(tm, lm, to, lo, (tgt[0], mem[0]), (tgt[1], mem[1]))


def test_decoder_layer_unbatched_and_callable_activation(torch):
    T, S = 3, 4
    for t_act, l_act in [(torch.nn.functional.gelu, lg.nn.functional.gelu),
                         (torch.nn.GELU(), lg.nn.GELU()), (torch.tanh, lg.tanh)]:
        tm = torch.nn.TransformerDecoderLayer(D, NHEAD, FF, 0.0, t_act).double().eval()
        lm = lg.nn.TransformerDecoderLayer(D, NHEAD, FF, 0.0, l_act).double().eval()
        assert repr(lm) == repr(tm)     # a Module activation is a submodule in both
        _copy_state(tm, lm)
        tgt, mem = _pair(rng.standard_normal((T, D))), _pair(rng.standard_normal((S, D)))
        tmask, lmask = _mask("bool", (T, T))
        to = tm(tgt[0], mem[0], tgt_mask=tmask)
        lo = lm(tgt[1], mem[1], tgt_mask=lmask)
        assert tuple(lo.shape) == (T, D)
        _close(to, lo)
        _check_backward(tm, lm, to, lo, (tgt[0], mem[0]), (tgt[1], mem[1]))


def test_decoder_layer_attributes_copy_and_pickle():
    layer = lg.nn.TransformerDecoderLayer(D, NHEAD, FF, activation="gelu", norm_first=True)
    assert layer.activation is lg.nn.functional.gelu and layer.norm_first is True
    assert layer.self_attn.batch_first is False and layer.multihead_attn.embed_dim == D
    assert [n for n, _ in layer.named_children()] == [
        "self_attn", "multihead_attn", "linear1", "dropout", "linear2", "norm1", "norm2",
        "norm3", "dropout1", "dropout2", "dropout3"]
    again = pickle.loads(pickle.dumps(layer))
    x, m = lg.randn(3, 2, D), lg.randn(4, 2, D)
    layer.eval()
    again.eval()
    _close(layer(x, m), again(x, m))
    # a pickle from before `activation` was an attribute falls back to relu, as in torch
    state = dict(layer.__dict__)
    del state["activation"]
    old = lg.nn.TransformerDecoderLayer.__new__(lg.nn.TransformerDecoderLayer)
    old.__setstate__(state)
    assert old.activation is lg.nn.functional.relu


# -- TransformerDecoder -----------------------------------------------------------------------
def _layer_pair(torch, **kw):
    return (torch.nn.TransformerDecoderLayer(D, NHEAD, FF, dropout=0.0, **kw),
            lg.nn.TransformerDecoderLayer(D, NHEAD, FF, dropout=0.0, **kw))


@pytest.mark.parametrize("batch_first,norm_first", list(itertools.product([False, True],
                                                                          [False, True])))
def test_decoder_matches_torch(torch, batch_first, norm_first):
    T, S, N = 4, 3, 3
    tl, ll = _layer_pair(torch, batch_first=batch_first, norm_first=norm_first)
    td = torch.nn.TransformerDecoder(tl, 2, norm=torch.nn.LayerNorm(D)).double().eval()
    ld = lg.nn.TransformerDecoder(ll, 2, norm=lg.nn.LayerNorm(D)).double().eval()
    assert repr(ld) == repr(td)
    assert ld.layers[0] is not ld.layers[1] and ld.layers[0] is not ll
    _copy_state(td, ld)
    for tmask, tkpm, mkpm, causal in [(None, None, None, None), ("causal", None, None, None),
                                      ("causal", "bool", "bool", True),
                                      ("float", None, "bool", None),
                                      ("bool", "bool", None, False)]:
        tgt, mem = _pair(rng.standard_normal(_seq(batch_first, N, T))), \
            _pair(rng.standard_normal(_seq(batch_first, N, S)))
        tt, lt = _mask(tmask, (T, T))
        tk, lk = _mask(tkpm, (N, T))
        tmk, lmk = _mask(mkpm, (N, S))
        to = _quiet(td, tgt[0], mem[0], tgt_mask=tt, tgt_key_padding_mask=tk,
                    memory_key_padding_mask=tmk, tgt_is_causal=causal)
        lo = ld(tgt[1], mem[1], tgt_mask=lt, tgt_key_padding_mask=lk,
                memory_key_padding_mask=lmk, tgt_is_causal=causal)
        _close(to, lo)
        _check_backward(td, ld, to, lo, (tgt[0], mem[0]), (tgt[1], mem[1]))


def _flags_seen(module, layer_cls):
    """The tgt_is_causal each decoder layer of `module` is called with."""
    seen = []
    for m in module.modules():
        if isinstance(m, layer_cls):
            m.register_forward_pre_hook(
                lambda mod, args, kwargs: seen.append(kwargs["tgt_is_causal"]), with_kwargs=True)
    return seen


def test_decoder_detects_the_causal_mask_as_torch(torch):
    """tgt_is_causal=None: the layers are told True exactly when tgt_mask is the (T, T)
    causal mask (not for a batched or a bool one of another dtype's values)."""
    T, N = 4, 2
    tl, ll = _layer_pair(torch)
    td = torch.nn.TransformerDecoder(tl, 2).double().eval()
    ld = lg.nn.TransformerDecoder(ll, 2).double().eval()
    _copy_state(td, ld)
    t_seen, l_seen = _flags_seen(td, torch.nn.TransformerDecoderLayer), \
        _flags_seen(ld, lg.nn.TransformerDecoderLayer)
    causal = np.triu(np.full((T, T), -np.inf), 1)
    for mask in [causal, np.triu(np.ones((T, T), bool), 1), np.zeros((T, T)),
                 np.broadcast_to(causal, (N * NHEAD, T, T)).copy(), None]:
        tgt, mem = _pair(rng.standard_normal((T, N, D))), _pair(rng.standard_normal((3, N, D)))
        tm, lm = (None, None) if mask is None else (torch.tensor(mask), lg.tensor(mask))
        _close(td(tgt[0], mem[0], tgt_mask=tm), ld(tgt[1], mem[1], tgt_mask=lm))
    assert l_seen == t_seen
    assert l_seen[::2] == [True, True, False, False, False]


# -- Transformer ------------------------------------------------------------------------------
def _transformer_pair(torch, **kw):
    args = dict(d_model=D, nhead=NHEAD, num_encoder_layers=2, num_decoder_layers=2,
                dim_feedforward=FF, dropout=0.0)
    args.update(kw)
    tm = _quiet(torch.nn.Transformer, **args).double().eval()
    lm = _quiet(lg.nn.Transformer, **args).double().eval()
    return tm, lm


@pytest.mark.parametrize("batch_first,norm_first", list(itertools.product([False, True],
                                                                          [False, True])))
def test_transformer_matches_torch(torch, batch_first, norm_first):
    S, T, N = 5, 4, 2
    tm, lm = _transformer_pair(torch, batch_first=batch_first, norm_first=norm_first)
    assert repr(lm) == repr(tm)
    _copy_state(tm, lm)
    cases = [  # src_mask, tgt_mask, memory_mask, the three key padding masks, the is_causal
        dict(),
        dict(tgt_mask="causal"),
        dict(src_mask="bool", tgt_mask="causal", memory_mask="float", tgt_is_causal=True),
        dict(src_key_padding_mask="bool", tgt_key_padding_mask="bool",
             memory_key_padding_mask="bool", tgt_mask="causal"),
        dict(src_mask="causal", src_is_causal=True, tgt_mask="bool", memory_mask="bool"),
    ]
    shapes = dict(src_mask=(S, S), tgt_mask=(T, T), memory_mask=(T, S),
                  src_key_padding_mask=(N, S), tgt_key_padding_mask=(N, T),
                  memory_key_padding_mask=(N, S))
    for case in cases:
        src, tgt = _pair(rng.standard_normal(_seq(batch_first, N, S))), \
            _pair(rng.standard_normal(_seq(batch_first, N, T)))
        tkw, lkw = {}, {}
        for name, kind in case.items():
            if name.endswith("is_causal"):
                tkw[name] = lkw[name] = kind
            else:
                tkw[name], lkw[name] = _mask(kind, shapes[name])
        to = _quiet(tm, src[0], tgt[0], **tkw)
        lo = lm(src[1], tgt[1], **lkw)
        assert tuple(lo.shape) == tuple(to.shape) == _seq(batch_first, N, T)
        _close(to, lo)
        _check_backward(tm, lm, to, lo, (src[0], tgt[0]), (src[1], tgt[1]))


def test_transformer_unbatched_and_options(torch):
    for kw in [dict(activation="gelu", bias=False), dict(layer_norm_eps=1e-6,
                                                         num_encoder_layers=1)]:
        tm, lm = _transformer_pair(torch, **kw)
        assert repr(lm) == repr(tm)
        _copy_state(tm, lm)
        src, tgt = _pair(rng.standard_normal((5, D))), _pair(rng.standard_normal((3, D)))
        to, lo = tm(src[0], tgt[0]), lm(src[1], tgt[1])
        _close(to, lo)
        _check_backward(tm, lm, to, lo, (src[0], tgt[0]), (src[1], tgt[1]))


def test_transformer_defaults_state_dict_and_attributes(torch):
    tm, lm = _quiet(torch.nn.Transformer), _quiet(lg.nn.Transformer)
    assert repr(lm) == repr(tm)
    tsd, lsd = tm.state_dict(), lm.state_dict()
    assert list(lsd) == list(tsd)
    assert all(tuple(lsd[k].shape) == tuple(v.shape) for k, v in tsd.items())
    assert (lm.d_model, lm.nhead, lm.batch_first) == (512, 8, False)
    assert len(lm.encoder.layers) == 6 and len(lm.decoder.layers) == 6
    assert lm.encoder.layers[0].self_attn.dropout == 0.1
    assert lm.decoder.layers[0].linear1.out_features == 2048


def test_transformer_reset_parameters_is_xavier_uniform():
    """Every matrix gets its own xavier_uniform_ draw (the stacked copies differ); the
    vectors keep their module's initialization (MHA biases 0, LayerNorm 1 and 0)."""
    lg.manual_seed(1)
    m = _quiet(lg.nn.Transformer, d_model=16, nhead=2, num_encoder_layers=2,
               num_decoder_layers=2, dim_feedforward=64)
    for name, p in m.named_parameters():
        a = _np(p)
        if p.dim() > 1:
            bound = math.sqrt(6.0 / (p.shape[0] + p.shape[1]))
            assert np.abs(a).max() <= bound, name
            assert np.abs(a).max() > 0.8 * bound, name         # spread over the whole range
            assert abs(a.std() - bound / math.sqrt(3)) < 0.25 * bound, name
        elif "in_proj_bias" in name or "out_proj.bias" in name or "norm" in name and \
                name.endswith("bias"):
            assert not a.any(), name
        elif "norm" in name:
            assert (a == 1).all(), name
    enc = m.encoder.layers
    assert not np.array_equal(_np(enc[0].linear1.weight), _np(enc[1].linear1.weight))


def test_transformer_custom_encoder_decoder(torch):
    enc = lg.nn.TransformerEncoder(lg.nn.TransformerEncoderLayer(D, NHEAD, FF, 0.0), 1,
                                   enable_nested_tensor=False)
    dec = lg.nn.TransformerDecoder(lg.nn.TransformerDecoderLayer(D, NHEAD, FF, 0.0), 1)
    m = lg.nn.Transformer(D, NHEAD, custom_encoder=enc, custom_decoder=dec).eval()
    assert m.encoder is enc and m.decoder is dec
    src, tgt = lg.randn(5, 2, D), lg.randn(3, 2, D)
    _close(m(src, tgt), dec(tgt, enc(src)))


def test_generate_square_subsequent_mask(torch):
    for sz, dt in [(1, None), (4, None), (3, "float64")]:
        t = torch.nn.Transformer.generate_square_subsequent_mask(
            sz, dtype=None if dt is None else getattr(torch, dt))
        x = lg.nn.Transformer.generate_square_subsequent_mask(
            sz, dtype=None if dt is None else getattr(lg, dt))
        assert str(x.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(x.numpy(), t.numpy())
    m = _quiet(lg.nn.Transformer, D, NHEAD, 1, 1, FF)
    assert m.generate_square_subsequent_mask(2).tolist() == [[0.0, float("-inf")], [0.0, 0.0]]


def test_dropout_only_in_training():
    m = _quiet(lg.nn.Transformer, D, NHEAD, 1, 1, FF, dropout=0.5)
    src, tgt = lg.randn(5, 2, D), lg.randn(3, 2, D)
    m.eval()
    _close(m(src, tgt), m(src, tgt))
    m.train()
    assert not np.allclose(_np(m(src, tgt)), _np(m(src, tgt)))


def _error(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the error itself is compared
        return type(e).__name__, str(e).split("\n")[0]
    return None


def test_errors_as_torch(torch):
    tm, lm = _transformer_pair(torch)
    tb, lb = _transformer_pair(torch, batch_first=True)
    a, b, c = rng.standard_normal((5, 2, D)), rng.standard_normal((3, 4, D)), \
        rng.standard_normal((3, 2, D + 2))
    for model_t, model_l, x, y in [(tm, lm, a, b), (tm, lm, a, c), (tb, lb, a, b),
                                   (tm, lm, a[:, 0], c[:, 0])]:
        want = _error(model_t, torch.tensor(x), torch.tensor(y))
        assert want is not None
        assert _error(model_l, lg.tensor(x), lg.tensor(y)) == want
    # is_causal is a hint about a mask: without the mask the attention refuses
    tl, ll = _layer_pair(torch)
    x, m = rng.standard_normal((3, 2, D)), rng.standard_normal((4, 2, D))
    want = _error(lambda: tl(torch.tensor(x), torch.tensor(m), tgt_is_causal=True))
    assert "Need attn_mask if specifying the is_causal hint" in want[1]
    assert _error(lambda: ll(lg.tensor(x), lg.tensor(m), tgt_is_causal=True)) == want
    for cls in ("TransformerDecoderLayer", "Transformer"):
        want = _error(getattr(torch.nn, cls), D, NHEAD, activation="tanh")
        assert _error(getattr(lg.nn, cls), D, NHEAD, activation="tanh") == want
    want = _error(lambda: torch.nn.TransformerDecoderLayer(D, 3))
    assert _error(lambda: lg.nn.TransformerDecoderLayer(D, 3)) == want


def test_exported_like_torch():
    import lightgrad.nn.modules as modules
    for name in ("TransformerDecoderLayer", "TransformerDecoder", "Transformer"):
        assert getattr(lg.nn, name) is getattr(modules, name)
        assert name in modules.transformer.__all__
