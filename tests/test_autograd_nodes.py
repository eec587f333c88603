"""Spec section 2: grad_fn nodes (names, next_functions, saved values, AccumulateGrad)."""
import re

import pytest

import lightgrad

from . import autograd_helpers
from .autograd_helpers import BACKWARD_TWICE, raises

from .conftest import require

m = autograd_helpers.m   # the module-under-test fixture: lightgrad, then torch

# (expression over x (2x3), v (3,), s (0-d), all float32 requiring grad) -> node name
NAMES = [
    ("x+v", "AddBackward0"), ("x+2", "AddBackward0"), ("2+x", "AddBackward0"),
    ("x+2.5", "AddBackward0"), ("M.add(x,v,alpha=2)", "AddBackward0"), ("x.add(2)", "AddBackward0"),
    ("x-v", "SubBackward0"), ("x-2", "SubBackward0"), ("x.sub(v,alpha=2)", "SubBackward0"),
    ("2-x", "RsubBackward1"), ("M.rsub(x,2)", "RsubBackward1"),
    ("x*v", "MulBackward0"), ("x*2", "MulBackward0"), ("2*x", "MulBackward0"),
    ("x*x", "MulBackward0"), ("M.outer(v,v)", "MulBackward0"),
    ("x/v", "DivBackward0"), ("x/2", "DivBackward0"), ("M.true_divide(x,v)", "DivBackward0"),
    ("2/x", "MulBackward0"), ("M.div(x,2,rounding_mode='floor')", "DivBackward2"),
    ("x**2", "PowBackward0"), ("x.pow(2)", "PowBackward0"), ("x**0.5", "PowBackward0"),
    ("x**-1", "PowBackward0"), ("x.square()", "PowBackward0"),
    ("x**v", "PowBackward1"), ("x.pow(M.tensor(2.))", "PowBackward1"),
    ("2**x", "PowBackward2"), ("M.pow(2,x)", "PowBackward2"),
    ("-x", "NegBackward0"), ("M.neg(x)", "NegBackward0"),
    ("x.mean()", "MeanBackward0"), ("x.mean(0)", "MeanBackward1"),
    ("x.sum()", "SumBackward0"), ("x.sum(dtype=M.float64)", "SumBackward0"),
    ("x.sum(0)", "SumBackward1"), ("x.sum(-1)", "SumBackward1"), ("x.sum((0,1))", "SumBackward1"),
    ("x.prod()", "ProdBackward0"), ("x.mm(x.t())", "MmBackward0"), ("x@x.t()", "MmBackward0"),
    ("x@v", "MvBackward0"), ("M.mv(x,v)", "MvBackward0"), ("v@v", "DotBackward0"),
    ("M.dot(v,v)", "DotBackward0"), ("M.bmm(x[None],x.t()[None])", "BmmBackward0"),
    ("x[None].expand(2,2,3)@x.t()", "UnsafeViewBackward0"), ("x[0][:2]@x", "SqueezeBackward4"),
    ("M.addmm(v[:2],x,x.t())", "AddmmBackward0"),
    ("x.clamp(0,1)", "ClampBackward1"), ("x.clamp(min=0)", "ClampBackward1"),
    ("x.clamp(max=1)", "ClampBackward1"), ("x.clip(0,1)", "ClampBackward1"),
    ("x.clamp(min=v)", "ClampBackward0"), ("x.clamp_min(0)", "ClampMinBackward0"),
    ("x.relu()", "ReluBackward0"), ("M.relu(x)", "ReluBackward0"),
    ("x.exp()", "ExpBackward0"), ("x.log()", "LogBackward0"), ("x.sqrt()", "SqrtBackward0"),
    ("x.abs()", "AbsBackward0"), ("x.sin()", "SinBackward0"), ("x.cos()", "CosBackward0"),
    ("x.tanh()", "TanhBackward0"), ("x.sigmoid()", "SigmoidBackward0"),
    ("x.reciprocal()", "ReciprocalBackward0"), ("x.rsqrt()", "RsqrtBackward0"),
    ("x.sign()", "SignBackward0"), ("x.floor()", "FloorBackward0"), ("x.round()", "RoundBackward0"),
    ("M.atan2(x,v)", "Atan2Backward0"), ("M.lerp(x,v,0.5)", "LerpBackward0"),
    ("M.addcmul(x,x,v)", "AddcmulBackward0"), ("x.cumsum(0)", "CumsumBackward0"),
    ("x.tril()", "TrilBackward0"), ("x.flip(0)", "FlipBackward0"), ("x.trace()", "TraceBackward0"),
    ("x.log1p()", "Log1PBackward0"), ("x.log2()", "Log2Backward0"),
    ("x.unsqueeze(0)", "UnsqueezeBackward0"), ("x[None]", "UnsqueezeBackward0"),
    ("x[None].squeeze()", "SqueezeBackward0"), ("x[None].squeeze(0)", "SqueezeBackward1"),
    ("x.view(6)", "ViewBackward0"), ("x.view_as(x)", "ViewBackward0"),
    ("x.reshape(6)", "ViewBackward0"), ("x.flatten()", "ViewBackward0"),
    ("x.ravel()", "ViewBackward0"), ("x.flatten().unflatten(0,(2,3))", "ViewBackward0"),
    ("M.einsum('ij,jk->ik',x,x.t())", "ViewBackward0"), ("x.t().reshape(6)", "UnsafeViewBackward0"),
    ("x.t()", "TBackward0"), ("x.T", "PermuteBackward0"), ("x.permute(1,0)", "PermuteBackward0"),
    ("x.transpose(0,1)", "TransposeBackward0"), ("x[0]", "SelectBackward0"),
    ("x[0,1]", "SelectBackward0"), ("x[:,0]", "SelectBackward0"), ("x[1:]", "SliceBackward0"),
    ("x[:2,1:]", "SliceBackward0"), ("x[:]", "SliceBackward0"),
    ("x.narrow(1,0,2)", "SliceBackward0"),
    ("x[[0,1]]", "IndexBackward0"), ("x[x>0]", "IndexBackward0"), ("x[...]", "AliasBackward0"),
    ("x.index_select(0,M.tensor([1]))", "IndexSelectBackward0"),
    ("x.gather(1,M.tensor([[0],[1]]))", "GatherBackward0"),
    ("x.masked_fill(x>0,0.)", "MaskedFillBackward0"), ("M.where(x>0,x,v)", "WhereBackward0"),
    ("v.expand(2,3)", "ExpandBackward0"), ("v.expand_as(x)", "ExpandBackward0"),
    ("x.repeat(2,1)", "RepeatBackward0"), ("M.cat([x,x])", "CatBackward0"),
    ("M.stack([x,x])", "StackBackward0"), ("x.split(1)[0]", "SplitBackward0"),
    ("x.chunk(2)[0]", "SplitBackward0"), ("x.unbind()[0]", "UnbindBackward0"),
    ("x.max()", "MaxBackward1"), ("x.min()", "MinBackward1"), ("x.max(0)[0]", "MaxBackward0"),
    ("x.min(0)[0]", "MinBackward0"), ("M.maximum(x,v)", "MaximumBackward0"),
    ("M.min(x,v)", "MinimumBackward0"), ("x.softmax(0)", "SoftmaxBackward0"),
    ("x.log_softmax(0)", "LogSoftmaxBackward0"), ("x.logsumexp(0)", "LogsumexpBackward0"),
    ("x.var()", "VarBackward0"), ("x.std()", "StdBackward0"),
    ("x.norm()", "LinalgVectorNormBackward0"),
    ("x.norm(dim=1)", "LinalgVectorNormBackward0"), ("M.dist(x,v)", "DistBackward0"),
    ("x.double()", "ToCopyBackward0"), ("x.to(M.float64)", "ToCopyBackward0"),
    ("x.clone()", "CloneBackward0"), ("x.t().contiguous()", "CloneBackward0"),
    ("x.diagonal()", "DiagonalBackward0"), ("M.diag(x)", "DiagonalBackward0_copy"),
    ("s.exp()", "ExpBackward0"),
]


