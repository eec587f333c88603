"""Exchange with other array libraries: DLPack both ways (memory shared), tensor() and
as_tensor() on anything with __dlpack__ or __array__, and real torch taking lightgrad
tensors where it takes NumPy arrays."""
import numpy as np
import pytest

import lightgrad
import lightgrad.utils.dlpack


class ArrayLike:
    """An object NumPy understands only through __array__ (as pandas' are)."""
    def __init__(self, a):
        self.a = a

    def __array__(self, dtype=None, copy=None):
        return self.a


class DLPackOnly:
    """An array-API style array: only the DLPack protocol."""
    def __init__(self, a):
        self.a = a

    def __dlpack__(self, **kwargs):
        return self.a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


def test_numpy_reads_lightgrad_through_dlpack_sharing_memory():
    x = lightgrad.arange(6.).reshape(2, 3)
    a = np.from_dlpack(x)
    a[0, 0] = 9
    assert x[0, 0].item() == 9
    t = x.t()                                   # non-contiguous: strides travel along
    assert np.from_dlpack(t).strides == (4, 12)            # float32
    np.testing.assert_array_equal(np.from_dlpack(t), x.numpy().T)
    assert x.__dlpack_device__() == (1, 0)


def test_from_dlpack_shares_memory_with_numpy_and_capsules():
    a = np.arange(4.)
    y = lightgrad.from_dlpack(a)
    y[1] = 7
    assert a[1] == 7 and y.dtype is lightgrad.float64
    z = lightgrad.from_dlpack(DLPackOnly(np.arange(3, dtype=np.int32)))
    assert z.dtype is lightgrad.int32 and z.tolist() == [0, 1, 2]
    x = lightgrad.ones(3)
    w = lightgrad.from_dlpack(x)               # a new tensor over the same memory
    w[0] = 4
    assert x[0].item() == 4 and w is not x
    capsule = lightgrad.utils.dlpack.to_dlpack(x)
    assert lightgrad.utils.dlpack.from_dlpack(capsule).tolist() == [4.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="DLTensor capsules can be consumed only once"):
        lightgrad.from_dlpack(capsule)
    with pytest.raises(RuntimeError, match="from_dlpack received an invalid capsule"):
        lightgrad.from_dlpack(3)


def test_dlpack_refuses_tensors_that_require_grad_and_other_devices():
    with pytest.raises(BufferError, match="Can't export tensors that require gradient, use "
                                          "tensor.detach()"):
        np.from_dlpack(lightgrad.ones(2, requires_grad=True))

    class OnGPU(DLPackOnly):
        def __dlpack_device__(self):
            return (2, 0)           # kDLCUDA
    with pytest.raises(RuntimeError, match=r"CPU memory.*DLPack device \(2, 0\)"):
        lightgrad.from_dlpack(OnGPU(np.ones(2)))


def test_tensor_and_as_tensor_take_array_likes():
    a = np.arange(3.)
    t = lightgrad.tensor(ArrayLike(a))
    assert t.tolist() == [0.0, 1.0, 2.0] and t.dtype is lightgrad.float64
    t[0] = 5
    assert a[0] == 0                                    # tensor() copies
    s = lightgrad.as_tensor(DLPackOnly(a))
    s[0] = 5
    assert a[0] == 5                                    # as_tensor() shares via DLPack
    assert lightgrad.tensor(DLPackOnly(a), dtype=lightgrad.float32).dtype is lightgrad.float32
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.object_"):
        lightgrad.tensor(ArrayLike(np.array(["a"], dtype=object)))
    with pytest.raises(RuntimeError, match="Could not infer dtype of object"):
        lightgrad.tensor(object())


def test_pandas_values():
    pd = pytest.importorskip("pandas")
    s = pd.Series([1.0, 2.0])
    assert lightgrad.tensor(s).tolist() == [1.0, 2.0]
    df = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    t = lightgrad.tensor(df)
    assert t.tolist() == [[1, 3], [2, 4]] and t.dtype is lightgrad.int64


def test_len_of_a_0d_tensor_raises_as_torch(torch):
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(lightgrad.tensor(1.0))
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(torch.tensor(1.0))


