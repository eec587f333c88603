"""torch.autograd.forward_ad: dual tensors and dual levels (implemented in
lightgrad._graph.forward_ad, the graph layer)."""
from .._graph.forward_ad import (UnpackedDualTensor, dual_level, enter_dual_level,
                                 exit_dual_level, make_dual, unpack_dual)

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]
