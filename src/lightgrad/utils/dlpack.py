"""torch.utils.dlpack: DLPack capsules in and out, sharing memory."""
from .._creation import from_dlpack

__all__ = ["to_dlpack", "from_dlpack"]


def to_dlpack(tensor):
    """A DLPack capsule viewing `tensor`'s memory (one consumer may take it)."""
    return tensor._data.__dlpack__()
