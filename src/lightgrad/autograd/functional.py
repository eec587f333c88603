"""torch.autograd.functional: Jacobians, Hessians and vector products of whole functions.

Every function here takes `func` and its `inputs` (a Tensor or a tuple of Tensors) and
answers in the same shape: a single Tensor where the inputs (or outputs) were one, a tuple
where they were a tuple. They are built on `autograd.grad` only; forward-mode products
(`jvp`, `hvp`) use the double-backward trick, since the backward of a backward is linear in
the incoming gradient.

>>> import lightgrad as torch
>>> from lightgrad.autograd.functional import jacobian
>>> jacobian(lambda x: x ** 2, torch.tensor([1., 2.]))
tensor([[2., 0.],
        [0., 4.]])
"""
import numpy as np

import lightgrad as _lg   # partly loaded here (autograd loads with the Tensor); used at call time

from .._graph import grad_mode
from .._graph.forward_ad import tangent_of

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# -- helpers -----------------------------------------------------------------------------

def _tupled(value, what, fn_name):
    """(was_tuple, tuple of Tensors), with torch's error for anything else."""
    was_tuple = isinstance(value, tuple)
    items = value if was_tuple else (value,)
    for i, el in enumerate(items):
        if not isinstance(el, _lg.Tensor):
            where = f"value at index {i}" if was_tuple else f"given {what}"
            raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but the {where} has type {type(el)}.")
    return was_tuple, items


def _untuple(res, was_tuple):
    return res if was_tuple else res[0]


def _untuple2(res, outer_tuple, inner_tuple):
    """Undo two levels of tupling: res[i][j] is for output i and input j."""
    if not inner_tuple:
        res = tuple(row[0] for row in res)
    return res if outer_tuple else res[0]


def _fresh_inputs(inputs, create_graph, requires_grad):
    """New Tensor objects for the inputs, so that the ones func closes over are not confused
    with the ones we differentiate; they stay tied to the caller's graph with create_graph."""
    if create_graph:
        return tuple(t.view_as(t) if t.requires_grad else
                     t.view_as(t).requires_grad_(requires_grad) if tangent_of(t) is not None
                     else t.detach().requires_grad_(requires_grad) for t in inputs)
    return tuple(t.detach().requires_grad_(requires_grad) for t in inputs)


def _detached(tensors, create_graph):
    return tensors if create_graph else tuple(t.detach() for t in tensors)


def _check_v(v, ref, ref_was_tuple):
    if len(v) != len(ref):
        if ref_was_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(ref)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, ref)):
        if a.shape != b.shape:
            where = f"Entry {i} in " if ref_was_tuple else ""
            raise RuntimeError(f"{where}v has invalid size: should be {b.size()} but got "
                               f"{a.size()}.")


def _prepare_v(v, ref, ref_was_tuple, create_graph, fn_name, none_msg):
    if v is None:
        if len(ref) != 1 or ref[0].nelement() != 1:
            raise RuntimeError(none_msg)
        return None
    _, v = _tupled(v, "v", fn_name)
    v = _fresh_inputs(v, create_graph, False)
    _check_v(v, ref, ref_was_tuple)
    return v


_V_NONE_INPUT = ("The vector v can only be None if the input to the user-provided function "
                 "is a single Tensor with a single element.")


_STRICT_NO_GRAD = {
    "hessian": ("The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should "
                "ensure that your function is thrice differentiable and that the hessian "
                "depends on the inputs."),
    "jacobian": ("While computing the hessian, found that the jacobian of the user-provided "
                 "function with respect to input {i} is independent of the input. This is not "
                 "allowed in strict mode. You should ensure that your function is twice "
                 "differentiable and that the jacobian depends on the inputs (this would be "
                 "violated by a linear function for example)."),
    "grad_inputs": ("The gradient with respect to input {i} is independent of the inputs of "
                    "the user-provided function. This is not allowed in strict mode."),
    "outputs": ("Output {i} of the user-provided function does not require gradients. The "
                "outputs must be computed in a differentiable manner from the input when "
                "running in strict mode."),
}


