"""Convolution, pooling, normalization and the spatial functions of torch.nn.functional.

The heavy lifting is in the primitives of lightgrad.ops.nn_conv and ops.nn_norm; this file
parses torch's arguments and checks them with torch's error texts.
"""
import math
import numbers
import warnings


from ...ops import nn_conv as _c
from ...ops import nn_norm as _n

__all__ = [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d",
    "batch_norm", "layer_norm", "group_norm", "instance_norm",
    "pad", "interpolate", "upsample", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle",
]


def _tuple(v, n):
    if isinstance(v, (list, tuple)):
        if len(v) == 1 and n > 1:
            return tuple(int(v[0]) for _ in range(n))
        return tuple(int(a) for a in v)
    return (int(v),) * n


# -- convolution ---------------------------------------------------------------------------
def _conv_checks(name, x, w, bias, groups, nd):
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(x.shape)}")
    return x.ndim == nd + 1


def _conv_params(x, w, stride, padding, dilation, groups, nd):
    s = _tuple(stride, nd)
    d = _tuple(dilation, nd)
    if any(v <= 0 for v in s):
        raise RuntimeError("non-positive stride is not supported")
    k = tuple(w.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(v != 1 for v in s):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for ki, di in zip(k, d):
                total = di * (ki - 1)
                pads.append((total // 2, total - total // 2))
            pads = tuple(pads)
            if any(lo != hi for lo, hi in pads):
                warnings.warn("Using padding='same' with even kernel lengths and odd dilation "
                              "may require a zero-padded copy of the input be created",
                              UserWarning, stacklevel=4)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pv = _tuple(padding, nd)
        if any(v < 0 for v in pv):
            raise RuntimeError("negative padding is not supported")
        pads = tuple((v, v) for v in pv)
    if nd == 1:
        return ((1, s[0]), ((0, 0), pads[0]), (1, d[0]), groups)
    return (s, pads, d, groups)


def _check_dtypes(x, w, bias):
    if x.dtype != w.dtype:
        raise RuntimeError(f"expected scalar type {x.dtype._legacy} but found "
                           f"{w.dtype._legacy}")
    if bias is not None and bias.dtype != x.dtype:
        raise RuntimeError(f"Input type ({x.dtype._legacy.lower()}) and bias type "
                           f"({bias.dtype._legacy.lower()}) should be the same")


def _check_channels(x, w, bias, groups, batched):
    _check_dtypes(x, w, bias)
    C = x.shape[1] if batched else x.shape[0]
    if C != w.shape[1] * groups:
        xs = list(x.shape) if batched else [1] + list(x.shape)
        raise RuntimeError(f"Given groups={groups}, weight of size {list(w.shape)}, expected "
                           f"input{xs} to have {w.shape[1] * groups} channels, but got {C} "
                           "channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != w.shape[0]):
        raise RuntimeError(f"Given weight of size {list(w.shape)}, expected bias to be "
                           f"1-dimensional with {w.shape[0]} elements, but got bias of size "
                           f"{list(bias.shape)} instead")


def _conv(name, nd, input, weight, bias, stride, padding, dilation, groups):
    unbatched = _conv_checks(name, input, weight, bias, groups, nd)
    x = input.unsqueeze(0) if unbatched else input
    _check_channels(x, weight, bias, groups, True)
    p = _conv_params(x, weight, stride, padding, dilation, groups, nd)
    y = _c.convolution_op(x, weight, bias, p)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution over (N, C, L) or (C, L): `F.conv1d(x, w, padding=1)`."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution over (N, C, H, W) or (C, H, W): `F.conv2d(x, w, padding='same')`."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_t(name, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    unbatched = _conv_checks(name, input, weight, bias, groups, nd)
    x = input.unsqueeze(0) if unbatched else input
    _check_dtypes(x, weight, bias)
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {weight.shape[0]} channels, but got "
                           f"{x.shape[1]} channels instead")
    if isinstance(padding, str):
        raise RuntimeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    p = _conv_params(x, weight, stride, padding, dilation, groups, nd)
    op = _tuple(output_padding, nd)
    s, d, pv = _tuple(stride, nd), _tuple(dilation, nd), _tuple(padding, nd)
    for o, si, di in zip(op, s, d):
        if o >= si and o >= di:
            raise RuntimeError("output padding must be smaller than either stride or dilation,"
                               f" but got output_padding_height: {op[0]} output_padding_width: "
                               f"{op[-1]} stride_height: {s[0]} stride_width: {s[-1]} "
                               f"dilation_height: {d[0]} dilation_width: {d[-1]}")
    k = weight.shape[2:]
    spatial = tuple((n - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
                    for n, si, pi, di, ki, oi in zip(x.shape[2:], s, pv, d, k, op))
    out_shape = (x.shape[0], weight.shape[1] * groups) + spatial
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_shape[1]):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"bias to be 1-dimensional with {out_shape[1]} elements, but got "
                           f"bias of size {list(bias.shape)} instead")
    y = _c.conv_transpose_op(x, weight, bias, p, out_shape)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-d transposed convolution; weight is (C_in, C_out / groups, k)."""
    return _conv_t("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding,
                   groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-d transposed convolution; weight is (C_in, C_out / groups, kh, kw)."""
    return _conv_t("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding,
                   groups, dilation)


# -- pooling -------------------------------------------------------------------------------
def _pool_args(kernel_size, stride, padding, dilation, nd):
    k = _tuple(kernel_size, nd)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else _tuple(stride, nd)
    p = _tuple(padding, nd)
    d = _tuple(dilation, nd)
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    for ki, pi, di in zip(k, p, d):
        if pi > (di * (ki - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pi}, kernel_size={ki} and dilation={di}")
    return k, s, p, d


def _check_out(x, outs):
    if any(o <= 0 for o in outs):
        C = x.shape[-3] if x.ndim >= 3 else 1
        ins = "x".join(str(v) for v in (C,) + tuple(x.shape[-2:]))
        os_ = "x".join(str(v) for v in (C,) + tuple(outs))
        raise RuntimeError(f"Given input size: ({ins}). Calculated output size: ({os_}). Output "
                           "size is too small")


def _pool2d_out(x, k, s, p, d, ceil):
    H, W = x.shape[-2:]
    outs = (_c.pool_out_size(H, k[0], s[0], p[0], d[0], ceil),
            _c.pool_out_size(W, k[1], s[1], p[1], d[1], ceil))
    _check_out(x, outs)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 2)
    if input.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    _pool2d_out(input, k, s, p, d, ceil_mode)
    out, idx = _c.max_pool2d_op(input, k, s, p, d, ceil_mode)
    return out, idx.tensor()


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-d max pooling; with return_indices also the flat (H*W) argmax positions."""
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 2)
    if input.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    _pool2d_out(input, k, s, p, d, ceil_mode)
    out, idx = _c.max_pool2d_op(input, k, s, p, d, ceil_mode)
    return (out, idx.tensor()) if return_indices else out


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 1)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"max_pool1d() Expected 2D or 3D input tensor, but got "
                           f"{list(input.shape)}")
    x = input.unsqueeze(-2)
    _pool2d_out(x, (1,) + k, (1,) + s, (0,) + p, (1,) + d, ceil_mode)
    out, idx = _c.max_pool2d_op(x, (1,) + k, (1,) + s, (0,) + p, (1,) + d, ceil_mode)
    return out.squeeze(-2), idx.tensor().squeeze(-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-d max pooling over the last dim."""
    out, idx = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, idx) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-d average pooling."""
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, 2)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _pool2d_out(input, k, s, p, (1, 1), ceil_mode)
    return _c.avg_pool2d_op(input, k, s, p, ceil_mode, count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-d average pooling over the last dim."""
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, 1)
    x = input.unsqueeze(-2)
    out = _c.avg_pool2d_op(x, (1,) + k, (1,) + s, (0,) + p, ceil_mode, count_include_pad, None)
    return out.squeeze(-2)


def _adaptive_size(output_size, shape, nd):
    outs = output_size if isinstance(output_size, (list, tuple)) else (output_size,) * nd
    return tuple(shape[-nd + i] if o is None else int(o) for i, o in enumerate(outs))


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (torch's windows floor(i*n/o)..ceil)."""
    outs = _adaptive_size(output_size, input.shape, 2)
    if outs == (1, 1):
        return input.mean((-2, -1), keepdim=True)      # as torch: a MeanBackward1 node
    H, W = input.shape[-2:]
    return _c.sepmap(input, (_c.adaptive_matrix(H, outs[0]), _c.adaptive_matrix(W, outs[1])),
                     "AdaptiveAvgPool2DBackward0")


def adaptive_avg_pool1d(input, output_size):
    """Average pooling over the last dim to a fixed size."""
    o = _adaptive_size(output_size, input.shape, 1)
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1,) + o).squeeze(-2)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size."""
    outs = _adaptive_size(output_size, input.shape, 2)
    out, idx = _c.adaptive_max_pool2d_op(input, outs)
    return (out, idx) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling over the last dim to a fixed size."""
    o = _adaptive_size(output_size, input.shape, 1)
    out, idx = _c.adaptive_max_pool2d_op(input.unsqueeze(-2), (1,) + o)
    out, idx = out.squeeze(-2), idx.squeeze(-2)
    return (out, idx) if return_indices else out


