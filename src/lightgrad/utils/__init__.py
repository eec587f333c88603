"""torch.utils: hooks, data loading and activation checkpointing."""
from . import checkpoint, data, hooks  # noqa: F401
