"""Op families; importing this package attaches every op to Tensor."""
from . import _core, elementwise, reduction, shape, convert, linalg, inplace, indexing  # noqa
from . import linalg_ext  # noqa: F401
