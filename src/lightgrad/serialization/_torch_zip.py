"""torch's checkpoint format: the zip archive torch.save writes, read and written without
torch.

The archive holds `<archive>/data.pkl` (a pickle of the saved object), one record per
storage `<archive>/data/<key>` (raw little-endian bytes), and `byteorder`, `version`,
`.format_version`, `.storage_alignment` and `.data/serialization_id`. In the pickle a tensor
is a call of `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
hooks)` whose storage is a persistent reference `("storage", torch.FloatStorage, key,
"cpu", numel)`; a Parameter wraps that in `torch._utils._rebuild_parameter`.

Reading goes through a restricted unpickler: only an allowlist of globals resolves
(torch's tensor/parameter rebuild functions, storage types, dtypes, torch.Size,
torch.device, collections.OrderedDict, set/frozenset/complex, latin-1 bytes), each mapped to
a lightgrad function that validates its arguments; BUILD is allowed only on OrderedDict (its
`_metadata`). Anything else raises `pickle.UnpicklingError` naming the refused global, like
torch's `weights_only=True`. lightgrad has no bfloat16 and no unsigned types beyond uint8:
such tensors raise a clear error.

Writing emits the pickle opcode by opcode (`_Pickler`): only the values a checkpoint holds
can be written, so the file names no code but torch's rebuild functions, which real torch
loads with `weights_only=True`.
"""
import _compat_pickle
import collections
import io
import pickle
import secrets
import struct
import sys
import zipfile

import numpy as np

from .. import _dtype
from .._backend import device
from .._creation import from_numpy
from .._tensor import Size, Tensor, _make
from ._common import (MAX_DEPTH, CheckpointError, dtypes, is_int, is_parameter,
                      make_parameter, short, view)

