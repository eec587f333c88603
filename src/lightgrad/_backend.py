"""Devices, and the one place that knows which array module serves a device.

Today only "cpu" exists and NumPy serves it; a second backend (CuPy for "cuda") plugs in
by adding an entry to _MODULES, because every array call goes through `array_module`.
"""
import numpy as np

__all__ = ["device", "array_module"]

_MODULES = {"cpu": np}


class device:
    __slots__ = ("type", "index")

    def __new__(cls, type_or_str="cpu", index=None):
        if isinstance(type_or_str, device):
            return type_or_str
        if type_or_str is None:
            return _default[0]
        s = str(type_or_str)
        if ":" in s:
            s, idx = s.split(":")
            index = int(idx)
        if s not in ("cpu", "cuda", "meta", "mps"):
            raise RuntimeError(f"Expected one of cpu, cuda, mps, meta device type at start of "
                               f"device string: {type_or_str}")
        self = object.__new__(cls)
        self.type, self.index = s, index
        return self

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")
_default = [CPU]


def array_module(dev):
    """The array module (NumPy today) that holds tensors on `dev`."""
    try:
        return _MODULES[dev.type]
    except KeyError:
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
