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
