"""Attention: scaled_dot_product_attention and multi_head_attention_forward.

Both are composites of lightgrad ops (batched matmul, softmax, masked_fill), so gradients of
any order come from the core rules. Masks follow torch: for scaled_dot_product_attention a
boolean mask marks the positions that TAKE PART; for multi_head_attention_forward a boolean
attn_mask / key_padding_mask marks the positions that are MASKED OUT.
"""
import math
import warnings

import lightgrad as _lg

from .basic import dropout

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_NEG_INF = float("-inf")


def _dropout(x, p, training=True):
    return x if p == 0.0 or not training else dropout(x, p, True)


def _float_mask(mask, dtype, invert):
    """A boolean mask as an additive float mask of 0 / -inf (`invert`: True means masked)."""
    if mask.dtype == _lg.bool:
        blocked = mask if invert else mask.logical_not()
        return _lg.zeros(mask.shape, dtype=dtype).masked_fill(blocked, _NEG_INF)
    return mask


def _softmax_safe(scores):
    """softmax over the last dim; rows masked entirely (all -inf) give 0, as torch's math
    backend does, instead of NaN (and a zero gradient)."""
    with _lg.no_grad():
        dead = _lg.isneginf(scores).all(-1, keepdim=True)
        any_dead = bool(dead.any())
    if not any_dead:
        return _lg.softmax(scores, -1)
    # NOTE: zero the dead rows before softmax too, so their backward never meets NaN.
    return _lg.softmax(scores.masked_fill(dead, 0.0), -1).masked_fill(dead, 0.0)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q K^T * scale + mask) V over the last two dims, with optional dropout.

    >>> import lightgrad as torch
    >>> q = torch.ones(1, 2, 4)
    >>> tuple(torch.nn.functional.scaled_dot_product_attention(q, q, q).shape)
    (1, 2, 4)
    """
    L, S = query.shape[-2], key.shape[-2]
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                           "set when is_causal=True")
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(rep, dim=-3)
        value = value.repeat_interleave(rep, dim=-3)
    scores = _lg.matmul(query, key.transpose(-2, -1)) * scale
    masked = False
    if is_causal:
        allowed = _lg.ones(L, S, dtype=_lg.bool).tril()
        scores = scores.masked_fill(allowed.logical_not(), _NEG_INF)
        masked = True
    elif attn_mask is not None:
        if attn_mask.dtype == _lg.bool:
            scores = scores.masked_fill(attn_mask.logical_not(), _NEG_INF)
        else:
            scores = scores + attn_mask
        masked = True
    weights = _softmax_safe(scores) if masked else _lg.softmax(scores, -1)
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p)
    return _lg.matmul(weights, value)


def _in_projection(query, key, value, w, b, dims):
    """q, k, v projections; one matmul when q, k, v are the same tensor (self-attention)."""
    E = dims
    if key is value and query is key:
        proj = _lg.matmul(query, w.t())
        if b is not None:
            proj = proj + b
        return proj.chunk(3, -1)
    if key is value:
        wq, wkv = w.split([E, 2 * E])
        bq, bkv = b.split([E, 2 * E]) if b is not None else (None, None)
        q = _linear(query, wq, bq)
        k, v = _linear(key, wkv, bkv).chunk(2, -1)
        return q, k, v
    ws = w.chunk(3)
    bs = b.chunk(3) if b is not None else (None, None, None)
    return (_linear(query, ws[0], bs[0]), _linear(key, ws[1], bs[1]),
            _linear(value, ws[2], bs[2]))


def _linear(x, w, b):
    y = _lg.matmul(x, w.t())
    return y if b is None else y + b


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """torch.nn.functional.multi_head_attention_forward over (L, N, E) inputs (or unbatched
    (L, E)); returns (attn_output, attn_weights or None)."""
    batched = query.dim() == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = query.shape
    if E != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, "
                             f"but got {E}")
    head_dim = E // num_heads
    if head_dim * num_heads != E:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {num_heads}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    dtype = query.dtype
    if (key_padding_mask is not None and attn_mask is not None
            and (key_padding_mask.dtype == _lg.bool) != (attn_mask.dtype == _lg.bool)):
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. "
                      "Use same type for both instead.", stacklevel=3)
    if key_padding_mask is not None:
        key_padding_mask = _float_mask(key_padding_mask, dtype, invert=True)
    if attn_mask is not None:
        attn_mask = _float_mask(attn_mask, dtype, invert=True)

    if not use_separate_proj_weight:
        q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, E)
    else:
        bs = in_proj_bias.chunk(3) if in_proj_bias is not None else (None, None, None)
        q = _linear(query, q_proj_weight, bs[0])
        k = _linear(key, k_proj_weight, bs[1])
        v = _linear(value, v_proj_weight, bs[2])

    if attn_mask is not None and attn_mask.dim() == 2:
        attn_mask = attn_mask.unsqueeze(0)
    if bias_k is not None and bias_v is not None:
        k = _lg.cat([k, bias_k.reshape(1, 1, E).expand(1, N, E)])
        v = _lg.cat([v, bias_v.reshape(1, 1, E).expand(1, N, E)])
        if attn_mask is not None:
            attn_mask = _lg.cat([attn_mask, _lg.zeros(attn_mask.shape[:-1] + (1,),
                                                      dtype=attn_mask.dtype)], -1)
        if key_padding_mask is not None:
            key_padding_mask = _lg.cat([key_padding_mask, _lg.zeros(
                key_padding_mask.shape[:-1] + (1,), dtype=key_padding_mask.dtype)], -1)

    # (L, N, E) -> (N * H, L, head_dim)
    q = q.reshape(L, N * num_heads, head_dim).transpose(0, 1)
    k = (static_k if static_k is not None else
         k.reshape(k.shape[0], N * num_heads, head_dim).transpose(0, 1))
    v = (static_v if static_v is not None else
         v.reshape(v.shape[0], N * num_heads, head_dim).transpose(0, 1))
    if add_zero_attn:
        k = _lg.cat([k, _lg.zeros(N * num_heads, 1, head_dim, dtype=k.dtype)], 1)
        v = _lg.cat([v, _lg.zeros(N * num_heads, 1, head_dim, dtype=v.dtype)], 1)
        if attn_mask is not None:
            attn_mask = _lg.cat([attn_mask, _lg.zeros(attn_mask.shape[:-1] + (1,),
                                                      dtype=attn_mask.dtype)], -1)
        if key_padding_mask is not None:
            key_padding_mask = _lg.cat([key_padding_mask, _lg.zeros(
                key_padding_mask.shape[:-1] + (1,), dtype=key_padding_mask.dtype)], -1)
    S = k.shape[1]

    if key_padding_mask is not None:
        kpm = key_padding_mask.reshape(N, 1, 1, S).expand(N, num_heads, 1, S)
        kpm = kpm.reshape(N * num_heads, 1, S)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    scores = _lg.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(head_dim))
    if attn_mask is not None:
        scores = scores + attn_mask
    if need_weights:
        weights = _lg.softmax(scores, -1)
    else:
        weights = _softmax_safe(scores) if attn_mask is not None else _lg.softmax(scores, -1)
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p)
    out = _lg.matmul(weights, v)                       # (N * H, L, head_dim)
    out = out.transpose(0, 1).reshape(L * N, E)
    out = _linear(out, out_proj_weight, out_proj_bias).reshape(L, N, E)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = weights.reshape(N, num_heads, L, S)
    if average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        weights = weights.squeeze(0)
    return out, weights
