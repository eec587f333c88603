"""torch.utils.hooks: the handle that hook registration returns."""
from .._graph.graph import RemovableHandle

__all__ = ["RemovableHandle"]
