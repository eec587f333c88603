"""Shape ops: errors, view semantics (shared memory and version counter), multi-view outputs,
non-differentiable queries, each against torch where torch is available."""
import numpy as np
import pytest

import lightgrad as lg


def _err(fn, mod):
    with pytest.raises(Exception) as e:
        fn(mod)
    return type(e.value).__name__, str(e.value)


ERRORS = [
    lambda m: m.ones(4, 3).view(5),
    lambda m: m.ones(4, 3).view(-1, -1),
    lambda m: m.ones(4, 3).t().view(12),
    lambda m: m.ones(4, 3).reshape(5),
    lambda m: m.ones(4, 3).permute(0),
    lambda m: m.ones(4, 3).permute(0, 0),
    lambda m: m.ones(4, 3).transpose(0, 2),
    lambda m: m.ones(4, 3).squeeze(2),
    lambda m: m.ones(4, 3).unsqueeze(3),
    lambda m: m.ones(4, 3).narrow(0, 3, 2),
    lambda m: m.ones(4, 3).narrow(0, -5, 1),
    lambda m: m.ones(4, 3).select(0, 4),
    lambda m: m.ones(4, 3)[5],
    lambda m: m.ones(4, 3)[0, 0, 0],
    lambda m: m.ones(4, 3)[::-1],
    lambda m: m.ones(4, 3)[:, ::0],
    lambda m: m.ones(4, 3).expand(3),
    lambda m: m.ones(4, 3).expand(-1, 4, 3),
    lambda m: m.ones(4, 3).expand(4, 4),
    lambda m: m.ones(2, 3, 4).t(),
    lambda m: m.ones(4, 3).flatten(1, 0),
    lambda m: m.ones(4, 3).repeat(2),
    lambda m: m.ones(4, 3).chunk(0),
    lambda m: m.ones(4, 3).split(0),
    lambda m: m.ones(4, 3).split([1, 2]),
    lambda m: m.cat([m.ones(4, 3), m.ones(4, 2)]),
    lambda m: m.cat([m.ones(4, 3), m.ones(4)]),
    lambda m: m.cat([]),
    lambda m: m.stack([m.ones(4, 3), m.ones(4, 2)]),
    lambda m: m.stack([]),
    lambda m: m.roll(m.ones(4, 3), 1, 5),
    lambda m: m.roll(m.ones(4, 3), (1, 2), 0),
    lambda m: m.ones(4, 3).flip(5),
    lambda m: m.ones(4, 3).unflatten(1, (2, 2)),
    lambda m: m.ones(4, 3).movedim(0, 5),
    lambda m: m.ones(2, 2, 2).diag(),
    lambda m: m.ones(3).tril(),
]


@pytest.mark.parametrize("fn", ERRORS, ids=range(len(ERRORS)))
def test_errors_match_torch(fn, torch):
    assert _err(fn, lg) == _err(fn, torch)


def test_views_share_memory_and_version():
    x = lg.tensor([[0., 1., 2.], [3., 4., 5.]])
    views = [x.view(6), x.t(), x[0], x[:, 1:], x.unsqueeze(0), x.diagonal(), x.T,
             x.narrow(1, 0, 2), x.expand(2, 2, 3), x.movedim(0, 1), x.unbind(0)[1],
             x.split(1, 1)[2], x[...], x.select(1, 2)]
    for v in views:
        assert v._base is x
        assert v._version == x._version
    x.add_(1)
    assert all(v._version == 1 for v in views)
    x[1, 2] = 100.
    assert views[0][5].item() == 100. and views[1][2, 1].item() == 100.
    assert views[-1][1].item() == 100. and views[-3][1, 0].item() == 100.
    views[2][0] = -1.             # writing through a 0-d select view reaches the base
    assert x[0, 0].item() == -1. and x._version == 3


def test_copies_do_not_share():
    x = lg.arange(4.).reshape(2, 2)
    for c in (x.flip(0), x.roll(1), x.repeat(1, 1), x.tril(), x.diag(), lg.cat([x]),
              x.t().reshape(4)):
        c.add_(10)
    assert x.tolist() == [[0., 1.], [2., 3.]]


def test_multi_view_inplace_errors(torch):
    for mod in (lg, torch):
        x = mod.ones(4, 3, requires_grad=True)
        msgs = []
        for get in (lambda y: y.chunk(2)[1], lambda y: y.split([1, 3])[1],
                    lambda y: y.unbind()[1], lambda y: y.split(2)[0]):
            with pytest.raises(RuntimeError) as e:
                get(x * 1).mul_(2)
            msgs.append(str(e.value))
        if mod is lg:
            lg_msgs = msgs
    assert lg_msgs == msgs
    assert "Output 1 of SplitWithSizes" in msgs[1] and "Output 0 of Split" in msgs[3]
    # tensor_split gives ordinary views: in-place works and is recorded
    y = lg.ones(4, 3, requires_grad=True) * 1
    p = y.tensor_split(2)[1]
    p.mul_(2)
    assert type(p.grad_fn).__name__ == "AsStridedBackward0"


