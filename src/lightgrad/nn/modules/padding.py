"""Padding layers: constant/zero, reflection, replication and circular, in 1-d and 2-d."""
from .. import functional as F
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ZeroPad1d", "ZeroPad2d", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d",
           "CircularPad2d"]


def _pads(padding, nd):
    if isinstance(padding, (list, tuple)):
        if len(padding) != 2 * nd:
            raise ValueError(f"Padding length must be {2 * nd}, got {len(padding)}")
        return tuple(padding)
    return (padding,) * (2 * nd)


class _ConstantPadNd(Module):
    _nd = 1

    def __init__(self, padding, value):
        super().__init__()
        self.padding = _pads(padding, self._nd)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with a constant: `nn.ConstantPad1d(2, 3.5)`."""
    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with a constant."""
    _nd = 2


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros: `nn.ZeroPad2d(1)`."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class _ModePad(Module):
    _nd = 1
    _mode = "reflect"

    def __init__(self, padding):
        super().__init__()
        self.padding = _pads(padding, self._nd)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_ModePad):
    """Reflect the last dim at its edges."""
    _nd, _mode = 1, "reflect"


class ReflectionPad2d(_ModePad):
    """Reflect the last two dims at their edges."""
    _nd, _mode = 2, "reflect"


class ReplicationPad1d(_ModePad):
    """Repeat the edge values of the last dim."""
    _nd, _mode = 1, "replicate"


class ReplicationPad2d(_ModePad):
    """Repeat the edge values of the last two dims."""
    _nd, _mode = 2, "replicate"


class CircularPad1d(_ModePad):
    """Wrap the last dim around."""
    _nd, _mode = 1, "circular"


class CircularPad2d(_ModePad):
    """Wrap the last two dims around."""
    _nd, _mode = 2, "circular"
