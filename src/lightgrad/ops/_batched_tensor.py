"""Batched tensors and the dispatch of an op on them: vmap's mechanism, in the ops layer,
so that a declared op sees a batched argument where it is applied (as HIPS autograd sees a
box), whoever calls it and from whichever reference.

A BatchedTensor wraps a *physical* tensor holding a whole batch in dim 0 and shows the rest
as its *logical* shape (one example); `_lvl` is its vmap nesting level. An op called with a
batched argument goes to its batching rule (ops/_batching.py: the protocol and the common
rules), which rewrites the call onto the physical tensors; nested vmaps nest BatchedTensors,
and each dispatch peels one level. The public function of a declared op is `dispatching`'s
wrapper; Tensor methods and operators stay the plain functions, and BatchedTensor overrides
them all. An op without a rule that reaches into a BatchedTensor fails with an error naming
the problem, never computing on the batch as if it were one example.
"""
import functools

import numpy as np

from .._tensor import Size, Tensor
from ._batching import elementwise, inplace_elementwise, refused

# the open vmap levels: how many, and each level's randomness mode and batch size
state = {"depth": 0, "randomness": [], "sizes": []}


def _error(msg):
    return RuntimeError(f"vmap: {msg}")


def randomness_of(lvl):
    """The randomness mode of vmap level `lvl`: "same" or "different"; "error" (the default)
    refuses a random op."""
    mode = state["randomness"][lvl]
    if mode == "error":
        raise _error("called random operation while in randomness error mode. Please either "
                     "use the 'same' or 'different' randomness flags on vmap or perform the "
                     "randomness operation out of vmap")
    return mode


def per_example_draw(draw, shape):
    """`draw(shape)` (a Tensor of random values) as each running vmap level asks: a level with
    randomness="different" adds its batch dim in front (one draw per example), "same" shares
    one draw, "error" refuses. Outside vmap, the draw itself."""
    levels = [lvl for lvl in range(state["depth"]) if randomness_of(lvl) == "different"]
    t = draw(tuple(state["sizes"][lvl] for lvl in levels) + tuple(shape))
    for lvl in levels:            # outermost first: the innermost level wraps last
        t = _wrap(t, lvl)
    return t


class BatchedTensor(Tensor):
    """One vmap level's view of a batch: `_p` holds the batch in dim 0, `_lvl` is the
    nesting level. Tensor's fields are unset, so an op without a batching rule that reaches
    into one fails (see __getattr__) instead of computing on the whole batch."""
    __slots__ = ("_p", "_lvl")

    def __getattr__(self, name):
        if name.startswith("_"):
            raise _error("an operation without a batching rule received a batched tensor "
                         f"(it reached for the tensor's {name}). Call ops as lightgrad.<op> "
                         "or as methods, or move the op out of vmap.")
        raise AttributeError(f"'BatchedTensor' object has no attribute '{name}'")

    # -- the logical view --------------------------------------------------------------
    @property
    def shape(self):
        return Size(tuple(self._p.shape)[1:])

    def size(self, dim=None):
        s = self.shape
        return s if dim is None else s[dim]

    def dim(self):
        return len(self._p.shape) - 1

    ndim = property(dim)
    dtype = property(lambda self: self._p.dtype)
    device = property(lambda self: self._p.device)
    requires_grad = property(lambda self: self._p.requires_grad)
    grad_fn = property(lambda self: None)
    is_leaf = property(lambda self: True)
    T = property(lambda self: self.permute(*range(self.dim() - 1, -1, -1)))
    mT = property(lambda self: self.transpose(-2, -1))

    def numel(self):
        return int(np.prod(self.shape, dtype=np.int64))

    nelement = numel

    def __len__(self):
        if self.dim() == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def is_floating_point(self):
        return self._p.is_floating_point()

    def is_complex(self):
        return self._p.is_complex()

    # tensor-core methods (not ops): the same on the whole batch
    def detach(self):
        return _wrap(self._p.detach(), self._lvl)

    def cuda(self, *args, **kwargs):
        return _wrap(self._p.cuda(*args, **kwargs), self._lvl)

    def __repr__(self):
        return f"BatchedTensor(lvl={self._lvl}, bdim=0, value=\n{self._p!r}\n)"

    __str__ = __repr__

    def __bool__(self):
        raise _error("It looks like you're attempting to use a Tensor in some data-dependent "
                     "control flow. We don't support that yet, please file an issue at "
                     "https://github.com/pytorch/pytorch/issues .")

    __int__ = __float__ = __index__ = __bool__

    def item(self):
        raise _error("It looks like you're calling .item() on a Tensor. We don't support vmap "
                     "over calling .item() on a Tensor, please try to rewrite what you're "
                     "doing with other operations. If error is occurring somewhere inside "
                     "PyTorch internals, please file a bug report.")

    tolist = numpy = item

    def __iter__(self):
        return iter(self.unbind(0))


def _wrap(p, lvl):
    b = object.__new__(BatchedTensor)
    b._p, b._lvl = p, lvl
    return b


def _level_of(x):
    if type(x) is BatchedTensor:
        return x._lvl
    if isinstance(x, (list, tuple)):
        return max((_level_of(y) for y in x), default=-1)
    return -1


def _batch(x, lvl):
    return type(x) is BatchedTensor and x._lvl == lvl


# -- dispatch ------------------------------------------------------------------------------
RULES = {}      # op name (methods bare, "F.x" for nn.functional, "linalg.x") -> rule


