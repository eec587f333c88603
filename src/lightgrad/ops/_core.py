"""The op-declaration mechanism shared by every op family.

An op is a Python function over Tensors that
1. computes its result with one array call on `t._data` (NumPy today);
2. when grad mode is on and an input requires grad, attaches a node of the class made by
   `autograd.graph.node_class(name, rule, ...)`, recording via `record` (`view_of` for
   views, `record_multi` for ops with several outputs). `node_class` also takes an explicit
   forward-mode rule (`jvp=`); without one the JVP comes from the backward rule.

A rule has the signature `rule(ns, grad, meta, *saved) -> one gradient per input` and is
written once over the small namespace `ns`: NumPy arrays on the fast path (`NP`), lightgrad
Tensors under create_graph (`T`), so gradients of gradients work for every op. Rules use
Python operators (+ - * / ** @ unary -, comparisons) and `ns.<fn>` calls, never methods,
so the same code serves both. Un-broadcasting and casting back to an input's dtype happen
once, in the engine, for nodes recorded with `bcast=True`. The same rules also run on a
batch of gradients at once (namespace `B` in autograd/batched.py, for is_grads_batched and
vectorized Jacobians), and forward-mode AD derives each op's JVP from its rule
(autograd/forward_ad.py).

Each public op is declared once, with `defop` beside its function: its names, node
classes, Tensor methods / in-place / operator forms, its forward-mode and vmap rules (or
the shorthand `kind=ELEMENTWISE` for both) and its test samples. `publish` at the end of a
family file binds each op there to its public function and returns the family's
`__all__`; `DECLARED` lists them all, and the tests check that each one is sampled.
"""
import numpy as np

from .. import _dtype  # noqa: F401
from .._tensor import Tensor
from .._graph import forward_ad
from .._graph.graph import NP, T, Node, node_class  # noqa: F401
# the families' one import: recording, operands, in-place ops and views
from ._batched_tensor import dispatching, rule_of
from ._record import (RESULT, _save, binary_operands, emit, float_operand,  # noqa: F401
                      grad_on, new_node, normalize_dims, ns_def, record, record_multi,
                      scalar_arg, to_out, to_tensor, with_tangents, wrap)
from ._views import (check_inplace, inplace, inplace_method, rebase, view_of,  # noqa: F401
                     write_into)

# -- op declarations -----------------------------------------------------------------------
ELEMENTWISE = "elementwise"   # kind: each output element depends on the same input elements


class Sample:
    """One test input set of an op: one shape per tensor input, the range of the uniform
    random values (or a callable (shape, rng) -> array), and the extra arguments. The op
    tests call `op(*tensors, *args, **kwargs)` in lightgrad and in torch, with gradcheck,
    gradgradcheck, forward mode, batched backward and vmap.
    make_inputs: callable(rng) -> arrays, instead of shapes and domain;
    nondiff: positions of tensor inputs that take no gradient; grad / gradgrad: whether the
    op is differentiable (twice) at these inputs; np_ref: NumPy's answer, when it has one;
    pack: the tensors go in as one list (`cat([x, y], ...)`); method: the op is called as a
    method of the first tensor (`x.view_as(y)`); call: the call itself, `call(m, *tensors)`
    with m lightgrad or torch, where the tensors do not come first (`m.gather(x, 1, i)`) or
    the op is an operator (`x[i]`); atol / rtol: gradcheck's tolerances, torch_atol: the
    tolerance against torch's values; vmap_refused: why vmap refuses this call of an op it
    otherwise runs (a value-dependent shape, say); torch_forward_ad=False: torch computes no
    tangent here, so forward mode is checked against the reverse-mode Jacobian only;
    values=False: the values are arbitrary (random draws, empty_like), only shapes, dtypes
    and nodes are compared."""
    __slots__ = ("shapes", "domain", "args", "kwargs", "id", "grad", "gradgrad", "nondiff",
                 "make_inputs", "np_ref", "atol", "rtol", "torch_atol", "pack", "method",
                 "call", "vmap_refused", "torch_forward_ad", "values")

    def __init__(self, *shapes, domain=(-2.0, 2.0), args=(), kwargs=None, id="", grad=True,
                 gradgrad=None, nondiff=(), make_inputs=None, np_ref=None, atol=1e-5,
                 rtol=1e-3, torch_atol=1e-6, pack=False, method=False, call=None,
                 vmap_refused=None, torch_forward_ad=True, values=True):
        self.shapes, self.domain, self.args, self.kwargs = list(shapes), domain, args, \
            kwargs or {}
        self.pack, self.method, self.call = pack, method, call
        self.vmap_refused, self.torch_forward_ad = vmap_refused, torch_forward_ad
        self.values = values
        self.id, self.grad, self.gradgrad = id, grad, grad if gradgrad is None else gradgrad
        self.nondiff, self.make_inputs, self.np_ref = nondiff, make_inputs, np_ref
        self.atol, self.rtol, self.torch_atol = atol, rtol, torch_atol


