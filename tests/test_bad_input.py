"""Malformed calls, table-driven: each case runs once with `torch` bound to lightgrad and
once to real torch, and must raise the same exception class with the same message.

A case is a statement string (several statements joined with `;`), run with `exec` in a
fresh namespace where `torch`, `nn`, `F`, `optim`, `DataLoader` are the module's and `t` is
`arange(6.).reshape(2, 3)`. A `(code, pattern)` pair first removes the regex `pattern` from
torch's message (a C++ source location that names torch's own files). DEVIATIONS pins the
few calls where lightgrad keeps torch's exception class but not its text
(docs/deviations.md).
"""
import re

import pytest

import lightgrad as lg

# torch's allocator prefixes its message with the C++ check that failed
_ENFORCE = r"^\[enforce fail at [^\]]*\] err == 0\. "

CASES = [
    # -- wrong argument types ----------------------------------------------------------------
    "torch.tensor(object())",
    "torch.tensor([1, 'a'])",
    "torch.tensor([[1, 2], [3]])",
    "torch.add(t, 'a')",
    "t.reshape('a')",
    "torch.zeros('a')",
    "torch.ones(2, dtype='float32')",
    "torch.full((2,), 'x')",
    "t.permute(0)",
    "t.expand(1, 3)",
    "t.clamp()",
    "torch.tensor(['a'])",
    "torch.tensor([[1], 'a'])",
    "torch.add(t, None)",
    "t + [1, 2]",
    "t * None",
    "[1, 2] - t",
    "torch.mul(t, [1])",
    "torch.div(t, 'a')",
    "t.view(2, 3.0)",
    "t.view(2, None)",
    "t.reshape(2, 3.0)",
    "t.reshape([2.0, 3])",
    "t.reshape(None)",
    "torch.zeros(2, dtype=1)",
    "torch.full((2,), None)",
    "t.type('x')",
    # -- out-of-range dims -------------------------------------------------------------------
    "t.sum(dim=3)",
    "t.mean(-3)",
    "t.transpose(0, 2)",
    "t.squeeze(2)",
    "t.unsqueeze(3)",
    "torch.cat([t, t], dim=2)",
    "torch.stack([t, t], dim=4)",
    "torch.softmax(t, dim=2)",
    "F.log_softmax(t, 2)",
    "t.argmax(dim=5)",
    "t.max(dim=2)",
    "t.flip(2)",
    "t.size(2)",
    "t.cumsum(2)",
    "torch.tensor(1.).sum(dim=1)",
    "t.flatten(1, 0)",
    # -- out-of-range indices ----------------------------------------------------------------
    "t[5]",
    "t[0, 3]",
    "t[0, 0, 0]",
    "torch.tensor(1.)[0]",
    "t[torch.tensor([2])]",
    "t.select(0, 2)",
    "t.narrow(1, 2, 3)",
    "torch.index_select(t, 0, torch.tensor([5]))",
    "torch.gather(t, 1, torch.tensor([[0, 3]]))",
    "torch.zeros(3).scatter_(0, torch.tensor([5]), 1.0)",
    "F.embedding(torch.tensor([10]), torch.randn(4, 3))",
    "nn.Embedding(4, 3)(torch.tensor([4]))",
    "F.one_hot(torch.tensor([3]), 3)",
    "t[torch.tensor([0.])]",
    "t[torch.tensor([True, False, True])]",
    "t[None, 0, 3]",
    "t[0, ..., 4]",
    "torch.tensor(1.)[0:1]",
    "x = torch.zeros(3); x[5] = 1.",
    "torch.zeros(3).index_fill_(0, torch.tensor([-4]), 1.)",
    "torch.zeros(3).index_add_(0, torch.tensor([-1]), torch.ones(1))",
    "torch.zeros(3).index_copy_(0, torch.tensor([5]), torch.ones(1))",
    # -- negative and huge sizes, shapes that do not fit -------------------------------------
    "torch.empty(-1)",
    "torch.zeros(2, -3)",
    "torch.randn(-2)",
    "torch.full((-1,), 0.)",
    "torch.eye(-1)",
    "torch.linspace(0, 1, -1)",
    "torch.arange(0, 10, -1)",
    "torch.arange(0, 10, 0)",
    "t.reshape(4, 2)",
    "t.reshape(-1, 4)",
    "t.view(-1, -1)",
    "t.t().view(6)",
    "t.repeat(2)",
    "t.unflatten(1, (2, 2))",
    "torch.chunk(t, 0)",
    "torch.topk(torch.ones(3), 4)",
    ("torch.empty(10**12)", _ENFORCE),
    ("torch.zeros(10**12)", _ENFORCE),
    ("torch.ones(10**6, 10**6)", _ENFORCE),
    ("torch.full((10**12,), 1.)", _ENFORCE),
    ("torch.randn(10**12)", _ENFORCE),
    ("torch.randint(3, (10**12,))", _ENFORCE),
    ("torch.arange(10**12)", _ENFORCE),
    ("torch.empty(10**12, dtype=torch.int8)", _ENFORCE),
    ("t.new_zeros(10**12)", _ENFORCE),
    "torch.empty(2**62)",
    # -- devices (a CPU-only build) ----------------------------------------------------------
    "torch.zeros(2, device='cuda')",
    "torch.tensor([1.], device='cuda:0')",
    "t.to('cuda')",
    "t.cuda()",
    "nn.Linear(2, 2).cuda()",
    "torch.device('foo')",
    "torch.device('cuda:01')",
    "torch.device('')",
    "t.to('float32')",
    # -- autograd ----------------------------------------------------------------------------
    "x = torch.ones(2, requires_grad=True); y = (x * x).sum(); y.backward(); y.backward()",
    "x = torch.ones(2, requires_grad=True); y = x * x; y.backward()",
    "x = torch.ones(2, requires_grad=True); (x * 2).backward(torch.ones(3))",
    "torch.ones(2, dtype=torch.int64, requires_grad=True)",
    "torch.ones(2, dtype=torch.int64).requires_grad_()",
    "x = torch.ones(2, requires_grad=True); x.add_(1)",
    "x = torch.ones(2, requires_grad=True); x[0].mul_(2)",
    "x = torch.ones(2, requires_grad=True); y = (x * 2).sigmoid(); y.mul_(2); y.sum().backward()",
    "torch.ones(2).sum().backward()",
    "x = torch.ones(2, requires_grad=True)\nwith torch.no_grad(): y = (x * 2).sum()\ny.backward()",
    "x = torch.ones(2, requires_grad=True); w = torch.ones(2, requires_grad=True); "
    "torch.autograd.grad((x * 2).sum(), [x, w])",
    "x = torch.ones(2, requires_grad=True); x.grad = torch.ones(3)",
    "x = torch.ones(2, requires_grad=True); (x * 2).requires_grad_(False)",
    "torch.ones(2, requires_grad=True).numpy()",
    # -- shapes that do not match ------------------------------------------------------------
    "torch.matmul(torch.ones(2, 3), torch.ones(2, 3))",
    "torch.ones(2, 3) @ torch.ones(4)",
    "torch.mm(torch.ones(3), torch.ones(3))",
    "torch.bmm(torch.ones(2, 3), torch.ones(3, 2))",
    "torch.dot(torch.ones(2), torch.ones(3))",
    "torch.cat([torch.ones(2, 3), torch.ones(2, 4)])",
    "torch.cat([])",
    "torch.stack([torch.ones(2), torch.ones(3)])",
    "torch.stack([])",
    "torch.ones(2, 3) + torch.ones(4)",
    "torch.where(torch.ones(2) > 0, torch.ones(3), torch.ones(2))",
    "t.masked_fill(torch.tensor([True, False]), 0.)",
    "t.masked_fill(torch.ones(4, 3) > 0, 0.)",
    "t.masked_fill_(torch.ones(3, 2, 3) > 0, 0.)",
    "torch.add(torch.ones(2), torch.ones(2), out=torch.zeros(2, dtype=torch.int64))",
    "torch.ones(2, dtype=torch.int64).sqrt_()",
    "torch.ones(2, dtype=torch.int64).mean()",
    "torch.zeros(2).fill_(torch.ones(2))",
    # -- nn ----------------------------------------------------------------------------------
    "nn.Linear(3, 2)(torch.ones(2, 4))",
    "nn.Conv2d(3, 4, 3)(torch.ones(1, 2, 5, 5))",
    "nn.Conv2d(3, 4, 3)(torch.ones(3, 5))",
    "nn.Conv2d(3, 4, 5)(torch.ones(1, 3, 2, 2))",
    "nn.BatchNorm1d(3)(torch.ones(2, 4))",
    "F.max_pool2d(torch.ones(1, 1, 2, 2), 3)",
    "F.cross_entropy(torch.ones(2, 3), torch.tensor([0., 1.]))",
    "F.cross_entropy(torch.ones(2, 3), torch.tensor([0, 3]))",
    "F.cross_entropy(torch.ones(2, 3), torch.tensor([0, -2]))",
    "F.nll_loss(torch.ones(2, 3), torch.tensor([0., 1.]))",
    "F.dropout(t, p=1.5)",
    "nn.Dropout(-0.1)",
    "nn.Linear(2, 2).load_state_dict({})",
    "m = nn.Linear(2, 2); sd = m.state_dict(); sd['extra'] = torch.ones(1); m.load_state_dict(sd)",
    "nn.Linear(2, 2).load_state_dict(nn.Linear(2, 3).state_dict())",
    "nn.Linear(2, 2).weight = torch.ones(2)",
    "nn.Module().register_parameter('a.b', None)",
    "nn.Sequential(nn.ReLU())[5]",
    # -- optim -------------------------------------------------------------------------------
    "optim.SGD(nn.Linear(2, 2).parameters(), lr=-1)",
    "optim.SGD([], lr=0.1)",
    "optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1, momentum=-1)",
    "optim.SGD(torch.ones(2, requires_grad=True), lr=0.1)",
    "optim.Adam(nn.Linear(2, 2).parameters(), lr=-1)",
    "optim.Adam(nn.Linear(2, 2).parameters(), betas=(1.0, 0.9))",
    "optim.Adam(nn.Linear(2, 2).parameters(), eps=-1)",
    # -- data --------------------------------------------------------------------------------
    "DataLoader(range(4), batch_size=0)",
    "DataLoader(range(4), batch_size=-1)",
    "DataLoader(range(4), shuffle=True, sampler=[0])",
    "DataLoader(range(4), num_workers=-1)",
    "torch.utils.data.random_split(range(4), [3, 3])",
    # -- conversions -------------------------------------------------------------------------
    "torch.ones(2).item()",
    "bool(torch.ones(2))",
    "float(torch.ones(2))",
    "int(torch.ones(2))",
    "len(torch.tensor(1.))",
    "iter(torch.tensor(1.))",
    # -- numerics and random -----------------------------------------------------------------
    "torch.multinomial(torch.tensor([0., 0.]), 1)",
    "torch.normal(0., -1., (2,))",
    "torch.linalg.inv(torch.zeros(2, 2))",
    "torch.linalg.inv(torch.ones(2, 3))",
    "torch.linalg.cholesky(-torch.eye(2))",
    "torch.load('/nonexistent/ckpt.pt')",
]