def test_real_torch_takes_lightgrad_tensors_where_it_takes_numpy_arrays(torch):
    x = lightgrad.arange(6, dtype=lightgrad.float32).reshape(2, 3)
    for make in (torch.tensor, torch.as_tensor, torch.from_dlpack, torch.asarray):
        y = make(x)
        assert y.dtype == torch.float32 and y.tolist() == x.tolist()
    shared = torch.as_tensor(x)
    shared[0, 0] = 9
    assert x[0, 0].item() == 9                         # as_tensor/from_dlpack share memory
    copied = torch.tensor(x)
    copied[0, 1] = 9
    assert x[0, 1].item() == 1                         # torch.tensor copies
    assert torch.from_dlpack(x.t()).stride() == (1, 3)
    assert torch.tensor(lightgrad.tensor(True)).dtype == torch.bool
    assert torch.from_dlpack(lightgrad.ones(0, 3)).shape == (0, 3)
    assert torch.stack([torch.as_tensor(lightgrad.ones(2)), torch.zeros(2)]).shape == (2, 2)
    with pytest.raises(BufferError, match="require gradient"):
        torch.from_dlpack(lightgrad.ones(2, requires_grad=True))
    capsule = lightgrad.utils.dlpack.to_dlpack(x)
    assert torch.utils.dlpack.from_dlpack(capsule).tolist() == x.tolist()


def test_lightgrad_takes_real_torch_tensors(torch):
    t = torch.arange(4.)
    y = lightgrad.from_dlpack(t)
    y[1] = 7
    assert t[1].item() == 7                            # memory shared
    assert lightgrad.as_tensor(t)._data.ctypes.data == t.data_ptr()
    c = lightgrad.tensor(t)
    c[0] = 5
    assert t[0].item() == 0                            # tensor() copies
    assert lightgrad.tensor(torch.ones(2, dtype=torch.int32)).dtype is lightgrad.int32
    assert lightgrad.tensor(torch.tensor(2.5, requires_grad=True)).item() == 2.5
    assert lightgrad.from_dlpack(torch.ones(3, 2).t()).stride() == (1, 2)
    assert lightgrad.from_dlpack(torch.utils.dlpack.to_dlpack(t)).tolist() == t.tolist()


# -- read-only NumPy arrays ---------------------------------------------------------------
def _read_only(a):
    a.flags.writeable = False
    return a


def test_read_only_arrays_warn_once_as_torch(torch, monkeypatch):
    import subprocess
    import sys
    import warnings
    from lightgrad import _creation
    # torch warns once per process (a fresh one here), naming the place in its C++ source
    code = ("import warnings, numpy as np, torch; a = np.arange(3.); a.flags.writeable = False"
            "\nwith warnings.catch_warnings(record=True) as w:\n    warnings.simplefilter("
            "'always'); torch.from_numpy(a); torch.as_tensor(a)\n"
            "print(repr([str(x.message) for x in w]))")
    theirs = eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 timeout=120).stdout)
    assert len(theirs) == 1
    text = theirs[0].split(" (Triggered internally")[0]
    assert text.endswith("This type of warning will be suppressed for the rest of this program.")
    for fn in ("from_numpy", "as_tensor", "asarray"):
        monkeypatch.setattr(_creation, "_read_only_warned", [False])
        a = _read_only(np.arange(3.0))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            getattr(lightgrad, fn)(a)
            getattr(lightgrad, fn)(a)
        assert [str(x.message) for x in w] == [text], fn
        assert w[0].category is UserWarning and w[0].filename == __file__
    # copies do not warn, in either library
    monkeypatch.setattr(_creation, "_read_only_warned", [False])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = _read_only(np.arange(3.0))
        lightgrad.tensor(a)
        lightgrad.asarray(a, copy=True)
        lightgrad.asarray(a, dtype=lightgrad.float32)
        lightgrad.from_numpy(np.arange(3.0))


def test_writing_into_a_read_only_array_is_a_clear_error(monkeypatch):
    from lightgrad import _creation
    monkeypatch.setattr(_creation, "_read_only_warned", [True])
    a = _read_only(np.arange(4.0))
    t = lightgrad.from_numpy(a)
    writes = [lambda: t.add_(1), lambda: t.mul_(2.0), lambda: t.zero_(), lambda: t[1:].fill_(0),
              lambda: t.__setitem__(0, 5.0), lambda: t.copy_(lightgrad.ones(4)),
              lambda: lightgrad.add(t, 1, out=t), lambda: t.view(2, 2)[0].sub_(1),
              lambda: t.detach().clamp_(0, 1)]
    for w in writes:
        with pytest.raises(RuntimeError, match=r"^unsupported operation: the written-to "
                           r"tensor's memory belongs to a read-only NumPy array"):
            w()
    assert a.tolist() == [0.0, 1.0, 2.0, 3.0]
    g = lightgrad.from_numpy(_read_only(np.arange(3.0)))
    with pytest.raises(RuntimeError, match="read-only NumPy array"):
        g[0:2].copy_(lightgrad.ones(2, requires_grad=True))      # the recorded path
    assert t.sum().item() == 6.0 and (t + 1).tolist() == [1.0, 2.0, 3.0, 4.0]   # reads work
    # an expanded view keeps torch's overlap error
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        lightgrad.ones(1).expand(3).add_(1)


