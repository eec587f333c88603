"""torch.compile: compile checks torch's arguments and returns a wrapper (for a function)
or an OptimizedModule (for an nn.Module); every call goes through the callable `_compiled`
makes, which captures a call's NumPy kernels and replays them (lightgrad/_capture.py)."""
import functools
import warnings

import numpy as np

from . import _capture
from ._dtype import get_default_dtype
from ._graph import forward_ad
from ._graph.anomaly_mode import anomaly
from ._graph.grad_mode import state as _grad_state
from ._graph.graph import hook_stack
from ._pytree import tree_flatten
from ._tensor import Tensor
from .nn.modules.module import Module

__all__ = ["compile", "OptimizedModule", "CompileStats"]

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
# torch._dynamo.list_backends(exclude_tags=()) in torch 2.13, less its testing-only names
_BACKENDS = ("aot_eager", "aot_eager_decomp_partition", "aot_eager_decomp_partition_crossref",
             "aot_eager_decomp_partition_with_mode", "aot_eager_default_partitioner", "aot_ts",
             "cudagraphs", "dynamo_accuracy_minifier_backend", "dynamo_minifier_backend",
             "eager", "eager_debug", "eager_noexcept", "inductor", "invoke_subgraph",
             "openxla", "openxla_eval", "pre_dispatch_eager", "ts", "tvm")


class InvalidBackend(RuntimeError):
    """torch._dynamo.exc.InvalidBackend."""

    def __init__(self, name):
        super().__init__(f"Invalid backend: {name!r}, see `torch._dynamo.list_backends()` for "
                         "available backends.")


def _compiled(fn, config, module=None):
    """The callable that runs `fn` as compiled with `config` (compile's arguments): capture
    and replay (lightgrad/_capture.py) through a `_Runner`; its counters are the callable's
    `compile_stats`. `module` is the module compile() wrapped (it is called directly)."""
    runner = _Runner(fn, config, module)

    @functools.wraps(fn)
    def compiled(*args, **kwargs):
        return runner(args, kwargs)
    compiled.compile_stats = runner.stats
    return compiled


class CompileStats:
    """What a compiled callable did: calls run eagerly (warm-ups, refusals, fallbacks),
    captures, replays, guard failures, and the reasons it ran eagerly."""

    def __init__(self):
        self.eager = self.captures = self.replays = self.guard_failures = 0
        self.reasons = []

    def __repr__(self):
        return (f"CompileStats(eager={self.eager}, captures={self.captures}, "
                f"replays={self.replays}, guard_failures={self.guard_failures})")


class _Signature:
    """What is known about one input signature: its verified tapes, the capture waiting
    for its twin, and whether it is refused (runs eagerly)."""
    __slots__ = ("tapes", "pending", "refused")

    def __init__(self):
        self.tapes, self.pending, self.refused = [], None, False


class _Runner:
    """Calls of a compiled function. Per input signature: call 1 runs eagerly (a warm-up:
    optimizer state and grads get created), calls 2 and 3 capture (each runs eagerly while
    tracing; the two programs must be the same, constants included, so values that leak
    from data into the tape are caught), later calls replay. A replay whose guards fail
    runs eagerly and a new capture follows; after `recompile_limit` programs (8, torch's
    default) the function runs eagerly, with one warning."""

    def __init__(self, fn, config, module):
        self.fn, self.module = fn, module
        self.limit = config.get("recompile_limit") or 8
        self.sigs = {}
        self.programs = 0          # captures made (two per installed program)
        self.given_up = False
        self.stats = CompileStats()
        self.warned = False

    def __call__(self, args, kwargs):
        fn = self.fn
        if self.given_up or _capture._active() is not None:
            return self._eager(args, kwargs)    # (inside another capture: it traces this)
        key, leaves, why = _signature(args, kwargs, self.module)
        if why is not None:
            return self._eager(args, kwargs, why)
        sig = self.sigs.get(key)
        if sig is None:
            self.sigs[key] = _Signature()
            return self._eager(args, kwargs)     # warm-up
        for tape in sig.tapes:
            try:
                out = tape.run(leaves)
            except _capture.Stale:
                continue
            self.stats.replays += 1
            return out
        if sig.refused:
            return self._eager(args, kwargs)
        if sig.tapes:
            self.stats.guard_failures += 1
        if self.programs >= 2 * self.limit:
            self.given_up = True
            return self._eager(args, kwargs, f"recompile_limit ({self.limit}) reached")
        self.programs += 1
        self.stats.captures += 1
        result, tape, why = _capture.capture(fn, args, kwargs, leaves,
                                             () if self.module is None else (self.module,))
        if why is not None:
            sig.refused = True
            self._warn(why)
        elif sig.pending is None:
            sig.pending = tape
        else:
            same = sig.pending.same_as(tape)
            if same is True:
                sig.tapes.append(sig.pending)
                sig.pending = None
            elif same == "values":
                sig.refused = True
                self._warn("values computed from data reach the tape as constants (a "
                           "conversion to Python or NumPy it does not trace)")
            else:
                sig.pending = tape          # state still settling: compare the next one
        return result

    def _eager(self, args, kwargs, why=None):
        self.stats.eager += 1
        if why is not None:
            self._warn(why)
        return self.fn(*args, **kwargs)

    def _warn(self, why):
        self.stats.reasons.append(why)
        if not self.warned:
            self.warned = True
            name = getattr(self.fn, "__qualname__", None) or type(self.fn).__name__
            warnings.warn(f"lightgrad.compile: {name} runs eagerly: {why}", UserWarning,
                          stacklevel=4)