def _eval(M, expr):
    g = {"M": M}
    g["x"] = M.tensor([[0.5, 1.2, 2.0], [1.5, 0.25, 0.75]], requires_grad=True)
    g["v"] = M.tensor([0.3, 0.6, 0.9], requires_grad=True)
    g["s"] = M.tensor(1.5, requires_grad=True)
    return eval(expr, g)


@pytest.mark.parametrize("expr,name", NAMES, ids=[e for e, _ in NAMES])
def test_node_names(expr, name):
    torch = require("torch")
    assert type(_eval(torch, expr).grad_fn).__name__ == name   # the table matches torch
    try:
        y = _eval(lightgrad, expr)
    except (AttributeError, NotImplementedError, ImportError, TypeError) as e:
        # ops owned by other families may not exist yet; names of existing ones must match
        pytest.skip(f"{expr}: not implemented in lightgrad yet ({e})")
    assert type(y.grad_fn).__name__ == name
    assert y.grad_fn.name() == name


def test_self_returning_conversions(m):
    x = m.ones(2, requires_grad=True)
    y = x * 2
    assert y.float() is y and y.contiguous() is y


def test_node_object(m):
    x = m.tensor([1., 2., 3.], requires_grad=True)
    y = x * 2
    node = y.grad_fn
    assert re.fullmatch(r"<MulBackward0 object at 0x[0-9a-f]+>", repr(node))
    assert type(node).__module__ == "builtins"
    assert isinstance(node, m.autograd.graph.Node)
    assert node.name() == "MulBackward0" and node.requires_grad is True
    assert node.metadata == {}
    node.metadata["k"] = 1
    assert y.grad_fn.metadata == {"k": 1}
    assert "grad_fn=<MulBackward0>" in repr(y)