def test_multi_view_grads(torch):
    res = []
    for mod in (lg, torch):
        x = mod.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)
        a, b = x.chunk(2, 1)
        u = x.unbind(1)
        (a.sum() * 2 + (u[2] ** 2).sum()).backward()
        res.append(x.grad.tolist())
    assert res[0] == res[1]


def test_nonzero_unique_where(torch):
    data = [[0, 1, 2], [3, 0, 3]]
    for f in (lambda m: m.tensor(data).nonzero(),
              lambda m: m.nonzero(m.tensor(data), as_tuple=True),
              lambda m: m.where(m.tensor(data) > 1),
              lambda m: m.nonzero(m.tensor(1)),
              lambda m: m.nonzero(m.tensor(0), as_tuple=True),
              lambda m: m.unique(m.tensor([3, 1, 1, 2])),
              lambda m: m.unique(m.tensor([3, 1, 1, 2]), return_inverse=True,
                                 return_counts=True),
              lambda m: m.unique(m.tensor([[1, 2], [1, 2], [0, 1]]), dim=0,
                                 return_inverse=True, return_counts=True),
              lambda m: m.tensor([3., 1., 2.]).repeat_interleave(m.tensor([1, 0, 2])),
              lambda m: m.repeat_interleave(m.tensor([2, 1]))):
        a, b = f(lg), f(torch)
        a = a if isinstance(a, tuple) else (a,)
        b = b if isinstance(b, tuple) else (b,)
        assert len(a) == len(b)
        for p, q in zip(a, b):
            assert p.tolist() == q.tolist() and p.dtype.name == str(q.dtype)[6:]


def test_unique_of_grad_tensor_has_no_derivative(torch):
    x = lg.tensor([2., 1., 2.], requires_grad=True)
    u = lg.unique(x)
    assert type(u.grad_fn).__name__ == "Unique2Backward0"
    with pytest.raises(NotImplementedError, match="the derivative for '_unique2' is not "):
        u.sum().backward()


def test_node_names_and_next_functions(torch):
    for mod in (lg, torch):
        x = mod.ones(2, 3, requires_grad=True)
        y = mod.ones(2, 3)
        c = mod.cat([x, y, x])
        names = [None if n is None else type(n).__name__ for n, _ in c.grad_fn.next_functions]
        if mod is lg:
            first = names
    assert first == names == ["AccumulateGrad", None, "AccumulateGrad"]


@pytest.mark.parametrize("expr", [
    "x.t_()", "x.unsqueeze_(1)", "x.squeeze_()", "x.transpose_(0, 1)"])
def test_inplace_view_ops(expr, torch):
    out = []
    for mod in (lg, torch):
        w = mod.tensor([[1., 2., 3.]], requires_grad=True)
        x = w * 2
        r = eval(expr)
        assert r is x
        (x * mod.arange(3.).reshape(x.shape)).sum().backward()
        out.append((type(x.grad_fn).__name__, tuple(x.shape), x._version, w.grad.tolist()))
    assert out[0] == out[1]


def test_reshape_view_or_copy():
    x = lg.ones(2, 3, requires_grad=True)
    assert type(x.reshape(3, 2).grad_fn).__name__ == "ViewBackward0"
    r = x.t().reshape(6)
    assert type(r.grad_fn).__name__ == "UnsafeViewBackward0" and r._base is None
    assert x.contiguous() is x
    np.testing.assert_array_equal(x.view(6).numpy(force=True), np.ones(6))


def test_matrix_transpose_properties():
    x = lg.ones(2, 3, requires_grad=True)
    assert type(x.H.grad_fn).__name__ == "TransposeBackward0" and x.H.shape == (3, 2)
    assert x.mH.shape == (3, 2) and lg.ones(2, 3, 4).mH.shape == (2, 4, 3)
    with pytest.raises(RuntimeError, match=r"^tensor\.mT is only supported on matrices or "
                       r"batches of matrices\. Got 1-D tensor\.$"):
        lg.ones(3).mT
    with pytest.raises(RuntimeError, match=r"Got 3-D tensor\. For batches of matrices, "
                       r"consider using tensor\.mH$"):
        lg.ones(2, 3, 4).H
    s = lg.tensor(1.)
    assert s.mT is s


def test_tile_method_varargs_where_0d_and_unbind_0d():
    assert lg.ones(2, 3).tile(2, 1, 1).shape == (2, 2, 3)
    assert lg.tile(lg.ones(2), (2,)).shape == (4,)
    r = lg.where(lg.tensor(1.) > 0)
    assert len(r) == 1 and r[0].tolist() == [0] and r[0].dtype == lg.int64
    with pytest.raises(IndexError, match="^Dimension specified as 0 but tensor has no dimensions$"):
        lg.tensor(1.).unbind()
