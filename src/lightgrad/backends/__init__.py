"""torch.backends: the switches scripts set for cuDNN, MPS, oneDNN and CUDA matmuls.

lightgrad computes with NumPy on the CPU, so none of these libraries is present: each
`is_available()` is False, and the flags keep the values scripts give them (torch's defaults
to start with) without changing how lightgrad computes. lightgrad's kernels are
deterministic already.
"""
from . import cuda, cudnn, mkldnn, mps  # noqa: F401
