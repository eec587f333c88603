"""(being written) """
from ._core import publish

__all__ = publish(globals())
