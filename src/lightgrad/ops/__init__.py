"""Op families; importing this package attaches every op to Tensor."""
from . import _core, elementwise, arithmetic, binary_math, logic  # noqa: F401
from . import reduction, norms, scan_sort, shape, rearrange, joining  # noqa: F401
from . import convert, linalg, inplace, indexing, scatter_gather  # noqa: F401
from . import linalg_ext, like, random  # noqa: F401
