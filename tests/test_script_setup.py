"""The set-up lines at the top of torch scripts: torch.backends, deterministic algorithms,
matmul precision, the legacy tensor types and torch.testing.assert_close, each with torch's
answers and errors."""
import math
import warnings

import numpy as np
import pytest

import lightgrad


def test_backends_flags_and_availability():
    b = lightgrad.backends
    assert (b.cudnn.enabled, b.cudnn.deterministic, b.cudnn.benchmark) == (True, False, False)
    assert b.cudnn.is_available() is False and b.cudnn.version() is None
    assert b.mps.is_available() is False and b.mps.is_built() is False
    assert b.mkldnn.is_available() is False and b.cuda.is_built() is False
    assert b.cuda.matmul.allow_tf32 is False
    import lightgrad.backends.cudnn as cudnn        # the import form scripts use
    try:
        cudnn.deterministic, cudnn.benchmark = True, False
        assert lightgrad.backends.cudnn.deterministic is True
    finally:
        cudnn.deterministic = False


def test_backends_match_torch(torch):
    for name in ("enabled", "deterministic", "benchmark", "allow_tf32"):
        assert getattr(lightgrad.backends.cudnn, name) == getattr(torch.backends.cudnn, name)
    assert lightgrad.backends.mps.is_available() == torch.backends.mps.is_available()
    assert lightgrad.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32


def _outcome(fn, *args, **kwargs):
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            value = fn(*args, **kwargs)
        return ("ok", value, [str(x.message).split(" (Triggered")[0] for x in w])
    except Exception as e:
        return (type(e).__name__, str(e))


def _settings_script(m):
    out = [m.are_deterministic_algorithms_enabled(), m.get_float32_matmul_precision()]
    for call in [lambda: m.use_deterministic_algorithms(True),
                 lambda: (m.are_deterministic_algorithms_enabled(),
                          m.is_deterministic_algorithms_warn_only_enabled(),
                          m.get_deterministic_debug_mode()),
                 lambda: m.use_deterministic_algorithms(True, warn_only=True),
                 lambda: (m.is_deterministic_algorithms_warn_only_enabled(),
                          m.get_deterministic_debug_mode()),
                 lambda: m.use_deterministic_algorithms("yes"),
                 lambda: m.use_deterministic_algorithms(True, warn_only=1),
                 lambda: m.set_deterministic_debug_mode("error"),
                 lambda: m.get_deterministic_debug_mode(),
                 lambda: m.set_deterministic_debug_mode("x"),
                 lambda: m.set_deterministic_debug_mode(5),
                 lambda: m.set_deterministic_debug_mode(1.0),
                 lambda: m.set_deterministic_debug_mode(0),
                 lambda: m.are_deterministic_algorithms_enabled(),
                 lambda: m.set_float32_matmul_precision("high"),
                 lambda: m.get_float32_matmul_precision(),
                 lambda: m.set_float32_matmul_precision("fast"),
                 lambda: m.get_float32_matmul_precision(),
                 lambda: m.set_float32_matmul_precision(3),
                 lambda: m.set_float32_matmul_precision("highest")]:
        out.append(_outcome(call))
    m.use_deterministic_algorithms(False)
    return out


def test_deterministic_and_matmul_precision_settings():
    out = _settings_script(lightgrad)
    assert out[3][1] == (True, False, 2) and out[5][1] == (True, 1)
    assert out[6] == ("TypeError", "_set_deterministic_algorithms(): argument 'mode' "
                                   "(position 1) must be bool, not str")
    assert out[18][1] == "high"
    assert out[17][2] == ["fast is not one of 'highest', 'high', or 'medium'; the current"
                          "setFloat32MatmulPrecision call has no effect."]
    assert lightgrad.get_float32_matmul_precision() == "highest"


def test_settings_match_torch(torch):
    assert _settings_script(lightgrad) == _settings_script(torch)


