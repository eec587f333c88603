"""lightgrad: PyTorch's tensor and autograd API on NumPy. `import lightgrad as torch`."""
from . import _dtype
from ._dtype import (bool, cdouble, cfloat, complex64, complex128, double, dtype, finfo, float,
                     float16, float32, float64, get_default_dtype, half, iinfo, int, int8, int16,
                     int32, int64, long, promote_types, set_default_dtype, short, uint8)
from ._backend import (device, get_default_device, get_num_threads, set_default_device,
                       set_num_threads)
from ._printing import set_printoptions
from . import _tensor_str, cuda
from ._tensor import Size, Tensor, typename
from . import ops as _ops
from .ops.elementwise import *  # noqa: F401,F403
from .ops.arithmetic import *  # noqa: F401,F403
from .ops.binary_math import *  # noqa: F401,F403
from .ops.logic import *  # noqa: F401,F403
from .ops.reduction import *  # noqa: F401,F403
from .ops.norms import *  # noqa: F401,F403
from .ops.scan_sort import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.rearrange import *  # noqa: F401,F403
from .ops.joining import *  # noqa: F401,F403
from .ops.convert import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.contraction import *  # noqa: F401,F403
from .ops.linalg_ext import *  # noqa: F401,F403
from .ops.linalg_decomp import *  # noqa: F401,F403
from .ops.linalg_norms import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from .ops.scatter_gather import *  # noqa: F401,F403
from .ops.like import *  # noqa: F401,F403
from .ops.random import *  # noqa: F401,F403
from .ops.counting import *  # noqa: F401,F403
from .ops.combinatorics import *  # noqa: F401,F403
from .ops.distance import *  # noqa: F401,F403
from . import linalg, return_types
from ._creation import *  # noqa: F401,F403
from . import autograd
from .autograd import function as _function  # noqa: F401
from .autograd import (enable_grad, inference_mode, no_grad, set_grad_enabled)
from ._graph.grad_mode import is_grad_enabled, is_inference_mode_enabled
from ._graph.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .ops._core import public_functions as _public_functions
from ._alias import as_torch
from ._settings import *  # noqa: F401,F403
from ._legacy_types import *  # noqa: F401,F403
from .amp.autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled
from . import cpu
from .cuda import amp as _cuda_amp  # noqa: F401  (lightgrad.cuda.amp, as torch.cuda.amp)

# the declared ops' public functions, which dispatch to their batching rule under vmap (the
# family modules' star imports above bring the plain functions)
globals().update(_public_functions())

__version__ = "0.1.0"

# nn, optim, utils and checkpoints load on first use, so `import lightgrad` stays fast
_LAZY_MODULES = ("nn", "optim", "utils", "distributed", "func", "viz", "serialization",
                 "backends", "testing", "distributions")
_LAZY_NAMES = {"save": "serialization", "load": "serialization", "compile": "_compile"}


def __getattr__(name):
    import importlib
    if name in _LAZY_MODULES:
        value = importlib.import_module(f".{name}", __name__)
    elif name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    else:
        raise AttributeError(f"module 'lightgrad' has no attribute '{name}'")
    globals()[name] = value
    return value
