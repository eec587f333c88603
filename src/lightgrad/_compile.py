"""torch.compile. lightgrad runs compiled code eagerly for now: compile checks torch's
arguments and returns a wrapper (for a function) or an OptimizedModule (for an nn.Module),
and every call goes through the callable `_compiled` makes, where capture and replay will go."""
import functools

from .nn.modules.module import Module

__all__ = ["compile", "OptimizedModule"]

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


def _compiled(fn, config):
    """The callable that runs `fn` as compiled with `config` (compile's arguments): for now
    `fn` itself, eagerly."""
    @functools.wraps(fn)
    def compiled(*args, **kwargs):
        return fn(*args, **kwargs)
    return compiled


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
        self.forward = _compiled(self._orig_mod.__call__, self.dynamo_ctx)

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