# -- NumPy operands on the left of an operator ------------------------------------------
_OPS = ["+", "-", "*", "/", "//", "%", "**", "@", "==", "!=", "<", "<=", ">", ">=", "&", "|",
        "^", "<<", ">>", "+=", "-=", "*=", "/=", "@=", "&="]
_LEFTS = {"f64[3]": lambda: np.arange(1.0, 4.0), "i64[3]": lambda: np.arange(1, 4),
          "b[3]": lambda: np.array([True, False, True]),
          "f32[3,3]": lambda: np.ones((3, 3), np.float32), "f64[]": lambda: np.array(2.0),
          "np.float64": lambda: np.float64(2), "np.float32": lambda: np.float32(2),
          "np.int64": lambda: np.int64(2), "np.int32": lambda: np.int32(2),
          "np.bool_": lambda: np.bool_(True), "np.uint8": lambda: np.uint8(3),
          "np.complex64": lambda: np.complex64(2)}
_RIGHTS = {"f32[3]": lambda m: m.tensor([1.0, 2.0, 3.0]), "i64[3]": lambda m: m.tensor([1, 2, 3]),
           "b[3]": lambda m: m.tensor([True, True, False]), "f32[]": lambda m: m.tensor(2.0),
           "f32[3,3]": lambda m: m.ones(3, 3),
           "rg[3]": lambda m: m.tensor([1.0, 2.0, 4.0], requires_grad=True)}


def _operate(m, left, right, op):
    import warnings
    a, t = left(), right(m)
    env = {"a": a, "t": t}
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(f"a {op} t" if op.endswith("=") and op not in ("==", "!=", "<=", ">=")
                 else f"y = a {op} t", env)
    except Exception as e:
        return ("error", type(e).__name__, str(e))
    y = env.get("y", env["a"])
    if isinstance(y, m.Tensor):
        return ("tensor", str(y.dtype).split(".")[1], tuple(y.shape), repr(y.detach().tolist()),
                y.requires_grad)
    if isinstance(y, np.ndarray):
        return ("ndarray", str(y.dtype), y.shape, repr(y.tolist()))
    return (type(y).__name__, y)


def test_numpy_on_the_left_of_an_operator_as_in_torch(torch):
    # torch's operators give NotImplemented for an ndarray (but == and /, which become
    # eq and NumPy's multiply of reciprocal()), so mostly NumPy's or Python's TypeError;
    # NumPy scalars are read as Python numbers (np.bool_ and complex64 through float())
    n = 0
    for ln, left in _LEFTS.items():
        for rn, right in _RIGHTS.items():
            for op in _OPS:
                ours = _operate(lightgrad, left, right, op)
                theirs = _operate(torch, left, right, op)
                assert ours == theirs, (ln, op, rn, ours, theirs)
                n += 1
    assert n == 1800


def test_numpy_ufuncs_on_tensors_return_tensors_as_in_torch(torch):
    cases = [lambda m: np.sin(m.tensor([0.5, 2.0])), lambda m: np.sin(m.tensor(1.0)),
             lambda m: np.greater(m.tensor([0.5, 2.0]), 1),          # bool -> uint8
             lambda m: np.maximum(m.ones(2), np.arange(2.0)),
             lambda m: np.add(m.tensor([1, 2]), 0.5),
             lambda m: np.exp(m.ones(2, requires_grad=True))]
    for i, f in enumerate(cases):
        def run(m, f=f):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")      # numpy's DeprecationWarning for torch
                try:
                    y = f(m)
                except Exception as e:
                    return type(e).__name__, str(e)
            return type(y).__name__, str(y.dtype).split(".")[1], tuple(y.shape), y.tolist()
        assert run(lightgrad) == run(torch), i


def test_tensor_on_the_left_of_an_ndarray_keeps_autograd():
    # deviation (docs/deviations.md): torch hands `t + ndarray` to NumPy; lightgrad computes
    # it as `t + tensor(ndarray)`, with torch's promotion and autograd, in place for +=
    t = lightgrad.tensor([1.0, 2.0], requires_grad=True)
    y = t * np.array([3.0, 4.0])
    assert y.dtype is lightgrad.float64 and type(y.grad_fn).__name__ == "MulBackward0"
    y.sum().backward()
    assert t.grad.tolist() == [3.0, 4.0]
    u = lightgrad.tensor([True, False])
    assert (u & np.array([True, True])).dtype is lightgrad.bool      # torch: uint8
    v = lightgrad.zeros(2)
    w = v
    w += np.ones(2)
    assert w is v and v.tolist() == [1.0, 1.0]                        # torch: a new tensor
    with pytest.raises(TypeError, match="'<' not supported between instances of 'Tensor' "
                                        "and 'numpy.ndarray'"):
        assert t < np.ones(2)                                         # as torch
