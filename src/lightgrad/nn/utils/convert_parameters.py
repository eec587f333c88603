"""parameters_to_vector and vector_to_parameters.

>>> import lightgrad as torch
>>> m = torch.nn.Linear(2, 3)
>>> torch.nn.utils.parameters_to_vector(m.parameters()).shape
lightgrad.Size([9])
"""
import lightgrad as _lg
from ..._tensor import Tensor, typename as _typename

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one vector (differentiable)."""
    return _lg.cat([p.view(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy slices of `vec` into the parameters' data, in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
