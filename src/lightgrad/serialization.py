"""Checkpoints: `lightgrad.save` / `lightgrad.load`, safe by design (no code runs on load).

lightgrad's own format
----------------------
One file, all integers little-endian::

    bytes 0..8     magic  b"\\x93LGCKPT\\n"
    bytes 8..16    uint64 H, the length of the header
    bytes 16..16+H the header: UTF-8 JSON (strict: no NaN/Infinity tokens)
    zero padding up to a multiple of 64, where the data section starts
    data section   the storages' raw bytes, little-endian, each starting at a multiple of 64

The header is an object::

    {"format": "lightgrad", "version": 1,
     "storages": [[offset, nbytes], ...],          # byte ranges in the data section
     "tensors": [{"storage": i, "offset": bytes, "dtype": "float32", "shape": [2, 3],
                  "stride": [3, 1], "requires_grad": false, "parameter": false}, ...],
     "object": VALUE}

`stride` counts elements, `offset` bytes from the start of the storage. Tensors that are
views of one array share one storage (as in torch), so views and shared weights load as
views again; the same Tensor object saved twice loads as one object. A VALUE is JSON null,
true/false, an integer, a finite float, a string, or a tagged object `{"$": TAG, "v": ...}`:
`list`, `tuple` (arrays of VALUEs), `dict` and `odict` (arrays of [key VALUE, VALUE] pairs, so
keys keep their types; an `odict` may carry "meta", its `_metadata` attribute), `float`
("nan", "inf", "-inf"), `complex` ([re, im] VALUEs), `tensor` (an index into "tensors"),
`dtype` (a name), `size` (torch.Size as an array of ints) and `device` (a string).

Loading parses JSON and copies bytes: it never imports, calls or unpickles anything the file
names. Every index, offset, shape and stride is checked against the file, so a crafted or
truncated file raises `CheckpointError` (a RuntimeError and a pickle.UnpicklingError).

Files written by torch.save
---------------------------
`load` also reads torch's zip format (`<archive>/data.pkl`, `<archive>/data/<key>` storages,
`<archive>/byteorder`) without torch. The pickle is read by a restricted unpickler: only an
allowlist of globals resolves (torch's tensor/parameter rebuild functions, storage types,
dtypes, torch.Size, torch.device, collections.OrderedDict, set/frozenset), each mapped to a
lightgrad function that validates its arguments; BUILD is allowed only on OrderedDict (its
`_metadata`). Anything else raises `pickle.UnpicklingError` naming the refused global, like
torch's `weights_only=True`. lightgrad has no bfloat16 and no unsigned types beyond uint8:
such tensors raise a clear error.

safetensors
-----------
`save_safetensors(tensors, path)` / `load_safetensors(path)` exchange flat dicts of tensors
through the optional `safetensors` package (its NumPy API; `pip install lightgrad[safetensors]`).
"""
import _compat_pickle
import collections
import io
import json
import math
import os
import pickle
import struct
import sys
import zipfile

import numpy as np

__all__ = ["save", "load", "save_safetensors", "load_safetensors", "CheckpointError"]

MAGIC = b"\x93LGCKPT\n"
VERSION = 1
ALIGN = 64
_MAX_DEPTH = 500


class CheckpointError(pickle.UnpicklingError, RuntimeError):
    """A checkpoint that lightgrad refuses to load: corrupt, crafted or unsupported."""


def _dtypes():
    from . import _dtype
    return {d.name: d for d in _dtype._ALL}


def _is_parameter(t):
    nn = sys.modules.get(__package__ + ".nn")      # no nn imported: no Parameter exists
    return nn is not None and isinstance(t, nn.Parameter)


def _make_parameter(t, requires_grad):
    from .nn import Parameter
    return Parameter(t, requires_grad=requires_grad)