# -- reading ------------------------------------------------------------------------------
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
    if not isinstance(storage, _TorchStorage):
        raise CheckpointError("lightgrad.load: a tensor's storage is not a storage")
    if not isinstance(requires_grad, bool):
        raise CheckpointError("lightgrad.load: requires_grad must be a bool")
    _check_hooks(hooks)
    d = dtypes()[dtype_name]
    if not is_int(offset):
        raise CheckpointError("lightgrad.load: storage offset must be an int")
    arr = view(storage.buf, d.np.newbyteorder(storage.order), offset * d.itemsize,
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
    if not isinstance(dtype, _dtype.dtype):
        raise CheckpointError("lightgrad.load: _rebuild_tensor_v3 needs a dtype")
    return _rebuild_from(storage, dtype.name, storage_offset, size, stride, requires_grad,
                         backward_hooks)


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    if not isinstance(data, Tensor) or not isinstance(requires_grad, bool):
        raise CheckpointError("lightgrad.load: malformed parameter")
    _check_hooks(backward_hooks)
    if state:
        raise CheckpointError("lightgrad.load: parameters with extra state are not supported")
    return make_parameter(data, requires_grad)


def _torch_size(dims=()):
    dims = tuple(dims)
    if not all(is_int(s) for s in dims):
        raise CheckpointError("lightgrad.load: torch.Size must hold ints")
    return Size(dims)


def _torch_device(kind, index=None):
    if not isinstance(kind, str) or not (index is None or is_int(index)):
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
    ("builtins", "complex"): complex,
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
                return dtypes()[name]
            if name in _UNSUPPORTED or name.replace("Storage", "").lower() in _UNSUPPORTED:
                _unsupported_dtype(name.replace("Storage", "").lower()
                                   if name.endswith("Storage") else name)
        raise _refused(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and is_int(pid[4]) and pid[4] >= 0):
            raise CheckpointError(f"lightgrad.load: malformed storage reference {short(pid)}")
        _, stype, key, _location, numel = pid
        if key in self.loaded:
            st = self.loaded[key]
            if st.dtype_name != stype.dtype_name:
                raise CheckpointError(f"lightgrad.load: storage {key!r} is used with two dtypes")
            return st
        item = 1 if stype.dtype_name is None else dtypes()[stype.dtype_name].itemsize
        name = f"{self.prefix}data/{key}"
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise CheckpointError(f"lightgrad.load: the archive has no storage {name!r}") \
                from None
        if info.file_size != numel * item:
            raise CheckpointError(f"lightgrad.load: storage {name!r} holds {info.file_size} "
                                  f"bytes, but its header says {numel * item}")
        st = self.loaded[key] = _TorchStorage(bytearray(_read(self.zf, name)), stype.dtype_name,
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


# what zipfile raises for a damaged archive (a bad CRC, header or size, a flag or method it
# does not know, a cut-off record)
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
               OSError, ValueError, struct.error)


def _read(zf, name):
    """One record's bytes; a damaged record is a CheckpointError."""
    try:
        return zf.read(name)
    except _ZIP_ERRORS as e:
        raise CheckpointError(f"lightgrad.load: corrupt zip archive: record {name!r} "
                              f"({type(e).__name__}: {e})") from None


def load_torch_zip(f):
    try:
        zf = zipfile.ZipFile(f)
        names = zf.namelist()
    except _ZIP_ERRORS as e:
        raise CheckpointError("PytorchStreamReader failed reading zip archive: failed finding "
                              f"central directory (lightgrad.load: the checkpoint file is "
                              f"truncated or corrupted: {e})") from None
    pkls = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if not pkls:
        raise CheckpointError("PytorchStreamReader failed locating file data.pkl: file not "
                              "found (lightgrad.load: the checkpoint file is corrupted)")
    if len(pkls) != 1:
        raise CheckpointError("lightgrad.load: a torch zip checkpoint has exactly one "
                              f"<archive>/data.pkl; found {pkls}")
    prefix = pkls[0][:-len("data.pkl")]
    order = b"little"
    if prefix + "byteorder" in names:
        order = _read(zf, prefix + "byteorder").strip()
        if order not in (b"little", b"big"):
            raise CheckpointError(f"lightgrad.load: unknown byteorder {order!r}")
    try:
        up = _TorchUnpickler(io.BytesIO(_read(zf, pkls[0])), zf, prefix,
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


# -- writing ------------------------------------------------------------------------------
_STORAGE_CLASS = {dtype_name: cls for cls, dtype_name in _STORAGES.items()}
_OPS = dict(mark=b"(", stop=b".", none=b"N", true=b"\x88", false=b"\x89", tuple=b"t",
            empty_tuple=b")", empty_list=b"]", empty_dict=b"}", appends=b"e", setitems=b"u",
            reduce=b"R", build=b"b", binpersid=b"Q")
_TUPLE_N = {1: b"\x85", 2: b"\x86", 3: b"\x87"}


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


def _storages(tensors):
    """The storages to write for `tensors`, as torch would have them: tensors that view one
    array share one storage (the bytes their views span), so they share memory again when
    loaded. Returns (blobs: uint8 arrays, places: per tensor (storage key, element offset,
    element strides))."""
    groups, own = {}, []
    for t in tensors:
        a = t._data
        root = _root(a)
        item = a.itemsize
        if (sys.byteorder == "little" and root.flags.c_contiguous and a.dtype.isnative
                and all(s >= 0 and s % item == 0 for s in a.strides)):
            groups.setdefault((id(root), a.dtype), (root, []))[1].append(t)
        else:                   # negative strides (torch has none), foreign layouts: a copy
            own.append(t)
    blobs, places = [], {}
    for root, members in groups.values():
        spans = [_byte_span(t._data) for t in members]
        lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
        ptrs = [t._data.__array_interface__["data"][0] for t in members]
        item = members[0]._data.itemsize
        if any((p - lo) % item for p in ptrs):      # views that do not line up as elements
            own.extend(members)
            continue
        base = root.__array_interface__["data"][0]
        flat = np.ndarray((root.nbytes,), np.uint8, buffer=root) if root.nbytes else \
            np.zeros(0, np.uint8)
        blobs.append(flat[lo - base:hi - base])
        for t, p in zip(members, ptrs):
            places[id(t)] = (len(blobs) - 1, (p - lo) // item, t.stride())   # torch's
    for t in own:
        a = np.ascontiguousarray(t._data).astype(t._data.dtype.newbyteorder("<"), copy=False)
        blobs.append(np.frombuffer(a.tobytes(), np.uint8))
        places[id(t)] = (len(blobs) - 1, 0, _make(a).stride())     # the copy's, as torch's
    return blobs, places


class _Pickler:
    """The protocol-2 pickle of a checkpoint, written opcode by opcode: containers, numbers,
    strings, dtypes, torch.Size, devices, and tensors as the calls torch.save writes
    (`torch._utils._rebuild_tensor_v2` over a persistent storage reference). Nothing else
    can be written, so nothing else can be named in the file."""

    def __init__(self, places):
        self.out = bytearray(b"\x80\x02")
        self.memo = {}          # ("global", module, name) or id(object) -> memo index
        self.keep = []          # memoized objects, alive while their ids are memo keys
        self.active = set()     # ids of the containers being written (to refuse cycles)
        self.places = places
        self.numel = {}         # storage key -> elements, from the blobs

    def _put(self, key, obj=None):
        i = self.memo[key] = len(self.memo)
        self.out += b"q" + bytes([i]) if i < 256 else b"r" + struct.pack("<I", i)
        if obj is not None:
            self.keep.append(obj)

    def _get(self, key):
        i = self.memo.get(key)
        if i is None:
            return False
        self.out += b"h" + bytes([i]) if i < 256 else b"j" + struct.pack("<I", i)
        return True

    def _global(self, module, name):
        if not self._get(("global", module, name)):
            self.out += b"c" + f"{module}\n{name}\n".encode()
            self._put(("global", module, name))

    def _tuple(self, items, depth):
        if not items:
            self.out += _OPS["empty_tuple"]
            return
        if len(items) > 3:
            self.out += _OPS["mark"]
        for v in items:
            self.save(v, depth + 1)
        self.out += _TUPLE_N.get(len(items), _OPS["tuple"])

    def _call(self, module, name, args, depth):
        self._global(module, name)
        self._tuple(args, depth)
        self.out += _OPS["reduce"]

    def _int(self, x):
        if 0 <= x < 256:
            self.out += b"K" + bytes([x])
        elif 0 <= x < 65536:
            self.out += b"M" + struct.pack("<H", x)
        elif -2 ** 31 <= x < 2 ** 31:
            self.out += b"J" + struct.pack("<i", x)
        else:
            b = pickle.encode_long(x)
            self.out += (b"\x8a" + bytes([len(b)]) if len(b) < 256 else
                         b"\x8b" + struct.pack("<i", len(b))) + b

    def _str(self, s):
        b = s.encode("utf-8", "surrogatepass")
        self.out += b"X" + struct.pack("<I", len(b)) + b

    def _storage_ref(self, key, dtype_name):
        # ('storage', torch.<Type>Storage, key, location, numel) -> BINPERSID
        self.out += _OPS["mark"]
        self._str("storage")
        self._global("torch", _STORAGE_CLASS[dtype_name])
        self._str(str(key))
        self._str("cpu")
        self._int(self.numel[key])
        self.out += _OPS["tuple"] + _OPS["binpersid"]

    def _tensor(self, t, requires_grad, depth):
        key, offset, stride = self.places[id(t)]
        self._global("torch._utils", "_rebuild_tensor_v2")
        self.out += _OPS["mark"]
        self._storage_ref(key, t.dtype.name)
        self._int(offset)
        self._tuple(tuple(t._data.shape), depth)
        self._tuple(stride, depth)
        self.out += _OPS["true"] if requires_grad else _OPS["false"]
        self._call("collections", "OrderedDict", (), depth)    # no backward hooks
        self.out += _OPS["tuple"] + _OPS["reduce"]

    def save(self, obj, depth=0):
        if depth > MAX_DEPTH:
            raise ValueError("lightgrad.save: object nesting is too deep")
        if obj is None:
            self.out += _OPS["none"]
        elif isinstance(obj, (bool, np.bool_)):
            self.out += _OPS["true"] if obj else _OPS["false"]
        elif isinstance(obj, (int, np.integer)):
            self._int(int(obj))
        elif isinstance(obj, (float, np.floating)):
            self.out += b"G" + struct.pack(">d", float(obj))
        elif isinstance(obj, str):
            self._str(obj)
        elif isinstance(obj, (complex, np.complexfloating)):
            self._call("__builtin__", "complex", (obj.real, obj.imag), depth)
        elif isinstance(obj, bytes):        # protocol 2 spells bytes as latin-1 text
            self._call("_codecs", "encode", (obj.decode("latin1"), "latin1"), depth)
        elif isinstance(obj, _dtype.dtype):
            self._global("torch", obj.name)
        elif isinstance(obj, device):
            self._call("torch", "device", (obj.type,) if obj.index is None else
                       (obj.type, obj.index), depth)
        elif isinstance(obj, Size):
            self._call("torch", "Size", (tuple(int(s) for s in obj),), depth)
        elif isinstance(obj, Tensor):
            self._memoized(obj, self._save_tensor, depth)
        elif isinstance(obj, tuple) and type(obj) in (tuple, Size):
            self._nested(obj, lambda: self._tuple(obj, depth))
        elif type(obj) in (list, dict, collections.OrderedDict, set, frozenset):
            self._memoized(obj, self._save_container, depth)
        else:
            raise TypeError(
                f"lightgrad.save: cannot save an object of type {type(obj).__name__}; "
                "checkpoints hold tensors, numbers, strings, bytes, None, bools, dtypes, "
                "torch.Size, devices and lists/tuples/dicts/sets of them (save a model's "
                "state_dict(), not the model)")

    def _memoized(self, obj, write, depth):
        if self._get(id(obj)):
            return
        self._nested(obj, lambda: write(obj, depth))

    def _nested(self, obj, write):
        if id(obj) in self.active:
            raise ValueError("lightgrad.save: cannot save a container that contains itself")
        self.active.add(id(obj))
        try:
            write()
        finally:
            self.active.discard(id(obj))

    def _save_tensor(self, t, depth):
        if is_parameter(t):
            self._global("torch._utils", "_rebuild_parameter")
            self._tensor(t, False, depth)
            self.out += _OPS["true"] if t.requires_grad else _OPS["false"]
            self._call("collections", "OrderedDict", (), depth)
            self.out += _TUPLE_N[3] + _OPS["reduce"]
        else:
            self._tensor(t, t.requires_grad, depth)
        self._put(id(t), t)

    def _save_container(self, obj, depth):
        kind = type(obj)
        if kind in (set, frozenset):
            self._call("__builtin__", kind.__name__, (list(obj),), depth)
            self._put(id(obj), obj)
            return
        if kind is collections.OrderedDict:
            self._call("collections", "OrderedDict", (), depth)
        else:
            self.out += _OPS["empty_list"] if kind is list else _OPS["empty_dict"]
        self._put(id(obj), obj)
        if obj:
            self.out += _OPS["mark"]
            for item in (obj.items() if kind is not list else obj):
                if kind is list:
                    self.save(item, depth + 1)
                else:
                    self.save(item[0], depth + 1)
                    self.save(item[1], depth + 1)
            self.out += _OPS["appends"] if kind is list else _OPS["setitems"]
        meta = getattr(obj, "_metadata", None) if kind is collections.OrderedDict else None
        if meta is not None:        # a state_dict's per-module versions, as torch writes them
            self.save({"_metadata": meta}, depth + 1)
            self.out += _OPS["build"]


def _tensors_in(obj, found, seen, depth=0):
    """Every Tensor in obj, once each, in order (the containers the pickler accepts)."""
    if depth > MAX_DEPTH:
        raise ValueError("lightgrad.save: object nesting is too deep")
    if isinstance(obj, Tensor):
        if id(obj) not in seen:
            seen.add(id(obj))
            found.append(obj)
    elif isinstance(obj, (list, tuple, set, frozenset)) and id(obj) not in seen:
        seen.add(id(obj))
        for v in obj:
            _tensors_in(v, found, seen, depth + 1)
    elif isinstance(obj, dict) and id(obj) not in seen:
        seen.add(id(obj))
        for k, v in obj.items():
            _tensors_in(k, found, seen, depth + 1)
            _tensors_in(v, found, seen, depth + 1)
        meta = getattr(obj, "_metadata", None)
        if meta is not None:
            _tensors_in(meta, found, seen, depth + 1)
    return found


def _write_record(zf, name, data):
    """One stored (uncompressed) zip entry whose data starts at a multiple of 64 bytes, as
    torch aligns them (an extra field pads the local header)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    start = zf.fp.tell() + 30 + len(name.encode()) + 4
    pad = -start % 64
    info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
    zf.writestr(info, data)


def save_torch_zip(obj):
    """Prepare obj for torch's zip layout: `<archive>/data.pkl`, `.format_version`,
    `.storage_alignment`, `byteorder`, `data/<key>` (raw little-endian storages), `version`,
    `.data/serialization_id`. Returns write(f, archive) for a binary file object; the pickle
    is built, and obj checked, before anything is written."""
    tensors = _tensors_in(obj, [], set())
    blobs, places = _storages(tensors)
    pickler = _Pickler(places)
    for t in tensors:
        key = places[id(t)][0]
        pickler.numel[key] = blobs[key].nbytes // t._data.itemsize
    pickler.save(obj)
    pickler.out += _OPS["stop"]

    def write(f, archive="archive"):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
            _write_record(zf, f"{archive}/data.pkl", bytes(pickler.out))
            _write_record(zf, f"{archive}/.format_version", b"1")
            _write_record(zf, f"{archive}/.storage_alignment", b"64")
            _write_record(zf, f"{archive}/byteorder", b"little")
            for key, blob in enumerate(blobs):
                _write_record(zf, f"{archive}/data/{key}",
                              memoryview(np.ascontiguousarray(blob)))
            _write_record(zf, f"{archive}/version", b"3\n")
            _write_record(zf, f"{archive}/.data/serialization_id",
                          f"{secrets.randbelow(10 ** 40):040d}".encode())
    return write
