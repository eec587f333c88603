"""utils.data: datasets, samplers, collation and the DataLoader, against torch's behaviour."""
import collections
import os
import time

import numpy as np
import pytest

import lightgrad
from lightgrad.utils.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset,
                                  IterableDataset, RandomSampler, SequentialSampler, StackDataset,
                                  Subset, SubsetRandomSampler, TensorDataset,
                                  WeightedRandomSampler, default_collate, default_convert,
                                  get_worker_info, random_split)

Point = collections.namedtuple("Point", "x y")


def same(a, b):
    """A lightgrad structure equals a torch one: same containers, values, dtypes, shapes."""
    if isinstance(a, lightgrad.Tensor):
        assert type(b).__name__ == "Tensor", (a, b)
        assert a.dtype.name == str(b.dtype).split(".")[1]
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        return
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    else:
        assert a == b


def raises_like(torch_fn, lg_fn):
    """Both raise the same exception type with the same message."""
    with pytest.raises(Exception) as t_err:
        torch_fn()
    with pytest.raises(Exception) as l_err:
        lg_fn()
    assert type(l_err.value) is type(t_err.value)
    assert str(l_err.value) == str(t_err.value)


class Squares(Dataset):
    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": np.full(2, i, np.float32), "y": i, "name": f"s{i}", "p": Point(i, 0.5 * i)}


def _count_class(base):
    class Count(base):
        """0..n-1, sharded across workers by get_worker_info()."""

        def __init__(self, n=7):
            self.n = n

        def __iter__(self):
            info = get_worker_info() if base is IterableDataset else \
                __import__("torch").utils.data.get_worker_info()
            if info is None:
                return iter(range(self.n))
            return iter(range(info.id, self.n, info.num_workers))

        def __len__(self):
            return self.n
    return Count


Count = _count_class(IterableDataset)


def TCount(n=7):
    import torch
    return _count_class(torch.utils.data.IterableDataset)(n)


def _pair(torch, n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n) % 3
    return (TensorDataset(lightgrad.tensor(x), lightgrad.tensor(y)),
            torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)))


# -- datasets -----------------------------------------------------------------------------
def test_datasets(torch):
    lds, tds = _pair(torch)
    assert len(lds) == 10
    same(lds[3], tds[3])
    same(lds[-1], tds[-1])
    cat = ConcatDataset([lds, lds])
    tcat = torch.utils.data.ConcatDataset([tds, tds])
    assert len(cat) == 20 and cat.cumulative_sizes == tcat.cumulative_sizes
    for i in (0, 9, 10, 19, -1, -20):
        same(cat[i], tcat[i])
    assert len(lds + lds) == 20
    sub = Subset(lds, [4, 1, 7])
    assert len(sub) == 3
    same(sub[1], tds[1])
    stack = StackDataset(a=range(3), b="xyz")
    assert stack[2] == {"a": 2, "b": "z"} and len(stack) == 3
    chained = list(ChainDataset([Count(2), Count(3)]))
    assert chained == [0, 1, 0, 1, 2] and list(Count(2) + Count(1)) == [0, 1, 0]


def test_dataset_errors(torch):
    tD = torch.utils.data
    tds = tD.TensorDataset(torch.ones(3))
    raises_like(lambda: tD.TensorDataset(torch.ones(2), torch.ones(3)),
                lambda: TensorDataset(lightgrad.ones(2), lightgrad.ones(3)))
    raises_like(lambda: tD.ConcatDataset([]), lambda: ConcatDataset([]))
    raises_like(lambda: tD.IterableDataset(), lambda: IterableDataset())
    raises_like(lambda: tD.ConcatDataset([TCount()]), lambda: ConcatDataset([Count()]))
    raises_like(lambda: tD.Dataset()[0], lambda: Dataset()[0])
    raises_like(lambda: tD.ConcatDataset([tds])[-5],
                lambda: ConcatDataset([TensorDataset(lightgrad.ones(3))])[-5])
    raises_like(lambda: tD.random_split(range(10), [3, 3]), lambda: random_split(range(10), [3, 3]))
    raises_like(lambda: tD.random_split(range(10), [0.5, 0.6]),
                lambda: random_split(range(10), [0.5, 0.6]))


def test_random_split(torch):
    for lengths in ([3, 7], [0.33, 0.33, 0.34], [0.5, 0.5]):
        for n in (10, 11):
            if isinstance(lengths[0], int) and sum(lengths) != n:
                continue
            parts = random_split(range(n), lengths, generator=lightgrad.Generator().manual_seed(1))
            tparts = torch.utils.data.random_split(range(n), lengths)
            assert [len(p) for p in parts] == [len(p) for p in tparts]
            assert sorted(i for p in parts for i in p) == list(range(n))
    g1, g2 = (lightgrad.Generator().manual_seed(5) for _ in range(2))
    assert [list(p) for p in random_split(range(9), [4, 5], generator=g1)] == \
        [list(p) for p in random_split(range(9), [4, 5], generator=g2)]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(1), [0.5, 0.5])


