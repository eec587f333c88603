"""lightgrad.linalg: torch.linalg's matrix functions (real dtypes), all differentiable."""
from .ops._core import public_functions as _public_functions
from .ops.contraction import linalg_cross as cross
from .ops.linalg import matmul
from .ops.linalg_decomp import (cholesky, cholesky_ex, eigh, eigvalsh, linalg_qr as qr,
                                linalg_svd as svd, svdvals)
from .ops.linalg_ext import (LinAlgError, det, inv, inv_ex, linalg_slogdet as slogdet,
                             matrix_power, pinv, solve, solve_ex)
from .ops.linalg_norms import matrix_norm, multi_dot, norm, vecdot, vector_norm

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cross", "det", "eigh", "eigvalsh", "inv",
           "inv_ex", "matmul", "matrix_norm", "matrix_power", "multi_dot", "norm", "pinv", "qr",
           "slogdet", "solve", "solve_ex", "svd", "svdvals", "vecdot", "vector_norm",
           "lstsq"]  # noqa: F822  (bound below from its declaration, by _public_functions)

globals().update(_public_functions("linalg"))   # declared ops: they dispatch under vmap
