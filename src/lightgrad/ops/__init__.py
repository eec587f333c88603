"""Op families; importing this package attaches every op to Tensor."""
from . import _core, elementwise, reduction, shape, convert, linalg, inplace  # noqa: F401
