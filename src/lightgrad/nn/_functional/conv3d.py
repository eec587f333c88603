"""3-d convolution and pooling of torch.nn.functional: argument parsing and torch's checks.

The convolutions go through the same primitives as conv1d/conv2d (ops.nn_conv, whose
kernels hand 5-d arrays to ops.nn_conv3d); pooling uses the primitives of ops.nn_conv3d.
"""
from ...ops import nn_conv3d as _c3
from .conv import _conv, _conv_t, _pool_args, _tuple

__all__ = ["conv3d", "conv_transpose3d", "max_pool3d", "max_pool3d_with_indices", "avg_pool3d",
           "adaptive_avg_pool3d"]


def _bad_len(v, n):
    return isinstance(v, (list, tuple)) and len(v) not in (1, n)


def _as_list(v, n):
    return list(v) if isinstance(v, (list, tuple)) else [v] * n


def _conv3d_checks(name, input, weight, stride, padding, dilation, groups):
    if input.ndim not in (4, 5):
        raise RuntimeError(f"Expected 4D (unbatched) or 5D (batched) input to {name}, but got "
                           f"input of size: {list(input.shape)}")
    k = weight.ndim - 2
    named = (("stride", stride), ("padding", padding), ("dilation", dilation))
    for what, v in named:
        if isinstance(v, str):
            continue
        vs = _as_list(v, 3)
        if len(vs) != k and not (len(vs) == 1 and k >= 1):
            raise RuntimeError(f"expected {what} to be a single integer value or a list of {k} "
                               f"values to match the convolution dimensions, but got "
                               f"{what}={vs}")
    if name == "conv3d" and weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(weight.shape)}] "
                           "instead")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution over (N, C, D, H, W) or (C, D, H, W): `F.conv3d(x, w, padding=1)`."""
    _conv3d_checks("conv3d", input, weight, stride, padding, dilation, groups)
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-d transposed convolution; weight is (C_in, C_out / groups, kd, kh, kw)."""
    _conv3d_checks("conv_transpose3d", input, weight, stride, padding, dilation, groups)
    op, s, d = (_tuple(v, 3) for v in (output_padding, stride, dilation))
    if len(op) == len(s) == len(d) == 3 and any(o >= si and o >= di
                                                for o, si, di in zip(op, s, d)):
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding_depth: {op[0]} output_padding_height: {op[1]} "
            f"output_padding_width: {op[2]} stride_depth: {s[0]} stride_height: {s[1]} "
            f"stride_width: {s[2]} dilation_depth: {d[0]} dilation_height: {d[1]} "
            f"dilation_width: {d[2]}")
    return _conv_t("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding,
                   groups, dilation)


# -- pooling -------------------------------------------------------------------------------
def _check_ndim(input):
    if input.ndim not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")


def _check_outs(input, outs):
    if any(o <= 0 for o in outs):
        C = input.shape[-4]
        ins = "x".join(str(v) for v in (C,) + tuple(input.shape[-3:]))
        os_ = "x".join(str(v) for v in (C,) + tuple(outs))
        raise RuntimeError(f"Given input size: ({ins}). Calculated output size: ({os_}). "
                           "Output size is too small")


def _max_args(kernel_size, stride, padding, dilation):
    if _bad_len(kernel_size, 3):
        raise RuntimeError("max_pool3d: kernel_size must either be a single int, or a tuple of "
                           "three ints")
    if stride is not None and _bad_len(stride, 3) and len(stride):
        raise RuntimeError("max_pool3d: stride must either be omitted, a single int, or a "
                           "tuple of three ints")
    if _bad_len(padding, 3):
        raise RuntimeError("max_pool3d: padding must either be a single int, or a tuple of "
                           "three ints")
    if _bad_len(dilation, 3):
        raise RuntimeError("max_pool3d: dilation must be either a single int, or a tuple of "
                           "three ints")
    if stride is not None and not isinstance(stride, (list, tuple)) and int(stride) == 0 or \
            isinstance(stride, (list, tuple)) and any(int(v) == 0 for v in stride):
        raise RuntimeError("stride should not be zero")


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """3-d max pooling and the flat (D*H*W) argmax positions."""
    _max_args(kernel_size, stride, padding, dilation)
    _check_ndim(input)
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 3)
    outs = _c3.pool_outs(tuple(input.shape[-3:]), k, s, p, d, ceil_mode)
    _check_outs(input, outs)
    return _c3.max_pool3d_op(input, k, s, p, d, outs)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-d max pooling over (N, C, D, H, W) or (C, D, H, W): `F.max_pool3d(x, 2)`."""
    out, idx = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation,
                                       ceil_mode)
    return (out, idx) if return_indices else out


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-d average pooling over (N, C, D, H, W) or (C, D, H, W)."""
    if _bad_len(kernel_size, 3):
        raise RuntimeError("avg_pool3d: kernel_size must be a single int, or a tuple of three "
                           "ints")
    if stride is not None and _bad_len(stride, 3) and len(stride):
        raise RuntimeError("avg_pool3d: stride must be omitted, a single int, or a tuple of "
                           "three ints")
    if _bad_len(padding, 3):
        raise RuntimeError("avg_pool3d: padding must be a single int, or a tuple of three ints")
    k = _tuple(kernel_size, 3)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else _tuple(stride, 3)
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    _check_ndim(input)
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, 3)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    ins = tuple(input.shape[-3:])
    if any(n < ki for n, ki in zip(ins, k)):
        raise RuntimeError(f"input image (T: {ins[0]} H: {ins[1]} W: {ins[2]}) smaller than "
                           f"kernel size (kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    _check_outs(input, _c3.pool_outs(ins, k, s, p, (1, 1, 1), ceil_mode))
    return _c3.avg_pool3d_op(input, k, s, p, ceil_mode, count_include_pad, divisor_override)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed (D, H, W) (torch's windows floor(i*n/o)..ceil); None
    keeps the input's size."""
    if input.ndim not in (4, 5):
        raise RuntimeError(f"adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got "
                           f"{list(input.shape)}")
    outs = output_size if isinstance(output_size, (list, tuple)) else (output_size,) * 3
    if len(outs) != 3:
        raise RuntimeError("adaptive_avg_pool3d: output_size must be 3")
    outs = tuple(input.shape[-3 + i] if o is None else int(o) for i, o in enumerate(outs))
    if any(o < 0 for o in outs):
        raise RuntimeError("adaptive_avg_pool3d: elements of output_size must be greater than "
                           f"or equal to 0 but received {{{outs[0]}, {outs[1]},{outs[2]}}}")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"adaptive_avg_pool3d_cpu\" not implemented for "
                                  f"'{input.dtype._legacy}'")
    if outs == (1, 1, 1):
        return input.mean((-3, -2, -1), keepdim=True)     # as torch: a MeanBackward1 node
    return _c3.adaptive_avg_pool3d_op(input, outs)