# (code, exception class, lightgrad's message): where torch's argument parser lists the
# overloads an argument matched none of, lightgrad names the argument (docs/deviations.md)
DEVIATIONS = [
    ("t.sum(dim='x')", "TypeError", "argument 'dim' must be int or tuple of ints, not str"),
    ("t.mean(1.5)", "TypeError", "argument 'dim' must be int or tuple of ints, not float"),
    ("t.view(2.0, 3.0)", "TypeError",
     "view(): argument 'size' (position 1) must be tuple of ints, but found element of type "
     "float at pos 0"),
]


def run(mod, code):
    env = {"torch": mod, "nn": mod.nn, "F": mod.nn.functional, "optim": mod.optim,
           "DataLoader": mod.utils.data.DataLoader,
           "t": mod.arange(6.).reshape(2, 3)}
    try:
        exec(code, env)
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return (type(e).__name__, str(e))
    return ("no error", "")


def expected(want):
    """torch's result in lightgrad's names, where lightgrad's must differ: torch's
    linalg.LinAlgError is the class torch._C._LinAlgError."""
    return ("LinAlgError" if want[0] == "_LinAlgError" else want[0]), want[1]


def _ids(case):
    return (case if isinstance(case, str) else case[0])[:60]


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_bad_input_matches_torch(torch, case):
    code, pattern = (case, None) if isinstance(case, str) else case
    got, want = run(lg, code), expected(run(torch, code))
    assert want[0] != "no error", f"not a bad input for torch: {code}"
    if pattern is not None:
        want = (want[0], re.sub(pattern, "", want[1]))
    assert got == want, code


