"""torch.autocast. lightgrad does no mixed precision (and has no bfloat16): an autocast region
keeps torch's state, checks and warnings, and its ops run in their input dtypes."""
import functools
import threading
import warnings

from .. import _dtype
from .._backend import device as _device

__all__ = ["autocast", "is_autocast_available", "is_autocast_enabled", "get_autocast_dtype"]

# the device types torch has autocast for; "meta", "lazy", ... have none
_AVAILABLE = ("cpu", "cuda", "xpu", "hpu", "xla", "mps", "mtia", "maia", "ipu")
# torch's default is bfloat16 on cpu/hpu/xla/maia and float16 elsewhere: float16 stands in
_DEFAULT_DTYPE = _dtype.float16
_SUPPORTED = (_dtype.float16,)      # torch: bfloat16 and float16
_NOTHING_CHANGES = ("autocast changes nothing in lightgrad: it does no mixed precision, so ops "
                    "in an autocast region keep their input dtypes.")
_warned = [False]


class _State(threading.local):
    """Per thread, as torch's autocast state: device type -> enabled / dtype."""

    def __init__(self):
        self.enabled, self.dtype, self.cache_enabled = {}, {}, True


_state = _State()


def _device_type(device_type, fn):
    if not isinstance(device_type, str):
        kind = "torch.device" if isinstance(device_type, _device) else type(device_type).__name__
        raise TypeError(f"{fn}(): argument 'device_type' (position 1) must be str, not {kind}")
    return _device(device_type).type        # torch's RuntimeError for a bad device string


def is_autocast_available(device_type):
    return _device_type(device_type, "_is_autocast_available") in _AVAILABLE


def is_autocast_enabled(device_type=None):
    """Whether an enabled autocast region for `device_type` is open (None: "cuda", as torch)."""
    t = _device_type("cuda" if device_type is None else device_type, "is_autocast_enabled")
    if t not in _AVAILABLE:
        raise RuntimeError("unknown device type for autocast in "
                           "get_autocast_dispatch_key_from_device_type")
    return _state.enabled.get(t, False)


def get_autocast_dtype(device_type):
    t = _device_type(device_type, "get_autocast_dtype")
    if t not in _AVAILABLE:
        raise RuntimeError("unsupported scalarType")
    return _state.dtype.get(t, _DEFAULT_DTYPE)


class autocast:
    """Context manager and decorator for an autocast region; see the module docstring."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        if not is_autocast_available(device_type):
            raise RuntimeError(f"User specified an unsupported autocast device_type "
                               f"'{device_type}'")
        self._cache_enabled = _state.cache_enabled if cache_enabled is None else cache_enabled
        if enabled:
            name = device_type.upper()
            if device_type == "cuda":       # torch checks only this exact string
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                              "autocast.", stacklevel=2)
                enabled = False
            elif self.fast_dtype not in _SUPPORTED:
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. "
                              f"Disabling autocast.\n{name} Autocast only supports dtypes of "
                              "torch.bfloat16, torch.float16 currently.", stacklevel=2)
                enabled = False
            elif not _warned[0]:
                _warned[0] = True
                warnings.warn(_NOTHING_CHANGES, UserWarning, stacklevel=2)
        self._enabled = enabled

    def __enter__(self):
        t = _device(self.device).type
        self.prev_cache_enabled = _state.cache_enabled
        self.prev = _state.enabled.get(t, False)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        _state.enabled[t], _state.dtype[t] = self._enabled, self.fast_dtype
        _state.cache_enabled = self._cache_enabled
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        t = _device(self.device).type
        _state.enabled[t], _state.dtype[t] = self.prev, self.prev_fastdtype
        _state.cache_enabled = self.prev_cache_enabled
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                f"Did you mean to use autocast as a context manager? For example:\n"
                f"    with torch.autocast(device_type=...):\n"
                f"        output = model(input)")

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast
