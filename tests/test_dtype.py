"""dtype objects, default dtype and type promotion against torch (spec section 7)."""
import itertools
import pickle

import numpy as np
import pytest

import lightgrad
from lightgrad import _dtype

from ._compare import check

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
         "complex64", "complex128"]


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    yield
    lightgrad.set_default_dtype(lightgrad.float32)
    try:
        import torch
        torch.set_default_dtype(torch.float32)
    except ImportError:
        pass


def _complex32(torch_dtype):
    # torch has complex32 (float16 + complex); lightgrad promotes to complex64 instead
    return str(torch_dtype) == "torch.complex32"


def _name(torch_dtype):
    return str(torch_dtype).split(".")[1]


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
def test_promote_types_table(torch, a, b):
    expected = torch.promote_types(getattr(torch, a), getattr(torch, b))
    got = lightgrad.promote_types(getattr(lightgrad, a), getattr(lightgrad, b))
    if _complex32(expected):
        assert got is lightgrad.complex64
    else:
        assert got.name == _name(expected)


def _make(mod, name, kind):
    return mod.ones((2,) if kind == "dim" else (), dtype=getattr(mod, name))


@pytest.mark.filterwarnings("ignore:ComplexHalf")
@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("a", NAMES)
def test_add_promotion_all_tiers(torch, default, a):
    """Tensor-tensor over the tiers (dimensioned, 0-d) and tensor-scalar, via add."""
    torch.set_default_dtype(getattr(torch, default))
    lightgrad.set_default_dtype(getattr(lightgrad, default))
    for b in NAMES:
        for ka, kb in itertools.product(["dim", "0d"], repeat=2):
            expected = torch.add(_make(torch, a, ka), _make(torch, b, kb)).dtype
            got = lightgrad.add(_make(lightgrad, a, ka), _make(lightgrad, b, kb))
            want = "complex64" if _complex32(expected) else _name(expected)
            assert got.dtype.name == want, (a, ka, b, kb)
            assert _dtype.result_type(_make(lightgrad, a, ka), _make(lightgrad, b, kb)).name \
                == want
    for scalar in [True, 2, 2.5, 1 + 1j, np.float64(2.5), np.int32(3)]:
        for ka in ["dim", "0d"]:
            expected = torch.add(_make(torch, a, ka), scalar).dtype
            want = "complex64" if _complex32(expected) else _name(expected)
            got = lightgrad.add(_make(lightgrad, a, ka), scalar)
            assert got.dtype.name == want, (a, ka, scalar)
            assert _dtype.result_type(_make(lightgrad, a, ka), scalar).name == want
            assert (scalar + _make(lightgrad, a, ka)).dtype.name == want


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
def test_can_cast(torch, a, b):
    assert _dtype.can_cast(getattr(lightgrad, a), getattr(lightgrad, b)) == \
        torch.can_cast(getattr(torch, a), getattr(torch, b))


DTYPE_EXPRS = """
torch.float32.is_floating_point
torch.float16.is_floating_point
torch.int64.is_floating_point
torch.complex64.is_floating_point
torch.complex64.is_complex
torch.float64.is_complex
torch.float32.itemsize
torch.float16.itemsize
torch.complex128.itemsize
torch.bool.itemsize
torch.int8.is_signed
torch.uint8.is_signed
torch.bool.is_signed
torch.float32.is_signed
torch.float32.to_complex()
torch.float64.to_complex()
torch.complex128.to_real()
torch.complex64.to_real()
torch.int32.to_real()
torch.float is torch.float32
torch.double is torch.float64
torch.half is torch.float16
torch.long is torch.int64
torch.int is torch.int32
torch.short is torch.int16
torch.cfloat is torch.complex64
torch.cdouble is torch.complex128
torch.float32 == torch.float
torch.float32 == torch.float64
torch.float32
str(torch.int64)
torch.get_default_dtype()
torch.set_default_dtype(torch.int64)
torch.set_default_dtype(torch.complex64)
torch.finfo().eps
torch.finfo(torch.float32).tiny
torch.finfo(torch.float32).smallest_normal
torch.finfo(torch.float16).max
torch.finfo(torch.float16).min
torch.finfo(torch.float64).resolution
torch.finfo(torch.float64).bits
torch.finfo(torch.float32).dtype
torch.iinfo(torch.int32).max
torch.iinfo(torch.uint8).min
torch.iinfo(torch.int8).bits
torch.iinfo(torch.int64).dtype
torch.zeros(2, dtype=torch.float16).dtype.itemsize
torch.tensor([1+2j]) * torch.tensor([2.])
torch.tensor([1+2j]) + 1
torch.tensor([1+2j], dtype=torch.complex128) * torch.tensor([2.], dtype=torch.float32)
torch.tensor([1+2j]) * torch.tensor([1-1j])
torch.tensor([1, 2]) / torch.tensor([2, 2])
torch.tensor([1, 2]) // 2
torch.tensor([1, 2]) ** 2
torch.tensor([1, 2]) ** 2.0
torch.tensor([1, 2]) + torch.tensor(1.)
torch.tensor([1, 2]) + torch.tensor(1., dtype=torch.float64)
torch.tensor([1.]) + torch.tensor(1., dtype=torch.float64)
torch.tensor([1.]) + torch.tensor([1.], dtype=torch.float64)
torch.tensor([1.], dtype=torch.float16) + torch.tensor([1.])
torch.tensor([True]) + torch.tensor([True])
torch.tensor([True]) + 1
torch.tensor([1], dtype=torch.uint8) + torch.tensor([1], dtype=torch.int8)
"""


@pytest.mark.parametrize("expr", [s.strip() for s in DTYPE_EXPRS.strip().splitlines()])
def test_dtype_behaviour(torch, expr):
    check(torch, expr)


def test_default_dtype_switch(torch):
    lightgrad.set_default_dtype(lightgrad.float64)
    assert lightgrad.get_default_dtype() is lightgrad.float64
    assert lightgrad.tensor([1.]).dtype is lightgrad.float64
    assert lightgrad.tensor([1j]).dtype is lightgrad.complex128
    assert lightgrad.add(lightgrad.tensor([1]), 1.5).dtype is lightgrad.float64
    assert repr(lightgrad.tensor([1.5])) == "tensor([1.5000])"
    assert repr(lightgrad.tensor([1.5], dtype=lightgrad.float32)) == \
        "tensor([1.5000], dtype=lightgrad.float32)"
    lightgrad.set_default_dtype(lightgrad.float16)
    assert lightgrad.tensor([1j]).dtype is lightgrad.complex64


def test_dtype_objects_are_singletons():
    for n in NAMES:
        d = getattr(lightgrad, n)
        assert pickle.loads(pickle.dumps(d)) is d
        assert repr(d) == f"lightgrad.{n}"
        assert isinstance(d, lightgrad.dtype)
        assert lightgrad.zeros(1, dtype=d).dtype is d


def test_complex_tensors_work_without_grad():
    z = lightgrad.tensor([1 + 2j, 3 - 1j])
    assert z.dtype is lightgrad.complex64 and z.is_complex()
    assert (z * 2).tolist() == [2 + 4j, 6 - 2j]
    assert repr(z) == "tensor([1.+2.j, 3.-1.j])"
    with pytest.raises(NotImplementedError):
        z.requires_grad_()
