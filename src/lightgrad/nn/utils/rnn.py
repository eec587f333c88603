"""torch.nn.utils.rnn: padding and packing of variable-length sequences.

A PackedSequence stores the time steps one after another, each holding the batch rows still
running at that step (`batch_sizes[t]` of them, sequences sorted by decreasing length). Every
conversion here is ONE gather (`index_select` with a precomputed index, plus a padding row
where padding is needed), so its gradient is one scatter-add whatever the number of steps.
"""
from collections import namedtuple

import numpy as np

import lightgrad as _lg

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence_",
                                 ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def _index(a):
    return _lg.tensor(np.asarray(a, dtype=np.int64))


class PackedSequence(_PackedSequenceBase):
    """Data and batch sizes of a packed batch of variable-length sequences."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            # PackedSequence(data_and_batch_sizes_tuple) form
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _map_data(self, fn):
        return type(self)(fn(self.data), self.batch_sizes, self.sorted_indices,
                          self.unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._map_data(lambda _: data)

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=_lg.float64)

    def float(self):
        return self.to(dtype=_lg.float32)

    def half(self):
        return self.to(dtype=_lg.float16)

    def long(self):
        return self.to(dtype=_lg.int64)

    def int(self):
        return self.to(dtype=_lg.int32)

    def short(self):
        return self.to(dtype=_lg.int16)

    def char(self):
        return self.to(dtype=_lg.int8)

    def byte(self):
        return self.to(dtype=_lg.uint8)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    p = np.asarray(permutation._data, dtype=np.int64)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=np.int64)
    return _index(inv)


def _lengths_array(lengths):
    if isinstance(lengths, _lg.Tensor):
        if lengths.dim() != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                               f"{lengths.dim()}D {lengths.device.type} "
                               f"{str(lengths.dtype).replace('torch.', '')} tensor")
        return np.asarray(lengths._data, dtype=np.int64)
    return np.asarray([int(v) for v in lengths], dtype=np.int64)


def _batch_sizes(sorted_lengths):
    """batch_sizes[t] = number of sequences longer than t (lengths sorted decreasing)."""
    T = int(sorted_lengths[0]) if sorted_lengths.size else 0
    return (sorted_lengths[None, :] > np.arange(T)[:, None]).sum(1).astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded (T, B, *) batch (or (B, T, *) with batch_first) of sequences."""
    lens = _lengths_array(lengths)
    if enforce_sorted:
        if np.any(lens[1:] > lens[:-1]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        order = None
    else:
        # stable descending sort, as torch.sort(descending=True) gives
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
    if lens.size and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    B = lens.size
    T = input.shape[1] if batch_first else input.shape[0]
    if B and lens[0] > T:
        raise RuntimeError(f"Expected sequence length to be at most {T}, but got "
                           f"{int(lens[0])} with batch size {B}")
    bsz = _batch_sizes(lens)
    rows = np.arange(B) if order is None else order
    # flat position of (t, sorted row b) in the padded input seen as (T*B, *) or (B*T, *)
    idx = np.concatenate([(rows[:n] * T + t) if batch_first else (t * B + rows[:n])
                          for t, n in enumerate(bsz)]) if bsz.size else np.zeros(0, np.int64)
    flat = input.reshape((-1,) + tuple(input.shape[2:]))
    data = flat.index_select(0, _index(idx))
    sorted_indices = None if order is None else _index(order)
    return PackedSequence(data, _index(bsz), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpack a PackedSequence into a padded batch; returns (padded, lengths)."""
    data, bsz_t, _, unsorted = sequence
    bsz = np.asarray(bsz_t._data, dtype=np.int64)
    T_max = bsz.size
    B = int(bsz[0]) if T_max else 0
    if total_length is not None:
        if total_length < T_max:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} "
                             f"and max sequence length being {T_max}")
        T = total_length
    else:
        T = T_max
    lens = (bsz[None, :] > np.arange(B)[:, None]).sum(1)          # sorted order
    offsets = np.concatenate([[0], np.cumsum(bsz)[:-1]]).astype(np.int64)
    N = data.shape[0]
    pos = np.arange(B) if unsorted is None else np.asarray(unsorted._data, dtype=np.int64)
    # idx[t, b] = packed row of original sequence b at step t, or N (the padding row)
    idx = np.full((T, B), N, dtype=np.int64)
    for t in range(T_max):
        live = pos < bsz[t]
        idx[t, live] = offsets[t] + pos[live]
    if batch_first:
        idx = idx.T
    pad_row = _lg.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    ext = _lg.cat([data, pad_row])
    out = ext.index_select(0, _index(idx.reshape(-1)))
    out = out.reshape(idx.shape + tuple(data.shape[1:]))
    return out, _index(lens[pos])


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shape (L_i, *) into (T, B, *) (or (B, T, *)), padding the ends."""
    if isinstance(sequences, _lg.Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    lens = np.asarray([s.shape[0] for s in sequences], dtype=np.int64)
    B, T = lens.size, int(lens.max())
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    N = int(lens.sum())
    idx = np.full((T, B), N, dtype=np.int64)
    for b in range(B):
        n = lens[b]
        t0 = 0 if padding_side == "right" else T - n
        idx[t0:t0 + n, b] = starts[b] + np.arange(n)
    if batch_first:
        idx = idx.T
    trail = tuple(sequences[0].shape[1:])
    dtype = sequences[0].dtype
    pad_row = _lg.full((1,) + trail, padding_value, dtype=dtype)
    ext = _lg.cat(sequences + [pad_row])
    return ext.index_select(0, _index(idx.reshape(-1))).reshape(idx.shape + trail)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of its unpadded sequences."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lens = _lengths_array(lengths)
    return [padded_sequences[b, :int(n)] for b, n in enumerate(lens)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors of shape (L_i, *) (sorted by decreasing length by default)."""
    lengths = _index([s.shape[0] for s in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of tensors a PackedSequence holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
