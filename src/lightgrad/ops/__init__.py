"""Op families; importing this package attaches every op to Tensor."""
from . import _core, elementwise, arithmetic, binary_math, logic  # noqa: F401
from . import reduction, norms, scan_sort, shape, rearrange, joining  # noqa: F401
from . import convert, linalg, inplace, indexing, scatter_gather  # noqa: F401
from . import contraction, linalg_ext, linalg_decomp, linalg_norms  # noqa: F401
from . import like, random  # noqa: F401
