"""The generator state (get_rng_state / Generator.get_state): a plain uint8 tensor of a fixed
layout that set_state checks field by field, so a state inside a checkpoint can never run
code; round trips are exact, also through checkpoint files read by lightgrad and torch."""
import io
import pickle
import struct

import numpy as np
import pytest

import lightgrad

SIZE = 5056


def _draws(g=None):
    """Numbers from every kind of draw (float32 draws use half of a 64-bit word)."""
    return (lightgrad.rand(3, generator=g).tolist()
            + lightgrad.rand(3, dtype=lightgrad.float32, generator=g).tolist()
            + lightgrad.randn(2, dtype=lightgrad.float64, generator=g).tolist()
            + lightgrad.randint(0, 1000, (3,), generator=g).tolist())


def test_layout():
    lightgrad.manual_seed(1234)
    s = lightgrad.get_rng_state()
    assert s.dtype is lightgrad.uint8 and s.shape == (SIZE,) and s.is_contiguous()
    raw = s.numpy().tobytes()
    magic, version, has_uint32, seed = struct.unpack_from("<8sIIQ", raw)
    assert (magic, version, has_uint32, seed) == (b"LGPCG64\0", 1, 0, 1234)
    bits = np.random.default_rng(1234).bit_generator.state["state"]
    assert int.from_bytes(raw[28:44], "little") == bits["state"]
    assert int.from_bytes(raw[44:60], "little") == bits["inc"]
    assert not any(raw[60:])
    assert lightgrad.Generator().manual_seed(-1).get_state().numpy()[16:24].tolist() == \
        [255] * 8                          # negative seeds wrap to uint64, as in torch


def test_round_trips_are_exact():
    lightgrad.manual_seed(7)
    lightgrad.rand(1, dtype=lightgrad.float32)      # an odd number of 32-bit halves used
    state = lightgrad.get_rng_state()
    assert state.numpy()[12] == 1                   # has_uint32
    first = _draws()
    lightgrad.set_rng_state(state)
    assert _draws() == first
    assert lightgrad.initial_seed() == 7
    s = lightgrad.seed()
    state = lightgrad.get_rng_state()
    first = _draws()
    lightgrad.manual_seed(0)
    lightgrad.set_rng_state(state)
    assert _draws() == first and lightgrad.initial_seed() == s


def test_generator_objects():
    g = lightgrad.Generator().manual_seed(99)
    _draws(g)
    state = g.get_state()
    first = _draws(g)
    h = lightgrad.Generator()
    assert h.set_state(state) is h
    assert h.initial_seed() == 99 and _draws(h) == first
    g.set_state(state)
    assert _draws(g) == first
    lightgrad.set_rng_state(state)                  # the default generator takes it too
    assert _draws() == first


def test_round_trip_through_checkpoints(tmp_path, torch):
    lightgrad.manual_seed(5)
    _draws()
    g = lightgrad.Generator().manual_seed(6)
    path = tmp_path / "ck.pt"
    lightgrad.save({"rng_state": lightgrad.get_rng_state(), "gen": g.get_state(), "step": 3},
                   path)
    first, first_g = _draws(), _draws(g)
    ck = lightgrad.load(path)
    lightgrad.manual_seed(0)
    lightgrad.set_rng_state(ck["rng_state"])
    g2 = lightgrad.Generator().set_state(ck["gen"])
    assert _draws() == first and _draws(g2) == first_g
    # real torch reads the state as the uint8 tensor it is, and writes it back unchanged
    theirs = torch.load(path)
    assert theirs["rng_state"].dtype == torch.uint8 and theirs["rng_state"].shape == (SIZE,)
    buf = io.BytesIO()
    torch.save(theirs, buf)
    buf.seek(0)
    lightgrad.set_rng_state(lightgrad.load(buf)["rng_state"])
    assert _draws() == first


def _outcome(fn):
    try:
        fn()
    except Exception as e:
        return type(e).__name__, str(e)
    return "ok", ""


