"""torch.cuda: lightgrad computes on the CPU only, so CUDA is never available."""

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "synchronize"]


def is_available():
    """False: lightgrad has no CUDA backend (yet)."""
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Does nothing, as torch.cuda.manual_seed does without CUDA."""


def manual_seed_all(seed):
    """Does nothing, as torch.cuda.manual_seed_all does without CUDA."""


def synchronize(device=None):
    raise AssertionError("Torch not compiled with CUDA enabled")
