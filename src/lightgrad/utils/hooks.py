"""torch.utils.hooks: the handle that hook registration returns."""
from ..autograd.graph import RemovableHandle

__all__ = ["RemovableHandle"]