def test_saved_values(m):
    x = m.tensor([1., 2., 3.], requires_grad=True)
    n = (x * 2).grad_fn
    assert n._saved_self is None
    o = n._saved_other
    assert isinstance(o, m.Tensor) and o.dim() == 0 and o.item() == 2 and o.dtype == m.int64
    o = (x * 2.5).grad_fn._saved_other
    assert o.dtype == m.float64 and o.item() == 2.5
    z = x * x
    assert z.grad_fn._saved_self is x and z.grad_fn._saved_other is x
    e = x.exp()
    r = e.grad_fn._saved_result
    assert r is not e and r.grad_fn is e.grad_fn and r.tolist() == e.tolist()
    assert (x ** 2).grad_fn._saved_exponent == 2
    assert x.sum().grad_fn._saved_self_sym_sizes == (3,)
    with raises(AttributeError, "'MulBackward0' object has no attribute '_saved_foo'"):
        z.grad_fn._saved_foo
    z.sum().backward()
    with raises(RuntimeError, BACKWARD_TWICE):
        z.grad_fn._saved_self
    e.sum().backward()
    with raises(RuntimeError, BACKWARD_TWICE):
        e.grad_fn._saved_result


def test_next_functions(m):
    x = m.tensor([1., 2., 3.], requires_grad=True)
    c = m.ones(3)
    y = x * 3
    (acc, nr), (none, nr2) = y.grad_fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and nr == 0 and none is None and nr2 == 0
    assert re.fullmatch(r"<AccumulateGrad object at 0x[0-9a-f]+>", repr(acc))
    assert acc.variable is x and acc.next_functions == ()
    assert acc.name() == "torch::autograd::AccumulateGrad"
    assert isinstance(acc, m.autograd.graph.Node)
    # every use of the leaf shares one AccumulateGrad
    assert (x + 1).grad_fn.next_functions[0][0] is acc
    assert (x * c).grad_fn.next_functions == ((acc, 0), (None, 0))
    assert (c * x).grad_fn.next_functions == ((None, 0), (acc, 0))
    assert len(x.mean().grad_fn.next_functions) == 1
    assert len((x ** 2).grad_fn.next_functions) == 1
    assert len(x.sum().grad_fn.next_functions) == 1
    inner = x * 2
    assert (inner + x).grad_fn.next_functions == ((inner.grad_fn, 0), (acc, 0))


def test_next_functions_reciprocal(m):
    x = m.tensor([1., 2.], requires_grad=True)
    nf = (2 / x).grad_fn.next_functions
    assert type(nf[0][0]).__name__ == "ReciprocalBackward0" and nf[1] == (None, 0)


def test_next_functions_cat(m):
    x = m.tensor([1., 2.], requires_grad=True)
    try:
        y = m.cat([x, x * 2, m.ones(2)])
    except AttributeError:
        pytest.skip("cat not implemented yet")
    nf = y.grad_fn.next_functions
    assert len(nf) == 3 and nf[0][0].variable is x
    assert type(nf[1][0]).__name__ == "MulBackward0" and nf[2] == (None, 0)


def test_multi_output_nr(m):
    x = m.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    try:
        a, b = x.unbind()
    except AttributeError:
        pytest.skip("unbind not implemented yet")
    assert a.grad_fn is b.grad_fn and a.output_nr == 0 and b.output_nr == 1
    y = a * b
    assert y.grad_fn.next_functions == ((a.grad_fn, 0), (a.grad_fn, 1))


def test_chapter_graph(m):
    """The chapter's example graph (spec section 10)."""
    x1 = m.ones(2, 2, requires_grad=True)
    x2 = m.tensor(1.1, requires_grad=True)
    y = x1 * (x2 + 2)
    y.retain_grad()
    z = y.pow(2) * 3
    z.retain_grad()
    out = z.mean()
    def names(n):
        return tuple(None if e is None else type(e).__name__ for e, _ in n.next_functions)

    assert type(out.grad_fn).__name__ == "MeanBackward0"
    n1 = out.grad_fn.next_functions[0][0]
    assert names(out.grad_fn) == ("MulBackward0",) and names(n1) == ("PowBackward0", None)
    n2 = n1.next_functions[0][0]
    assert names(n2) == ("MulBackward0",)
    n3 = n2.next_functions[0][0]
    assert names(n3) == ("AccumulateGrad", "AddBackward0")
    assert n3.next_functions[0][0].variable is x1
    add = n3.next_functions[1][0]
    assert names(add) == ("AccumulateGrad", None) and add.next_functions[0][0].variable is x2
    out.backward()
    assert out.item() == pytest.approx(28.829998016357422, abs=0)
    assert y.grad[0, 0].item() == pytest.approx(4.649999618530273, abs=0)
    assert x2.grad.item() == pytest.approx(18.599998474121094, abs=0)
    assert x1.grad[0, 0].item() == pytest.approx(14.414998054504395, abs=0)
    assert z.grad[0, 0].item() == 0.25
    assert x2.grad.shape == ()
    assert not out.is_leaf and y.retains_grad and not x1.grad.requires_grad
