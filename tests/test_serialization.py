"""Checkpoints: lightgrad.save/load round trips, crafted files, torch.save files, safetensors."""
import collections
import io
import json
import math
import pickle
import struct
import zipfile

import numpy as np
import pytest

import lightgrad
from lightgrad.serialization import MAGIC, CheckpointError, load_safetensors, save_safetensors


def roundtrip(obj, **kw):
    buf = io.BytesIO()
    lightgrad.save(obj, buf)
    buf.seek(0)
    return lightgrad.load(buf, **kw)


def assert_same(a, b):
    if isinstance(a, lightgrad.Tensor):
        assert isinstance(b, lightgrad.Tensor) and type(a) is type(b)
        assert a.dtype is b.dtype and a.shape == b.shape
        assert a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        return
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


# -- lightgrad's own format ---------------------------------------------------------------
def test_roundtrip_nested_values():
    sd = collections.OrderedDict([("0.weight", lightgrad.randn(2, 3)),
                                  ("0.bias", lightgrad.zeros(2)),
                                  ("1.num_batches_tracked", lightgrad.tensor(7))])
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("1", {"version": 2})])
    obj = {
        "model": sd, "none": None, "flags": [True, False], "int": -3, "big": 2 ** 70,
        "float": 0.1, "nan": float("nan"), "inf": -math.inf, "str": "héllo", 5: "int key",
        (1, "a"): "tuple key", "tuple": (1, (2.5, [None])), "complex": 1 - 2j,
        "dtypes": [lightgrad.float16, lightgrad.int64, lightgrad.bool],
        "size": lightgrad.Size([2, 3]), "device": lightgrad.device("cpu"), "empty": {},
    }
    for d in (lightgrad.float16, lightgrad.float32, lightgrad.float64, lightgrad.int8,
              lightgrad.int16, lightgrad.int32, lightgrad.int64, lightgrad.uint8,
              lightgrad.bool, lightgrad.complex64, lightgrad.complex128):
        obj[d.name] = (lightgrad.arange(6) % 3).to(d).reshape(2, 3)
    obj["zero_size"] = lightgrad.zeros(0, 4)
    obj["scalar"] = lightgrad.tensor(3.5, dtype=lightgrad.float64)
    obj["leaf"] = lightgrad.ones(3, requires_grad=True)
    out = roundtrip(obj)
    assert_same(obj, out)
    assert out["model"]._metadata == sd._metadata
    assert isinstance(out["size"], lightgrad.Size) and out["big"] == 2 ** 70


def test_optimizer_like_state_dict():
    p = lightgrad.randn(3)
    osd = {"state": {0: {"step": lightgrad.tensor(2.0), "exp_avg": p * 0.1,
                         "exp_avg_sq": p * p}},
           "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-08,
                             "weight_decay": 0, "amsgrad": False, "foreach": None,
                             "params": [0]}]}
    assert_same(osd, roundtrip(osd))


def test_views_and_identity_are_preserved():
    base = lightgrad.arange(12.0).reshape(3, 4)
    obj = {"base": base, "t": base.t(), "row": base[1], "again": base, "col": base[:, 2]}
    out = roundtrip(obj)
    assert_same(obj, out)
    assert out["again"] is out["base"]
    assert out["t"].stride() == (1, 4) and not out["t"].is_contiguous()
    out["base"].numpy()[1, 2] = 100.0       # views load as views of one storage again
    assert out["row"][2].item() == 100.0 and out["t"][2, 1].item() == 100.0
    assert out["col"][1].item() == 100.0
    # a small slice of a big tensor stores only the bytes it reaches
    big = lightgrad.zeros(100000)
    buf = io.BytesIO()
    lightgrad.save(big[10:20], buf)
    assert len(buf.getvalue()) < 2000


def test_parameters_roundtrip():
    nn = lightgrad.nn
    p = nn.Parameter(lightgrad.ones(2))
    frozen = nn.Parameter(lightgrad.ones(2), requires_grad=False)
    out = roundtrip([p, frozen])
    assert isinstance(out[0], nn.Parameter) and out[0].requires_grad
    assert isinstance(out[1], nn.Parameter) and not out[1].requires_grad