def test_legacy_tensor_types():
    x = lightgrad.FloatTensor(2, 3)
    assert x.shape == (2, 3) and x.dtype is lightgrad.float32
    assert lightgrad.FloatTensor().shape == (0,)
    assert lightgrad.LongTensor([1, 2]).dtype is lightgrad.int64
    assert lightgrad.FloatTensor(lightgrad.Size([2, 4])).shape == (2, 4)
    assert lightgrad.FloatTensor((2, 3)).tolist() == [2.0, 3.0]
    assert lightgrad.IntTensor([1.7]).tolist() == [1]
    assert lightgrad.BoolTensor([1, 0]).tolist() == [True, False]
    assert isinstance(lightgrad.ones(2), lightgrad.FloatTensor)
    assert not isinstance(lightgrad.ones(2, dtype=lightgrad.float64), lightgrad.FloatTensor)
    assert isinstance(lightgrad.ones(2, dtype=lightgrad.float64), lightgrad.DoubleTensor)
    assert not isinstance(3, lightgrad.FloatTensor)
    assert not issubclass(lightgrad.FloatTensor, lightgrad.Tensor)
    y = lightgrad.ones(2)
    z = lightgrad.FloatTensor(y)                 # shares memory, as torch's does
    z[0] = 5
    assert y[0].item() == 5
    assert y.type(lightgrad.DoubleTensor).dtype is lightgrad.float64
    assert y.type() == "torch.FloatTensor"
    with pytest.raises(TypeError, match=r"expected TensorOptions\(dtype=float, device=cpu"):
        lightgrad.FloatTensor(lightgrad.ones(2, dtype=lightgrad.float64))
    with pytest.raises(TypeError, match="new\\(\\): data must be a sequence \\(got float\\)"):
        lightgrad.FloatTensor(2.5)
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        lightgrad.FloatTensor(-1)


def test_legacy_tensor_types_match_torch(torch):
    for name in ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
                 "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"):
        lt, tt = getattr(lightgrad, name), getattr(torch, name)
        assert repr(lt) == repr(tt) and lt.dtype.name == str(tt.dtype).split(".")[1]
        assert lt([1, 0]).tolist() == tt([1, 0]).tolist()
        assert lightgrad.ones(1, dtype=lt.dtype).type() == torch.ones(1, dtype=tt.dtype).type()
        for src in ("float32", "float64", "int64", "bool"):
            a = _outcome(lt, lightgrad.ones(2, dtype=getattr(lightgrad, src)))
            b = _outcome(tt, torch.ones(2, dtype=getattr(torch, src)))
            assert a[0] == b[0] and (a[0] == "ok" or a[1] == b[1])


