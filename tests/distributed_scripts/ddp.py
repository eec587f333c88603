"""DDP over N ranks against single-process training on the concatenated batches."""
import sys

import numpy as np

import lightgrad as torch
import lightgrad.distributed as dist
from lightgrad import nn
from lightgrad.nn.parallel import DistributedDataParallel as DDP
from lightgrad.utils.data import DistributedSampler

B, D, H, C = 4, 5, 7, 3     # per-rank batch, input, hidden, classes


def make_model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(D, H), nn.Tanh(), nn.Linear(H, H), nn.Tanh(),
                         nn.Linear(H, C))


def batches(step, n, micro=0):
    rng = np.random.default_rng(1000 * step + micro)
    x = rng.standard_normal((n * B, D)).astype(np.float32)
    y = rng.integers(0, C, n * B)
    return torch.from_numpy(x), torch.from_numpy(y)


def check_params(model, ref, what, tol=1e-5):
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        err = float(np.abs(p.detach().numpy() - q.detach().numpy()).max())
        assert err <= tol, f"{what}: {name} differs by {err}"


def check_grads(model, ref, what, tol=1e-5):
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        err = float(np.abs(p.grad.numpy() - q.grad.numpy()).max())
        assert err <= tol, f"{what}: grad of {name} differs by {err} when backward returned"


def train(r, n, bucket_cap_mb, accumulate, bucket_view=False, set_to_none=True):
    """20 steps of SGD with momentum; with `accumulate`, two micro-batches per step, the
    first under no_sync()."""
    model = make_model(seed=r + 1)              # every rank starts different...
    ddp = DDP(model, bucket_cap_mb=bucket_cap_mb, gradient_as_bucket_view=bucket_view)
    ref = make_model(seed=1)                    # ...and DDP makes them all rank 0's
    check_params(model, ref, "initial broadcast", tol=0)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    micro = (0, 1) if accumulate else (0,)
    for step in range(20):
        opt.zero_grad(set_to_none=set_to_none)
        ref_opt.zero_grad(set_to_none=set_to_none)
        for m in micro:
            x, y = batches(step, n, m)
            shard = slice(r * B, (r + 1) * B)
            if m < len(micro) - 1:
                with ddp.no_sync():
                    loss_fn(ddp(x[shard]), y[shard]).backward()
            else:
                loss_fn(ddp(x[shard]), y[shard]).backward()
            loss_fn(ref(x), y).backward()
        check_grads(model, ref, f"step {step}")
        opt.step()
        ref_opt.step()
    check_params(model, ref, f"after 20 steps (bucket_cap_mb={bucket_cap_mb})")
    return ddp


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(D, C)
        self.extra = nn.Linear(C, C)
        self.never = nn.Linear(C, C)

    def forward(self, x, use_extra):
        h = self.body(x)
        return self.extra(h) if use_extra else h


def unused_parameters(r, n):
    model = Branchy()
    ddp = DDP(model, find_unused_parameters=True)
    ref = Branchy()
    ref.load_state_dict(model.state_dict())
    x, y = batches(99, n)
    loss_fn = nn.CrossEntropyLoss()
    shard = slice(r * B, (r + 1) * B)
    loss_fn(ddp(x[shard], use_extra=r == 0), y[shard]).backward()
    total = sum(loss_fn(ref(x[k * B:(k + 1) * B], use_extra=k == 0), y[k * B:(k + 1) * B])
                for k in range(n)) / n
    total.backward()
    for name in ("body.weight", "body.bias", "extra.weight", "extra.bias"):
        got = model.get_parameter(name).grad
        want = ref.get_parameter(name).grad
        assert got is not None, f"{name} has no grad on rank {r}"
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-6, err_msg=name)
    assert model.never.weight.grad is None and model.never.bias.grad is None
    # a second iteration works (the reducer re-arms)
    ddp.zero_grad()
    loss_fn(ddp(x[shard], use_extra=False), y[shard]).backward()
    assert model.extra.weight.grad is None and model.body.weight.grad is not None


def buffers_and_state_dict(r, n):
    model = nn.Sequential(nn.Linear(D, C), nn.BatchNorm1d(C))
    model[1].running_mean.fill_(float(r))
    ddp = DDP(model)
    assert ddp.module is model
    assert model[1].running_mean.tolist() == [0.0] * C, "buffers not broadcast"
    keys = list(ddp.state_dict())
    assert keys == ["module." + k for k in model.state_dict()], keys
    ddp.eval()
    with torch.no_grad():
        ddp(torch.ones(2, D))


def sampler_shards(r, n):
    for size, drop_last in ((10, False), (10, True), (2 * n, False)):
        data = list(range(size))
        s = DistributedSampler(data, shuffle=True, seed=3, drop_last=drop_last)
        s.set_epoch(2)
        shards = [None] * n
        dist.all_gather_object(shards, list(s))
        lens = {len(x) for x in shards}
        assert lens == {len(s)}, (lens, len(s))
        flat = [i for x in shards for i in x]
        if drop_last:
            assert len(set(flat)) == len(flat) == (size // n) * n
        else:
            assert set(flat) == set(data) and len(flat) == -(-size // n) * n


def unused_without_flag(r, n):
    model = Branchy()
    ddp = DDP(model)
    x, y = batches(5, n)
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(ddp(x[:B], use_extra=False), y[:B]).backward()
    try:
        ddp(x[:B], use_extra=False)
    except RuntimeError as e:
        assert "Expected to have finished reduction" in str(e)
        assert "find_unused_parameters=True" in str(e)
    else:
        raise AssertionError("no error for unused parameters")


def main():
    dist.init_process_group("mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    parts = sys.argv[1:] or ["train", "accumulate", "unused", "buffers", "sampler",
                             "unused_error"]
    for part in parts:
        if part == "train":
            ddp = train(r, n, bucket_cap_mb=None, accumulate=False)
            assert len(ddp._buckets) == 1
            ddp = train(r, n, bucket_cap_mb=1e-4, accumulate=False)   # ~100-byte buckets
            assert len(ddp._buckets) > 3, len(ddp._buckets)
        elif part == "accumulate":
            train(r, n, bucket_cap_mb=1e-4, accumulate=True)
            train(r, n, bucket_cap_mb=None, accumulate=True, bucket_view=True)
            train(r, n, bucket_cap_mb=None, accumulate=True, set_to_none=False)
            train(r, n, bucket_cap_mb=1e-4, accumulate=False, bucket_view=True,
                  set_to_none=False)
        elif part == "unused":
            unused_parameters(r, n)
        elif part == "buffers":
            buffers_and_state_dict(r, n)
        elif part == "sampler":
            sampler_shards(r, n)
        elif part == "unused_error":
            unused_without_flag(r, n)
        print(f"{part} ok on rank {r} of {n}", flush=True)


if __name__ == "__main__":
    main()
