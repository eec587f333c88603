"""DataLoader: batches from a dataset, in this process or in worker processes.

With `num_workers > 0` the loader starts worker processes (multiprocessing, the platform's
default start method unless `multiprocessing_context` names one). The main process runs the
sampler and sends each worker task `(epoch, task_id, indices)` over the worker's own index
queue, round-robin, keeping `prefetch_factor * num_workers` tasks in flight. A worker fetches
the samples, collates them, and puts the pickled batch on the shared result queue; the main
process reorders results by task id, so batches come out in sampler order, exactly as with
`num_workers=0`. An `IterableDataset` is iterated by every worker separately (shard it with
`get_worker_info()`); a worker whose iterator ends reports it and gets no more tasks.
"""
import itertools
import multiprocessing
import os
import pickle
import queue
import random
import sys
import traceback

import numpy as np

from ._collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

_POLL_S = 1.0          # how often a blocked worker or main process checks the other is alive


# -- worker side ------------------------------------------------------------------------------
class WorkerInfo:
    """What `get_worker_info()` returns inside a worker: id, num_workers, seed, dataset."""

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{self.__class__.__name__}({items})"


_worker_info = None


def get_worker_info():
    """The current worker's WorkerInfo inside a DataLoader worker process; None elsewhere."""
    return _worker_info


class _ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback."""

    def __init__(self, exc_info, where):
        exc_type = exc_info[0]
        try:
            pickle.loads(pickle.dumps(exc_type))
        except Exception:   # a class the main process cannot import: re-raise as RuntimeError
            exc_type = RuntimeError
        self.exc_type = exc_type
        self.msg = (f"Caught {exc_info[0].__name__} {where}.\nOriginal "
                    + "".join(traceback.format_exception(*exc_info)))

    def reraise(self):
        try:
            exc = self.exc_type(self.msg)
        except Exception:
            raise RuntimeError(self.msg) from None
        raise exc


class _IterableEnd:
    """A worker's report that its copy of the IterableDataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class _MapFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation = dataset, auto_collation
        self.collate_fn = collate_fn

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        getitems = getattr(self.dataset, "__getitems__", None)
        data = getitems(index) if callable(getitems) else [self.dataset[i] for i in index]
        return self.collate_fn(data)


class _IterFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation, self.collate_fn = auto_collation, collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def _fetcher(iterable, dataset, auto_collation, collate_fn, drop_last):
    cls = _IterFetcher if iterable else _MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


def _worker_loop(iterable, dataset, index_queue, result_queue, auto_collation, collate_fn,
                 drop_last, base_seed, init_fn, worker_id, num_workers, parent_pid):
    global _worker_info
    try:
        import lightgrad
        seed = base_seed + worker_id
        random.seed(seed)
        lightgrad.manual_seed(seed)
        np.random.seed([worker_id, base_seed % 2 ** 32])
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
        except Exception:
            init_error = _ExceptionWrapper(sys.exc_info(),
                                           f"in DataLoader worker process {worker_id}")
        fetcher, ended, epoch = None, False, 0
        while True:
            try:
                task = index_queue.get(timeout=_POLL_S)
            except queue.Empty:
                if os.getppid() != parent_pid:      # the main process died: stop quietly
                    break
                continue
            if task is None:
                break
            if task[0] == "resume":                 # a persistent worker starts a new epoch
                epoch, fetcher, ended = task[1], None, False
                continue
            _, task_id, index = task
            if init_error is not None:
                data = init_error
            elif ended:
                data = _IterableEnd(worker_id)
            else:
                try:
                    if fetcher is None:
                        fetcher = _fetcher(iterable, dataset, auto_collation, collate_fn,
                                           drop_last)
                    data = fetcher.fetch(index)
                except StopIteration:
                    if iterable:
                        ended, data = True, _IterableEnd(worker_id)
                    else:
                        data = _ExceptionWrapper(sys.exc_info(),
                                                 f"in DataLoader worker process {worker_id}")
                except Exception:
                    data = _ExceptionWrapper(sys.exc_info(),
                                             f"in DataLoader worker process {worker_id}")
            try:
                payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                payload = pickle.dumps(_ExceptionWrapper(
                    sys.exc_info(), f"in DataLoader worker process {worker_id}"))
            result_queue.put((epoch, task_id, payload))
    except KeyboardInterrupt:
        pass
    # the main process may have stopped reading: don't block exit on flushing the queue
    result_queue.cancel_join_thread()
    result_queue.close()


# -- main process side ------------------------------------------------------------------------
class _InfiniteConstantSampler(Sampler):
    """The index sampler of an IterableDataset: None forever (the dataset picks the samples)."""

    def __iter__(self):
        while True:
            yield None


class _BaseIter:
    def __init__(self, loader):
        import lightgrad
        self._dataset = loader.dataset
        self._iterable = loader._dataset_kind_iterable
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._collate_fn = loader.collate_fn
        self._index_sampler = loader._index_sampler
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = int(lightgrad.randint(0, 2 ** 62, (), generator=loader.generator)
                              .item())
        self._num_yielded = 0
        self._loader_len = loader

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader_len)

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        return data


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = _fetcher(self._iterable, self._dataset, self._auto_collation,
                                 self._collate_fn, self._drop_last)

    def _next_data(self):
        index = next(self._sampler_iter)      # StopIteration ends the epoch
        return self._fetcher.fetch(index)


