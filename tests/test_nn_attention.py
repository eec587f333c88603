"""scaled_dot_product_attention, MultiheadAttention and the Transformer encoder, against torch
with copied weights (float64, dropout 0 for the comparisons)."""
import itertools
import warnings

import numpy as np
import pytest

import lightgrad as lg
import lightgrad.nn.functional as LF

rng = np.random.default_rng(0)
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")


def _np(t):
    return t.detach().numpy()


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def _pair(a):
    import torch
    return torch.tensor(a, requires_grad=True), lg.tensor(a, requires_grad=True)


def _copy_weights(tm, lm):
    tn, ln = dict(tm.named_parameters()), dict(lm.named_parameters())
    assert list(tn) == list(ln)
    for k, p in tn.items():
        assert tuple(p.shape) == tuple(ln[k].shape), k
        ln[k].data = lg.tensor(_np(p).copy())


def _mask(kind, shape, allow_first=True):
    """A (torch, lightgrad) mask pair: bool with column 0 kept, or float."""
    if kind is None:
        return None, None
    if kind == "bool":
        m = rng.random(shape) > 0.6
        m[..., 0] = allow_first
    else:
        m = rng.standard_normal(shape)
    import torch
    return torch.tensor(m), lg.tensor(m)


# -- scaled_dot_product_attention ------------------------------------------------------------
@pytest.mark.parametrize("case", ["plain", "causal", "scale", "bool", "bool_bcast", "float",
                                  "dead_rows", "gqa", "3d", "causal_rect"])
def test_sdpa_matches_torch(torch, case):
    F = torch.nn.functional
    Lq = 4
    S = 3 if case == "causal_rect" else 6
    qs, ks, vs = (2, 4, Lq, 5), (2, 4, S, 5), (2, 4, S, 3)
    if case == "gqa":
        ks, vs = (2, 2, S, 5), (2, 2, S, 3)
    if case == "3d":
        qs, ks, vs = qs[1:], ks[1:], vs[1:]
    (tq, lq), (tk, lk), (tv, lv) = (_pair(rng.standard_normal(s)) for s in (qs, ks, vs))
    kw = {}
    tm = lm = None
    if case in ("causal", "causal_rect"):
        kw["is_causal"] = True
    elif case == "scale":
        kw["scale"] = 0.3
    elif case == "bool":
        tm, lm = _mask("bool", (2, 4, Lq, S))
    elif case == "bool_bcast":
        tm, lm = _mask("bool", (Lq, S))
    elif case == "float":
        tm, lm = _mask("float", (4, Lq, S))
    elif case == "dead_rows":
        m = rng.random((Lq, S)) > 0.5
        m[1] = False       # a fully masked row: torch gives zeros, not NaN
        tm, lm = torch.tensor(m), lg.tensor(m)
    elif case == "gqa":
        kw["enable_gqa"] = True
    to = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tm, **kw)
    lo = LF.scaled_dot_product_attention(lq, lk, lv, attn_mask=lm, **kw)
    assert tuple(lo.shape) == tuple(to.shape)
    _close(to, lo)
    w = rng.standard_normal(tuple(to.shape))
    (to * torch.tensor(w)).sum().backward()
    (lo * lg.tensor(w)).sum().backward()
    for a, b in [(tq, lq), (tk, lk), (tv, lv)]:
        _close(a.grad, b.grad)
    assert not np.isnan(_np(lq.grad)).any()


def test_sdpa_errors_and_dropout(torch):
    q = lg.randn(1, 3, 4)
    m = lg.ones(3, 3, dtype=lg.bool)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when "
                                           "is_causal=True"):
        LF.scaled_dot_product_attention(q, q, q, attn_mask=m, is_causal=True)
    with pytest.raises(RuntimeError):
        torch.nn.functional.scaled_dot_product_attention(
            torch.zeros(1, 3, 4), torch.zeros(1, 3, 4), torch.zeros(1, 3, 4),
            attn_mask=torch.ones(3, 3, dtype=torch.bool), is_causal=True)
    v = lg.ones(1, 3, 4)
    assert np.allclose(_np(LF.scaled_dot_product_attention(q, q, v, dropout_p=0.0)), 1.0)
    assert np.allclose(_np(LF.scaled_dot_product_attention(q, q, v, dropout_p=1.0)), 0.0)
    x = lg.randn(2, 64, 8)
    out = LF.scaled_dot_product_attention(x, x, lg.ones(2, 64, 8), dropout_p=0.5)
    # dropped weights are 0, kept ones scaled by 2: rows of ones average about 1
    assert not np.allclose(_np(out), 1.0) and abs(_np(out).mean() - 1.0) < 0.2


