"""torch.amp: autocast (which records torch's state and changes no dtype in lightgrad) and
GradScaler (which scales for real on "cpu")."""
from .autocast_mode import autocast, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["autocast", "is_autocast_available", "GradScaler"]