def test_bad_types_and_sizes_raise_torchs_errors(torch):
    cases = [
        lambda m: m.zeros(3),
        lambda m: m.zeros(SIZE),                          # float, right size
        lambda m: m.zeros(SIZE, dtype=m.int64),
        lambda m: m.zeros(SIZE, dtype=m.int8),
        lambda m: m.zeros(SIZE, dtype=m.bool),
        lambda m: m.zeros(3, requires_grad=True),
        lambda m: m.zeros(10, dtype=m.uint8),
        lambda m: m.zeros(0, dtype=m.uint8),
        lambda m: m.zeros(SIZE + 1, dtype=m.uint8),
        lambda m: m.tensor(3, dtype=m.uint8),
        lambda m: m.zeros(20, dtype=m.uint8)[::2],        # non-contiguous
        lambda m: m.get_rng_state()[:100],                # truncated
        lambda m: m.get_rng_state()[:-1],
        lambda m: m.cat([m.get_rng_state()] * 2)[::2],
        lambda m: [1, 2, 3],
        lambda m: None,
        lambda m: 3,
        lambda m: bytes(SIZE),
        lambda m: np.zeros(SIZE, np.uint8),
    ]
    for i, make in enumerate(cases):
        for setter in ("set_rng_state", "Generator"):
            def run(m, make=make, setter=setter):
                state = make(m)
                if setter == "Generator":
                    return lambda: m.Generator().set_state(state)
                return lambda: m.set_rng_state(state)
            ours, theirs = _outcome(run(lightgrad)), _outcome(run(torch))
            assert ours == theirs and ours[0] != "ok", (i, setter, ours, theirs)


def test_bad_content_is_refused_and_changes_nothing(torch):
    lightgrad.manual_seed(3)
    good = lightgrad.get_rng_state().numpy().copy()

    def patched(offset, raw):
        a = good.copy()
        a[offset:offset + len(raw)] = np.frombuffer(raw, np.uint8)
        return lightgrad.from_numpy(a)

    bad = {
        "torch's own state": lightgrad.from_numpy(torch.get_rng_state().numpy().copy()),
        "zeros": lightgrad.zeros(SIZE, dtype=lightgrad.uint8),
        "magic": patched(0, b"LGPCG65\0"),
        "version": patched(8, struct.pack("<I", 2)),
        "has_uint32": patched(12, struct.pack("<I", 2)),
        "even increment": patched(44, bytes([good[44] & 0xFE])),
        "padding": patched(SIZE - 1, b"\1"),
    }
    match = {"torch's own state": "not a lightgrad generator state .*mt19937",
             "zeros": "not a lightgrad generator state", "magic": "not a lightgrad",
             "version": "layout version 2", "has_uint32": "corrupt PCG64 fields",
             "even increment": "corrupt PCG64 fields", "padding": "corrupt PCG64 fields"}
    lightgrad.manual_seed(3)
    expected = _draws()
    for name, state in bad.items():
        for setter in (lightgrad.set_rng_state, lightgrad.default_generator.set_state):
            lightgrad.manual_seed(3)
            with pytest.raises(RuntimeError, match="^Invalid RNG state: " + match[name]):
                setter(state)
            assert _draws() == expected, name        # the stream was not touched


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (exec, (f"open({str(self.path)!r}, 'w').write('pwned')",))


def test_a_crafted_pickle_state_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps((0, _Evil(marker)))
    assert len(payload) < SIZE
    padded = payload + bytes(SIZE - len(payload))   # pickle ignores what follows its STOP
    states = [np.frombuffer(payload, np.uint8), np.frombuffer(padded, np.uint8)]
    for raw in states:
        state = lightgrad.tensor(raw.copy())
        with pytest.raises(RuntimeError, match="RNG state"):
            lightgrad.set_rng_state(state)
        with pytest.raises(RuntimeError, match="RNG state"):
            lightgrad.Generator().set_state(state)
        # the usual resume step: a safe load, then set_rng_state on what the file holds
        path = tmp_path / "resume.pt"
        lightgrad.save({"rng_state": state}, path)
        with pytest.raises(RuntimeError, match="RNG state"):
            lightgrad.set_rng_state(lightgrad.load(path)["rng_state"])
    assert not marker.exists()