def test_real_module_and_optimizer(tmp_path):
    nn, optim = lightgrad.nn, lightgrad.optim
    if not (hasattr(nn, "Linear") and hasattr(optim, "Adam")):
        pytest.skip("lightgrad.nn.Linear / optim.Adam not available yet")
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    opt = optim.Adam(m.parameters(), lr=0.1)
    m(lightgrad.randn(4, 3)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.lg"
    lightgrad.save({"model": m.state_dict(), "opt": opt.state_dict()}, path)
    ck = lightgrad.load(path)
    assert_same(dict(m.state_dict()), dict(ck["model"]))
    m2 = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    m2.load_state_dict(ck["model"])
    opt2 = optim.Adam(m2.parameters(), lr=0.1)
    opt2.load_state_dict(ck["opt"])
    assert_same(opt.state_dict(), opt2.state_dict())


def test_paths_and_file_objects(tmp_path):
    x = {"w": lightgrad.randn(3, 2)}
    lightgrad.save(x, str(tmp_path / "a.pt"))
    assert_same(x, lightgrad.load(str(tmp_path / "a.pt")))
    with open(tmp_path / "b.pt", "wb") as f:
        f.write(b"prefix")
        lightgrad.save(x, f)            # a checkpoint inside a larger stream
    with open(tmp_path / "b.pt", "rb") as f:
        f.read(6)
        assert_same(x, lightgrad.load(f))
    assert_same(x, lightgrad.load(tmp_path / "a.pt", map_location="cpu"))
    assert_same(x, lightgrad.load(tmp_path / "a.pt", map_location=lightgrad.device("cpu")))
    doubled = lightgrad.load(tmp_path / "a.pt", map_location=lambda t, loc: t * 2)
    np.testing.assert_allclose(doubled["w"].numpy(), 2 * x["w"].numpy())


def test_save_refuses_unknown_objects():
    class Custom:
        pass
    with pytest.raises(TypeError, match="cannot save an object of type Custom"):
        lightgrad.save({"x": Custom()}, io.BytesIO())
    with pytest.raises(TypeError, match="cannot save an object of type ndarray"):
        lightgrad.save([np.ones(2)], io.BytesIO())
    with pytest.raises(TypeError, match="cannot save an object of type Linear.*state_dict"):
        lightgrad.save(lightgrad.nn.Linear(1, 1), io.BytesIO())
    loop = []
    tup = (loop,)
    loop.append(tup)       # a tuple inside itself (through a list) has no pickle here
    with pytest.raises(ValueError, match="contains itself"):
        lightgrad.save(tup, io.BytesIO())
    buf = io.BytesIO()
    with pytest.raises(TypeError):
        lightgrad.save({"ok": lightgrad.ones(2), "bad": object()}, buf)
    assert buf.getvalue() == b""           # refused before a byte was written


def test_self_containing_containers_roundtrip():
    loop = [lightgrad.ones(1)]
    loop.append(loop)
    d = {}
    d["me"] = d
    out = roundtrip([loop, d])
    assert out[0][1] is out[0] and out[1]["me"] is out[1]


def test_format_is_torch_zip_layout(tmp_path):
    import pickletools
    buf = io.BytesIO()
    sd = lightgrad.nn.Linear(2, 1).state_dict()
    lightgrad.save({"w": lightgrad.tensor([1.0, 2.0]), "sd": sd, "n": 3}, buf)
    z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    assert z.namelist() == ["archive/data.pkl", "archive/.format_version",
                            "archive/.storage_alignment", "archive/byteorder",
                            "archive/data/0", "archive/data/1", "archive/data/2",
                            "archive/version", "archive/.data/serialization_id"]
    assert z.read("archive/byteorder") == b"little" and z.read("archive/version") == b"3\n"
    assert z.read("archive/.format_version") == b"1"
    assert len(z.read("archive/.data/serialization_id")) == 40
    assert np.frombuffer(z.read("archive/data/0"), "<f4").tolist() == [1.0, 2.0]
    for info in z.infolist():           # stored, each record's data 64-byte aligned
        assert info.compress_type == zipfile.ZIP_STORED
        assert (info.header_offset + 30 + len(info.filename) + len(info.extra)) % 64 == 0
    pkl = z.read("archive/data.pkl")
    assert pkl[:2] == b"\x80\x02"
    globals_ = {arg for op, arg, _ in pickletools.genops(pkl) if op.name == "GLOBAL"}
    assert globals_ == {"torch._utils _rebuild_tensor_v2", "torch FloatStorage",
                        "collections OrderedDict"}
    lightgrad.save({}, tmp_path / "model.pt")     # torch names the folder after the file
    assert zipfile.ZipFile(tmp_path / "model.pt").namelist()[0] == "model/data.pkl"


def test_older_lightgrad_format_stays_readable():
    # written by lightgrad.save before it wrote torch's format (tests/data/)
    import pathlib
    path = pathlib.Path(__file__).parent / "data" / "lightgrad_format_v1.ckpt"
    assert path.read_bytes()[:8] == MAGIC
    ck = lightgrad.load(path)
    assert ck["base"].tolist() == np.arange(12.0).reshape(3, 4).tolist()
    assert ck["t"].stride() == (1, 4) and ck["same"] is ck["base"]
    ck["base"].numpy()[1, 0] = -1
    assert ck["row"][0].item() == -1 and ck["t"][0, 1].item() == -1
    assert isinstance(ck["od"], collections.OrderedDict)
    assert ck["od"]._metadata == {"": {"version": 1}}
    assert isinstance(ck["od"]["w"], lightgrad.nn.Parameter)
    assert ck["od"]["b"].dtype is lightgrad.float64
    misc = ck["misc"]
    assert misc[:5] == [1, 2.5, "s", None, True] and math.isnan(misc[5])
    assert misc[6:] == [-math.inf, 1 + 2j, (3, 4)]
    assert ck["dtype"] is lightgrad.int32 and ck["size"] == lightgrad.Size([2, 3])
    assert str(ck["device"]) == "cpu" and ck["bool"].tolist() == [True, False]
    assert ck["empty"].shape == (0, 3) and ck["scalar"].item() == 7
    assert ck["rg"].requires_grad


# -- crafted and corrupted lightgrad files ------------------------------------------------------
def _file(header, data=b"", raw_header=None):
    head = raw_header if raw_header is not None else json.dumps(header).encode()
    start = -(-(16 + len(head)) // 64) * 64
    return io.BytesIO(MAGIC + struct.pack("<Q", len(head)) + head
                      + b"\0" * (start - 16 - len(head)) + data)


def _header(obj, tensors=(), storages=()):
    return {"format": "lightgrad", "version": 1, "storages": list(storages),
            "tensors": list(tensors), "object": obj}


def _tensor(**kw):
    e = {"storage": 0, "offset": 0, "dtype": "float32", "shape": [2], "stride": [1],
         "requires_grad": False, "parameter": False}
    e.update(kw)
    return e


T = {"$": "tensor", "v": 0}
GOOD_DATA = np.array([1.0, 2.0], "<f4").tobytes()


def test_crafted_header_is_valid_baseline():
    out = lightgrad.load(_file(_header(T, [_tensor()], [[0, 8]]), GOOD_DATA))
    assert out.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("f,match", [
    (_file(None, raw_header=b"{not json"), "not valid UTF-8 JSON"),
    (_file(None, raw_header=b"\xff\xfe"), "not valid UTF-8 JSON"),
    (_file(None, raw_header=b'{"x": NaN}'), "non-standard JSON constant NaN"),
    (_file(None, raw_header=b"[" * 100000 + b"]" * 100000), "too deep"),
    (_file([1, 2]), "header must be a JSON object"),
    (_file({"format": "lightgrad"}), "exactly the keys"),
    (_file(dict(_header(None), format="other")), "unknown format"),
    (_file(dict(_header(None), version=99)), "unsupported version 99"),
    (_file(_header({"$": "pickle", "v": "gASV"})), "unknown type tag 'pickle'"),
    (_file(_header({"$": "list", "v": [1], "extra": 1})), "malformed value"),
    (_file(_header([1, 2])), "untagged JSON array"),
    (_file(_header({"$": "dtype", "v": "bfloat16"})), "unknown dtype 'bfloat16'"),
    (_file(_header({"$": "dict", "v": [[{"$": "list", "v": []}, 1]]})), "unhashable dict key"),
    (_file(_header({"$": "float", "v": "1e999"})), "bad float"),
    (_file(_header(T, [_tensor()], [[0, 8]]), GOOD_DATA[:4]), "beyond the end of the file"),
    (_file(_header(T, [_tensor()], [[0, -8]]), GOOD_DATA), "non-negative ints"),
    (_file(_header(T, [_tensor(shape=[3])], [[0, 8]]), GOOD_DATA), "outside its storage"),
    (_file(_header(T, [_tensor(offset=4)], [[0, 8]]), GOOD_DATA), "outside its storage"),
    (_file(_header(T, [_tensor(stride=[-1])], [[0, 8]]), GOOD_DATA), "outside its storage"),
    (_file(_header(T, [_tensor(stride=[5])], [[0, 8]]), GOOD_DATA), "outside its storage"),
    (_file(_header(T, [_tensor(shape=[-2])], [[0, 8]]), GOOD_DATA), "non-negative ints"),
    (_file(_header(T, [_tensor(stride=[1, 1])], [[0, 8]]), GOOD_DATA), "stride must be"),
    (_file(_header(T, [_tensor(storage=3)], [[0, 8]]), GOOD_DATA), "storage index 3"),
    (_file(_header(T, [_tensor(dtype="object")], [[0, 8]]), GOOD_DATA), "unknown dtype"),
    (_file(_header({"$": "tensor", "v": 1}, [_tensor()], [[0, 8]]), GOOD_DATA),
     "tensor index 1 out of range"),
    (_file(_header(T, [dict(_tensor(), code="os.system")], [[0, 8]]), GOOD_DATA),
     "exactly the keys"),
    (_file(_header(T, [_tensor(dtype="int32", requires_grad=True)], [[0, 8]]), GOOD_DATA),
     "only floating point"),
    (_file(_header(T, [_tensor(dtype="bool", shape=[8])], [[0, 8]]), GOOD_DATA),
     "bool tensor holds bytes"),
])
def test_crafted_files_are_refused(f, match):
    with pytest.raises(CheckpointError, match=match):
        lightgrad.load(f)


def test_truncated_and_foreign_files(tmp_path):
    buf = io.BytesIO()
    lightgrad.save({"w": lightgrad.randn(50)}, buf)
    raw = buf.getvalue()
    for cut in (4, 12, 40, len(raw) - 1):
        with pytest.raises(CheckpointError):
            lightgrad.load(io.BytesIO(raw[:cut]))
    with pytest.raises(CheckpointError, match="header length .* exceeds"):
        lightgrad.load(io.BytesIO(MAGIC + struct.pack("<Q", 2 ** 60) + b"{}"))
    with pytest.raises(CheckpointError, match="empty"):
        lightgrad.load(io.BytesIO(b""))
    with pytest.raises(CheckpointError, match="not a lightgrad checkpoint"):
        lightgrad.load(io.BytesIO(b"hello world"))


class _Evil:
    """Pickles to a call of exec that would create a marker file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (exec, (f"open({str(self.path)!r}, 'w').write('pwned')",))


def test_pickle_payloads_never_run(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"w": _Evil(marker)})
    for proto_payload in (payload, pickle.dumps(_Evil(marker), protocol=0)):
        with pytest.raises(CheckpointError, match="never unpickles"):
            lightgrad.load(io.BytesIO(proto_payload))
    p = tmp_path / "evil.pt"
    p.write_bytes(payload)
    with pytest.raises(CheckpointError):
        lightgrad.load(p, weights_only=False)
    # a JSON header that names code to run is just an unknown tag
    with pytest.raises(CheckpointError, match="unknown type tag"):
        lightgrad.load(_file(_header({"$": "exec", "v": f"open({str(marker)!r}, 'w')"})))
    assert not marker.exists()


# -- files written by torch.save ---------------------------------------------------------------
def _torch_file(torch, obj, **kw):
    buf = io.BytesIO()
    torch.save(obj, buf, **kw)
    buf.seek(0)
    return buf


def assert_matches_torch(ours, theirs):
    if type(theirs).__name__ in ("Tensor", "Parameter"):
        assert isinstance(ours, lightgrad.Tensor)
        assert ours.dtype.name == str(theirs.dtype).split(".")[1]
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert ours.stride() == theirs.stride()
        assert ours.requires_grad == theirs.requires_grad
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
        return
    if isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for k in theirs:
            assert_matches_torch(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)) and type(theirs).__name__ != "Size":
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_matches_torch(a, b)
    elif type(theirs).__name__ == "Size":
        assert isinstance(ours, lightgrad.Size) and tuple(ours) == tuple(theirs)
    elif type(theirs).__name__ == "dtype":
        assert ours.name == str(theirs).split(".")[1]
    elif type(theirs).__name__ == "device":
        assert str(ours) == str(theirs)
    elif isinstance(theirs, float) and math.isnan(theirs):
        assert isinstance(ours, float) and math.isnan(ours)
    else:
        assert type(ours) is type(theirs) and ours == theirs


def test_torch_state_dicts(torch, tmp_path):
    tn = torch.nn
    torch.manual_seed(0)
    model = tn.Sequential(tn.Conv2d(1, 2, 3), tn.BatchNorm2d(2), tn.Flatten(), tn.Linear(8, 3),
                          tn.LayerNorm(3), tn.Embedding(4, 2, padding_idx=0))
    model[1].running_mean += 0.5
    sd = model.state_dict()
    ours = lightgrad.load(_torch_file(torch, sd))
    assert_matches_torch(ours, sd)
    assert ours._metadata == sd._metadata
    path = tmp_path / "model.pt"
    torch.save(sd, path)
    assert_matches_torch(lightgrad.load(path, map_location="cpu"), sd)
    assert_matches_torch(lightgrad.load(str(path), weights_only=True), sd)


def test_torch_optimizer_state_dict(torch):
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 2)
    for opt in (torch.optim.Adam(lin.parameters(), lr=0.01, amsgrad=True),
                torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)):
        lin(torch.randn(4, 3)).sum().backward()
        opt.step()
        osd = opt.state_dict()
        assert_matches_torch(lightgrad.load(_torch_file(torch, osd)), osd)


def test_torch_views_shared_storage_and_dtypes(torch):
    x = torch.arange(24.0).reshape(2, 3, 4)
    obj = {
        "x": x, "t": x.transpose(0, 2), "slice": x[1, :, 1:3], "step": x.reshape(-1)[3::5],
        "expanded": torch.ones(3, 1).expand(3, 4), "scalar": torch.tensor(2.5),
        "param": torch.nn.Parameter(torch.randn(2)),
        "frozen": torch.nn.Parameter(torch.randn(2), requires_grad=False),
        "leaf": torch.ones(2, requires_grad=True), "empty": torch.zeros(0, 3),
        "size": torch.Size([2, 3]), "dtype": torch.float16, "device": torch.device("cpu"),
        "tuple": (1, 2.5, "s", None, True), "set": {1, 2}, "bytes": b"\x00\xff",
    }
    for name in ("float16", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
                 "complex64", "complex128"):
        obj[name] = (torch.arange(6) % 2).to(getattr(torch, name)).reshape(3, 2)
    ours = lightgrad.load(_torch_file(torch, obj))
    assert_matches_torch(ours, obj)
    assert isinstance(ours["param"], lightgrad.nn.Parameter)
    assert isinstance(ours["frozen"], lightgrad.nn.Parameter)
    # tensors that shared a storage in torch share memory again
    ours["x"].numpy()[1, 1, 1] = -1.0
    assert ours["slice"][1, 0].item() == -1.0 and ours["t"][1, 1, 1].item() == -1.0
    assert ours["expanded"].stride() == (1, 0)


def test_torch_refusals(torch, tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(pickle.UnpicklingError,
                       match=r"Unsupported global: GLOBAL builtins.exec was not an allowed"):
        lightgrad.load(_torch_file(torch, {"w": torch.ones(2), "evil": _Evil(marker)}))
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL .*_Evil was not an allowed"):
        lightgrad.load(_torch_file(torch, {"obj": _Custom()}))
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL builtins.exec"):
        lightgrad.load(_torch_file(torch, [_Evil(marker)]), weights_only=False)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match=r"torch.bfloat16 tensor"):
        lightgrad.load(_torch_file(torch, {"w": torch.ones(2, dtype=torch.bfloat16)}))
    with pytest.raises(CheckpointError, match=r"torch.uint16 tensor"):
        lightgrad.load(_torch_file(torch, {"w": torch.ones(2, dtype=torch.uint16)}))
    with pytest.raises(CheckpointError, match="legacy pre-1.6 format"):
        lightgrad.load(_torch_file(torch, {"w": torch.ones(2)},
                                   _use_new_zipfile_serialization=False))
    raw = _torch_file(torch, {"w": torch.ones(2)}).getvalue()
    with pytest.raises(CheckpointError, match="zip"):
        lightgrad.load(io.BytesIO(raw[:len(raw) // 2]))


class _Custom:
    """A class a torch checkpoint may name; loading must refuse it."""

    def __reduce__(self):
        return (_Evil, ("nowhere",))


# crafted torch-style zips: a hand-written data.pkl around one float32 storage
def _i(x):
    return b"J" + struct.pack("<i", x)


def _tensor_pkl(offset=0, size=(2,), stride=(1,), numel=2, key="0", storage=b"FloatStorage"):
    tup = lambda xs: b"(" + b"".join(_i(x) for x in xs) + b"t"  # noqa: E731
    return (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n("
            + b"(Vstorage\nctorch\n" + storage + b"\nV" + key.encode() + b"\nVcpu\n"
            + _i(numel) + b"tQ" + _i(offset) + tup(size) + tup(stride) + b"\x89"
            + b"ccollections\nOrderedDict\n)RtR.")


def _zip(pkl, storages=None):
    storages = {"0": GOOD_DATA} if storages is None else storages
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", "little")
        for k, v in storages.items():
            z.writestr(f"archive/data/{k}", v)
    buf.seek(0)
    return buf


def test_crafted_torch_zips():
    assert lightgrad.load(_zip(_tensor_pkl())).tolist() == [1.0, 2.0]
    assert lightgrad.load(_zip(_tensor_pkl(offset=1, size=(1,)))).tolist() == [2.0]
    cases = [
        (_tensor_pkl(offset=1), CheckpointError, "outside its storage"),
        (_tensor_pkl(stride=(3,)), CheckpointError, "outside its storage"),
        (_tensor_pkl(numel=5), CheckpointError, "holds 8 bytes, but its header says 20"),
        (_tensor_pkl(key="7"), CheckpointError, "no storage 'archive/data/7'"),
        (_tensor_pkl(storage=b"BFloat16Storage"), CheckpointError, "bfloat16"),
        (_tensor_pkl(storage=b"SomethingElse"), pickle.UnpicklingError,
         "GLOBAL torch.SomethingElse"),
        (b"\x80\x02cos\nsystem\n(Vtrue\ntR.", pickle.UnpicklingError, "GLOBAL os.system"),
        (b"\x80\x02cbuiltins\neval\n(V1\ntR.", pickle.UnpicklingError, "GLOBAL builtins.eval"),
        (b"\x80\x02cposix\nsystem\n.", pickle.UnpicklingError, "GLOBAL posix.system"),
        (_tensor_pkl()[:-1] + b"}b.", pickle.UnpicklingError, "BUILD only on an OrderedDict"),
        (b"\x80\x02(Vstorage\n\x88\x88\x88\x88tQ.", CheckpointError, "malformed storage"),
        (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(J\x00\x00\x00\x00tR.",
         pickle.UnpicklingError, "could not rebuild"),
        (b"\x80\x02(", pickle.UnpicklingError, "corrupt data.pkl"),
    ]
    for pkl, err, match in cases:
        with pytest.raises(err, match=match):
            lightgrad.load(_zip(pkl))
    two = io.BytesIO()
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a/data.pkl", _tensor_pkl())
        z.writestr("b/data.pkl", _tensor_pkl())
    with pytest.raises(CheckpointError, match="exactly one"):
        lightgrad.load(io.BytesIO(two.getvalue()))


# -- lightgrad.save -> real torch ---------------------------------------------------------------
def _to_torch(obj):
    """What real torch's torch.load (weights_only=True, its default) makes of lightgrad.save."""
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    lightgrad.save(obj, buf)
    buf.seek(0)
    return torch.load(buf)


def test_torch_loads_lightgrad_checkpoints(torch):
    x = lightgrad.arange(24.0).reshape(2, 3, 4)
    sd = lightgrad.nn.Sequential(lightgrad.nn.Linear(3, 2), lightgrad.nn.BatchNorm1d(2)) \
        .state_dict()
    obj = {
        "x": x, "t": x.transpose(0, 2), "slice": x[1, :, 1:3], "step": x.reshape(-1)[3::5],
        "again": x, "expanded": lightgrad.ones(3, 1).expand(3, 4),
        "scalar": lightgrad.tensor(2.5), "int0d": lightgrad.tensor(7),
        "empty": lightgrad.ones(0, 3), "bool": lightgrad.tensor([True, False, True]),
        "param": lightgrad.nn.Parameter(lightgrad.randn(2)),
        "frozen": lightgrad.nn.Parameter(lightgrad.randn(2), requires_grad=False),
        "leaf": lightgrad.ones(2, requires_grad=True), "flipped": lightgrad.arange(4.0).flip(0),
        "sd": sd, "size": lightgrad.Size([2, 3]), "dtype": lightgrad.float16,
        "device": lightgrad.device("cpu"), "tuple": (1, 2.5, "s", None, True, 2 ** 70),
        "list": [[1], {"k": -3}], 5: "int key", "nan": math.nan, "complex": 1 - 2j,
        "bytes": b"\x00\xff", "set": {1, 2},
    }
    for name in ("float16", "float64", "int8", "int16", "int32", "int64", "uint8",
                 "complex64", "complex128"):
        obj[name] = (lightgrad.arange(6) % 2).to(getattr(lightgrad, name)).reshape(3, 2).t()
    theirs = _to_torch(obj)
    assert_matches_torch(_roundtrip_same(obj), theirs)   # values, dtypes, shapes, strides
    assert type(theirs["sd"]).__name__ == "OrderedDict"
    assert theirs["sd"]._metadata == sd._metadata
    assert type(theirs["param"]) is torch.nn.Parameter and theirs["param"].requires_grad
    assert type(theirs["frozen"]) is torch.nn.Parameter and not theirs["frozen"].requires_grad
    assert theirs["again"] is theirs["x"]
    # views of one lightgrad array share one storage in torch too
    ptr = theirs["x"].untyped_storage().data_ptr()
    for k in ("t", "slice", "step"):
        assert theirs[k].untyped_storage().data_ptr() == ptr
    theirs["x"][1, 1, 1] = -1.0
    assert theirs["slice"][1, 0].item() == -1.0 and theirs["t"][1, 1, 1].item() == -1.0
    assert theirs["expanded"].stride() == (1, 0)


def _roundtrip_same(obj):
    """obj as lightgrad loads it back (what torch must match)."""
    return roundtrip(obj)


def _train(m, net, opt, x, steps):
    for _ in range(steps):
        opt.zero_grad()
        net(x).pow(2).mean().backward()
        opt.step()


def _net(m):
    m.manual_seed(0)
    return m.nn.Sequential(m.nn.Linear(3, 4), m.nn.Tanh(), m.nn.Linear(4, 1))


@pytest.mark.parametrize("opt_name, kwargs", [("Adam", {"lr": 0.01}), ("AdamW", {"lr": 0.01}),
                                              ("SGD", {"lr": 0.1, "momentum": 0.9}),
                                              ("RMSprop", {"lr": 0.01})])
def test_training_checkpoints_move_both_ways(torch, opt_name, kwargs):
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    lnet, tnet = _net(lightgrad), _net(torch)
    lopt = getattr(lightgrad.optim, opt_name)(lnet.parameters(), **kwargs)
    topt = getattr(torch.optim, opt_name)(tnet.parameters(), **kwargs)
    _train(lightgrad, lnet, lopt, lightgrad.tensor(x), 3)
    # lightgrad -> torch: the full checkpoint resumes in torch
    ck = _to_torch({"model": lnet.state_dict(), "optimizer": lopt.state_dict(), "epoch": 3})
    assert ck["epoch"] == 3
    tnet.load_state_dict(ck["model"])
    topt.load_state_dict(ck["optimizer"])
    _train(torch, tnet, topt, torch.tensor(x), 2)
    _train(lightgrad, lnet, lopt, lightgrad.tensor(x), 2)
    for a, b in zip(lnet.parameters(), tnet.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    # torch -> lightgrad: and back again
    buf = io.BytesIO()
    torch.save({"model": tnet.state_dict(), "optimizer": topt.state_dict()}, buf)
    buf.seek(0)
    ck = lightgrad.load(buf)
    lnet2 = _net(lightgrad)
    lopt2 = getattr(lightgrad.optim, opt_name)(lnet2.parameters(), **kwargs)
    lnet2.load_state_dict(ck["model"])
    lopt2.load_state_dict(ck["optimizer"])
    _train(torch, tnet, topt, torch.tensor(x), 1)
    _train(lightgrad, lnet2, lopt2, lightgrad.tensor(x), 1)
    for a, b in zip(lnet2.parameters(), tnet.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_torch_reads_a_lightgrad_file_by_path(torch, tmp_path):
    path = tmp_path / "model.pt"
    lightgrad.save(lightgrad.nn.Linear(2, 3).state_dict(), path)
    sd = torch.load(path, weights_only=True)
    m = torch.nn.Linear(2, 3)
    m.load_state_dict(sd)
    assert m.weight.shape == (3, 2)
    assert torch.load(path, mmap=True)["bias"].shape == (3,)    # aligned records mmap


# -- safetensors ----------------------------------------------------------------------------
def test_safetensors_roundtrip(tmp_path):
    stn = pytest.importorskip("safetensors.numpy")
    tensors = {"w": lightgrad.randn(3, 2), "b": lightgrad.arange(4, dtype=lightgrad.int32),
               "t": lightgrad.randn(2, 3).t(), "h": lightgrad.ones(2, dtype=lightgrad.float16)}
    path = tmp_path / "m.safetensors"
    save_safetensors(tensors, path)
    raw = stn.load_file(str(path))
    for k, t in tensors.items():
        np.testing.assert_array_equal(raw[k], t.numpy())
    back = load_safetensors(path)
    for k, t in tensors.items():
        assert back[k].dtype is t.dtype
        np.testing.assert_array_equal(back[k].numpy(), t.numpy())
    back["w"].numpy()[0, 0] = 1.0      # loaded tensors are writable
    stn.save_file({"x": np.ones((2, 2), np.float64)}, str(tmp_path / "ext.safetensors"))
    assert load_safetensors(tmp_path / "ext.safetensors")["x"].dtype is lightgrad.float64
    with pytest.raises(TypeError, match="not a Tensor"):
        save_safetensors({"x": 1}, tmp_path / "bad.safetensors")


# -- all or nothing ---------------------------------------------------------------------------
def _ckpt_model(seed):
    lightgrad.manual_seed(seed)
    nn = lightgrad.nn
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def _native_bytes(state_dict):
    """`state_dict` in lightgrad's older format (the layout _native.py reads)."""
    tensors, storages, data, items = [], [], b"", []
    for i, (k, t) in enumerate(state_dict.items()):
        raw = np.ascontiguousarray(t.numpy()).astype(t.numpy().dtype.newbyteorder("<"))
        data += b"\0" * (-len(data) % 64)      # each storage starts at a multiple of 64
        storages.append([len(data), raw.nbytes])
        data += raw.tobytes()
        tensors.append(_tensor(storage=i, dtype=t.dtype.name, shape=list(t.shape),
                               stride=list(t.stride())))
        items.append([k, {"$": "tensor", "v": i}])
    return _file(_header({"$": "odict", "v": items}, tensors, storages), data).getvalue()


def _values(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _load_into(model, raw):
    """load_state_dict(load(raw)): 'refused' (nothing changed) or 'loaded'."""
    before = _values(model)
    try:
        model.load_state_dict(lightgrad.load(io.BytesIO(raw)))
    except (CheckpointError, pickle.UnpicklingError, RuntimeError):
        after = _values(model)
        assert all(np.array_equal(after[k], before[k]) for k in before)
        return "refused"
    return "loaded"


def _zip_layout(raw):
    """(name, data start, data end) of each record of a zip checkpoint."""
    out = []
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for info in z.infolist():
            n, m = struct.unpack_from("<HH", raw, info.header_offset + 26)
            start = info.header_offset + 30 + n + m
            out.append((info.filename, start, start + info.compress_size))
    return out


def test_corrupt_zip_checkpoints_change_nothing():
    saved = _ckpt_model(1).state_dict()
    good = _values(_ckpt_model(1))
    buf = io.BytesIO()
    lightgrad.save(saved, buf)
    raw = buf.getvalue()
    model = _ckpt_model(2)
    before = _values(model)
    layout = _zip_layout(raw)
    # truncated anywhere: at 80 points, and at every record's start and end
    cuts = set(range(0, len(raw), max(1, len(raw) // 80)))
    cuts |= {p for _, a, b in layout for p in (a - 1, a, b - 1, b)} - {len(raw)}
    for cut in sorted(cuts):
        assert _load_into(model, raw[:cut]) == "refused", cut
    # every byte of data.pkl and of a storage record flipped: zip's CRC-32 catches each
    flips = [i for name, a, b in layout if name.endswith(("data.pkl", "data/0"))
             for i in range(a, b)]
    for i in flips:
        bad = bytearray(raw)
        bad[i] ^= 0xFF
        assert _load_into(model, bytes(bad)) == "refused", i
    # a record missing
    for gone in ("archive/data/0", "archive/data/7", "archive/data.pkl"):
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(raw)) as z, zipfile.ZipFile(out, "w") as w:
            for info in z.infolist():
                if info.filename != gone:
                    w.writestr(info, z.read(info.filename))
        assert _load_into(model, out.getvalue()) == "refused", gone
    assert all(np.array_equal(_values(model)[k], before[k]) for k in before)
    assert _load_into(model, raw) == "loaded"
    assert all(np.array_equal(_values(model)[k], good[k]) for k in good)


def test_any_flipped_byte_of_a_zip_checkpoint_is_caught_or_harmless():
    # zip metadata has bytes nothing reads (padding, version-made-by, ...): a flip there
    # loads the very same values; anywhere else it is a CheckpointError
    saved = _ckpt_model(1).state_dict()
    buf = io.BytesIO()
    lightgrad.save(saved, buf)
    raw = buf.getvalue()
    good = {k: v.numpy() for k, v in saved.items()}
    refused = 0
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0xFF
        try:
            sd = lightgrad.load(io.BytesIO(bytes(bad)))
        except CheckpointError:
            refused += 1
            continue
        assert list(sd) == list(good), i
        for k in good:
            assert sd[k].numpy().dtype == good[k].dtype, (i, k)
            np.testing.assert_array_equal(sd[k].numpy(), good[k], err_msg=str(i))
    assert refused > len(raw) // 3


def test_corrupt_native_checkpoints_change_nothing():
    raw = _native_bytes(_ckpt_model(1).state_dict())
    model = _ckpt_model(2)
    before = _values(model)
    for cut in range(len(raw)):                     # truncated at every byte
        assert _load_into(model, raw[:cut]) == "refused", cut
    # the header flipped byte by byte: refused with nothing changed, or (where the flip
    # leaves valid JSON of the right shapes) loaded; the older format has no checksum
    n = struct.unpack_from("<Q", raw, 8)[0]
    outcomes = collections.Counter()
    for i in range(16 + n):
        bad = bytearray(raw)
        bad[i] ^= 0xFF
        m = _ckpt_model(2)
        outcomes[_load_into(m, bytes(bad))] += 1
    assert outcomes["refused"] > 0.9 * (16 + n), outcomes
    assert all(np.array_equal(_values(model)[k], before[k]) for k in before)
    assert _load_into(model, raw) == "loaded"


def test_load_state_dict_with_errors_changes_nothing(torch):
    # torch copies the tensors that match before it raises; lightgrad restores them
    sd = {k: v + 1 for k, v in _ckpt_model(1).state_dict().items()}
    cases = {"shape": dict(sd, **{"3.weight": lightgrad.zeros(5, 5)}),
             "missing": {k: v for k, v in sd.items() if k != "3.bias"},
             "unexpected": dict(sd, extra=lightgrad.zeros(1)),
             "not a tensor": dict(sd, **{"3.bias": [1.0, 2.0, 3.0]})}
    for name, bad in cases.items():
        for assign in (False, True):
            model = _ckpt_model(2)
            before = _values(model)
            objs = {k: v for k, v in model.state_dict(keep_vars=True).items()}
            with pytest.raises(RuntimeError, match="Error\\(s\\) in loading state_dict"):
                model.load_state_dict(bad, assign=assign)
            after = model.state_dict(keep_vars=True)
            assert all(after[k] is objs[k] for k in objs), name
            assert all(np.array_equal(_values(model)[k], before[k]) for k in before), name
    tm = torch.nn.Linear(2, 2)
    w = tm.weight.detach().clone()
    with pytest.raises(RuntimeError):
        tm.load_state_dict({"weight": torch.ones(2, 2), "bias": torch.ones(3)})
    assert not torch.equal(tm.weight.detach(), w)      # torch's partial load (pinned)


# -- no pickle on data from a file or a tensor --------------------------------------------
# every call into an unpickler in src/lightgrad, with why it is safe; anything new fails
_SAFE_UNPICKLING = {
    ("serialization/_torch_zip.py", "pickle._Unpickler"):
        "the allowlist unpickler of torch checkpoints: find_class resolves only the "
        "listed globals, BUILD only on an OrderedDict",
    ("utils/data/dataloader.py", "pickle.loads"):
        "DataLoader worker IPC: bytes this process's own workers pickled, through a "
        "multiprocessing queue; and the round trip of an exception class it holds",
}


def test_no_loader_unpickles_file_or_tensor_data():
    import ast
    import pathlib
    root = pathlib.Path(lightgrad.__file__).parent
    risky = {"pickle": {"load", "loads", "Unpickler", "_Unpickler"}, "_pickle": None,
             "cPickle": None, "dill": None, "cloudpickle": None, "marshal": {"load", "loads"},
             "shelve": None, "jsonpickle": None}
    found = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mod = node.module if isinstance(node, ast.ImportFrom) else None
                for a in node.names:
                    name = mod or a.name
                    bad = risky.get(name.split(".")[0], False)
                    if name.split(".")[0] in risky and (bad is None or (mod and a.name in bad)):
                        found.setdefault((rel, f"import {name}.{a.name}"), []).append(
                            node.lineno)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                attrs = risky.get(node.value.id)
                if attrs and node.attr in attrs:
                    found.setdefault((rel, f"{node.value.id}.{node.attr}"), []).append(
                        node.lineno)
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "load" \
                    and getattr(node.func.value, "id", None) in ("np", "numpy"):
                allow = [k for k in node.keywords if k.arg == "allow_pickle"]
                if not allow or not (isinstance(allow[0].value, ast.Constant)
                                     and allow[0].value.value is False):
                    found.setdefault((rel, "numpy.load"), []).append(node.lineno)
    unexplained = {k: v for k, v in found.items() if k not in _SAFE_UNPICKLING}
    assert not unexplained, unexplained
    assert set(found) == set(_SAFE_UNPICKLING), found     # the list stays exact