def float_and(shape, *constants, domain=(-2.0, 2.0)):
    """A Sample's make_inputs: a random float input of `shape`, then constant arrays (the
    indices, masks, ... an op takes)."""
    def make(rng):
        return [rng.uniform(*domain, shape)] + [np.asarray(c) for c in constants]
    return make


class OpDecl:
    """Everything known about one public op (see `defop`)."""
    __slots__ = ("name", "fn", "module", "aliases", "nodes", "methods", "dunders", "kind",
                 "batch", "vmap_refused", "samples", "function", "public")

    def __repr__(self):
        return f"<op {self.name}>"

    def names(self):
        return (self.name,) + self.aliases


DECLARED = {}   # public name (and each alias) -> OpDecl


def _inplace_dunder(name):
    return name.startswith("__i") and name != "__invert__"


_NAMES = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
          "lshift", "rshift")
_BINARY_DUNDERS = {f"__{p}{n}__" for n in _NAMES for p in ("", "r", "i")} | {
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"}
# where torch's operator gives NotImplemented for an ndarray operand, so that `ndarray + t`
# raises NumPy's / Python's TypeError as with torch (rtruediv is reciprocal() * other there;
# the forward operators, `t + ndarray`, keep taking the array as a tensor: a deviation)
_REFUSES_NDARRAY = ({f"__r{n}__" for n in _NAMES} - {"__rtruediv__"}) | {
    "__ne__", "__lt__", "__le__", "__gt__", "__ge__"}


def _operator(f, dunder):
    """torch's binary-operator protocol: a TypeError from the op gives NotImplemented (so
    `t + "a"` is Python's "unsupported operand type(s)" error), and so does an ndarray on
    the left of a reflected operator or in a comparison, so `ndarray + t` raises NumPy's
    TypeError and `ndarray / t` runs NumPy's ufunc, as they do with torch."""
    if dunder in _REFUSES_NDARRAY:
        def op(self, other):
            if isinstance(other, np.ndarray):
                return NotImplemented
            try:
                return f(self, other)
            except TypeError:
                return NotImplemented
    else:                                   # the hot path (`a * b`): one call and a try
        def op(self, other):
            try:
                return f(self, other)
            except TypeError:
                return NotImplemented
    op.__name__ = op.__qualname__ = dunder
    op.__wrapped__ = f
    return op


def defop(fn=None, *, name=None, aliases=(), nodes=(), method=True, inplace=False,  # noqa: F811
          dunders=(), kind=None, batch=None, vmap_refused=None, samples=(), function=True):
    """Declare the public op `fn` (as a decorator, or called on a function made by a family
    helper); returns fn unchanged, so the call path stays the function itself.

    name / aliases: its public names (name defaults to fn.__name__): `lightgrad.<name>`, or
        in a submodule when qualified: "linalg.inv" (lightgrad.linalg), "F.mse_loss"
        (lightgrad.nn.functional); function=False: a Tensor method only, not a
        `lightgrad.<name>` function; nodes: the node classes it records
        (or their names, for classes made per call); method: also a Tensor method under each
        name (or a method function to use instead of fn); inplace: also `Tensor.<name>_`
        (True: the generic in-place variant, or a factory fn -> method for a faster or
        different one); dunders: Tensor
        operators that are this op: names (the op itself; `__i*__` the in-place method) or
        a {name: function} mapping for reflected forms.
    kind=ELEMENTWISE: forward mode applies the backward rule to the tangents (the Jacobian is
        diagonal) and vmap lines operands up on the same logical dims; `batch=` is another
        vmap rule (ops/_batching.py has the common ones, or write one beside the op), or
        `vmap_refused=` says why vmap cannot run it. One of kind, batch and vmap_refused is
        required.
    samples: the `Sample`s the op tests run."""
    if fn is None:
        return lambda f: defop(f, name=name, aliases=aliases, nodes=nodes, method=method,
                               inplace=inplace, dunders=dunders, kind=kind, batch=batch,
                               vmap_refused=vmap_refused, samples=samples, function=function)
    d = OpDecl()
    d.name, d.fn, d.module = name or fn.__name__, fn, fn.__module__
    d.aliases, d.nodes, d.kind = tuple(aliases), tuple(nodes), kind
    d.batch = batch if batch is not None else kind
    d.vmap_refused, d.samples, d.function = vmap_refused, tuple(samples), function
    if d.batch is None and vmap_refused is None:
        raise TypeError(f"defop({d.name}): give its vmap rule (kind= or batch=) or the reason "
                        "vmap refuses it (vmap_refused=)")
    for n in d.names():
        if n in DECLARED:
            raise ValueError(f"op {n} is declared twice")
        DECLARED[n] = d
    # the public function: fn, or the op's batching rule when vmap passes a batched argument
    d.public = dispatching(d.name, fn, rule_of(d)) if function else None
    if kind == ELEMENTWISE:
        for cls in d.nodes:
            if cls._jvp is None:
                cls._jvp = forward_ad.DIAGONAL
    d.methods = ()
    tensor_names = tuple(n for n in d.names() if "." not in n)
    if method:
        m = fn if method is True else method
        if getattr(d.batch, "every_level", False):   # a random op: a plain tensor's draw
            m = dispatching(d.name, m, rule_of(d))    # depends on the running vmaps too
        d.methods = tensor_names
        for n in d.methods:
            setattr(Tensor, n, m)
    if inplace:
        m = inplace_method(fn) if inplace is True else inplace(fn)
        for n in tensor_names:
            setattr(Tensor, n + "_", m)
        d.methods += tuple(n + "_" for n in tensor_names)
    items = dunders.items() if isinstance(dunders, dict) else [(n, None) for n in dunders]
    d.dunders = tuple(n for n, _ in items)
    for dunder, f in items:
        if f is None:
            f = getattr(Tensor, d.name + "_") if _inplace_dunder(dunder) else fn
        if dunder in _BINARY_DUNDERS:
            f = _operator(f, dunder)
        setattr(Tensor, dunder, f)
    return fn


def public_functions(submodule=""):
    """{name: public function} of the ops declared in lightgrad (submodule "") or in
    lightgrad.linalg ("linalg") / nn.functional ("F"); the package modules bind these."""
    prefix = submodule + "." if submodule else ""
    out = {}
    for n, d in DECLARED.items():
        if d.public is not None and n.startswith(prefix) and "." not in n[len(prefix):]:
            out[n[len(prefix):]] = d.public
    return out


def publish(namespace):
    """The `__all__` of the family module whose globals are `namespace`: every op declared
    there under an unqualified name. Each op declared there (aliases and qualified names
    too, "F.nll_loss" as nll_loss) is bound in the module to its public function, so code
    that imports an op from its family module, or calls it there, gets the one that
    dispatches under vmap (Tensor methods stay the op's function itself)."""
    mod = namespace["__name__"]
    names = []
    for n, d in DECLARED.items():
        if d.module == mod and d.function:
            namespace[n.rpartition(".")[2]] = d.public
            if "." not in n:
                names.append(n)
    return names
