"""torch.utils: hooks, data loading and activation checkpointing; and lightgrad's opt-in
memory tuning (`tune_malloc`)."""
from . import checkpoint, data, dlpack, hooks  # noqa: F401
from .memory import tune_malloc  # noqa: F401