# -- normalization -------------------------------------------------------------------------
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Batch normalization over all dims but the channel dim (1); in training, the running
    statistics are updated in place with `momentum` (the variance unbiased, as torch)."""
    return _n.batch_norm_op(input, running_mean, running_var, weight, bias, training,
                            momentum, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Normalization of each (sample, channel) plane over its spatial dims."""
    N, C = input.shape[:2]
    x = input.reshape(1, N * C, *input.shape[2:])
    rm = None if running_mean is None else running_mean.repeat(N)
    rv = None if running_var is None else running_var.repeat(N)
    w = None if weight is None else weight.repeat(N)
    b = None if bias is None else bias.repeat(N)
    y = _n.batch_norm_op(x, rm, rv, w, b, use_input_stats, momentum, eps)
    if use_input_stats and running_mean is not None:
        from ..._graph.grad_mode import no_grad
        with no_grad():
            running_mean.copy_(rm.reshape(N, C).mean(0))
            running_var.copy_(rv.reshape(N, C).mean(0))
    return y.view(input.shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalization over the last len(normalized_shape) dims."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    return _n.layer_norm_op(input, tuple(normalized_shape), weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalization over groups of channels (and all spatial dims)."""
    return _n.group_norm_op(input, num_groups, weight, bias, eps)


# -- padding -------------------------------------------------------------------------------
_PAD_NAMES = {"reflect": "ReflectionPad{}DBackward0", "replicate": "ReplicationPad{}DBackward0"}


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims; pad lists (left, right) pairs from the last dim."""
    pad = [int(v) for v in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if mode == "constant":
        return _c.constant_pad_op(input, pad, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    nd = len(pad) // 2
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if not (nd in (1, 2, 3) and input.ndim in (nd + 1, nd + 2)):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    dims = list(range(input.ndim - nd, input.ndim))   # in order: [.., H, W]
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(nd)][::-1]
    if mode == "circular":
        return _pad_circular(input, pairs)
    mats = []
    for ax, (lo, hi) in zip(dims, pairs):
        n = input.shape[ax]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) "
                               f"at dimension {ax} of input {list(input.shape)}")
        mats.append(_c.pad_matrix(n, lo, hi, mode))
    return _c.sepmap(input, mats, _PAD_NAMES[mode].format(nd))


def _pad_circular(x, pairs):
    """torch's circular padding: copy x into the middle, then wrap slices around (so the
    result's node is CopySlices, as in torch)."""
    from ..._creation import zeros
    nd = len(pairs)
    lead = tuple(x.shape[:-nd])
    sizes = tuple(x.shape[-nd:])
    new = tuple(n + lo + hi for n, (lo, hi) in zip(sizes, pairs))
    for n, (lo, hi) in zip(sizes, pairs):
        if lo > n or hi > n:
            raise RuntimeError("Padding value causes wrapping around more than once.")
    out = zeros(lead + new, dtype=x.dtype)
    mid = (Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(sizes, pairs))
    out[mid] = x
    for i in range(nd - 1, -1, -1):
        lo, hi = pairs[i]
        n_out = new[i]
        # index along dim i counted from the end: dims after it are full slices
        tail = (slice(None),) * (nd - 1 - i)
        if lo > 0:
            out[(Ellipsis, slice(0, lo)) + tail] = \
                out[(Ellipsis, slice(n_out - hi - lo, n_out - hi)) + tail]
        if hi > 0:
            out[(Ellipsis, slice(n_out - hi, n_out)) + tail] = \
                out[(Ellipsis, slice(lo, lo + hi)) + tail]
    return out


# -- interpolation, unfold/fold, pixel shuffle ---------------------------------------------
_INTERP = {("nearest", 1): "UpsampleNearest1DBackward0", ("nearest", 2):
           "UpsampleNearest2DBackward0", ("nearest", 3): "UpsampleNearest3DBackward0",
           ("nearest-exact", 1): "UpsampleNearestExact1DBackward0",
           ("nearest-exact", 2): "UpsampleNearestExact2DBackward0",
           ("nearest-exact", 3): "UpsampleNearestExact3DBackward0",
           ("linear", 1): "UpsampleLinear1DBackward0", ("bilinear", 2):
           "UpsampleBilinear2DBackward0", ("trilinear", 3): "UpsampleTrilinear3DBackward0",
           ("bicubic", 2): "UpsampleBicubic2DBackward0"}
_INTERP_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims: nearest, nearest-exact, area, linear (3-D), bilinear and
    bicubic (4-D), trilinear (5-D); each a separable map with one matrix per dim."""
    nd = input.ndim - 2
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(f"Input and output must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(input.shape[2:])} and output size of {size}. Please "
                                 "provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 "output size in (o1, o2, ...,oK) format.")
            if not all(isinstance(v, numbers.Integral) for v in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, "
                                "int] or Tuple[int, int, int], but got size with types "
                                f"{[type(v) for v in size]}")
        outs = _tuple(size, nd)
        scales = (None,) * nd
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(f"Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(input.shape[2:])} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, "
                                 "d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) "
                                 "format.")
            sf = tuple(float(v) for v in scale_factor)
        else:
            sf = (float(scale_factor),) * nd
        outs = tuple(int(math.floor(n * f)) for n, f in zip(input.shape[2:], sf))
        scales = (None,) * nd if recompute_scale_factor else sf
    else:
        raise ValueError("either size or scale_factor should be defined")
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    name = _INTERP.get((mode, nd))
    if name is None:
        pool = globals().get(f"adaptive_avg_pool{nd}d") if mode == "area" else None
        if pool is not None:
            return pool(input, outs)
        want = _INTERP_DIMS.get(mode)
        if want is not None and 1 <= nd <= 3:
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                      f"{want + 2}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact (got {mode})")
    if antialias:
        name = name.replace("2DBackward0", "2DAaBackward0")
    if min(outs) <= 0 or min(input.shape[2:]) <= 0:
        dims = "DHW"[3 - nd:]
        ins = ", ".join(f"{d}: {n}" for d, n in zip(dims, input.shape[2:]))
        got = ", ".join(f"{d}: {n}" for d, n in zip(dims, outs))
        sep = " and" if nd == 1 else ""
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({ins}){sep} output ({got})")
    mats = []
    for n, o, sc in zip(input.shape[2:], outs, scales):
        sc = None if align_corners else sc
        if mode.startswith("nearest"):
            mats.append(_c.nearest_matrix(n, o, sc, mode == "nearest-exact"))
        elif antialias:
            mats.append(_c.antialias_matrix(n, o, sc, align_corners, mode == "bicubic"))
        elif mode == "bicubic":
            mats.append(_c.cubic_matrix(n, o, sc, align_corners))
        else:
            mats.append(_c.linear_matrix(n, o, sc, align_corners))
    return _c.sepmap(input, mats, name)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def _fold_args(kernel_size, dilation, padding, stride):
    k, d, p, s = (_tuple(v, 2) for v in (kernel_size, dilation, padding, stride))
    return k, d, tuple((v, v) for v in p), s


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of (N, C, H, W) as columns: (N, C*kh*kw, L)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                           f"{input.ndim}D)")
    k, d, p, s = _fold_args(kernel_size, dilation, padding, stride)
    return _c.UNFOLD.f(input, (k, d, p, s, tuple(input.shape[-2:])))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns (N, C*kh*kw, L) back into (N, C, H, W): the adjoint of unfold."""
    k, d, p, s = _fold_args(kernel_size, dilation, padding, stride)
    size = _tuple(output_size, 2)
    CK = input.shape[-2]
    if CK % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={CK} and "
                           f"kernel_size={k}.")
    blocks = [(n + 2 * pi - di * (ki - 1) - 1) // si + 1
              for n, ki, di, (pi, _), si in zip(size, k, d, p, s)]
    L = blocks[0] * blocks[1]
    if input.shape[-1] != L:
        raise RuntimeError(f"Given output_size={size}, kernel_size={k}, dilation={d}, "
                           f"padding={tuple(v for v, _ in p)}, stride={s}, expected size of "
                           f"input's dimension 2 to match the calculated number of sliding "
                           f"blocks {blocks[0]} * {blocks[1]} = {L}, but got "
                           f"input.size(2)={input.shape[-1]}.")
    return _c.UNFOLD.a(input, (k, d, p, s, size))


def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    C = input.shape[-3]
    if C % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={C} "
                           f"is not divisible by {r * r}")
    return _c.SHUFFLE.f(input, r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    r = int(downscale_factor)
    H, W = input.shape[-2:]
    if H % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={H} is not divisible by {r}")
    if W % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by "
                           f"downscale_factor, but input.size(-1)={W} is not divisible by {r}")
    return _c.SHUFFLE.a(input, r)