def _dispatch(name, fn, args, kwargs, rule=None, below=None):
    """Run op `name` (callable `fn` on unbatched tensors) on args that may be batched, with
    its batching rule (`rule`, or the one registered under its name), at the innermost level
    below `below` that batches an argument. A random op's rule (`every_level`) runs at every
    level, batched argument or not: each level's randomness decides the draw."""
    if getattr(rule, "every_level", False):
        lvl = (state["depth"] if below is None else below) - 1
    else:
        lvl = max(_level_of(args), _level_of(tuple(kwargs.values())))
    if lvl < 0:
        return fn(*args, **kwargs)
    if rule is None:
        rule = RULES.get(name)
        if rule is None:
            shown = name if "." in name else f"lightgrad.{name} / Tensor.{name}"
            raise _error(f"there is no batching rule for {shown}, so it cannot run inside "
                         "vmap yet; compute it outside vmap, or loop over the batch.")
    # the rule calls `op` on physical tensors; they may still be batched at outer levels
    return rule(_Call(name, fn, lvl, rule), args, kwargs)


def dispatching(name, fn, rule):
    """The public function of a declared op: `fn` itself unless a vmap is running and an
    argument is batched, then `rule`. Thread-safe: nothing is swapped, and a call from
    another thread with plain tensors only pays the check."""
    def op(*args, **kwargs):
        if state["depth"]:
            return _dispatch(name, fn, args, kwargs, rule)
        return fn(*args, **kwargs)
    functools.update_wrapper(op, fn)
    op._dispatches = True
    return op


def rule_of(d):
    """The batching rule of the declared op `d` (see defop's kind / batch / vmap_refused)."""
    if d.vmap_refused is not None:
        return refused(d.vmap_refused)
    return elementwise if d.batch == "elementwise" else d.batch


class _Call:
    """What a rule needs: the op (callable on physical args), its name and the level."""
    __slots__ = ("name", "op", "lvl", "rule")

    def __init__(self, name, op, lvl, rule):
        self.name, self.op, self.lvl, self.rule = name, op, lvl, rule

    def __call__(self, *args, **kwargs):
        return _dispatch(self.name, self.op, args, kwargs, self.rule, self.lvl)

    def batched(self, x):
        return _batch(x, self.lvl)

    def wrap(self, out):
        """Results of the op on physical tensors, as this level's BatchedTensors."""
        if isinstance(out, Tensor):
            return _wrap(out, self.lvl)
        if isinstance(out, tuple):
            items = [self.wrap(o) for o in out]
            return type(out)(items) if type(out) is not tuple else tuple(items)
        if isinstance(out, list):
            return [self.wrap(o) for o in out]
        return out

    def size(self, *xs):
        for x in xs:
            if self.batched(x):
                return x._p.shape[0]
            if isinstance(x, (list, tuple)):
                n = self.size(*x)
                if n is not None:
                    return n
        return None


def _method(name, fn=None):
    """BatchedTensor.<name>: Tensor.<name> run through the op's rule; `fn` is the Tensor
    method itself where that dispatches too (a random op's), so the rule's innermost call
    does not dispatch again."""
    fn = fn or _call_method(name)

    def method(self, *args, **kwargs):
        return _dispatch(name, fn, (self,) + args, kwargs)
    method.__name__ = name
    return method


@functools.lru_cache(maxsize=None)
def _call_method(name):
    return lambda self, /, *a, **k: getattr(self, name)(*a, **k)


def _refused(name):
    def method(self, *args, **kwargs):
        raise _error(f"there is no batching rule for Tensor.{name}, so it cannot run inside "
                     "vmap yet; compute it outside vmap, or loop over the batch.")
    method.__name__ = name
    return method


def setup_methods(declared):
    """The rules of the declared ops by name (their in-place elementwise forms write into
    the physical tensor), and BatchedTensor's methods: a dispatching one for every Tensor
    method with a rule, a refusing one for every other public Tensor method."""
    for name, d in declared.items():
        RULES[name] = rule_of(d)
        if d.batch == "elementwise" and d.vmap_refused is None and name + "_" in d.methods:
            RULES[name + "_"] = inplace_elementwise
    own = set(vars(BatchedTensor))
    for name in dir(Tensor):
        if name.startswith("_") or name in own:
            continue
        attr = getattr(Tensor, name, None)
        if not callable(attr) or isinstance(attr, type):
            continue
        if name not in RULES:
            setattr(BatchedTensor, name, _refused(name))
        else:
            setattr(BatchedTensor, name, _method(name, getattr(attr, "__wrapped__", None)
                                                 if getattr(attr, "_dispatches", False) else None))
    for d in set(declared.values()):
        for dunder in d.dunders:
            setattr(BatchedTensor, dunder, _declared_operator(d.name, dunder))
    BatchedTensor.__hash__ = object.__hash__


def _declared_operator(name, dunder):
    """BatchedTensor's `dunder` of the declared op `name`: Tensor's own operator, run through
    the op's rule (an in-place operator through the rule of `name_`)."""
    fn = getattr(Tensor, dunder)
    rule_name = name + "_" if dunder.startswith("__i") and dunder != "__invert__" else name

    def method(self, *args):
        return _dispatch(rule_name, fn, (self,) + args, {})
    method.__name__ = dunder
    return method


# -- autograd inside vmap (per-example gradients; autograd.grad uses these) ---------------
def active():
    return state["depth"] > 0


def batch_of(values):
    """(level, size) of the innermost vmap level among `values` (pytree leaves), or None."""
    best = None
    for v in values:
        if type(v) is BatchedTensor and (best is None or v._lvl > best[0]):
            best = (v._lvl, v._p.shape[0])
    return best


def batched_like(t, batch):
    """t as a BatchedTensor of `batch` = (level, size): as it is if batched at that level,
    otherwise repeated for every example (so each example gets its own gradient)."""
    lvl, n = batch
    if _batch(t, lvl):
        return t
    return _wrap(t.unsqueeze(0).expand((n,) + tuple(t.shape)), lvl)
