"""Recurrent layers, cells and nn.utils.rnn packing, against torch with copied weights."""
import functools
import itertools
import warnings

import numpy as np
import pytest

import lightgrad as lg
from lightgrad.nn.utils import rnn as LR

rng = np.random.default_rng(0)


def _np(t):
    return t.detach().numpy()


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def _copy_weights(tm, lm):
    tn, ln = dict(tm.named_parameters()), dict(lm.named_parameters())
    assert list(tn) == list(ln)
    for k, p in tn.items():
        assert tuple(p.shape) == tuple(ln[k].shape), k
        ln[k].data = lg.tensor(_np(p).copy())


def _pair(a):
    """The same float64 array as a torch and a lightgrad leaf."""
    import torch
    return torch.tensor(a, requires_grad=True), lg.tensor(a, requires_grad=True)


def _states(s):
    return s if isinstance(s, tuple) else (s,)


MODES = {"RNN": ("RNN", {}), "RNN_relu": ("RNN", {"nonlinearity": "relu"}),
         "LSTM": ("LSTM", {}), "LSTM_proj": ("LSTM", {"proj_size": 2}), "GRU": ("GRU", {})}


@pytest.mark.parametrize("kind", ["padded", "packed", "unbatched"])
@pytest.mark.parametrize("mode", list(MODES))
def test_recurrent_layers_match_torch(torch, mode, kind):
    """Outputs, final states and gradients (input, h0/c0, every weight) for layers,
    directions, batch_first, bias and given/default initial states."""
    TR = torch.nn.utils.rnn
    cls, extra = MODES[mode]
    T, B, In, H = 4, 3, 3, 4
    for L, bi, bf, bias, give_h in itertools.product([1, 2], [False, True], [False, True],
                                                    [True, False], [False, True]):
        kw = dict(extra, num_layers=L, bidirectional=bi, batch_first=bf, bias=bias)
        tm = getattr(torch.nn, cls)(In, H, **kw).double()
        lm = getattr(lg.nn, cls)(In, H, **kw).double()
        _copy_weights(tm, lm)
        x = rng.standard_normal((B, T, In) if bf else (T, B, In))
        if kind == "unbatched":
            x = x[0] if bf else x[:, 0]
        tx, lx = _pair(x)
        tin, lin = tx, lx
        if kind == "packed":
            lens = [4, 2, 3]
            tin = TR.pack_padded_sequence(tx, lens, batch_first=bf, enforce_sorted=False)
            lin = LR.pack_padded_sequence(lx, lens, batch_first=bf, enforce_sorted=False)
        th = lh = None
        if give_h:
            lead = (L * (2 if bi else 1),) + (() if kind == "unbatched" else (B,))
            hr = extra.get("proj_size", H)
            pairs = [_pair(rng.standard_normal(lead + (hr,)))]
            if cls == "LSTM":
                pairs.append(_pair(rng.standard_normal(lead + (H,))))
            th = tuple(p[0] for p in pairs) if cls == "LSTM" else pairs[0][0]
            lh = tuple(p[1] for p in pairs) if cls == "LSTM" else pairs[0][1]
        to, ts = tm(tin, th)
        lo, ls = lm(lin, lh)
        if kind == "packed":
            assert isinstance(lo, LR.PackedSequence)
            assert lo.batch_sizes.tolist() == to.batch_sizes.tolist()
            assert lo.unsorted_indices.tolist() == to.unsorted_indices.tolist()
            to = TR.pad_packed_sequence(to, batch_first=bf)[0]
            lo = LR.pad_packed_sequence(lo, batch_first=bf)[0]
        assert tuple(lo.shape) == tuple(to.shape)
        _close(to, lo)
        for a, b in zip(_states(ts), _states(ls)):
            _close(a, b)
        w = rng.standard_normal(tuple(to.shape))
        loss_t = (to * torch.tensor(w)).sum() + sum((s ** 2).sum() for s in _states(ts))
        loss_l = (lo * lg.tensor(w)).sum() + sum((s ** 2).sum() for s in _states(ls))
        loss_t.backward()
        loss_l.backward()
        _close(tx.grad, lx.grad)
        for (_n, p), (_, q) in zip(tm.named_parameters(), lm.named_parameters()):
            _close(p.grad, q.grad)
        if give_h:
            for a, b in zip(_states(th), _states(lh)):
                _close(a.grad, b.grad)


