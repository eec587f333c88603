"""Reading lightgrad's own checkpoint format (what lightgrad.save wrote before it wrote
torch's zip format). One file, all integers little-endian::

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

`stride` counts elements, `offset` bytes from the start of the storage. A VALUE is JSON
null, true/false, an integer, a finite float, a string, or a tagged object
`{"$": TAG, "v": ...}`: `list`, `tuple` (arrays of VALUEs), `dict` and `odict` (arrays of
[key VALUE, VALUE] pairs, so keys keep their types; an `odict` may carry "meta", its
`_metadata` attribute), `float` ("nan", "inf", "-inf"), `complex` ([re, im] VALUEs),
`tensor` (an index into "tensors"), `dtype` (a name), `size` (torch.Size as an array of
ints) and `device` (a string).

Loading parses JSON and copies bytes: it never imports, calls or unpickles anything the file
names. Every index, offset, shape and stride is checked against the file, so a crafted or
truncated file raises `CheckpointError`.
"""
import collections
import io
import json
import struct

from .._backend import device
from .._creation import from_numpy
from .._tensor import Size
from ._common import MAX_DEPTH, dtypes, fail, is_int, make_parameter, short, view

MAGIC = b"\x93LGCKPT\n"
VERSION = 1
ALIGN = 64


def _align(n):
    return -(-n // ALIGN) * ALIGN


class _Reader:
    def __init__(self, header, storages):
        self.header = header
        self.storages = storages
        self.tensor_cache = {}

    def tensor(self, k):
        if not is_int(k) or not 0 <= k < len(self.header["tensors"]):
            fail(f"tensor index {k!r} out of range")
        if k in self.tensor_cache:
            return self.tensor_cache[k]
        e = self.header["tensors"][k]
        what = f"tensor {k}"
        if not isinstance(e, dict):
            fail(f"{what} must be an object")
        keys = {"storage", "offset", "dtype", "shape", "stride", "requires_grad", "parameter"}
        if set(e) != keys:
            fail(f"{what} must have exactly the keys {sorted(keys)}, got {sorted(e)}")
        d = dtypes().get(e["dtype"]) if isinstance(e["dtype"], str) else None
        if d is None:
            fail(f"{what}: unknown dtype {e['dtype']!r}")
        s = e["storage"]
        if not is_int(s) or not 0 <= s < len(self.storages):
            fail(f"{what}: storage index {s!r} out of range")
        if not isinstance(e["requires_grad"], bool) or not isinstance(e["parameter"], bool):
            fail(f"{what}: requires_grad and parameter must be booleans")
        arr = view(self.storages[s], d.np.newbyteorder("<"), e["offset"], e["shape"],
                    e["stride"], what)
        t = from_numpy(arr)
        if e["requires_grad"] and not d.is_floating_point:
            fail(f"{what}: only floating point tensors can require gradients")
        if e["parameter"]:
            t = make_parameter(t, e["requires_grad"])
        elif e["requires_grad"]:
            t.requires_grad_(True)
        self.tensor_cache[k] = t
        return t

    def decode(self, v, depth=0):
        if depth > MAX_DEPTH:
            fail("nesting is too deep")
        if v is None or isinstance(v, (bool, str, int, float)):
            return v
        if isinstance(v, list):
            fail("untagged JSON array (containers are tagged objects)")
        if not isinstance(v, dict) or "$" not in v or "v" not in v \
                or not set(v) <= {"$", "v", "meta"} or ("meta" in v and v["$"] != "odict"):
            fail(f"malformed value {short(v)}")
        tag, x = v["$"], v["v"]
        if tag in ("list", "tuple"):
            if not isinstance(x, list):
                fail(f"{tag} payload must be an array")
            items = [self.decode(i, depth + 1) for i in x]
            return items if tag == "list" else tuple(items)
        if tag in ("dict", "odict"):
            if not isinstance(x, list) or not all(isinstance(p, list) and len(p) == 2
                                                  for p in x):
                fail(f"{tag} payload must be an array of [key, value] pairs")
            out = {} if tag == "dict" else collections.OrderedDict()
            for kv, vv in x:
                key = self.decode(kv, depth + 1)
                try:
                    hash(key)
                except TypeError:
                    fail(f"unhashable dict key {short(kv)}")
                out[key] = self.decode(vv, depth + 1)
            if "meta" in v:
                out._metadata = self.decode(v["meta"], depth + 1)
            return out
        if tag == "tensor":
            return self.tensor(x)
        if tag == "float":
            if x not in ("nan", "inf", "-inf"):
                fail(f"bad float {x!r}")
            return float(x)
        if tag == "complex":
            if not isinstance(x, list) or len(x) != 2:
                fail("complex payload must be [re, im]")
            re_, im_ = (self.decode(p, depth + 1) for p in x)
            if not all(isinstance(p, (int, float)) and not isinstance(p, bool)
                       for p in (re_, im_)):
                fail("complex parts must be numbers")
            return complex(re_, im_)
        if tag == "dtype":
            d = dtypes().get(x) if isinstance(x, str) else None
            if d is None:
                fail(f"unknown dtype {x!r}")
            return d
        if tag == "size":
            if not isinstance(x, list) or not all(is_int(s) and s >= 0 for s in x):
                fail("size payload must be an array of non-negative ints")
            return Size(x)
        if tag == "device":
            if not isinstance(x, str):
                fail("device payload must be a string")
            try:
                return device(x)
            except RuntimeError as e:
                fail(str(e))
        fail(f"unknown type tag {tag!r}")


def _reject_constant(name):
    fail(f"non-standard JSON constant {name}")


def _read_exact(f, n, what):
    data = f.read(n)
    if len(data) != n:
        fail(f"file is truncated ({what}: wanted {n} bytes, got {len(data)})")
    return data


def load_native(f):
    base = f.tell()             # the checkpoint may sit inside a larger stream
    _read_exact(f, len(MAGIC), "magic")
    (n,) = struct.unpack("<Q", _read_exact(f, 8, "header length"))
    here = f.tell()
    size = f.seek(0, io.SEEK_END)
    f.seek(here)
    size -= base
    if n > size - 16:
        fail(f"header length {n} exceeds the file size {size}")
    raw = _read_exact(f, n, "header")
    try:
        header = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"header is not valid UTF-8 JSON ({e})")
    except RecursionError:
        fail("header nesting is too deep")
    if not isinstance(header, dict):
        fail("header must be a JSON object")
    want = {"format", "version", "storages", "tensors", "object"}
    if set(header) != want:
        fail(f"header must have exactly the keys {sorted(want)}, got {sorted(header)}")
    if header["format"] != "lightgrad":
        fail(f"unknown format {header['format']!r}")
    if header["version"] != VERSION:
        fail(f"unsupported version {header['version']!r} (this lightgrad reads {VERSION})")
    if not isinstance(header["storages"], list) or not isinstance(header["tensors"], list):
        fail("storages and tensors must be arrays")
    start = _align(16 + n)
    storages = []
    for i, s in enumerate(header["storages"]):
        if not (isinstance(s, list) and len(s) == 2 and all(is_int(x) and x >= 0 for x in s)):
            fail(f"storage {i} must be [offset, nbytes] with non-negative ints")
        off, nbytes = s
        if start + off + nbytes > size:
            fail(f"storage {i} (bytes {off}..{off + nbytes} of the data section) lies beyond "
                  f"the end of the file ({size} bytes)")
        f.seek(base + start + off)
        buf = bytearray(nbytes)
        if f.readinto(buf) != nbytes:
            fail(f"storage {i} is truncated")
        storages.append(buf)
    reader = _Reader(header, storages)
    try:
        return reader.decode(header["object"])
    except RecursionError:
        fail("object nesting is too deep")
