"""default_collate (a list of samples -> one batch) and default_convert (one sample)."""
import collections.abc
import copy
import numbers

import numpy as np

__all__ = ["default_collate", "default_convert"]

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _numeric_array(a):
    # string and object arrays have no tensor dtype
    return a.dtype.kind not in "SaUO"


def default_convert(data):
    """NumPy arrays and scalars inside `data` become tensors; containers keep their shape."""
    import lightgrad
    if isinstance(data, lightgrad.Tensor):
        return data
    if isinstance(data, np.ndarray):
        return lightgrad.as_tensor(data) if _numeric_array(data) else data
    if isinstance(data, (np.number, np.bool_)):
        return lightgrad.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                out = copy.copy(data)
                out.update({k: default_convert(v) for k, v in data.items()})
                return out
            return type(data)({k: default_convert(v) for k, v in data.items()})
        except TypeError:
            return {k: default_convert(v) for k, v in data.items()}
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                out = copy.copy(data)
                for i, d in enumerate(data):
                    out[i] = default_convert(d)
                return out
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def default_collate(batch):
    """Stack a list of samples into a batch, recursively, as torch's default_collate does.

    Tensors and NumPy arrays are stacked along a new first dimension; Python floats become a
    float64 tensor, ints an int64 tensor; strings stay a sequence; dicts, namedtuples, tuples
    and lists are collated field by field (tuples come back as lists).

    >>> b = default_collate([(1, 2.0, "a"), (3, 4.0, "b")])
    >>> b[0].tolist(), b[1].dtype, b[2]
    ([1, 3], lightgrad.float64, ('a', 'b'))
    """
    import lightgrad
    elem = batch[0]
    if isinstance(elem, lightgrad.Tensor):
        return lightgrad.stack(list(batch), 0)
    if isinstance(elem, np.ndarray) or (isinstance(elem, np.generic)
                                        and not isinstance(elem, (np.str_, np.bytes_))):
        if isinstance(elem, np.ndarray) and not _numeric_array(elem):
            raise TypeError(_ERR.format(elem.dtype))
        if isinstance(elem, np.ndarray):
            return lightgrad.stack([lightgrad.as_tensor(b) for b in batch], 0)
        return lightgrad.as_tensor(np.array(batch))
    if isinstance(elem, float):
        return lightgrad.tensor(batch, dtype=lightgrad.float64)
    if isinstance(elem, (bool, int)):
        return lightgrad.tensor(batch)
    if isinstance(elem, numbers.Number) and not isinstance(elem, complex):
        return lightgrad.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        fields = {k: default_collate([d[k] for d in batch]) for k in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                out = copy.copy(elem)
                out.update(fields)
                return out
            return type(elem)(fields)
        except TypeError:
            return fields
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                out = copy.copy(elem)
                for i, c in enumerate(columns):
                    out[i] = c
                return out
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(_ERR.format(type(elem)))