# -- multi_head_attention_forward ------------------------------------------------------------
def test_multi_head_attention_forward_matches_torch(torch):
    F = torch.nn.functional
    E, H, L, S, N = 8, 2, 3, 5, 2
    combos = list(itertools.product([True, False], [True, False], [None, "bool", "float"],
                                    [None, "bool", "float"], [True, False], [False, True],
                                    [False, True], [False, True]))
    for i in rng.permutation(len(combos))[:60]:
        same, bias, kpm, am, need_w, sep, bias_kv, zero_attn = combos[i]
        P = [_pair(rng.standard_normal(s) * 0.5) for s in
             [(3 * E, E), (3 * E,), (E, E), (E,), (E, E), (E, E), (E, E), (1, 1, E), (1, 1, E)]]
        w, b, ow, ob, qw, kw, vw, bk, bv = P
        if not bias:
            b = ob = (None, None)
        if not bias_kv:
            bk = bv = (None, None)
        q = _pair(rng.standard_normal((L, N, E)))
        k = q if same else _pair(rng.standard_normal((S, N, E)))
        v = k if same else _pair(rng.standard_normal((S, N, E)))
        Sk = L if same else S
        tkpm, lkpm = _mask(kpm, (N, Sk), allow_first=False)
        tam, lam = _mask(am, (L, Sk), allow_first=False)

        outs = []
        for i, f, kpm_, am_ in [(0, F.multi_head_attention_forward, tkpm, tam),
                                (1, LF.multi_head_attention_forward, lkpm, lam)]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outs.append(f(q[i], k[i], v[i], E, H, w[i], b[i], bk[i], bv[i], zero_attn, 0.0,
                              ow[i], ob[i], training=True, key_padding_mask=kpm_,
                              need_weights=need_w, attn_mask=am_, use_separate_proj_weight=sep,
                              q_proj_weight=qw[i], k_proj_weight=kw[i], v_proj_weight=vw[i]))
        (to, tw), (lo, lw) = outs
        _close(to, lo)
        if need_w:
            _close(tw, lw)
        else:
            assert lw is None
        g = rng.standard_normal(tuple(to.shape))
        (to * torch.tensor(g)).sum().backward()
        (lo * lg.tensor(g)).sum().backward()
        for pair in [w, b, ow, ob, qw, kw, vw, bk, bv, q, k, v]:
            if pair[0] is not None and pair[0].grad is not None:
                _close(pair[0].grad, pair[1].grad)


# -- MultiheadAttention ----------------------------------------------------------------------
MHA_CONFIGS = [dict(), dict(bias=False), dict(batch_first=True), dict(kdim=3, vdim=5),
               dict(kdim=3, vdim=5, bias=False, batch_first=True),
               dict(add_bias_kv=True, add_zero_attn=True)]


def _shape(n, d, batch, batched, batch_first):
    if not batched:
        return (n, d)
    return (batch, n, d) if batch_first else (n, batch, d)


