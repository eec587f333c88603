"""gradcheck and gradgradcheck: analytical Jacobians against central differences."""
import warnings

import numpy as np

from .._tensor import Tensor, _make
from ..ops.random import rand

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs):
    return tuple(o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor))


def _flat_outputs(func, inputs):
    return [o._data.astype(np.complex128 if o._data.dtype.kind == "c" else np.float64)
            .reshape(-1) for o in _outputs(func, inputs)]


def _numerical_jacobian(func, inputs, i, eps):
    """d(outputs)/d(inputs[i]) by central differences, one column per input element."""
    x = inputs[i]
    data = x._data              # perturbed in place, element by element (any memory layout)
    cols = []
    # grad mode stays on: gradgradcheck's func calls autograd.grad inside
    for idx in np.ndindex(data.shape):
        orig = data[idx].item()
        data[idx] = orig + eps
        plus = _flat_outputs(func, inputs)
        data[idx] = orig - eps
        minus = _flat_outputs(func, inputs)
        data[idx] = orig
        cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_out = len(cols[0]) if cols else len(_outputs(func, inputs))
    return [np.stack([c[j] for c in cols], axis=0) if cols else
            np.zeros((0, _outputs(func, inputs)[j]._data.size)) for j in range(n_out)]


def _analytical_jacobian(outputs, inputs, diff_idx):
    """Rows by backward passes with one-hot output gradients: J[i][j] of shape
    (numel(input i), numel(output j))."""
    from . import grad as _grad
    jac = {(i, j): np.zeros((inputs[i]._data.size, o._data.size))
           for i in diff_idx for j, o in enumerate(outputs)}
    for j, o in enumerate(outputs):
        if not o.requires_grad:
            continue
        for k in range(o._data.size):
            go = np.zeros(o._data.size, dtype=o._data.dtype)
            go[k] = 1
            gs = _grad([o], [inputs[i] for i in diff_idx], [_make(go.reshape(o._data.shape))],
                       retain_graph=True, allow_unused=True)
            for i, g in zip(diff_idx, gs):
                if g is not None:
                    jac[(i, j)][:, k] = g._data.reshape(-1)
    return jac


def gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """Compare the analytical Jacobian of `func` at `inputs` with central differences."""
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")
    for i in diff_idx:
        if inputs[i]._data.dtype not in (np.float64, np.complex128):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex. ", stacklevel=2)
    outputs = _outputs(func, inputs)
    analytical = _analytical_jacobian(outputs, inputs, diff_idx)
    for i in diff_idx:
        numerical = _numerical_jacobian(func, inputs, i, eps)
        for j in range(len(outputs)):
            a = analytical[(i, j)]
            n = numerical[j]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                dt = inputs[i]._data.dtype     # torch shows the Jacobians in the input dtype
                msg = (f"Jacobian mismatch for output {j} with respect to input {i},\n"
                       f"numerical:{_make(n.astype(dt))!r}\nanalytical:{_make(a.astype(dt))!r}\n")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-06, atol=1e-05, rtol=0.001,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the gradient: checks second derivatives through create_graph."""
    from . import grad as _grad
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _outputs(func, inputs)
        grad_outputs = tuple((rand(o._data.shape, dtype=o.dtype) * 2 - 1).requires_grad_()
                             for o in outs if o.requires_grad)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def new_func(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = [o for o in _outputs(func, ins) if o.requires_grad]
        gs = _grad(outs, [ins[i] for i in diff_idx], list(gos), create_graph=True,
                   allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(new_func, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
