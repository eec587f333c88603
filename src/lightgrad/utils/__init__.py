"""torch.utils: hooks and data loading."""
from . import data, hooks  # noqa: F401
