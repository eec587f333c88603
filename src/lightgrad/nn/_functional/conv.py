"""Convolution, pooling, normalization and the spatial functions of torch.nn.functional.

Each is declared with torch's signature in its ops family (lightgrad.ops.nn_conv,
nn_pool, nn_spatial, nn_norm), where its primitive, rule and test samples are; this file
names them for nn.functional and keeps the composites of those ops (upsample).
"""
import warnings

from ...ops.nn_conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from ...ops.nn_norm import batch_norm, group_norm, instance_norm, layer_norm
from ...ops.nn_pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d,
                            adaptive_max_pool2d, avg_pool1d, avg_pool2d, max_pool1d,
                            max_pool1d_with_indices, max_pool2d, max_pool2d_with_indices)
from ...ops.nn_spatial import fold, interpolate, pad, pixel_shuffle, pixel_unshuffle, unfold

__all__ = [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d",
    "batch_norm", "layer_norm", "group_norm", "instance_norm",
    "pad", "interpolate", "upsample", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle",
]


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)