@pytest.mark.parametrize("cls,kw", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
                                    ("LSTMCell", {}), ("GRUCell", {}), ("GRUCell", {"bias": False}),
                                    ("LSTMCell", {"bias": False})])
def test_cells_match_torch(torch, cls, kw):
    for batched, give_h in itertools.product([True, False], [True, False]):
        tm = getattr(torch.nn, cls)(3, 4, **kw).double()
        lm = getattr(lg.nn, cls)(3, 4, **kw).double()
        _copy_weights(tm, lm)
        tx, lx = _pair(rng.standard_normal((2, 3) if batched else (3,)))
        th = lh = None
        if give_h:
            pairs = [_pair(rng.standard_normal((2, 4) if batched else (4,)))
                     for _ in range(2 if cls == "LSTMCell" else 1)]
            th = tuple(p[0] for p in pairs) if cls == "LSTMCell" else pairs[0][0]
            lh = tuple(p[1] for p in pairs) if cls == "LSTMCell" else pairs[0][1]
        to, lo = _states(tm(tx, th)), _states(lm(lx, lh))
        for a, b in zip(to, lo):
            assert tuple(a.shape) == tuple(b.shape)
            _close(a, b)
        sum((o ** 3).sum() for o in to).backward()
        sum((o ** 3).sum() for o in lo).backward()
        _close(tx.grad, lx.grad)
        for (_n, p), (_, q) in zip(tm.named_parameters(), lm.named_parameters()):
            _close(p.grad, q.grad)
        if give_h:
            for a, b in zip(_states(th), _states(lh)):
                _close(a.grad, b.grad)


CONFIGS = [("RNN", (3, 4), {}),
           ("RNN", (3, 4, 2), dict(nonlinearity="relu", bias=False, batch_first=True,
                                   dropout=0.5, bidirectional=True)),
           ("LSTM", (3, 4), dict(proj_size=2)),
           ("LSTM", (3, 4, 2), dict(bidirectional=True, proj_size=2)),
           ("GRU", (3, 4), dict(num_layers=3, batch_first=True)),
           ("RNNCell", (3, 4), {}), ("RNNCell", (3, 4), dict(bias=False, nonlinearity="relu")),
           ("LSTMCell", (3, 4), dict(bias=False)), ("GRUCell", (3, 4), {})]


