"""torch.cpu: the CPU, lightgrad's one device."""
from . import amp  # noqa: F401

__all__ = ["is_available", "device_count", "current_device", "synchronize"]


def is_available():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def synchronize(device=None):
    """Does nothing: lightgrad's ops have finished when they return."""