class _MultiProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._n = loader.num_workers
        self._prefetch = loader.prefetch_factor
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self._result_queue = ctx.Queue()
        self._index_queues, self._workers = [], []
        self._shutdown = False
        for i in range(self._n):
            q = ctx.Queue()
            q.cancel_join_thread()      # exit never waits on tasks no worker will read
            w = ctx.Process(target=_worker_loop, daemon=True,
                            args=(self._iterable, self._dataset, q, self._result_queue,
                                  self._auto_collation, self._collate_fn, self._drop_last,
                                  self._base_seed, loader.worker_init_fn, i, self._n,
                                  os.getpid()))
            w.start()
            self._index_queues.append(q)
            self._workers.append(w)
        self._stopped = [False] * self._n   # workers sent the None sentinel
        self._epoch = 0
        self._reset(loader, first=True)

    def _reset(self, loader, first=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._send_idx = self._rcvd_idx = 0
        self._tasks = {}                    # task id -> [worker id] or [worker id, payload]
        self._active = [True] * self._n     # workers that still get tasks this epoch
        self._cycle = itertools.cycle(range(self._n))
        if not first:
            # results of an abandoned epoch still in flight are told apart by the epoch tag
            self._epoch += 1
            for q in self._index_queues:
                q.put(("resume", self._epoch))
        for _ in range(self._prefetch * self._n):
            self._put_task()

    def _put_task(self):
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._n):
            w = next(self._cycle)
            if self._active[w]:
                break
        else:
            return
        self._index_queues[w].put((self._epoch, self._send_idx, index))
        self._tasks[self._send_idx] = [w]
        self._send_idx += 1

    def _get(self):
        if self._timeout > 0:
            try:
                return self._result_queue.get(timeout=self._timeout)
            except queue.Empty:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") \
                    from None
        while True:
            try:
                return self._result_queue.get(timeout=_POLL_S)
            except queue.Empty:
                dead = [w.pid for w, s in zip(self._workers, self._stopped)
                        if not s and not w.is_alive()]
                if dead:
                    self._shutdown_workers()
                    pids = ", ".join(str(p) for p in dead)
                    raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited "
                                       "unexpectedly") from None

    def _next_data(self):
        while True:
            # skip tasks given to workers whose iterable ran dry: they will never answer
            while self._rcvd_idx < self._send_idx:
                info = self._tasks[self._rcvd_idx]
                if len(info) == 2 or self._active[info[0]]:
                    break
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            info = self._tasks[self._rcvd_idx]
            if len(info) == 2:
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process(info[1])
            epoch, task_id, payload = self._get()
            if epoch != self._epoch:
                continue
            if task_id == self._rcvd_idx:
                del self._tasks[task_id]
                self._rcvd_idx += 1
                return self._process(payload)
            self._tasks[task_id].append(payload)

    def _process(self, payload):
        data = pickle.loads(payload)
        if isinstance(data, _IterableEnd):
            self._active[data.worker_id] = False
            if not self._persistent:
                self._stop_worker(data.worker_id)
            self._put_task()
            return self._next_data()
        self._put_task()
        if isinstance(data, _ExceptionWrapper):
            data.reraise()
        return data

    def _stop_worker(self, w):
        if not self._stopped[w]:
            self._index_queues[w].put(None)
            self._stopped[w] = True

    def _shutdown_workers(self):
        if self._shutdown:
            return
        self._shutdown = True
        for w in range(self._n):
            self._stop_worker(w)
        for w in self._workers:
            w.join(timeout=_POLL_S)
            if w.is_alive():
                w.terminate()
                w.join()
        for q in self._index_queues:
            q.close()
        self._result_queue.cancel_join_thread()
        self._result_queue.close()

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:
            pass


# -- the loader ---------------------------------------------------------------------------
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
           "persistent_workers")


class DataLoader:
    """Iterate over `dataset` in batches, as torch.utils.data.DataLoader does.

    >>> import lightgrad as torch
    >>> from lightgrad.utils.data import TensorDataset
    >>> dl = DataLoader(TensorDataset(torch.arange(5)), batch_size=2)
    >>> [b[0].tolist() for b in dl]
    [[0, 1], [2, 3], [4]]
    """

    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory       # accepted; there is no device memory to pin for
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.in_order = in_order
        self._dataset_kind_iterable = isinstance(dataset, IterableDataset)
        if self._dataset_kind_iterable:
            if isinstance(shuffle, bool) and shuffle or shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if self._dataset_kind_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.multiprocessing_context = multiprocessing_context
        self._iterator = None
        self.__initialized = True

    @property
    def multiprocessing_context(self):
        return self.__mp_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, ctx):
        if ctx is not None:
            if self.num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got num_workers="
                                 f"{self.num_workers}")
            if isinstance(ctx, str):
                methods = multiprocessing.get_all_start_methods()
                if ctx not in methods:
                    raise ValueError("multiprocessing_context option should specify a valid "
                                     f"start method in {methods!r}, but got "
                                     f"multiprocessing_context={ctx!r}")
                ctx = multiprocessing.get_context(ctx)
            elif not hasattr(ctx, "Process"):
                raise TypeError("multiprocessing_context option should be a valid context "
                                "object or a string specifying the start method, but got "
                                f"multiprocessing_context={ctx}")
        self.__mp_context = ctx

    def __setattr__(self, attr, val):
        if self.__initialized and attr in _FROZEN:
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        return _MultiProcessIter(self)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self):
        if self._dataset_kind_iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)
