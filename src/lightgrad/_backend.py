"""Devices, and the one place that knows which array module serves a device.

Today only "cpu" exists and NumPy serves it; a second backend (CuPy for "cuda") plugs in
by adding an entry to _MODULES, because every array call goes through `array_module`.
"""
import functools
import os
import re

import numpy as np

__all__ = ["device", "array_module", "set_default_device", "get_default_device",
           "set_num_threads", "get_num_threads"]

_MODULES = {"cpu": np}


_DEVICE_TYPES = ("cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, "
                 "lazy, vulkan, mps, meta, hpu, mtia, privateuseone")


_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::([1-9][0-9]*|0))?")


class device:
    """torch.device: `device('cpu')`, `device('cuda:1')`, `device('cpu', 0)`."""
    __slots__ = ("type", "index")

    def __new__(cls, type="cpu", index=None):
        if isinstance(type, device):
            return type
        if type is None:
            return _default[0]
        if isinstance(type, int):           # a bare ordinal names a CUDA device, as in torch
            type, index = "cuda", type
        s = str(type)
        if not s:
            raise RuntimeError("Device string must not be empty")
        m = _DEVICE_STRING.fullmatch(s)     # torch's pattern: letters, then an ordinal
        if m is None:
            raise RuntimeError(f"Invalid device string: '{type}'")
        s = m.group(1)
        if m.group(2) is not None:
            index = int(m.group(2))
        if s not in _DEVICE_TYPES.split(", "):
            raise RuntimeError(f"Expected one of {_DEVICE_TYPES} device type at start of device "
                               f"string: {type}")
        self = object.__new__(cls)
        self.type, self.index = s, index
        return self

    def __eq__(self, other):
        # NOTE: as in torch, a device never equals a string: device('cpu') == 'cpu' is False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")
_default = [CPU]


def array_module(dev):
    """The array module (NumPy today) that holds tensors on `dev`."""
    try:
        return _MODULES[dev.type]
    except KeyError:
        if dev.type == "cuda":      # torch's own error (and type) on a CPU-only build
            raise AssertionError("Torch not compiled with CUDA enabled") from None
        raise RuntimeError(f"lightgrad has no array backend for device '{dev}' "
                           "(only 'cpu' is available)") from None


def check_device(dev):
    d = device(dev)
    array_module(d)
    return d


def set_default_device(dev):
    _default[0] = check_device(dev if dev is not None else "cpu")


def get_default_device():
    return _default[0]


# -- threads ------------------------------------------------------------------------------
# NumPy's BLAS pool is the only thread pool lightgrad uses. It is resized through the
# OpenBLAS that NumPy's wheels bundle (its set/get_num_threads entry points, found with
# ctypes), or through threadpoolctl where that is installed and the BLAS is another one.
_threads = {"n": None, "limiter": None}
_OPENBLAS_NAMES = ("scipy_openblas_{}_num_threads64_", "scipy_openblas_{}_num_threads",
                   "openblas_{}_num_threads64_", "openblas_{}_num_threads")


@functools.lru_cache(maxsize=None)
def _openblas(what):
    """NumPy's bundled OpenBLAS function `what` ('set' or 'get'), or None (looked up once)."""
    import ctypes
    import glob
    libdir = os.path.dirname(np.__file__) + ".libs"          # where the wheels put it
    for path in glob.glob(os.path.join(libdir, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)             # the copy NumPy loaded: dlopen returns it
        except OSError:
            continue
        for name in _OPENBLAS_NAMES:
            fn = getattr(lib, name.format(what), None)
            if fn is not None:
                return fn
    return None


def set_num_threads(n):
    """Limit the BLAS threads NumPy uses (as torch.set_num_threads limits its pool)."""
    n = int(n)
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _threads["n"] = n
    fn = _openblas("set")
    if fn is not None:
        fn(n)
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return                  # another BLAS and no threadpoolctl: only recorded
    _threads["limiter"] = threadpool_limits(limits=n)  # applies now, stays until reset


def get_num_threads():
    """The BLAS thread count (as set, else as the BLAS reports, else the CPU count)."""
    if _threads["n"] is not None:
        return _threads["n"]
    fn = _openblas("get")
    if fn is not None:
        return int(fn())
    try:
        from threadpoolctl import threadpool_info
        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        if counts:
            return max(counts)
    except ImportError:
        pass
    return os.cpu_count() or 1