# -- samplers -----------------------------------------------------------------------------
def test_samplers(torch):
    tD = torch.utils.data
    assert list(SequentialSampler(range(4))) == list(tD.SequentialSampler(range(4)))
    for bs in (1, 3, 5):
        for dl in (False, True):
            ours = BatchSampler(SequentialSampler(range(10)), bs, dl)
            theirs = tD.BatchSampler(tD.SequentialSampler(range(10)), bs, dl)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)
    perm = list(RandomSampler(range(20)))
    assert sorted(perm) == list(range(20)) and perm != list(range(20))
    g = lambda: lightgrad.Generator().manual_seed(3)  # noqa: E731
    assert list(RandomSampler(range(9), generator=g())) == \
        list(RandomSampler(range(9), generator=g()))
    rep = RandomSampler(range(5), replacement=True, num_samples=70)
    draws = list(rep)
    assert len(rep) == 70 and len(draws) == 70 and set(draws) == set(range(5))
    more = list(RandomSampler(range(4), num_samples=10))
    assert len(more) == 10 and sorted(more[:4]) == sorted(more[4:8]) == [0, 1, 2, 3]
    assert sorted(SubsetRandomSampler([3, 8, 5])) == [3, 5, 8]
    w = WeightedRandomSampler([0.0, 1.0, 3.0, 0.0], 50)
    d = list(w)
    assert len(d) == 50 and set(d) <= {1, 2} and d.count(2) > d.count(1)
    assert sorted(WeightedRandomSampler([1.0, 1.0, 1.0, 0.0], 3, replacement=False)) == [0, 1, 2]


def test_sampler_errors(torch):
    tD = torch.utils.data
    raises_like(lambda: tD.RandomSampler(range(3), num_samples=0),
                lambda: RandomSampler(range(3), num_samples=0))
    raises_like(lambda: tD.RandomSampler(range(3), replacement=1),
                lambda: RandomSampler(range(3), replacement=1))
    raises_like(lambda: tD.BatchSampler(range(3), 0, False),
                lambda: BatchSampler(range(3), 0, False))
    raises_like(lambda: tD.BatchSampler(range(3), 2, 1), lambda: BatchSampler(range(3), 2, 1))
    raises_like(lambda: tD.WeightedRandomSampler([1.0], 0), lambda: WeightedRandomSampler([1.0], 0))
    raises_like(lambda: tD.WeightedRandomSampler([1.0], 2, replacement=1),
                lambda: WeightedRandomSampler([1.0], 2, replacement=1))
    raises_like(lambda: tD.WeightedRandomSampler([[1.0, 2.0]], 2),
                lambda: WeightedRandomSampler([[1.0, 2.0]], 2))


# -- collation ------------------------------------------------------------------------------
def test_default_collate_matches_torch(torch):
    tc = torch.utils.data.default_collate
    batches = [
        [(1, 2.0, "a", {"x": np.float32(1)}), (3, 4.0, "b", {"x": np.float32(2)})],
        [np.array([1, 2]), np.array([3, 4])],
        [True, False], [np.int32(1), np.int32(5)], [np.bool_(True)],
        [Point(1, 2.5), Point(3, 4.5)],
        [[1, 2], [3, 4]],
        [{"a": [np.zeros((2, 2), np.float64)], "b": "s"}] * 3,
        ["x", "y"],
    ]
    for batch in batches:
        same(default_collate(batch), tc(batch))
    i16 = lightgrad.int16
    l_t = [lightgrad.ones(2, 3, dtype=i16), lightgrad.zeros(2, 3, dtype=i16)]
    t_t = [torch.ones(2, 3, dtype=torch.int16), torch.zeros(2, 3, dtype=torch.int16)]
    same(default_collate(l_t), tc(t_t))
    conv = [np.array([1]), 1, (np.float64(2.0),), {"k": np.ones(2)}]
    same(default_convert(conv), torch.utils.data.default_convert(conv))
    raises_like(lambda: tc([object(), object()]), lambda: default_collate([object(), object()]))
    raises_like(lambda: tc([np.array(["a"]), np.array(["b"])]),
                lambda: default_collate([np.array(["a"]), np.array(["b"])]))
    raises_like(lambda: tc([[1, 2], [1]]), lambda: default_collate([[1, 2], [1]]))


# -- DataLoader, one process -------------------------------------------------------------------
@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (10, True),
                                                  (4, False)])
