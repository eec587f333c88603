"""The older, hook-based weight norm: nn.utils.weight_norm and remove_weight_norm.

`weight_norm(module)` replaces the parameter `weight` by `weight_g` (its norm along `dim`)
and `weight_v` (its direction), and a forward pre-hook recomputes `module.weight` from them
before every call. torch deprecates it in favour of nn.utils.parametrizations.weight_norm.

>>> import warnings
>>> import lightgrad as torch
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     m = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3))
>>> sorted(m.state_dict())
['bias', 'weight_g', 'weight_v']
"""
import warnings

import lightgrad as _lg
from ..parameter import Parameter

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


def _norm_except_dim(v, dim):
    """torch.norm_except_dim(v, 2, dim): the 2-norm over every dim but `dim`, kept as size-1
    dims; dim=-1 means the norm of the whole tensor (a 0-dim result), as in torch."""
    if dim == -1:
        return _lg.linalg.vector_norm(v)
    dim = dim % v.ndim
    others = [d for d in range(v.ndim) if d != dim]
    return _lg.linalg.vector_norm(v, dim=others, keepdim=True) if others else v.abs()


def _weight_norm(v, g, dim):
    """torch._weight_norm: v scaled so that its norm (except along dim) is g."""
    return v * (g / _norm_except_dim(v, dim))


class WeightNorm:
    """The forward pre-hook: recomputes module.<name> from <name>_g and <name>_v."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module, name, dim):
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                      stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError("Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        # weight = g * v / ||v||: g and v are the new parameters
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight,
                                                                          fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        # a plain attribute now (not a parameter), recomputed before every forward
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Split `module.<name>` into a magnitude <name>_g and a direction <name>_v (deprecated:
    a FutureWarning, as in torch). Returns the module."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo weight_norm: `module.<name>` is one parameter again. Returns the module."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