# -- saving -------------------------------------------------------------------------------
def _root(arr):
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _byte_span(arr):
    """[lo, hi) bytes that `arr` touches, as absolute addresses."""
    ptr = arr.__array_interface__["data"][0]
    if arr.size == 0:
        return ptr, ptr
    lo = ptr + sum(min(0, (n - 1) * s) for n, s in zip(arr.shape, arr.strides))
    hi = ptr + sum(max(0, (n - 1) * s) for n, s in zip(arr.shape, arr.strides)) + arr.itemsize
    return lo, hi


class _Writer:
    def __init__(self):
        self.tensors = []           # Tensor objects, in header order
        self.tensor_ids = {}        # id(Tensor) -> index
        self.active = set()         # containers being encoded (to refuse cycles)

    def encode(self, obj, depth=0):
        from . import _dtype
        from ._backend import device
        from ._tensor import Size, Tensor
        if depth > _MAX_DEPTH:
            raise ValueError("lightgrad.save: object nesting is too deep")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, Tensor):
            k = self.tensor_ids.get(id(obj))
            if k is None:
                k = self.tensor_ids[id(obj)] = len(self.tensors)
                self.tensors.append(obj)
            return {"$": "tensor", "v": k}
        if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
            return int(obj)
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, (float, np.floating)):
            obj = float(obj)
            if math.isfinite(obj):
                return obj
            return {"$": "float", "v": "nan" if math.isnan(obj) else
                    ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, (complex, np.complexfloating)):
            return {"$": "complex", "v": [self.encode(obj.real), self.encode(obj.imag)]}
        if isinstance(obj, _dtype.dtype):
            return {"$": "dtype", "v": obj.name}
        if isinstance(obj, device):
            return {"$": "device", "v": str(obj)}
        if isinstance(obj, Size):
            return {"$": "size", "v": [int(s) for s in obj]}
        if isinstance(obj, (list, tuple, dict)):
            if id(obj) in self.active:
                raise ValueError("lightgrad.save: cannot save a container that contains itself")
            self.active.add(id(obj))
            try:
                if isinstance(obj, dict):
                    items = [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                             for k, v in obj.items()]
                    if isinstance(obj, collections.OrderedDict):
                        out = {"$": "odict", "v": items}
                        meta = getattr(obj, "_metadata", None)
                        if meta is not None:
                            out["meta"] = self.encode(meta, depth + 1)
                        return out
                    return {"$": "dict", "v": items}
                tag = "tuple" if isinstance(obj, tuple) else "list"
                return {"$": tag, "v": [self.encode(v, depth + 1) for v in obj]}
            finally:
                self.active.discard(id(obj))
        raise TypeError(f"lightgrad.save: cannot save an object of type {type(obj).__name__}; "
                        "checkpoints hold tensors, numbers, strings, None, bools, dtypes, "
                        "torch.Size, devices and lists/tuples/dicts of them")

    def storages(self):
        """Group tensors by the array they view; returns (storage arrays, tensor entries)."""
        groups = {}                 # id(root) -> [root, [tensor indices]]
        own = []                    # tensors that get a storage of their own
        for k, t in enumerate(self.tensors):
            a = t._data
            root = _root(a)
            shareable = (sys.byteorder == "little" and root.flags.c_contiguous
                         and all(s % a.itemsize == 0 for s in a.strides))
            if shareable:
                groups.setdefault(id(root), [root, []])[1].append(k)
            else:
                own.append(k)
        blobs, entries = [], [None] * len(self.tensors)
        for root, members in groups.values():
            spans = [_byte_span(self.tensors[k]._data) for k in members]
            lo = min(s[0] for s in spans)
            hi = max(s[1] for s in spans)
            base = root.__array_interface__["data"][0]
            flat = np.ndarray((root.nbytes,), np.uint8, buffer=root) if root.nbytes else \
                np.zeros(0, np.uint8)
            blobs.append(flat[lo - base:hi - base])
            for k in members:
                a = self.tensors[k]._data
                entries[k] = self._entry(k, len(blobs) - 1, a.__array_interface__["data"][0]
                                         - lo, a.strides)
        for k in own:
            a = np.ascontiguousarray(self.tensors[k]._data)
            little = a.astype(a.dtype.newbyteorder("<"), copy=False)
            blobs.append(np.frombuffer(little.tobytes(), np.uint8))
            entries[k] = self._entry(k, len(blobs) - 1, 0, a.strides)
        return blobs, entries

    def _entry(self, k, storage, offset, byte_strides):
        t = self.tensors[k]
        a = t._data
        return {"storage": storage, "offset": int(offset), "dtype": t.dtype.name,
                "shape": list(a.shape), "stride": [s // a.itemsize for s in byte_strides],
                "requires_grad": bool(t.requires_grad), "parameter": _is_parameter(t)}


def _align(n):
    return -(-n // ALIGN) * ALIGN


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Write `obj` (tensors, numbers, strings, None, bools, dtypes, Size and nested
    lists/tuples/dicts of them) to `f`, a path or a binary file object.

    >>> import io, lightgrad as torch
    >>> buf = io.BytesIO(); torch.save({"w": torch.ones(2)}, buf); _ = buf.seek(0)
    >>> torch.load(buf)["w"]
    tensor([1., 1.])
    """
    w = _Writer()
    root = w.encode(obj)
    blobs, entries = w.storages()
    table, pos = [], 0
    for b in blobs:
        table.append([pos, int(b.nbytes)])
        pos = _align(pos + b.nbytes)
    header = {"format": "lightgrad", "version": VERSION, "storages": table, "tensors": entries,
              "object": root}
    head = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    start = _align(16 + len(head))

    def write(out):
        out.write(MAGIC + struct.pack("<Q", len(head)) + head)
        out.write(b"\0" * (start - 16 - len(head)))
        written = 0
        for (off, n), b in zip(table, blobs):
            out.write(b"\0" * (off - written))
            out.write(memoryview(np.ascontiguousarray(b)))
            written = off + n

    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as out:
            write(out)
    else:
        write(f)


# -- loading lightgrad files -----------------------------------------------------------------
def _fail(msg):
    raise CheckpointError(f"lightgrad.load: invalid checkpoint: {msg}")


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _view(buf, np_dtype, offset, shape, stride, what):
    """An ndarray over `buf` after checking that every element lies inside it."""
    if not (isinstance(shape, (list, tuple)) and all(_is_int(s) and s >= 0 for s in shape)):
        _fail(f"{what}: shape must be a list of non-negative ints, got {shape!r}")
    if not (isinstance(stride, (list, tuple)) and len(stride) == len(shape)
            and all(_is_int(s) for s in stride)):
        _fail(f"{what}: stride must be a list of {len(shape)} ints, got {stride!r}")
    if not _is_int(offset) or offset < 0:
        _fail(f"{what}: offset must be a non-negative int, got {offset!r}")
    item = np_dtype.itemsize
    if 0 not in shape:
        lo = offset + item * sum(min(0, (n - 1) * s) for n, s in zip(shape, stride))
        hi = offset + item * sum(max(0, (n - 1) * s) for n, s in zip(shape, stride)) + item
        if lo < 0 or hi > len(buf):
            _fail(f"{what}: shape {list(shape)}, stride {list(stride)} and offset {offset} "
                  f"reach bytes [{lo}, {hi}) outside its storage of {len(buf)} bytes")
        arr = np.ndarray(tuple(shape), np_dtype, buffer=buf, offset=offset,
                         strides=tuple(s * item for s in stride))
    else:   # no element is read; keep the saved strides (NumPy's own empty arrays drop them)
        arr = np.ndarray(tuple(shape), np_dtype, buffer=bytearray(0),
                         strides=tuple(s * item for s in stride))
    if not np_dtype.isnative:
        arr = arr.astype(np_dtype.newbyteorder("="))
    if arr.dtype == np.bool_ and arr.size and arr.view(np.uint8).max() > 1:
        _fail(f"{what}: bool tensor holds bytes other than 0 and 1")
    return arr


class _Reader:
    def __init__(self, header, storages):
        self.header = header
        self.storages = storages
        self.tensor_cache = {}

    def tensor(self, k):
        from . import from_numpy
        if not _is_int(k) or not 0 <= k < len(self.header["tensors"]):
            _fail(f"tensor index {k!r} out of range")
        if k in self.tensor_cache:
            return self.tensor_cache[k]
        e = self.header["tensors"][k]
        what = f"tensor {k}"
        if not isinstance(e, dict):
            _fail(f"{what} must be an object")
        keys = {"storage", "offset", "dtype", "shape", "stride", "requires_grad", "parameter"}
        if set(e) != keys:
            _fail(f"{what} must have exactly the keys {sorted(keys)}, got {sorted(e)}")
        d = _dtypes().get(e["dtype"]) if isinstance(e["dtype"], str) else None
        if d is None:
            _fail(f"{what}: unknown dtype {e['dtype']!r}")
        s = e["storage"]
        if not _is_int(s) or not 0 <= s < len(self.storages):
            _fail(f"{what}: storage index {s!r} out of range")
        if not isinstance(e["requires_grad"], bool) or not isinstance(e["parameter"], bool):
            _fail(f"{what}: requires_grad and parameter must be booleans")
        arr = _view(self.storages[s], d.np.newbyteorder("<"), e["offset"], e["shape"],
                    e["stride"], what)
        t = from_numpy(arr)
        if e["requires_grad"] and not d.is_floating_point:
            _fail(f"{what}: only floating point tensors can require gradients")
        if e["parameter"]:
            t = _make_parameter(t, e["requires_grad"])
        elif e["requires_grad"]:
            t.requires_grad_(True)
        self.tensor_cache[k] = t
        return t

    def decode(self, v, depth=0):
        if depth > _MAX_DEPTH:
            _fail("nesting is too deep")
        if v is None or isinstance(v, (bool, str, int, float)):
            return v
        if isinstance(v, list):
            _fail("untagged JSON array (containers are tagged objects)")
        if not isinstance(v, dict) or "$" not in v or "v" not in v \
                or not set(v) <= {"$", "v", "meta"} or ("meta" in v and v["$"] != "odict"):
            _fail(f"malformed value {_short(v)}")
        tag, x = v["$"], v["v"]
        if tag in ("list", "tuple"):
            if not isinstance(x, list):
                _fail(f"{tag} payload must be an array")
            items = [self.decode(i, depth + 1) for i in x]
            return items if tag == "list" else tuple(items)
        if tag in ("dict", "odict"):
            if not isinstance(x, list) or not all(isinstance(p, list) and len(p) == 2
                                                  for p in x):
                _fail(f"{tag} payload must be an array of [key, value] pairs")
            out = {} if tag == "dict" else collections.OrderedDict()
            for kv, vv in x:
                key = self.decode(kv, depth + 1)
                try:
                    hash(key)
                except TypeError:
                    _fail(f"unhashable dict key {_short(kv)}")
                out[key] = self.decode(vv, depth + 1)
            if "meta" in v:
                out._metadata = self.decode(v["meta"], depth + 1)
            return out
        if tag == "tensor":
            return self.tensor(x)
        if tag == "float":
            if x not in ("nan", "inf", "-inf"):
                _fail(f"bad float {x!r}")
            return float(x)
        if tag == "complex":
            if not isinstance(x, list) or len(x) != 2:
                _fail("complex payload must be [re, im]")
            re_, im_ = (self.decode(p, depth + 1) for p in x)
            if not all(isinstance(p, (int, float)) and not isinstance(p, bool)
                       for p in (re_, im_)):
                _fail("complex parts must be numbers")
            return complex(re_, im_)
        if tag == "dtype":
            d = _dtypes().get(x) if isinstance(x, str) else None
            if d is None:
                _fail(f"unknown dtype {x!r}")
            return d
        if tag == "size":
            from ._tensor import Size
            if not isinstance(x, list) or not all(_is_int(s) and s >= 0 for s in x):
                _fail("size payload must be an array of non-negative ints")
            return Size(x)
        if tag == "device":
            from ._backend import device
            if not isinstance(x, str):
                _fail("device payload must be a string")
            try:
                return device(x)
            except RuntimeError as e:
                _fail(str(e))
        _fail(f"unknown type tag {tag!r}")


def _short(v):
    s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


def _reject_constant(name):
    _fail(f"non-standard JSON constant {name}")


def _read_exact(f, n, what):
    data = f.read(n)
    if len(data) != n:
        _fail(f"file is truncated ({what}: wanted {n} bytes, got {len(data)})")
    return data


def _load_lightgrad(f):
    base = f.tell()             # the checkpoint may sit inside a larger stream
    _read_exact(f, len(MAGIC), "magic")
    (n,) = struct.unpack("<Q", _read_exact(f, 8, "header length"))
    here = f.tell()
    size = f.seek(0, io.SEEK_END)
    f.seek(here)
    size -= base
    if n > size - 16:
        _fail(f"header length {n} exceeds the file size {size}")
    raw = _read_exact(f, n, "header")
    try:
        header = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        _fail(f"header is not valid UTF-8 JSON ({e})")
    except RecursionError:
        _fail("header nesting is too deep")
    if not isinstance(header, dict):
        _fail("header must be a JSON object")
    want = {"format", "version", "storages", "tensors", "object"}
    if set(header) != want:
        _fail(f"header must have exactly the keys {sorted(want)}, got {sorted(header)}")
    if header["format"] != "lightgrad":
        _fail(f"unknown format {header['format']!r}")
    if header["version"] != VERSION:
        _fail(f"unsupported version {header['version']!r} (this lightgrad reads {VERSION})")
    if not isinstance(header["storages"], list) or not isinstance(header["tensors"], list):
        _fail("storages and tensors must be arrays")
    start = _align(16 + n)
    storages = []
    for i, s in enumerate(header["storages"]):
        if not (isinstance(s, list) and len(s) == 2 and all(_is_int(x) and x >= 0 for x in s)):
            _fail(f"storage {i} must be [offset, nbytes] with non-negative ints")
        off, nbytes = s
        if start + off + nbytes > size:
            _fail(f"storage {i} (bytes {off}..{off + nbytes} of the data section) lies beyond "
                  f"the end of the file ({size} bytes)")
        f.seek(base + start + off)
        buf = bytearray(nbytes)
        if f.readinto(buf) != nbytes:
            _fail(f"storage {i} is truncated")
        storages.append(buf)
    reader = _Reader(header, storages)
    try:
        return reader.decode(header["object"])
    except RecursionError:
        _fail("object nesting is too deep")


# -- loading files written by torch.save -------------------------------------------------------
_STORAGES = {"FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
             "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
             "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
             "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128"}
_TORCH_DTYPES = {"float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
                 "bool", "complex64", "complex128"}
_UNSUPPORTED = ("bfloat16", "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2",
                "float8_e4m3fnuz", "float8_e5m2fnuz", "complex32", "qint8", "quint8", "qint32")


class _StorageType:
    """What a torch storage class (torch.FloatStorage ...) resolves to: a dtype tag."""

    def __init__(self, name, dtype_name):
        self.name, self.dtype_name = name, dtype_name


class _TorchStorage:
    __slots__ = ("buf", "dtype_name", "order")

    def __init__(self, buf, dtype_name, order):
        self.buf, self.dtype_name, self.order = buf, dtype_name, order


def _unsupported_dtype(name):
    raise CheckpointError(f"lightgrad.load: this torch checkpoint holds a torch.{name} tensor, "
                          f"a dtype lightgrad does not have; convert it in torch first (e.g. "
                          f".float()) and save again")


def _check_hooks(hooks):
    if not isinstance(hooks, dict) or hooks:
        raise CheckpointError("lightgrad.load: tensors with backward hooks are not supported")


def _rebuild_from(storage, dtype_name, offset, size, stride, requires_grad, hooks):
    from . import from_numpy
    if not isinstance(storage, _TorchStorage):
        raise CheckpointError("lightgrad.load: a tensor's storage is not a storage")
    if not isinstance(requires_grad, bool):
        raise CheckpointError("lightgrad.load: requires_grad must be a bool")
    _check_hooks(hooks)
    d = _dtypes()[dtype_name]
    if not _is_int(offset):
        raise CheckpointError("lightgrad.load: storage offset must be an int")
    arr = _view(storage.buf, d.np.newbyteorder(storage.order), offset * d.itemsize,
                list(size) if isinstance(size, tuple) else size,
                list(stride) if isinstance(stride, tuple) else stride, "torch tensor")
    t = from_numpy(arr)
    if requires_grad:
        if not d.is_floating_point:
            raise CheckpointError("lightgrad.load: only floating point tensors can require "
                                  "gradients")
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    if not isinstance(storage, _TorchStorage) or storage.dtype_name is None:
        raise CheckpointError("lightgrad.load: _rebuild_tensor_v2 needs a typed storage")
    return _rebuild_from(storage, storage.dtype_name, storage_offset, size, stride,
                         requires_grad, backward_hooks)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    from . import _dtype
    if not isinstance(dtype, _dtype.dtype):
        raise CheckpointError("lightgrad.load: _rebuild_tensor_v3 needs a dtype")
    return _rebuild_from(storage, dtype.name, storage_offset, size, stride, requires_grad,
                         backward_hooks)


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    from ._tensor import Tensor
    if not isinstance(data, Tensor) or not isinstance(requires_grad, bool):
        raise CheckpointError("lightgrad.load: malformed parameter")
    _check_hooks(backward_hooks)
    if state:
        raise CheckpointError("lightgrad.load: parameters with extra state are not supported")
    return _make_parameter(data, requires_grad)


def _torch_size(dims=()):
    from ._tensor import Size
    dims = tuple(dims)
    if not all(_is_int(s) for s in dims):
        raise CheckpointError("lightgrad.load: torch.Size must hold ints")
    return Size(dims)


def _torch_device(kind, index=None):
    from ._backend import device
    if not isinstance(kind, str) or not (index is None or _is_int(index)):
        raise CheckpointError("lightgrad.load: malformed torch.device")
    return device(kind, index)


def _codecs_encode(s, encoding="utf-8"):
    # protocol-2 pickles spell bytes as _codecs.encode(str, 'latin1')
    if not isinstance(s, str) or encoding not in ("latin1", "latin-1"):
        raise CheckpointError("lightgrad.load: _codecs.encode is allowed only for latin1 bytes")
    return s.encode("latin1")


def _ordered_dict(*args):
    if args:
        raise CheckpointError("lightgrad.load: OrderedDict takes no arguments here")
    return collections.OrderedDict()


_SAFE_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch", "Size"): _torch_size,
    ("torch", "device"): _torch_device,
    ("_codecs", "encode"): _codecs_encode,
    ("builtins", "set"): set, ("builtins", "frozenset"): frozenset,
    ("torch.storage", "UntypedStorage"): _StorageType("UntypedStorage", None),
    ("torch", "UntypedStorage"): _StorageType("UntypedStorage", None),
}


def _refused(module, name):
    return pickle.UnpicklingError(
        "Weights only load failed: lightgrad.load reads only tensors, dtypes and plain "
        "containers from torch files and never runs code they name (also with "
        f"weights_only=False). Unsupported global: GLOBAL {module}.{name} was not an allowed "
        "global by default.")


class _TorchUnpickler(pickle._Unpickler):
    """The pure-Python unpickler with an allowlist of globals and a BUILD limited to dicts."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, zf, prefix, order):
        super().__init__(file, encoding="utf-8")
        self.zf, self.prefix, self.order = zf, prefix, order
        self.loaded = {}

    def find_class(self, module, name):
        if self.proto < 3 and self.fix_imports:     # Python 2 names, as pickle maps them
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if (module, name) in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[(module, name)]
        if module == "torch":
            if name in _STORAGES:
                return _StorageType(name, _STORAGES[name])
            if name in _TORCH_DTYPES:
                return _dtypes()[name]
            if name in _UNSUPPORTED or name.replace("Storage", "").lower() in _UNSUPPORTED:
                _unsupported_dtype(name.replace("Storage", "").lower()
                                   if name.endswith("Storage") else name)
        raise _refused(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and _is_int(pid[4]) and pid[4] >= 0):
            raise CheckpointError(f"lightgrad.load: malformed storage reference {_short(pid)}")
        _, stype, key, _location, numel = pid
        if key in self.loaded:
            st = self.loaded[key]
            if st.dtype_name != stype.dtype_name:
                raise CheckpointError(f"lightgrad.load: storage {key!r} is used with two dtypes")
            return st
        item = 1 if stype.dtype_name is None else _dtypes()[stype.dtype_name].itemsize
        name = f"{self.prefix}data/{key}"
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise CheckpointError(f"lightgrad.load: the archive has no storage {name!r}") \
                from None
        if info.file_size != numel * item:
            raise CheckpointError(f"lightgrad.load: storage {name!r} holds {info.file_size} "
                                  f"bytes, but its header says {numel * item}")
        st = self.loaded[key] = _TorchStorage(bytearray(self.zf.read(name)), stype.dtype_name,
                                              self.order)
        return st

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if not (type(inst) is collections.OrderedDict and isinstance(state, dict)
                and all(isinstance(k, str) for k in state)):
            raise pickle.UnpicklingError("Weights only load failed: lightgrad.load allows BUILD "
                                         "only on an OrderedDict (its _metadata)")
        for k, v in state.items():
            setattr(inst, k, v)

    dispatch[pickle.BUILD[0]] = load_build


def _load_torch_zip(f):
    try:
        zf = zipfile.ZipFile(f)
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise CheckpointError(f"lightgrad.load: not a readable zip archive ({e})") from None
    pkls = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pkls) != 1:
        raise CheckpointError("lightgrad.load: a torch zip checkpoint has exactly one "
                              f"<archive>/data.pkl; found {pkls}")
    prefix = pkls[0][:-len("data.pkl")]
    order = b"little"
    if prefix + "byteorder" in names:
        order = zf.read(prefix + "byteorder").strip()
        if order not in (b"little", b"big"):
            raise CheckpointError(f"lightgrad.load: unknown byteorder {order!r}")
    try:
        up = _TorchUnpickler(io.BytesIO(zf.read(pkls[0])), zf, prefix,
                             "<" if order == b"little" else ">")
        return up.load()
    except (pickle.UnpicklingError, CheckpointError):
        raise
    except zipfile.BadZipFile as e:
        raise CheckpointError(f"lightgrad.load: corrupt zip archive ({e})") from None
    except (EOFError, RecursionError, MemoryError) as e:
        raise pickle.UnpicklingError(f"lightgrad.load: corrupt data.pkl ({type(e).__name__}: "
                                     f"{e})") from None
    except Exception as e:
        raise pickle.UnpicklingError(f"Weights only load failed: lightgrad.load could not "
                                     f"rebuild data.pkl ({type(e).__name__}: {e})") from None


# -- load ---------------------------------------------------------------------------------
def _check_map_location(map_location):
    from ._backend import device
    if map_location is None or callable(map_location):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        d = device(target)
        if d.type != "cpu":
            from ._backend import array_module
            array_module(d)     # raises lightgrad's "no backend for this device" error


def _apply_map_location(obj, fn, seen):
    from ._tensor import Tensor
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
        return _load_lightgrad(f)
    if head[:4] == b"PK\x03\x04":
        return _load_torch_zip(f)
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
    from ._tensor import Tensor
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
    from . import from_numpy
    stn = _safetensors_numpy()
    out = {}
    for k, a in stn.load_file(os.fspath(path)).items():
        from ._dtype import from_numpy_dtype
        from_numpy_dtype(a.dtype)       # raises for dtypes lightgrad lacks
        out[k] = from_numpy(np.require(a, requirements=["C", "W"]))
    return out
