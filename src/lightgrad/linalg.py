"""lightgrad.linalg: torch.linalg's matrix functions (real dtypes), all differentiable."""
from .ops._core import public_functions as _public_functions
from .ops.linalg import linalg_cross as cross, matmul
from .ops.linalg_ext import (LinAlgError, cholesky, cholesky_ex, det, eigh, eigvalsh, inv,
                             inv_ex, linalg_qr as qr, linalg_slogdet as slogdet,
                             linalg_svd as svd, matrix_norm, matrix_power, multi_dot, norm, pinv,
                             solve, solve_ex, svdvals, vecdot, vector_norm)

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cross", "det", "eigh", "eigvalsh", "inv",
           "inv_ex", "matmul", "matrix_norm", "matrix_power", "multi_dot", "norm", "pinv", "qr",
           "slogdet", "solve", "solve_ex", "svd", "svdvals", "vecdot", "vector_norm"]

globals().update(_public_functions("linalg"))   # declared ops: they dispatch under vmap