def _strict_check(tensors, kind, strict):
    """In strict mode, every tensor must exist and carry a graph."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_STRICT_NO_GRAD[kind].format(i=i))


def _grad_or_none(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that carry a graph; None for inputs not reached."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs or (None,) * len(outputs))
             if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs = tuple(o for o, _ in pairs)
    gos = tuple(g for _, g in pairs)
    return _lg.autograd.grad(outs, inputs, gos, retain_graph=retain_graph,
                             create_graph=create_graph, allow_unused=True)


_MISSING_MSG = {
    "back": ("The output of the user-provided function is independent of input {i}. This is "
             "not allowed in strict mode."),
    "back_trick": ("The gradient with respect to the input is independent of entry {i} in the "
                   "grad_outputs when using the double backward trick to compute forward mode "
                   "gradients. This is not allowed in strict mode."),
    "double_back": ("The jacobian of the user-provided function is independent of input {i}. "
                    "This is not allowed in strict mode."),
    "double_back_trick": ("The hessian of the user-provided function is independent of entry "
                          "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                          "prevents from using the double backward trick to replace forward "
                          "mode AD."),
}


def _zeros_for_missing(grads, refs, strict, create_graph, stage):
    """Replace None gradients by zeros shaped like refs, or raise in strict mode."""
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_MISSING_MSG[stage].format(i=i))
            g = _lg.zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if stage.startswith("double") else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        res.append(g)
    return tuple(res)


def _grad_mode_for(create_graph):
    return grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled())


# -- vector products ---------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """Return (func(*inputs), v^T J): the vector-Jacobian product at `inputs`.

    >>> vjp(lambda x: 2 * x, torch.ones(2), torch.tensor([1., 3.]))[1]
    tensor([2., 6.])
    """
    with grad_mode.enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "vjp")
        inputs = _fresh_inputs(inputs, create_graph, True)
        out_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function",
                                     "vjp")
        _strict_check(outputs, "outputs", strict)
        v = _prepare_v(v, outputs, out_tuple, create_graph, "vjp",
                       "The vector v can only be None if the user-provided function returns a "
                       "single Tensor with a single element.")
    with _grad_mode_for(create_graph):
        grads = _grad_or_none(outputs, inputs, v, create_graph=create_graph)
        grads = _zeros_for_missing(grads, inputs, strict, create_graph, "back")
    return (_untuple(_detached(outputs, create_graph), out_tuple),
            _untuple(_detached(grads, create_graph), in_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """Return (func(*inputs), J v): the Jacobian-vector product at `inputs`.

    Computed with two backward passes: u -> J^T u is linear in u, so differentiating it
    with respect to u, against v, gives J v.

    >>> jvp(lambda x: x ** 2, torch.tensor([1., 2.]), torch.ones(2))[1]
    tensor([2., 4.])
    """
    with grad_mode.enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "jvp")
        inputs = _fresh_inputs(inputs, create_graph, True)
        v = _prepare_v(v, inputs, in_tuple, create_graph, "jvp", _V_NONE_INPUT)
        out_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function",
                                     "jvp")
        _strict_check(outputs, "outputs", strict)
        # NOTE: the dummy u only needs to be finite: the first backward is linear in it
        dummies = tuple(_lg.zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _grad_or_none(outputs, inputs, dummies, create_graph=True)
        _strict_check(grad_inputs, "grad_inputs", strict)
    with _grad_mode_for(create_graph):
        res = _grad_or_none(grad_inputs, dummies, v, create_graph=create_graph)
        res = _zeros_for_missing(res, outputs, strict, create_graph, "back_trick")
    return (_untuple(_detached(outputs, create_graph), out_tuple),
            _untuple(_detached(res, create_graph), out_tuple))


def _scalar_function_output(func, inputs, fn_name, strict):
    out_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function",
                                 fn_name)
    _strict_check(outputs, "outputs", strict)
    if out_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")
    return outputs


def _gradient_graph(func, inputs, v, create_graph, strict, fn_name):
    """vhp/hvp's common start, run with grad enabled: checked inputs and v, the scalar
    output, and its gradient with a graph (so it can be differentiated again)."""
    in_tuple, inputs = _tupled(inputs, "inputs", fn_name)
    inputs = _fresh_inputs(inputs, create_graph, True)
    v = _prepare_v(v, inputs, in_tuple, create_graph, fn_name, _V_NONE_INPUT)
    outputs = _scalar_function_output(func, inputs, fn_name, strict)
    jac = _grad_or_none(outputs, inputs, create_graph=True)
    _strict_check(jac, "jacobian", strict)
    return in_tuple, inputs, v, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """Return (func(*inputs), v^T H) for a scalar function, H its Hessian at `inputs`."""
    with grad_mode.enable_grad():
        in_tuple, inputs, v, outputs, jac = _gradient_graph(func, inputs, v, create_graph,
                                                            strict, "vhp")
    with _grad_mode_for(create_graph):
        res = _grad_or_none(jac, inputs, v, create_graph=create_graph)
        res = _zeros_for_missing(res, inputs, strict, create_graph, "double_back")
    return (_detached(outputs, create_graph)[0],
            _untuple(_detached(res, create_graph), in_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """Return (func(*inputs), H v) for a scalar function, by the double-backward trick.

    For a twice-differentiable function H is symmetric and this equals `vhp`; it costs one
    more backward pass.
    """
    with grad_mode.enable_grad():
        in_tuple, inputs, v, outputs, jac = _gradient_graph(func, inputs, v, create_graph,
                                                            strict, "hvp")
        dummies = tuple(_lg.zeros_like(t, requires_grad=True) for t in inputs)
        double_back = _grad_or_none(jac, inputs, dummies, create_graph=True)
        # as torch: this re-checks the Jacobian (its message speaks of the Hessian)
        _strict_check(jac, "hessian", strict)
    with _grad_mode_for(create_graph):
        res = _grad_or_none(double_back, dummies, v, create_graph=create_graph)
        res = _zeros_for_missing(res, inputs, strict, create_graph, "double_back_trick")
    return (_detached(outputs, create_graph)[0],
            _untuple(_detached(res, create_graph), in_tuple))


# -- Jacobian and Hessian ----------------------------------------------------------------

def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of `func` at `inputs`; entry [i][j] has shape outputs[i].shape +
    inputs[j].shape (a single Tensor where func takes and returns single Tensors).

    `vectorize=True` computes all rows for an output in one batched backward pass
    (autograd.grad with is_grads_batched); with create_graph=True the rows still take one
    pass each. `vectorize=False` takes one backward pass per output element, as torch does.

    >>> jacobian(lambda x, y: x * y, (torch.tensor([1., 2.]), torch.tensor([3., 4.])))[1]
    tensor([[1., 0.],
            [0., 2.]])
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, '
                             '"forward-mode" tends to be more performant. Otherwise, prefer to '
                             'use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either '
                'set `create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either '
                'set `strict=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or "
                                      "forward-over-reverse Hessian isonly implemented for "
                                      "`vectorize=True`.")
        return _forward_jacobian(func, inputs)
    with grad_mode.enable_grad():
        in_tuple, inputs = _tupled(inputs, "inputs", "jacobian")
        inputs = _fresh_inputs(inputs, create_graph, True)
        out_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function",
                                     "jacobian")
        _strict_check(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                               "`vectorized=True` are not supported together. Please either "
                               "set `strict=False` or `vectorize=False`.")
        rows = []
        for i, out in enumerate(outputs):
            if vectorize and not create_graph:
                rows.append(batched_jacobian(out, inputs))
            else:
                rows.append(_jacobian_rows(out, i, inputs, create_graph, strict))
    rows = tuple(_detached(r, create_graph) for r in rows)
    return _untuple2(rows, out_tuple, in_tuple)


def _forward_jacobian(func, inputs):
    """jacobian(strategy="forward-mode"): one forward pass with a batch of basis tangents."""
    in_tuple, inputs = _tupled(inputs, "inputs", "jacobian")
    out_tuple = []

    def tupled(*xs):
        is_tuple, outs = _tupled(func(*xs), "outputs of the user-provided function",
                                 "jacobian")
        out_tuple.append(is_tuple)
        return outs
    rows = _lg.func.jacfwd(tupled, argnums=tuple(range(len(inputs))))(*inputs)
    jac = _untuple2(tuple(rows), out_tuple[0], in_tuple)
    if in_tuple:        # torch's forward-mode jacobian nests lists when inputs is a tuple
        jac = [list(r) for r in jac] if out_tuple[0] else list(jac)
    return jac


def batched_jacobian(out, inputs, chunk_size=None):
    """d out / d inputs[j] for every j, shaped out.shape + inputs[j].shape, in one batched
    backward pass whose upstream gradients are the rows of the identity (or one pass per
    `chunk_size` rows); zeros for inputs out does not depend on."""
    n = out.nelement()
    shapes = [tuple(out.shape) + tuple(x.shape) for x in inputs]
    if n == 0 or not out.requires_grad:
        return tuple(x.new_zeros(s) for x, s in zip(inputs, shapes))
    eye = np.eye(n, dtype=out._data.dtype)
    chunks = []
    for start in range(0, n, chunk_size or n):
        rows = _lg.tensor(eye[start:start + (chunk_size or n)].reshape((-1,) + out._data.shape))
        chunks.append(_lg.autograd.grad((out,), inputs, (rows,), retain_graph=True,
                                        allow_unused=True, is_grads_batched=True,
                                        materialize_grads=True))
    per_input = [c[0] if len(chunks) == 1 else _lg.cat(c) for c in zip(*chunks)]
    return tuple(g.reshape(s) for g, s in zip(per_input, shapes))


def _jacobian_rows(out, i, inputs, create_graph, strict):
    """d out / d inputs[j] for every j, one backward pass per element of out."""
    flat = out.reshape(-1)
    per_input = [[] for _ in inputs]
    for k in range(out.nelement()):
        grads = _grad_or_none((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
        for j, g in enumerate(grads):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is "
                                       f"independent of input {j}. This is not allowed in "
                                       "strict mode.")
                g = _lg.zeros_like(inputs[j])
            elif strict and create_graph and not g.requires_grad:
                # torch's message names the output index here
                raise RuntimeError(f"The jacobian of the user-provided function is "
                                   f"independent of input {i}. This is not allowed in strict "
                                   "mode when create_graph=True.")
            per_input[j].append(g)
    res = []
    for j, gs in enumerate(per_input):
        if gs:
            res.append(_lg.stack(gs).reshape(tuple(out.shape) + tuple(inputs[j].shape)))
        else:   # an empty output: an empty Jacobian
            res.append(inputs[j].new_zeros(tuple(out.shape) + tuple(inputs[j].shape)))
    return tuple(res)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function at `inputs`: the Jacobian of its gradient; entry
    [i][j] has shape inputs[i].shape + inputs[j].shape.

    >>> hessian(lambda x: (x ** 3).sum(), torch.tensor([1., 2.]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    in_tuple, inputs = _tupled(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*inp):
        return _scalar_function_output(func, inp, "hessian", strict)[0].squeeze()

    def gradient(*inp):
        jac = jacobian(single_output, inp, create_graph=True)
        _strict_check(jac, "jacobian", strict)
        return jac

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _untuple2(res, in_tuple, in_tuple)
