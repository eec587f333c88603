"""torch.utils.checkpoint: trade compute for memory by recomputing a forward in backward.

Inside `checkpoint(fn, *args)` the tensors that ops save for backward are not kept: the
non-reentrant variant (use_reentrant=False) packs each one into a small handle with
saved_tensors_hooks and, when backward first asks for one, reruns `fn` under the same RNG
state and hands back the recomputed values. The reentrant variant (use_reentrant=True) runs
`fn` under no_grad inside an autograd.Function whose backward reruns it and calls backward
on the recomputed graph.
"""
import warnings

from .. import _creation
from .._tensor import Tensor
from ..autograd import backward as _backward
from ..autograd.function import Function
from .._graph.grad_mode import enable_grad, no_grad
from .._graph.graph import saved_tensors_hooks

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction",
           "detach_variable", "check_backward_validity"]

_USE_REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
    "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
    "exception. use_reentrant=False is recommended, but if you need to preserve the current "
    "default behavior, you can pass use_reentrant=True. Refer to docs for more details on "
    "the differences between the two variants.")
_SEQ_USE_REENTRANT_WARNING = (
    "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be "
    "passed explicitly. In version 2.9 we will raise an exception if use_reentrant is not "
    "passed. use_reentrant=False is recommended, but if you need to preserve the current "
    "default behavior, you can pass use_reentrant=True. Refer to docs for more details on "
    "the differences between the two variants.")


class CheckpointError(RuntimeError):
    """Raised when the recomputed forward does not match the original one."""


def detach_variable(inputs):
    """Tensors of `inputs` detached, keeping requires_grad (new leaves for a recompute)."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for inp in inputs:
        if not isinstance(inp, Tensor):
            out.append(inp)
            continue
        x = inp.detach()
        x.requires_grad = inp.requires_grad
        out.append(x)
    return tuple(out)


def check_backward_validity(inputs):
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)


class _ForkRng:
    """Run a block under a given RNG state and restore the surrounding state afterwards."""

    def __init__(self, state):
        self.state = state

    def __enter__(self):
        if self.state is not None:
            self.outer = _creation.get_rng_state()
            _creation.set_rng_state(self.state)

    def __exit__(self, *exc):
        if self.state is not None:
            _creation.set_rng_state(self.outer)


# -- reentrant ---------------------------------------------------------------------------
class CheckpointFunction(Function):
    """The use_reentrant=True variant: forward under no_grad, recompute and backprop later."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.rng_state = _creation.get_rng_state() if preserve_rng_state else None
        ctx.inputs, ctx.tensor_indices, tensor_inputs = [], [], []
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor):
                tensor_inputs.append(arg)
                ctx.tensor_indices.append(i)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(arg)
        ctx.save_for_backward(*tensor_inputs)
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with _ForkRng(ctx.rng_state):
            detached = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outs, gs = [], []
        for o, g in zip(outputs, grads):
            if isinstance(o, Tensor) and o.requires_grad:
                outs.append(o)
                gs.append(g)
        if not outs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        _backward(outs, gs)
        return (None, None) + tuple(inp.grad if isinstance(inp, Tensor) else None
                                    for inp in detached)


# -- non-reentrant -----------------------------------------------------------------------
class _Frame:
    """One checkpointed call: what is needed to rerun it, and the recomputed saved values
    (by their order of saving), each dropped once backward has taken it."""

    def __init__(self, fn, args, kwargs, rng_state, context_fn):
        self.fn, self.args, self.kwargs, self.rng_state = fn, args, kwargs, rng_state
        self.context_fn = context_fn
        self.meta = []       # (shape, dtype) of each value saved in the original forward
        self.store = {}

    def pack(self, t):
        self.meta.append((t.shape, t.dtype))
        return (self, len(self.meta) - 1)

    def recompute(self):
        store, meta = {}, self.meta

        def pack(t):
            i = len(store)
            if i >= len(meta):
                raise CheckpointError(
                    "torch.utils.checkpoint: trying to save more tensors during recomputation "
                    "than during the original forward pass.")
            if (t.shape, t.dtype) != meta[i]:
                raise CheckpointError(
                    "torch.utils.checkpoint: Recomputed values for the following tensors have "
                    f"different metadata than during the forward pass.\ntensor at position {i}:"
                    f"\nsaved metadata: {{'shape': {meta[i][0]}, 'dtype': {meta[i][1]}}}\n"
                    f"recomputed metadata: {{'shape': {t.shape}, 'dtype': {t.dtype}}}\n")
            store[i] = t.detach()
            return None

        ctx = self.context_fn()[1] if self.context_fn is not None else _Null()
        with _ForkRng(self.rng_state), enable_grad(), saved_tensors_hooks(pack, _no_unpack), \
                ctx:
            self.fn(*self.args, **self.kwargs)
        if len(store) != len(meta):
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the "
                "original forward and recomputation.\n"
                f"Number of tensors saved during forward: {len(meta)}\n"
                f"Number of tensors saved during recomputation: {len(store)}.")
        self.store = store


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _no_unpack(_):
    raise CheckpointError("torch.utils.checkpoint: a tensor saved during recomputation was "
                          "unpacked")


def _unpack(handle):
    frame, i = handle
    t = frame.store.pop(i, None)
    if t is None:            # first use, or a second backward (retain_graph): rerun fn
        frame.recompute()
        t = frame.store.pop(i)
    return t


def checkpoint(function, *args, use_reentrant=None, context_fn=None,
               determinism_check="default", debug=False, early_stop=True, **kwargs):
    """`function(*args, **kwargs)` without keeping its intermediate values: backward
    recomputes them. Gradients are the same as without checkpointing; with
    preserve_rng_state=True (the default) random ops such as dropout draw the same values."""
    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT_WARNING, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not None or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    frame = _Frame(function, args, kwargs,
                   _creation.get_rng_state() if preserve else None, context_fn)
    forward_ctx = context_fn()[0] if context_fn is not None else _Null()
    with saved_tensors_hooks(frame.pack, _unpack), forward_ctx:
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run `functions` (a list or nn.Sequential) in `segments` chunks, checkpointing all
    chunks but the last."""
    if use_reentrant is None:
        warnings.warn(_SEQ_USE_REENTRANT_WARNING, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
