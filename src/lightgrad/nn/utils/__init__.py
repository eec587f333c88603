"""torch.nn.utils: gradient clipping, parameter/vector conversion, rnn packing, the hook-based
weight and spectral norm.

The submodules parametrize and parametrizations are built on nn.modules, and nn.modules
imports this package (rnn packing), so lightgrad.nn (above both) imports them instead of
this file: that keeps the import graph free of cycles.
"""
from .clip_grad import *  # noqa: F401,F403
from .convert_parameters import *  # noqa: F401,F403
from . import rnn  # noqa: F401
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401
