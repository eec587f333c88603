"""The Tensor's plain attributes and conversions against torch; devices and threads."""
import numpy as np
import pytest

import lightgrad

from ._compare import check

API_EXPRS = """
float(torch.tensor([1., 2.]))
int(torch.tensor([1., 2.]))
bool(torch.tensor([1., 2.]))
bool(torch.tensor([]))
bool(torch.tensor([0.]))
bool(torch.tensor(3))
float(torch.tensor([]))
torch.tensor([]).item()
torch.tensor([1., 2.]).item()
torch.tensor([[2.5]]).item()
torch.tensor(3).item()
torch.tensor(True).item()
torch.tensor(1+2j).item()
int(torch.tensor(2.7))
int(torch.tensor(-2.7))
float(torch.tensor(3))
complex(torch.tensor(1.))
torch.tensor([1.,2]).tolist()
torch.tensor(1.).tolist()
torch.tensor([[1, 2]], dtype=torch.int32).tolist()
torch.tensor([True]).tolist()
type(torch.tensor([1.], dtype=torch.float16).tolist()[0])
type(torch.tensor([1], dtype=torch.uint8).tolist()[0])
np.asarray(torch.tensor([1.], requires_grad=True))
np.asarray(torch.tensor([1., 2.]))
np.asarray(torch.tensor([1., 2.]), dtype=np.float64)
np.float64(2) * torch.tensor([1., 2.])
np.float64(2) + torch.tensor([1., 2.])
np.float32(2) + torch.tensor([1, 2])
np.int64(2) + torch.tensor([1, 2], dtype=torch.int32)
np.float64(2) == torch.tensor([2., 2.])
np.float64(2) - torch.tensor([1., 2.])
np.float64(2) / torch.tensor([1., 2.])
np.int64(3) > torch.tensor([1, 5])
torch.tensor([1., 2.]) + np.float64(1)
torch.tensor([1., 2.]) == torch.tensor([1., 3.])
torch.tensor([1., 2.]) == 1
torch.tensor([1., 2.]) != 1
torch.tensor([1., 2.]) == None
torch.tensor([1., 2.]) != None
torch.tensor([1., 2.]) == "a"
torch.tensor([[1, 2]]) == torch.tensor([[1], [2]])
len(torch.tensor(1.))
len(torch.zeros(3, 2))
[t.tolist() for t in torch.tensor([[1., 2.], [3., 4.]])]
iter(torch.tensor(1.))
torch.zeros(2, 3).T.shape
torch.zeros(2, 3, 4).mT.shape
torch.zeros(2, 3, 4).stride()
torch.zeros(2, 3, 4).stride(1)
torch.zeros(2, 3, 4).stride(-1)
torch.zeros(2, 3, 4).stride(3)
torch.zeros(2, 3).t().is_contiguous()
torch.zeros(2, 3).is_contiguous()
torch.zeros(2, 3).t().stride()
torch.zeros(2, 3).t().contiguous().stride()
torch.zeros(2, 3).size()
torch.zeros(2, 3).size(1)
torch.zeros(2, 3).size(-1)
torch.zeros(2, 3).size(-3)
torch.zeros(2, 3).shape
torch.zeros(2, 3).shape[0:1]
type(torch.zeros(2, 3).shape[0:1]).__name__
torch.zeros(2, 3).shape[1]
torch.zeros(2, 3).shape + (1,)
type(torch.zeros(2, 3).shape + (1,)).__name__
(1,) + torch.zeros(2, 3).shape
type((1,) + torch.zeros(2, 3).shape).__name__
torch.Size([2, 3]) == (2, 3)
torch.Size([2, 3]).numel()
torch.Size([]).numel()
torch.Size((2, 3))
torch.Size()
str(torch.Size([2]))
isinstance(torch.Size([2]), tuple)
torch.zeros(()).shape
torch.zeros(2,3).dim()
torch.zeros(2,3).ndim
torch.zeros(()).ndim
torch.zeros(2,3).ndimension()
torch.zeros(2,3).numel()
torch.zeros(2,3).nelement()
torch.zeros(2,3).element_size()
torch.zeros(2,3).nbytes
torch.zeros(2,3, dtype=torch.float64).itemsize
torch.zeros(2, dtype=torch.int16).element_size()
torch.zeros(2).device
torch.zeros(2).is_cuda
torch.zeros(2).is_leaf
torch.zeros(2).get_device()
torch.zeros(2).is_floating_point()
torch.zeros(2, dtype=torch.int64).is_floating_point()
torch.zeros(2, dtype=torch.complex64).is_complex()
torch.zeros(2, 3).to('cpu', torch.double).dtype
torch.zeros(2, 3).to(torch.device('cpu')).dtype
torch.zeros(2, 3).to('cpu').dtype
torch.zeros(2, 3).to(torch.int64)
torch.zeros(2, 3).to(dtype=torch.float16, device='cpu').dtype
torch.zeros(2).to('cuda')
torch.zeros(2).cpu().dtype
torch.zeros(2).cuda()
torch.zeros(2).numpy().dtype
torch.zeros(2, requires_grad=True).numpy()
torch.zeros(2, requires_grad=True).detach().numpy()
torch.device('cpu')
torch.device('cuda:1')
torch.device('cuda', 1)
torch.device('cpu', 0)
torch.device(type='cpu')
torch.device('foo')
torch.device('cpu') == torch.device('cpu')
torch.device('cpu') == torch.device('cpu', 0)
torch.device('cpu') == 'cpu'
str(torch.device('cuda:2'))
torch.device('cuda:1').index
torch.device('cpu').type
torch.get_default_device()
torch.cuda.is_available()
torch.cuda.device_count()
torch.zeros(2, device=torch.device('cpu')).device
"""


