"""autograd.Function (being written)."""
__all__ = []
