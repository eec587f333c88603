"""torch._tensor_str: where torch keeps its print options (`printoptions` context manager)."""
from ._printing import (PRINT_OPTS, get_printoptions, printoptions,  # noqa: F401
                        set_printoptions)

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "PRINT_OPTS"]
