"""Checkpoints: `lightgrad.save` / `lightgrad.load`, safe by design (no code runs on load).

`save` writes torch's own zip format (the layout torch.save writes; see _torch_zip.py), so
real torch loads lightgrad's checkpoints with `torch.load(f)` (weights_only=True, its
default) and lightgrad loads torch's. Tensors that view one storage are saved as views of
one storage and load as views again, in both libraries; the same tensor saved twice loads as
one object. What can be saved: tensors (Parameters too), numbers, strings, bytes, None,
bools, dtypes, torch.Size, devices, and lists, tuples, dicts, OrderedDicts (a state_dict's
`_metadata` too) and sets of them; anything else raises TypeError naming its type.

`load` reads those zip files through an allowlist unpickler that runs no code the file names
(with weights_only=False too), and lightgrad's older format (JSON header plus raw bytes;
see _native.py). A corrupt, truncated or crafted file raises `CheckpointError` (a
RuntimeError and a pickle.UnpicklingError) or pickle.UnpicklingError before anything is
returned, so a file that cannot be read never half-fills a model.

safetensors
-----------
`save_safetensors(tensors, path)` / `load_safetensors(path)` exchange flat dicts of tensors
through the optional `safetensors` package (its NumPy API; `pip install lightgrad[safetensors]`).
"""
import io
import os

import numpy as np

from .._backend import array_module, device
from .._creation import from_numpy
from .._dtype import from_numpy_dtype
from .._tensor import Tensor
from ._common import CheckpointError
from ._native import MAGIC, load_native
from ._torch_zip import load_torch_zip, save_torch_zip

__all__ = ["save", "load", "save_safetensors", "load_safetensors", "CheckpointError"]


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Write `obj` (tensors, numbers, strings, None, bools, dtypes, Size and nested
    lists/tuples/dicts of them) to `f`, a path or a binary file object, in torch's zip
    format: `torch.load` reads it. (pickle_module and pickle_protocol are accepted and
    ignored: the pickle is always lightgrad's own protocol-2 writer.)

    >>> import io, lightgrad as torch
    >>> buf = io.BytesIO(); torch.save({"w": torch.ones(2)}, buf); _ = buf.seek(0)
    >>> torch.load(buf)["w"]
    tensor([1., 1.])
    """
    if not _use_new_zipfile_serialization:
        raise ValueError("lightgrad.save writes torch's zip format only "
                         "(_use_new_zipfile_serialization=False is not supported)")
    write = save_torch_zip(obj)        # raises before anything is written
    if isinstance(f, (str, os.PathLike)):
        # torch names the archive's folder after the file: model.pt -> model/
        archive = os.path.splitext(os.path.basename(os.fspath(f)))[0] or "archive"
        with open(f, "wb") as out:
            write(out, archive)
    else:
        write(f)


def _check_map_location(map_location):
    if map_location is None or callable(map_location):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        d = device(target)
        if d.type != "cpu":
            array_module(d)     # raises lightgrad's "no backend for this device" error


def _apply_map_location(obj, fn, seen):
    if isinstance(obj, Tensor):
        if id(obj) not in seen:
            r = fn(obj, "cpu")
            seen[id(obj)] = obj if r is None else r
        return seen[id(obj)]
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _apply_map_location(obj[k], fn, seen)
        return obj
    if isinstance(obj, list):
        obj[:] = [_apply_map_location(v, fn, seen) for v in obj]
        return obj
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return type(obj)(_apply_map_location(v, fn, seen) for v in obj)
    return obj


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Read a checkpoint written by `lightgrad.save`, or a torch.save zip file.

    No code from the file ever runs: lightgrad files are JSON plus raw bytes, and torch
    files go through an allowlist unpickler (see the module docstring). `map_location`
    may be None, "cpu", a device, a dict of them, or a callable `(tensor, "cpu") -> tensor`.
    """
    if pickle_module is not None and weights_only:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    _check_map_location(map_location)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            obj = _load_file(fh)
    else:
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())
        obj = _load_file(f)
    if callable(map_location):
        obj = _apply_map_location(obj, map_location, {})
    return obj


def _load_file(f):
    start = f.tell()
    head = f.read(8)
    f.seek(start)
    if head == MAGIC:
        return load_native(f)
    if head[:4] == b"PK\x03\x04":
        return load_torch_zip(f)
    if not head:
        raise CheckpointError("lightgrad.load: the file is empty")
    kind = "a pickle (or torch's legacy pre-1.6 format)" if head[:1] == b"\x80" else \
        f"not a lightgrad checkpoint or a torch zip checkpoint (it starts with {head!r})"
    raise CheckpointError(f"lightgrad.load: this is {kind}; lightgrad never unpickles "
                          "arbitrary data. Re-save it with torch.save (zip format) or "
                          "lightgrad.save")


# -- safetensors ----------------------------------------------------------------------------
def _safetensors_numpy():
    try:
        import safetensors.numpy as stn
    except ImportError:
        raise ImportError("safetensors support needs the optional 'safetensors' package: "
                          "pip install lightgrad[safetensors]") from None
    return stn


def save_safetensors(tensors, path, metadata=None):
    """Write a flat {name: tensor} dict to a .safetensors file."""
    stn = _safetensors_numpy()
    arrays = {}
    for k, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"save_safetensors: value for {k!r} is a {type(t).__name__}, "
                            "not a Tensor")
        arrays[k] = np.ascontiguousarray(t.detach().numpy())
    stn.save_file(arrays, os.fspath(path), metadata=metadata)


def load_safetensors(path):
    """Read a .safetensors file into a {name: tensor} dict."""
    stn = _safetensors_numpy()
    out = {}
    for k, a in stn.load_file(os.fspath(path)).items():
        from_numpy_dtype(a.dtype)       # raises for dtypes lightgrad lacks
        out[k] = from_numpy(np.require(a, requirements=["C", "W"]))
    return out