def _assert_close_cases(m):
    t = m.tensor
    return [
        ((t([1., 2., 3.]), t([1., 2.5, 3.])), {}),
        ((t([[1., 2.], [3., 4.]]), t([[1., 2.], [3., 5.]])), {}),
        ((t([1., 2.]), t([1., 2.], dtype=m.float64)), {}),
        ((t([1., 2.]), t([1., 2., 3.])), {}),
        ((1.0, 1.5), {}), ((1, 2), {}), ((1, 1.0), {}), ((1, 1.0), {"check_dtype": False}),
        ((True, False), {}), ((None, None), {}), ((None, 1), {}),
        ((t([1, 2]), t([1, 3])), {}), ((t(1.), t(1.5)), {}),
        ((t([math.nan]), t([math.nan])), {}), ((t([math.nan]), t([math.nan])),
                                               {"equal_nan": True}),
        (([m.ones(2), m.ones(2)], [m.ones(2), m.zeros(2)]), {}),
        (({"a": m.ones(2)}, {"a": m.zeros(2)}), {}), (({"a": m.ones(2)}, {"b": m.ones(2)}), {}),
        (([1, 2], [1, 2, 3]), {}), ((m.ones(2), [1., 1.]), {}),
        ((m.ones(2), m.ones(2) + 1e-6), {}),
        ((m.ones(2), m.ones(2) + 1e-4), {"rtol": 1e-3, "atol": 0}),
        ((m.ones(2), m.ones(2)), {"rtol": 1e-3}),
        ((m.ones(2, 3), m.ones(3, 2).t()), {"check_stride": True}),
        ((m.ones(2), m.zeros(2)), {"msg": "custom"}),
        ((t([True, False]), t([True, True])), {}), ((t([0., 1.]), t([1e-9, 1.])), {}),
        ((t([1.0, math.inf]), t([1.0, -math.inf])), {}),
        ((m.ones(2), m.ones(2, dtype=m.float64)), {"check_dtype": False}),
        (("a", "b"), {}), ((m.ones(2, requires_grad=True), m.zeros(2)), {}),
        ((np.ones(2), np.zeros(2)), {}), ((np.ones(2), m.ones(2)), {}),
        (([{"a": m.ones(2)}], [{"a": m.zeros(2)}]), {}), (((1, 2), [1, 2]), {}),
        ((1.0, math.nan), {"equal_nan": True}), ((math.nan, math.nan), {}),
        ((m.ones(2), m.ones(2, dtype=m.float64) * 1.00001), {"check_dtype": False}),
        ((m.ones(2, dtype=m.float16), m.ones(2, dtype=m.float16) * 1.001), {}),
        ((t([1 + 1j]), t([1 + 2j])), {}), ((2, 3), {"rtol": 0.5, "atol": 0}),
        ((np.float32(1.0), np.float32(1.1)), {}), ((m.ones(0), m.ones(0)), {}),
        ((t(np.uint8(200)), t(np.uint8(3))), {}),
        ((t([200], dtype=m.uint8), t([3], dtype=m.uint8)), {}),
        ((t([[1., 2.], [3., 4.]]), t([[1.5, 2.], [3., 4.]])), {"msg": lambda s: "X" + s}),
        ((t([1, 2, 3]), t([1, 2, 5])), {"rtol": 0.1, "atol": 1}),
        ((t([1., 2.]), t([1., 2.5], dtype=m.float64)),
         {"check_dtype": False, "rtol": 0, "atol": 0}),
    ]


def _assert_close_outcomes(m):
    out = []
    for args, kwargs in _assert_close_cases(m):
        r = _outcome(m.testing.assert_close, *args, **kwargs)
        out.append(r[:2] if r[0] != "ok" else "ok")
    return out


def test_assert_close_messages():
    out = _assert_close_outcomes(lightgrad)
    assert out[0] == ("AssertionError", "Tensor-likes are not close!\n\n"
                      "Mismatched elements: 1 / 3 (33.3%)\n"
                      "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
                      "Greatest relative difference: 0.20000000298023224 at index (1,) "
                      "(up to 1.3e-06 allowed)")
    assert out[2] == ("AssertionError", "The values for attribute 'dtype' do not match: "
                      "lightgrad.float32 != lightgrad.float64.")
    assert out[5] == ("AssertionError", "Scalars are not equal!\n\nExpected 2 but got 1.\n"
                      "Absolute difference: 1\nRelative difference: 0.5")
    assert out[15][1].endswith("\n\nThe failure occurred for item [1]")
    assert out[20] == "ok" and out[14] == "ok" and out[13][0] == "AssertionError"
    assert out[22] == ("ValueError", "Both 'rtol' and 'atol' must be either specified or "
                       "omitted, but got no atol.")


def test_assert_close_matches_torch(torch):
    ours, theirs = _assert_close_outcomes(lightgrad), _assert_close_outcomes(torch)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b != "ok":   # torch names its own types and dtypes; lightgrad names its own
            b = (b[0], b[1].replace("<class 'torch.Tensor'>", "<class 'lightgrad._tensor.Tensor'>")
                 .replace("torch.", "lightgrad."))
        assert a == b, (i, a, b)