@pytest.mark.parametrize("cfg", range(len(MHA_CONFIGS)))
def test_multihead_attention_matches_torch(torch, cfg):
    kw = MHA_CONFIGS[cfg]
    E, H, L, S, N = 8, 2, 3, 4, 2
    tm = torch.nn.MultiheadAttention(E, H, **kw).double()
    lm = lg.nn.MultiheadAttention(E, H, **kw).double()
    assert repr(lm) == repr(tm)
    _copy_weights(tm, lm)
    bf = kw.get("batch_first", False)
    kd, vd = kw.get("kdim", E), kw.get("vdim", E)
    for self_attn, batched, kpm, am, need_w, avg in itertools.product(
            [True, False], [True, False], [None, "bool"], [None, "bool", "float"],
            [True, False], [True, False]):
        if self_attn and (kd != E or vd != E):
            continue
        if not need_w and not avg:
            continue
        Sk = L if self_attn else S

        q = _pair(rng.standard_normal(_shape(L, E, N, batched, bf)))
        k = q if self_attn else _pair(rng.standard_normal(_shape(S, kd, N, batched, bf)))
        v = q if self_attn else _pair(rng.standard_normal(_shape(S, vd, N, batched, bf)))
        tkpm, lkpm = _mask(kpm, (N, Sk) if batched else (Sk,), allow_first=False)
        tam, lam = _mask(am, (L, Sk), allow_first=False)
        to, tw = tm(q[0], k[0], v[0], key_padding_mask=tkpm, need_weights=need_w,
                    attn_mask=tam, average_attn_weights=avg)
        lo, lw = lm(q[1], k[1], v[1], key_padding_mask=lkpm, need_weights=need_w,
                    attn_mask=lam, average_attn_weights=avg)
        assert tuple(lo.shape) == tuple(to.shape)
        _close(to, lo)
        if need_w:
            assert tuple(lw.shape) == tuple(tw.shape)
            _close(tw, lw)
        else:
            assert lw is None
        g = rng.standard_normal(tuple(to.shape))
        tm.zero_grad()
        lm.zero_grad()
        (to * torch.tensor(g)).sum().backward()
        (lo * lg.tensor(g)).sum().backward()
        for (_n, p), (_, r) in zip(tm.named_parameters(), lm.named_parameters()):
            _close(p.grad, r.grad)
        for a, b in (q, k, v):
            _close(a.grad, b.grad)


def test_multihead_attention_params_init_and_errors(torch):
    for kw in MHA_CONFIGS:
        tm, lm = torch.nn.MultiheadAttention(8, 2, **kw), lg.nn.MultiheadAttention(8, 2, **kw)
        assert [(n, tuple(p.shape)) for n, p in lm.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
        assert list(lm.state_dict()) == list(tm.state_dict())
        assert type(lm.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
        assert isinstance(lm.out_proj, lg.nn.Linear)
    m = lg.nn.MultiheadAttention(8, 2)
    w = _np(m.in_proj_weight)
    bound = np.sqrt(6 / (8 + 24))        # xavier_uniform_ over (3E, E)
    assert np.abs(w).max() <= bound and w.std() > bound / 4
    assert not _np(m.in_proj_bias).any() and not _np(m.out_proj.bias).any()
    assert m.head_dim == 4 and m._qkv_same_embed_dim and m.batch_first is False
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        lg.nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0, got "
                                         "embed_dim=0 and num_heads=2 instead"):
        lg.nn.MultiheadAttention(0, 2)
    x = lg.randn(3, 1, 8)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and "
                                         "attn_mask is deprecated"):
        m(x, x, x, key_padding_mask=lg.zeros(1, 3, dtype=lg.bool), attn_mask=lg.zeros(3, 3))


def test_multihead_attention_dropout_in_training_only():
    m = lg.nn.MultiheadAttention(8, 2, dropout=0.5)
    x = lg.randn(5, 2, 8)
    m.eval()
    a, b = m(x, x, x)[0], m(x, x, x)[0]
    _close(a, b)
    m.train()
    assert not np.allclose(_np(m(x, x, x)[0]), _np(a))


# -- Transformer encoder ---------------------------------------------------------------------
ENC_CONFIGS = [dict(), dict(activation="gelu"), dict(norm_first=True),
               dict(batch_first=True, layer_norm_eps=1e-6), dict(bias=False, activation="gelu"),
               dict(norm_first=True, batch_first=True)]


