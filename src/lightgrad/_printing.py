"""Tensor printing (placeholder until the torch-exact formatter lands)."""
import numpy as np


def tensor_repr(t):
    body = np.array2string(t._data, separator=", ", prefix="tensor(")
    suffix = ""
    if t.grad_fn is not None:
        suffix = f", grad_fn=<{type(t.grad_fn).__name__}>"
    elif t._rg:
        suffix = ", requires_grad=True"
    return f"tensor({body}{suffix})"