def test_enough_cases():
    assert len(CASES) >= 150 and len(set(map(_ids, CASES))) == len(CASES)


@pytest.mark.parametrize("code, cls, message", DEVIATIONS, ids=[d[0] for d in DEVIATIONS])
def test_pinned_deviations(torch, code, cls, message):
    assert run(lg, code) == (cls, message)
    want = run(torch, code)
    assert want[0] == cls and want[1] != message, "torch agrees now: move it to CASES"


def test_lightgrad_errors_are_its_own_classes():
    with pytest.raises(lg.linalg.LinAlgError) as info:
        lg.linalg.inv(lg.zeros(2, 2))
    assert isinstance(info.value, RuntimeError)


def test_huge_sizes_are_refused_before_allocating(monkeypatch):
    """The allocator error comes from a size check against the machine's memory, before
    NumPy sees the request: with the limit lowered, a 4,000-byte tensor is refused."""
    import lightgrad._creation as creation
    assert creation._MEMORY > 1 << 30
    monkeypatch.setattr(creation, "_MEMORY", 3999)
    for code in ("torch.empty(1000)", "torch.randn(10, 100)", "torch.full((1000,), 1.)",
                 "torch.arange(500)"):
        assert run(lg, code) == ("RuntimeError", "DefaultCPUAllocator: can't allocate memory: "
                                 "you tried to allocate 4000 bytes. Error code 12 (Cannot "
                                 "allocate memory)"), code
    assert run(lg, "torch.zeros(999, dtype=torch.int32)") == ("no error", "")
