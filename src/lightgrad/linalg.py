"""torch.linalg: matrix functions (being written)."""
__all__ = []