def test_loader_matches_torch(torch, batch_size, drop_last):
    lds, tds = _pair(torch)
    ours = DataLoader(lds, batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(tds, batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    lb, tb = list(ours), list(theirs)
    assert len(lb) == len(tb)
    for a, b in zip(lb, tb):
        same(a, b)


def test_loader_structured_samples(torch):
    ours = list(DataLoader(Squares(7), batch_size=3))
    theirs = list(torch.utils.data.DataLoader(Squares(7), batch_size=3))
    for a, b in zip(ours, theirs):
        same(a, b)
    # batch_size=None: no batching, NumPy converted sample by sample
    a = list(DataLoader(Squares(2), batch_size=None))
    b = list(torch.utils.data.DataLoader(Squares(2), batch_size=None))
    same(a, b)


def test_loader_samplers_and_collate_fn(torch):
    lds, tds = _pair(torch)
    bs = [[0, 5], [9], [2, 3, 4]]
    for a, b in zip(DataLoader(lds, batch_sampler=bs),
                    torch.utils.data.DataLoader(tds, batch_sampler=bs)):
        same(a, b)
    for a, b in zip(DataLoader(lds, sampler=[7, 1, 2], batch_size=2),
                    torch.utils.data.DataLoader(tds, sampler=[7, 1, 2], batch_size=2)):
        same(a, b)
    dl = DataLoader(range(5), batch_size=2, collate_fn=lambda b: sum(b))
    assert list(dl) == [1, 5, 4]
    iter_ours = [b.tolist() for b in DataLoader(Count(7), batch_size=3, drop_last=True)]
    iter_theirs = [b.tolist() for b in torch.utils.data.DataLoader(TCount(7), batch_size=3,
                                                                   drop_last=True)]
    assert iter_ours == iter_theirs and len(DataLoader(Count(7), batch_size=3)) == 3


def test_loader_shuffle_generator():
    ds = TensorDataset(lightgrad.arange(20))

    def epochs(seed, n=2, **kw):
        dl = DataLoader(ds, batch_size=6, shuffle=True,
                        generator=lightgrad.Generator().manual_seed(seed), **kw)
        return [[b[0].tolist() for b in dl] for _ in range(n)]

    a, b, c = epochs(0), epochs(0), epochs(1)
    assert a == b and a != c and a[0] != a[1]
    assert sorted(sum(a[0], [])) == list(range(20))
    lightgrad.manual_seed(4)
    x = [b[0].tolist() for b in DataLoader(ds, batch_size=20, shuffle=True)]
    lightgrad.manual_seed(4)
    assert x == [b[0].tolist() for b in DataLoader(ds, batch_size=20, shuffle=True)]


def test_loader_errors(torch):
    tD = torch.utils.data
    lds, tds = _pair(torch)
    bs = [[0, 1]]
    cases = [
        dict(batch_sampler=bs, batch_size=2), dict(batch_sampler=bs, shuffle=True),
        dict(batch_sampler=bs, drop_last=True), dict(batch_size=None, drop_last=True),
        dict(sampler=[0, 1], shuffle=True), dict(num_workers=-1), dict(timeout=-1),
        dict(prefetch_factor=2), dict(persistent_workers=True),
        dict(multiprocessing_context="spawn"),
        dict(num_workers=1, multiprocessing_context="bogus"),
    ]
    for kw in cases:
        raises_like(lambda kw=kw: tD.DataLoader(tds, **kw), lambda kw=kw: DataLoader(lds, **kw))
    for kw in (dict(shuffle=True), dict(sampler=[1]), dict(batch_sampler=[[1]])):
        raises_like(lambda kw=kw: tD.DataLoader(TCount(), **kw),
                    lambda kw=kw: DataLoader(Count(), **kw))

    class NoLen(IterableDataset):
        def __iter__(self):
            return iter(())

    class TNoLen(tD.IterableDataset):
        def __iter__(self):
            return iter(())

    NoLen.__name__ = TNoLen.__name__ = "It"
    raises_like(lambda: len(tD.DataLoader(TNoLen())), lambda: len(DataLoader(NoLen())))
    tdl, ldl = tD.DataLoader(tds), DataLoader(lds)

    def set_attr(dl):
        dl.batch_size = 3
    raises_like(lambda: set_attr(tdl), lambda: set_attr(ldl))
    ldl.num_workers = 0     # other attributes stay settable


def test_loader_attributes(torch):
    lds, tds = _pair(torch)
    a = DataLoader(lds, batch_size=4, drop_last=True)
    b = torch.utils.data.DataLoader(tds, batch_size=4, drop_last=True)
    for name in ("batch_size", "drop_last", "num_workers", "prefetch_factor", "timeout",
                 "pin_memory", "generator", "multiprocessing_context"):
        assert getattr(a, name) == getattr(b, name), name
    assert type(a.sampler).__name__ == type(b.sampler).__name__ == "SequentialSampler"
    assert type(a.batch_sampler).__name__ == "BatchSampler"
    assert DataLoader(lds, num_workers=2).prefetch_factor == 2
    assert type(DataLoader(lds, shuffle=True).sampler).__name__ == "RandomSampler"
    assert DataLoader(lds, pin_memory=True).pin_memory is True
    assert get_worker_info() is None


# -- DataLoader, worker processes ------------------------------------------------------------------
def _batches(dl):
    return [[t.tolist() if isinstance(t, lightgrad.Tensor) else t for t in
             (b if isinstance(b, (list, tuple)) else [b])] for b in dl]


@pytest.mark.parametrize("kw", [dict(batch_size=3), dict(batch_size=4, drop_last=True),
                                dict(batch_size=1, shuffle=True), dict(batch_size=None)])
def test_workers_match_single_process(kw):
    ds = TensorDataset(lightgrad.arange(11.), lightgrad.arange(11) * 2)
    gen = lambda: lightgrad.Generator().manual_seed(7)  # noqa: E731
    single = _batches(DataLoader(ds, generator=gen(), **kw))
    multi = _batches(DataLoader(ds, num_workers=2, generator=gen(), **kw))
    assert single == multi and len(single) > 0


def test_workers_iterable_sharding(torch):
    ours = [b.tolist() for b in DataLoader(Count(7), batch_size=2, num_workers=2)]
    theirs = [b.tolist() for b in torch.utils.data.DataLoader(TCount(7), batch_size=2,
                                                              num_workers=2)]
    assert ours == theirs == [[0, 2], [1, 3], [4, 6], [5]]
    assert [b.tolist() for b in DataLoader(Count(5), batch_size=2, num_workers=3)] == \
        [[0, 3], [1, 4], [2]]


class WorkerTag(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        info = get_worker_info()
        return (i, info.id, info.num_workers, info.seed, os.getpid(), os.environ.get("LG_INIT"))


def _init(worker_id):
    os.environ["LG_INIT"] = f"w{worker_id}"


def test_worker_info_and_init_fn():
    dl = DataLoader(WorkerTag(), batch_size=2, num_workers=2, worker_init_fn=_init)
    rows = [tuple(zip(*[t.tolist() if isinstance(t, lightgrad.Tensor) else t for t in b]))
            for b in dl]
    flat = [r for b in rows for r in b]
    assert [r[0] for r in flat] == list(range(6))
    assert [r[1] for r in flat] == [0, 0, 1, 1, 0, 0]      # round-robin batches
    assert all(r[2] == 2 and r[5] == f"w{r[1]}" for r in flat)
    assert all(r[4] != os.getpid() for r in flat)
    seeds = {r[1]: r[3] for r in flat}
    assert seeds[1] == seeds[0] + 1


class Flaky(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 4:
            raise KeyError("bad index 4")
        return i


def test_worker_error_is_reraised():
    it = iter(DataLoader(Flaky(), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0"):
        next(it)


class Slow(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(0.5)
        return i


def test_worker_timeout():
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.05 seconds"):
        list(DataLoader(Slow(), num_workers=1, timeout=0.05))


def test_persistent_workers_and_clean_shutdown():
    ds = TensorDataset(lightgrad.arange(9))
    dl = DataLoader(ds, batch_size=2, num_workers=2, persistent_workers=True)
    first = _batches(dl)
    it = iter(dl)
    workers = list(it._workers)
    next(it)                            # abandon an epoch half way
    again = _batches(dl)
    assert first == again == _batches(DataLoader(ds, batch_size=2))
    assert iter(dl) is it and all(w.is_alive() for w in workers)
    it._shutdown_workers()
    assert not any(w.is_alive() for w in workers)
    # non-persistent: workers exit when the epoch ends, and when an iterator is dropped
    it = iter(DataLoader(ds, batch_size=2, num_workers=2))
    workers = list(it._workers)
    list(it)
    assert not any(w.is_alive() for w in workers)
    it = iter(DataLoader(ds, batch_size=2, num_workers=2))
    next(it)
    workers = list(it._workers)
    del it
    for w in workers:
        w.join(timeout=10)
    assert not any(w.is_alive() for w in workers)


def test_persistent_workers_iterable():
    dl = DataLoader(Count(5), batch_size=2, num_workers=2, persistent_workers=True)
    assert _batches(dl) == _batches(dl) == [[[0, 2]], [[1, 3]], [[4]]]
    dl._iterator._shutdown_workers()


class Dies(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        os._exit(3)


def test_worker_death_is_reported():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           "unexpectedly"):
        list(DataLoader(Dies(), num_workers=1))