@pytest.mark.parametrize("expr", [s.strip() for s in API_EXPRS.strip().splitlines()])
def test_api_against_torch(torch, expr):
    check(torch, expr)


def test_numpy_shares_memory():
    x = lightgrad.tensor([1., 2., 3.])
    a = x.numpy()
    a[0] = 10
    assert x.tolist() == [10., 2., 3.]
    assert np.shares_memory(np.asarray(x), a)
    y = lightgrad.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Use tensor.detach"):
        y.numpy()
    assert y.numpy(force=True).tolist() == [0., 0.]


def test_iteration_yields_tensors():
    x = lightgrad.tensor([[1., 2.], [3., 4.]])
    rows = list(x)
    assert len(rows) == 2 and all(isinstance(r, lightgrad.Tensor) for r in rows)
    assert rows[1].tolist() == [3., 4.]
    assert [float(v) for v in x[0]] == [1., 2.]


def test_shape_is_size_and_data_ptr():
    x = lightgrad.zeros(2, 3)
    assert isinstance(x.shape, lightgrad.Size) and isinstance(x.size(), lightgrad.Size)
    assert x.shape == (2, 3) and repr(x.shape) == "lightgrad.Size([2, 3])"
    assert isinstance(x.data_ptr(), int) and x.data_ptr() != 0
    v = x.view(6) if hasattr(x, "view") else x
    assert v.data_ptr() == x.data_ptr()


def test_default_device_and_threads():
    assert lightgrad.get_default_device() == lightgrad.device("cpu")
    lightgrad.set_default_device("cpu")
    lightgrad.set_default_device(None)
    assert lightgrad.get_default_device().type == "cpu"
    with pytest.raises(AssertionError):
        lightgrad.set_default_device("cuda")
    n = lightgrad.get_num_threads()
    assert isinstance(n, int) and n >= 1
    lightgrad.set_num_threads(1)
    assert lightgrad.get_num_threads() == 1
    lightgrad.set_num_threads(n)
    assert lightgrad.get_num_threads() == n
    with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
        lightgrad.set_num_threads(0)


def test_cuda_module():
    assert lightgrad.cuda.is_available() is False
    assert lightgrad.cuda.device_count() == 0
    lightgrad.cuda.manual_seed_all(0)       # a no-op, as in torch without CUDA
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        lightgrad.zeros(1).cuda()


PREDICATE_EXPRS = """
torch.is_tensor(torch.zeros(2))
torch.is_tensor([1])
torch.is_floating_point(torch.zeros(2))
torch.is_complex(torch.zeros(2))
torch.numel(torch.zeros(2, 3))
torch.result_type(torch.zeros(2), 1.)
torch.result_type(torch.zeros(2, dtype=torch.int64), 1.)
torch.result_type(torch.zeros(2, dtype=torch.int32), torch.tensor(1))
torch.can_cast(torch.float32, torch.int32)
torch.can_cast(torch.int32, torch.float16)
"""


@pytest.mark.parametrize("expr", [s.strip() for s in PREDICATE_EXPRS.strip().splitlines()])
def test_predicates_against_torch(torch, expr):
    check(torch, expr)