@pytest.mark.parametrize("cls,args,kw", CONFIGS)
def test_repr_names_shapes_and_init(torch, cls, args, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = getattr(torch.nn, cls)(*args, **kw)
        lm = getattr(lg.nn, cls)(*args, **kw)
    assert repr(lm) == repr(tm)
    assert [(n, tuple(p.shape)) for n, p in lm.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert list(lm.state_dict()) == list(tm.state_dict())
    bound = 1 / np.sqrt(args[1])
    for p in lm.parameters():
        a = _np(p)
        assert p.dtype == lg.float32 and p.requires_grad
        assert np.all(np.abs(a) <= bound) and a.std() > bound / 4   # uniform(-b, b)


def test_rnn_attributes_and_positional_nonlinearity(torch):
    m = lg.nn.RNN(3, 4, 2, "relu")
    assert m.nonlinearity == "relu" and m.mode == "RNN_RELU" and m.num_layers == 2
    assert m._flat_weights_names == torch.nn.RNN(3, 4, 2, "relu")._flat_weights_names
    assert [[tuple(w.shape) for w in ws] for ws in m.all_weights] == \
        [[(4, 3), (4, 4), (4,), (4,)], [(4, 4), (4, 4), (4,), (4,)]]
    m.flatten_parameters()


def _outcome(f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            f()
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            return type(e).__name__, str(e).replace("torch.", "lightgrad.")
    return None


ERROR_CASES = [
    lambda m: m.LSTM(3, 4)(m.zeros(2, 2, 2, 3)),
    lambda m: m.RNN(3, 4)(m.zeros(2, 2, 2, 3)),
    lambda m: m.LSTM(3, 4)(m.zeros(2, 2, 5)),
    lambda m: m.RNN(3, 4)(m.zeros(2, 2, 3), m.zeros(1, 3, 4)),
    lambda m: m.LSTM(3, 4)(m.zeros(2, 2, 3), (m.zeros(1, 3, 4), m.zeros(1, 2, 4))),
    lambda m: m.LSTM(3, 4)(m.zeros(2, 2, 3), (m.zeros(1, 2, 4), m.zeros(1, 3, 4))),
    lambda m: m.LSTM(3, 4)(m.zeros(2, 3), (m.zeros(1, 2, 4), m.zeros(1, 2, 4))),
    lambda m: m.RNN(3, 4)(m.zeros(2, 3), m.zeros(1, 2, 4)),
    lambda m: m.RNN(3, 4)(m.zeros(2, 2, 3), m.zeros(2, 4)),
    lambda m: m.LSTM(3, 4, dropout=1.5),
    lambda m: m.LSTM(3, 0),
    lambda m: m.LSTM(3, 4, num_layers=0),
    lambda m: m.LSTM(3, 4, proj_size=4),
    lambda m: m.LSTM(3, 4, proj_size=-1),
    lambda m: m.GRU(3, 4, proj_size=2),
    lambda m: m.RNN(3, 4, nonlinearity="sig"),
    lambda m: m.RNNCell(3, 4)(m.zeros(2, 2, 3)),
    lambda m: m.LSTMCell(3, 4)(m.zeros(2, 2, 3)),
    lambda m: m.GRUCell(3, 4)(m.zeros(2, 3), m.zeros(1, 2, 4)),
    lambda m: m.LSTMCell(3, 4)(m.zeros(2, 3), (m.zeros(1, 2, 4), m.zeros(2, 4))),
    lambda m: m.RNNCell(3, 4)(m.zeros(2, 3), m.zeros(3, 4)),
    lambda m: m.RNNCell(3, 4)(m.zeros(2, 5)),
    lambda m: m.LSTMCell(3, 4)(m.zeros(2, 3), (m.zeros(3, 4), m.zeros(2, 4))),
    lambda m: m.RNNCell(3, 4, nonlinearity="x")(m.zeros(2, 3)),
]


@pytest.mark.parametrize("case", range(len(ERROR_CASES)))
def test_errors_match_torch(torch, case):
    class NS:   # nn classes plus zeros, so one lambda serves both libraries
        pass

    outs = []
    for lib in (torch, lg):
        ns = NS()
        ns.__dict__.update({k: getattr(lib.nn, k) for k in
                            ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")})
        ns.zeros = lib.zeros
        outs.append(_outcome(functools.partial(ERROR_CASES[case], ns)))
    assert outs[0] is not None
    assert outs[1] == outs[0]


def test_dropout_warning_and_between_layers():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        lg.nn.LSTM(3, 4, dropout=0.5)
    lg.manual_seed(1)
    m = lg.nn.GRU(3, 5, num_layers=2, dropout=0.5).double()
    ref = lg.nn.GRU(3, 5, num_layers=2).double()
    ref.load_state_dict(m.state_dict())
    x = lg.randn(4, 2, 3, dtype=lg.float64)
    out_train = m(x)[0]
    assert not np.allclose(_np(out_train), _np(ref(x)[0]))     # dropout acted in training
    m.eval()
    _close(m(x)[0], ref(x)[0])                                  # and not in eval


def test_lstm_gradcheck_double_backward():
    lm = lg.nn.LSTM(2, 2, bidirectional=True).double()
    x = lg.randn(3, 1, 2, dtype=lg.float64, requires_grad=True)
    h = lg.randn(2, 1, 2, dtype=lg.float64, requires_grad=True)
    c = lg.randn(2, 1, 2, dtype=lg.float64, requires_grad=True)

    def f(x, h, c):
        out, (hn, cn) = lm(x, (h, c))
        return out.sum() + hn.sum() + cn.sum()
    assert lg.autograd.gradcheck(f, (x, h, c))
    assert lg.autograd.gradgradcheck(f, (x, h, c))


def test_float32_matches_torch(torch):
    tm, lm = torch.nn.LSTM(5, 6, batch_first=True), lg.nn.LSTM(5, 6, batch_first=True)
    _copy_weights(tm, lm)
    x = rng.standard_normal((2, 7, 5)).astype(np.float32)
    to, (th, tc) = tm(torch.tensor(x))
    lo, (lh, lc) = lm(lg.tensor(x))
    assert lo.dtype == lg.float32 and lh.dtype == lg.float32
    for a, b in [(to, lo), (th, lh), (tc, lc)]:
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=1e-6)


def test_lstm_language_model_learns():
    """A tiny character-level LSTM LM: the training loss falls well below its start."""
    text = "hello world, hello lightgrad. " * 4
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    V, H, T = len(chars), 24, 12
    lg.manual_seed(0)
    emb = lg.nn.Parameter(lg.randn(V, 8) * 0.3)
    lstm = lg.nn.LSTM(8, H, batch_first=True)
    head = lg.nn.Parameter(lg.randn(H, V) * 0.1)
    bias = lg.nn.Parameter(lg.zeros(V))
    params = [emb, head, bias] + list(lstm.parameters())
    opt = lg.optim.Adam(params, lr=0.02)
    starts = np.arange(0, len(ids) - T - 1, 3)
    xs = np.stack([ids[s:s + T] for s in starts])
    ys = lg.tensor(np.stack([ids[s + 1:s + T + 1] for s in starts]).reshape(-1))
    losses = []
    for _ in range(40):
        out, _ = lstm(emb[lg.tensor(xs)])
        logits = out.reshape(-1, H) @ head + bias
        loss = -lg.log_softmax(logits, -1).gather(1, ys.unsqueeze(1)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.4 * losses[0], losses[::5]


# -- nn.utils.rnn --------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lens,enforce", [([4, 3, 1], True), ([3, 4, 1], False),
                                          ([2, 2, 2], True), ([2, 4, 4], False)])
def test_pack_pad_roundtrip_matches_torch(torch, batch_first, lens, enforce):
    TR = torch.nn.utils.rnn
    x = rng.standard_normal((3, 4, 2) if batch_first else (4, 3, 2))
    tx, lx = _pair(x)
    tp = TR.pack_padded_sequence(tx, lens, batch_first=batch_first, enforce_sorted=enforce)
    lp = LR.pack_padded_sequence(lx, lg.tensor(lens), batch_first=batch_first,
                                 enforce_sorted=enforce)
    _close(tp.data, lp.data)
    assert lp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    assert lp.batch_sizes.dtype == lg.int64
    for a, b in [(tp.sorted_indices, lp.sorted_indices),
                 (tp.unsorted_indices, lp.unsorted_indices)]:
        assert (a is None and b is None) or a.tolist() == b.tolist()
    for total in (None, 6):
        to, tl = TR.pad_packed_sequence(tp, batch_first, -1.0, total)
        lo, ll = LR.pad_packed_sequence(lp, batch_first, -1.0, total)
        _close(to, lo)
        assert ll.tolist() == tl.tolist() and ll.dtype == lg.int64
    w = rng.standard_normal(tuple(to.shape))
    (to * torch.tensor(w)).sum().backward()
    (lo * lg.tensor(w)).sum().backward()
    _close(tx.grad, lx.grad)


def test_pad_sequence_pack_sequence_match_torch(torch):
    TR = torch.nn.utils.rnn
    seqs = [rng.standard_normal((n, 2)) for n in (2, 4, 3)]
    pairs = [_pair(s) for s in seqs]
    ts, ls = [p[0] for p in pairs], [p[1] for p in pairs]
    for bf, side in itertools.product([False, True], ["right", "left"]):
        _close(TR.pad_sequence(ts, bf, 3.0, side), LR.pad_sequence(ls, bf, 3.0, side))
    tp, lp = TR.pack_sequence(ts, enforce_sorted=False), LR.pack_sequence(ls, False)
    _close(tp.data, lp.data)
    assert lp.sorted_indices.tolist() == tp.sorted_indices.tolist()
    for a, b in zip(TR.unpack_sequence(tp), LR.unpack_sequence(lp)):
        _close(a, b)
    (tp.data ** 2).sum().backward()
    (lp.data ** 2).sum().backward()
    for a, b in zip(ts, ls):
        _close(a.grad, b.grad)
    padded, lengths = LR.pad_packed_sequence(lp, batch_first=True)
    assert [tuple(t.shape) for t in LR.unpad_sequence(padded, lengths, True)] == \
        [(2, 2), (4, 2), (3, 2)]
    assert isinstance(lp, tuple) and lp._fields == tp._fields
    assert lp.to(lg.float32).data.dtype == lg.float32
    assert LR.invert_permutation(lg.tensor([2, 0, 1])).tolist() == [1, 2, 0]


def _packing_outcomes(lib, R):
    X = lib.tensor(np.zeros((4, 3, 2)))
    p = R.pack_padded_sequence(X, [4, 3, 1])
    return [_outcome(lambda: R.pack_padded_sequence(X, [3, 4, 1])),
            _outcome(lambda: R.pack_padded_sequence(X, [3, 0, 0])),
            _outcome(lambda: R.pad_packed_sequence(p, total_length=2)),
            _outcome(lambda: R.pad_sequence([X[0]], padding_side="up"))]


def test_packing_errors_match_torch(torch):
    expected = _packing_outcomes(torch, torch.nn.utils.rnn)
    assert all(e is not None for e in expected)
    assert _packing_outcomes(lg, LR) == expected


# -- the LSTM layer's fused gate node (ops/nn_rnn.py) ------------------------------------------
def test_fused_lstm_gates_gradients():
    from lightgrad.ops.nn_rnn import lstm_gates
    pre = lg.tensor(rng.standard_normal((3, 8)), requires_grad=True)
    c = lg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert type(lstm_gates(pre, c)[0].grad_fn).__name__ == "LstmGatesBackward"
    assert lg.autograd.gradcheck(lambda p, c: lstm_gates(p, c), (pre, c))
    assert lg.autograd.gradgradcheck(lambda p, c: lstm_gates(p, c), (pre, c))
    # only one output used: the other's gradient block is zero, not missing
    assert lg.autograd.gradcheck(lambda p, c: lstm_gates(p, c)[0], (pre, c))
    assert lg.autograd.gradcheck(lambda p, c: lstm_gates(p, c)[1], (pre, c))
    # the same values as the composite ops nn.LSTMCell records
    from lightgrad.nn.modules.rnn import _lstm_step
    eye = lg.eye(2, 8, dtype=lg.float64)
    h0 = lg.zeros(3, 2, dtype=lg.float64)
    for a, b in zip(lstm_gates(pre, c), _lstm_step(pre, (h0, c), eye, None, None)):
        _close(a, b, 1e-14)


def test_lstm_layer_under_transforms():
    """Batched backward (jacrev), forward mode and vmap through nn.LSTM, which runs the
    fused node (vmap: the composite ops), against the plain reverse-mode Jacobian."""
    lm = lg.nn.LSTM(2, 3).double()
    x = lg.randn(4, 1, 2, dtype=lg.float64)

    def f(x):
        out, (h, c) = lm(x)
        return lg.cat([out.reshape(-1), h.reshape(-1), c.reshape(-1)])
    rows = [lg.autograd.grad(f(x.requires_grad_())[k], x)[0] for k in range(18)]
    jac = lg.stack(rows).reshape(18, 4, 1, 2)
    _close(lg.func.jacrev(f)(x.detach()), jac)
    _close(lg.func.jacfwd(f)(x.detach()), jac)
    xs = lg.randn(5, 4, 1, 2, dtype=lg.float64)
    _close(lg.func.vmap(f)(xs), lg.stack([f(v) for v in xs]))