@pytest.mark.parametrize("cfg", range(len(ENC_CONFIGS)))
def test_transformer_encoder_layer_matches_torch(torch, cfg):
    kw = ENC_CONFIGS[cfg]
    d, nh, ff, L, N = 8, 2, 16, 5, 2
    tm = torch.nn.TransformerEncoderLayer(d, nh, ff, dropout=0.0, **kw).double()
    lm = lg.nn.TransformerEncoderLayer(d, nh, ff, dropout=0.0, **kw).double()
    assert repr(lm) == repr(tm)
    _copy_weights(tm, lm)
    assert lm.activation_relu_or_gelu == tm.activation_relu_or_gelu
    bf = kw.get("batch_first", False)
    for am, kpm in itertools.product([None, "bool", "float"], [None, "bool"]):
        x = _pair(rng.standard_normal((N, L, d) if bf else (L, N, d)))
        tam, lam = _mask(am, (L, L), allow_first=False)
        tkpm, lkpm = _mask(kpm, (N, L), allow_first=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            to = tm(x[0], src_mask=tam, src_key_padding_mask=tkpm)
        lo = lm(x[1], src_mask=lam, src_key_padding_mask=lkpm)
        _close(to, lo)
        g = rng.standard_normal(tuple(to.shape))
        tm.zero_grad()
        lm.zero_grad()
        (to * torch.tensor(g)).sum().backward()
        (lo * lg.tensor(g)).sum().backward()
        _close(x[0].grad, x[1].grad)
        for (_n, p), (_, r) in zip(tm.named_parameters(), lm.named_parameters()):
            _close(p.grad, r.grad)


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_encoder_matches_torch(torch, batch_first):
    d, nh, L, N = 8, 2, 4, 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tl = torch.nn.TransformerEncoderLayer(d, nh, 16, dropout=0.0, batch_first=batch_first)
        te = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(d)).double()
        ll = lg.nn.TransformerEncoderLayer(d, nh, 16, dropout=0.0, batch_first=batch_first)
        le = lg.nn.TransformerEncoder(ll, 2, norm=lg.nn.LayerNorm(d)).double()
    assert repr(le) == repr(te)
    _copy_weights(te, le)
    assert le.layers[0] is not le.layers[1] and le.layers[0] is not ll
    causal = np.triu(np.full((L, L), -np.inf), 1)
    for mask, kpm in [(None, None), ("causal", None), (None, "bool"), ("causal", "bool")]:
        x = _pair(rng.standard_normal((N, L, d) if batch_first else (L, N, d)))
        tm = lm = None
        if mask:
            tm, lm = torch.tensor(causal), lg.tensor(causal)
        tk, lk = _mask(kpm, (N, L), allow_first=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            to = te(x[0], mask=tm, src_key_padding_mask=tk)
        lo = le(x[1], mask=lm, src_key_padding_mask=lk)
        _close(to, lo)
        g = rng.standard_normal(tuple(to.shape))
        te.zero_grad()
        le.zero_grad()
        (to * torch.tensor(g)).sum().backward()
        (lo * lg.tensor(g)).sum().backward()
        _close(x[0].grad, x[1].grad)
        for (_n, p), (_, r) in zip(te.named_parameters(), le.named_parameters()):
            _close(p.grad, r.grad)


def test_transformer_warnings_and_errors(torch):
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        lg.nn.TransformerEncoderLayer(4, 2, activation="tanh")
    for kw, nhead in [({}, 2), ({"batch_first": True}, 1), ({"norm_first": True}, 2)]:
        with warnings.catch_warnings(record=True) as tw:
            warnings.simplefilter("always")
            torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(4, nhead, 8, **kw), 1)
        with warnings.catch_warnings(record=True) as lw:
            warnings.simplefilter("always")
            enc = lg.nn.TransformerEncoder(lg.nn.TransformerEncoderLayer(4, nhead, 8, **kw), 1)
        assert [str(w.message) for w in lw] == [str(w.message) for w in tw]
        assert enc.use_nested_tensor is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enc = lg.nn.TransformerEncoder(lg.nn.TransformerEncoderLayer(4, 2, 8, batch_first=True),
                                       1, enable_nested_tensor=False)
    x = lg.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        enc.layers[0](x, is_causal=True)
