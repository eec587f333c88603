"""3-d convolution and pooling of torch.nn.functional.

Each is declared with torch's signature in its ops family: the convolutions in
lightgrad.ops.nn_conv (the same primitives as conv1d/conv2d, whose kernels hand 5-d arrays
to ops.nn_conv3d), the pools in ops.nn_conv3d; this file names them for nn.functional.
"""
from ...ops.nn_conv import conv3d, conv_transpose3d
from ...ops.nn_conv3d import adaptive_avg_pool3d, avg_pool3d, max_pool3d, max_pool3d_with_indices

__all__ = ["conv3d", "conv_transpose3d", "max_pool3d", "max_pool3d_with_indices", "avg_pool3d",
           "adaptive_avg_pool3d"]