def _signature(args, kwargs, module):
    """(key, flat leaves, None), or (None, None, reason) when a call cannot be captured."""
    if kwargs or not all(type(a) is Tensor or isinstance(a, Tensor) for a in args):
        leaves, spec = tree_flatten((args, kwargs))
        head = [str(spec)]
    else:
        leaves, head = args, []
    if hook_stack:
        return None, None, "saved_tensors_hooks are active"
    if anomaly[0]:
        return None, None, "anomaly mode is on"
    if forward_ad.active[0]:
        return None, None, "a forward-AD level is open"
    key = head + [_grad_state.grad_enabled, _grad_state.inference, get_default_dtype()]
    for x in leaves:
        if isinstance(x, Tensor):
            d = x._data
            if type(d) is not np.ndarray:
                return None, None, f"an input holds a {type(d).__name__}"
            if x.grad_fn is not None and x._rg:
                return None, None, "an input is a non-leaf tensor that requires grad"
            key.append((type(x), d.shape, d.dtype, d.strides, x._rg, x._grad is None))
        else:
            try:
                hash(x)
            except TypeError:
                return None, None, f"an argument of type {type(x).__name__} is not hashable"
            if isinstance(x, np.ndarray):
                return None, None, "a NumPy array argument"
            key.append((type(x), x))
    return tuple(key), list(leaves), None


class OptimizedModule(Module):
    """torch's wrapper of a compiled module: holds it as `_orig_mod` (so state_dict keys start
    with `_orig_mod.`), calls it through the compiled forward, and reads and writes every other
    attribute on it."""

    _opt_mod_attributes = {"_orig_mod", "dynamo_ctx", "_torchdynamo_orig_callable",
                           "_torchdynamo_wrapper_id", "get_compiler_config", "forward",
                           "_forward", "__dict__", "named_children_walk",
                           "_super_module_initialized"}

    def __init__(self, mod, dynamo_ctx):
        # first, as torch: Module.__init__ sets `training`, which this class reads from mod
        object.__setattr__(self, "_orig_mod", mod)
        self._super_module_initialized = False
        super().__init__()
        self._super_module_initialized = True
        self._orig_mod = mod                    # now a child module
        self.dynamo_ctx = dynamo_ctx
        self._initialize()

    def _initialize(self):
        self.forward = _compiled(self._orig_mod.__call__, self.dynamo_ctx, self._orig_mod)

    def __len__(self):
        if hasattr(type(self._orig_mod), "__len__"):
            return len(self._orig_mod)
        raise TypeError(f"{type(self._orig_mod).__name__} does not support len()")

    def __reduce__(self):
        return (self.__class__, (self._orig_mod, self.dynamo_ctx))

    @property
    def training(self):
        return self._orig_mod.training

    @training.setter
    def training(self, value):
        # Module.__init__ sets the default; afterwards the mode is the wrapped module's
        if self._super_module_initialized:
            self._orig_mod.training = value

    def __getattr__(self, name):
        if name == "_orig_mod":
            return self._modules["_orig_mod"]
        return getattr(self._orig_mod, name)

    def __setattr__(self, name, value):
        if hasattr(type(self), name) or name in OptimizedModule._opt_mod_attributes:
            return super().__setattr__(name, value)
        return setattr(self._orig_mod, name, value)

    def __delattr__(self, name):
        if hasattr(type(self), name) or name in OptimizedModule._opt_mod_attributes:
            return super().__delattr__(name)
        return delattr(self._orig_mod, name)

    def __dir__(self):
        orig_mod_attrs = self._orig_mod.__dir__()
        return orig_mod_attrs + [a for a in super().__dir__() if a not in orig_mod_attrs]


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None,
            name=None, disable=False, recompile_limit=None, isolate_recompiles=False,
            shapes_spec=None):
    """torch.compile: `compile(fn)`, `compile(module)`, `@compile`, `@compile(mode=...)`."""
    config = dict(fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                  options=options, name=name, disable=disable, recompile_limit=recompile_limit,
                  isolate_recompiles=isolate_recompiles, shapes_spec=shapes_spec)
    if model is None:                           # @compile(...)
        def fn(model):
            if model is None:
                raise RuntimeError("Model can't be None")
            return compile(model, **config)
        return fn
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    backend = "inductor" if backend is None else backend
    if backend == "inductor" and mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if isinstance(backend, str) and backend not in _BACKENDS:
        raise InvalidBackend(backend)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if disable:
        return model
    config["backend"] = backend
    if isinstance(model, Module):
        return OptimizedModule(model, config)
    return _compiled(model, config)
