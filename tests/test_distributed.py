"""lightgrad.distributed, DistributedDataParallel and DistributedSampler.

The collective and DDP tests launch real MPI jobs (`mpiexec -n 2` and `-n 3`) running the
scripts in tests/distributed_scripts/, each under a timeout so that a hang fails the test.
They need mpi4py and an MPI (`pip install -e '.[distributed]'`): missing, they skip, except
under CI=true, where they fail.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lightgrad
from lightgrad.utils.data import DistributedSampler

from .conftest import CI, require

HERE = Path(__file__).parent
SCRIPTS = HERE / "distributed_scripts"
SRC = HERE.parent / "src"


def mpiexec():
    """The mpiexec next to this Python (the venv's, from the mpich wheel) or on PATH."""
    require("mpi4py")
    exe = Path(sys.executable).parent / "mpiexec"
    found = str(exe) if exe.exists() else shutil.which("mpiexec")
    if found is None:
        if CI:
            pytest.fail("mpiexec is missing under CI=true (pip install -e '.[distributed]')")
        pytest.skip("mpiexec is not installed")
    return found


def launch(n, script, *args, timeout=60):
    """Run `mpiexec -n n python script args`; returns (returncode, stdout + stderr)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    cmd = [mpiexec(), "-n", str(n), sys.executable, str(SCRIPTS / script), *args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{script} {args} with {n} ranks hung (killed after {timeout} s):\n"
                    f"{e.stdout}\n{e.stderr}")
    return p.returncode, p.stdout + p.stderr


def run_ok(n, script, *args):
    rc, out = launch(n, script, *args)
    assert rc == 0, out
    return out


@pytest.mark.parametrize("n", [2, 3])
def test_collectives_match_numpy(n):
    out = run_ok(n, "collectives.py")
    for r in range(n):
        assert f"collectives ok on rank {r} of {n}" in out


@pytest.mark.parametrize("n", [2, 3])
def test_ddp_matches_single_process(n):
    # 20 SGD-momentum steps, one and many buckets; no_sync accumulation; unused parameters;
    # buffers and state_dict; sampler shards in a job; the unused-parameter error
    out = run_ok(n, "ddp.py")
    for part in ("train", "accumulate", "unused", "buffers", "sampler", "unused_error"):
        for r in range(n):
            assert f"{part} ok on rank {r} of {n}" in out, out


def test_collective_mismatch_is_a_clear_error():
    out = run_ok(3, "errors.py", "mismatch")
    assert ("lightgrad.distributed.all_reduce: the tensors differ in shape or dtype across "
            "ranks (rank 0: float32 tensor of shape [2]; rank 1: float32 tensor of shape "
            "[3]; rank 2: float32 tensor of shape [2])") in out
    assert out.count("mismatch ok") == 3


def _check_crash_output(n, rc, out):
    assert rc != 0, out
    # the whole traceback, its last line and the summary, in order
    tail = ('    raise ValueError("boom on purpose")\nValueError: boom on purpose\n'
            f"lightgrad.distributed: rank 1 of {n} failed with ValueError: boom on purpose; "
            "aborting the job\n")
    assert "Traceback (most recent call last):" in out and tail in out, out


@pytest.mark.parametrize("n", [2, 3])
def test_exception_on_one_rank_ends_the_job(n):
    rc, out = launch(n, "errors.py", "crash", timeout=30)
    _check_crash_output(n, rc, out)


def test_crash_message_always_arrives():
    # MPI_Abort ends the job at once: the rank's message must have left its pipes first
    # (it once lost the last lines under load). 20 jobs of 3 ranks, two at a time, which
    # also loads the machine
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: launch(3, "errors.py", "crash", timeout=60), range(20)))
    for rc, out in runs:
        _check_crash_output(3, rc, out)


# ---- in-process -----------------------------------------------------------------------

def test_import_does_not_need_mpi4py():
    code = ("import sys, lightgrad, lightgrad.distributed as d, lightgrad.nn.parallel; "
            "assert 'mpi4py' not in sys.modules; assert not d.is_initialized(); "
            "assert lightgrad.distributed is d; print('ok')")
    env = dict(os.environ, PYTHONPATH=str(SRC))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60, env=env)
    assert p.stdout.strip() == "ok", p.stderr
    code = ("import sys; sys.modules['mpi4py'] = None; import lightgrad.distributed as d; "
            "assert not d.is_available(); d.init_process_group('mpi')")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60, env=env)
    assert p.returncode != 0
    assert ("RuntimeError: lightgrad.distributed needs mpi4py and an MPI library: "
            "pip install 'lightgrad[distributed]'") in p.stderr


def test_uninitialized_errors():
    dist = lightgrad.distributed
    msg = ("Default process group has not been initialized, please make sure to call "
           "init_process_group.")
    for fn in (dist.get_rank, dist.get_world_size, dist.barrier):
        with pytest.raises(ValueError, match="^" + msg.replace(".", r"\.") + "$"):
            fn()
    with pytest.raises(ValueError, match="has not been initialized"):
        dist.all_reduce(lightgrad.ones(2))
    with pytest.raises(ValueError, match="has not been initialized"):
        lightgrad.nn.parallel.DistributedDataParallel(lightgrad.nn.Linear(2, 2))
    if dist.is_available():
        with pytest.raises(ValueError, match="has not been initialized"):
            DistributedSampler(range(4))
    else:   # torch's error where the distributed package is missing
        with pytest.raises(RuntimeError, match="^Requires distributed package to be available$"):
            DistributedSampler(range(4))
    with pytest.raises(AssertionError, match="Process group cannot be None"):
        dist.destroy_process_group()
    with pytest.raises(ValueError, match="only the 'mpi' backend"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()
    assert int(dist.ReduceOp.SUM) == 0 and dist.ReduceOp.AVG.name == "AVG"


def test_without_mpi4py_the_tests_skip_or_pass(tmp_path):
    # a package named mpi4py that fails to import shadows the real one: every test of this
    # file must skip (the MPI jobs) or pass (the in-process ones), none fail
    (tmp_path / "mpi4py").mkdir()
    (tmp_path / "mpi4py" / "__init__.py").write_text("raise ImportError('no mpi4py here')\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(SRC)])
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q",
           "-W", "ignore", str(Path(__file__)), "-k",
           "not without_mpi4py and not sampler and not digits"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env,
                       cwd=HERE.parent)
    assert p.returncode == 0, p.stdout + p.stderr
    last = p.stdout.strip().splitlines()[-1]
    assert "failed" not in last and "error" not in last and "skipped" in last, p.stdout


CASES = [(n, reps, drop) for n in (0, 1, 5, 7, 10, 12) for reps in (1, 2, 3, 4)
         for drop in (False, True)]


def test_sampler_matches_torch_unshuffled(torch):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for n, reps, drop in CASES:
        data = list(range(n))
        for rank in range(reps):
            ours = DistributedSampler(data, num_replicas=reps, rank=rank, shuffle=False,
                                      drop_last=drop)
            theirs = TorchSampler(data, num_replicas=reps, rank=rank, shuffle=False,
                                  drop_last=drop)
            assert list(ours) == list(theirs), (n, reps, rank, drop)
            assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


def test_sampler_shuffled_shards(torch):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for n, reps, drop in CASES:
        if n == 0:
            continue
        data = list(range(n))
        shards = []
        for rank in range(reps):
            s = DistributedSampler(data, num_replicas=reps, rank=rank, seed=7, drop_last=drop)
            s.set_epoch(3)
            shards.append(list(s))
            assert len(shards[-1]) == len(s) == len(TorchSampler(
                data, num_replicas=reps, rank=rank, drop_last=drop))
        # one permutation seeded by seed + epoch, padded/cut as torch does, dealt out
        g = lightgrad.Generator()
        g.manual_seed(10)
        perm = lightgrad.randperm(n, generator=g).tolist()
        total = len(shards[0]) * reps
        full = (perm * (total // n + 1))[:total]
        assert [full[r::reps] for r in range(reps)] == shards, (n, reps, drop)
        flat = [i for s in shards for i in s]
        if drop:
            assert len(set(flat)) == len(flat)
        else:
            assert set(flat) == set(data)
    a = DistributedSampler(range(20), num_replicas=2, rank=0)
    first = list(a)
    assert list(a) == first                     # same epoch, same order
    a.set_epoch(1)
    b = DistributedSampler(range(20), num_replicas=2, rank=1)
    b.set_epoch(1)
    assert list(a) != first and sorted(list(a) + list(b)) == list(range(20))


def test_sampler_errors(torch):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for rank in (-1, 3):
        with pytest.raises(ValueError) as theirs:
            TorchSampler(range(4), num_replicas=3, rank=rank)
        with pytest.raises(ValueError, match=r"^Invalid rank") as ours:
            DistributedSampler(range(4), num_replicas=3, rank=rank)
        assert str(ours.value) == str(theirs.value)


def test_sampler_in_dataloader():
    ds = lightgrad.utils.data.TensorDataset(lightgrad.arange(10.0))
    got = []
    for rank in range(3):
        s = lightgrad.utils.data.distributed.DistributedSampler(ds, num_replicas=3, rank=rank,
                                                                shuffle=False)
        loader = lightgrad.utils.data.DataLoader(ds, batch_size=2, sampler=s)
        got.append(np.concatenate([b[0].numpy() for b in loader]).tolist())
    assert got == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]


def test_ddp_digits_example():
    require("sklearn")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    script = HERE.parent / "examples" / "ddp_digits.py"
    assert "mpiexec -n 2 python examples/ddp_digits.py" in script.read_text()
    cmd = [mpiexec(), "-n", "2", sys.executable, str(script), "--epochs", "12"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    last = p.stdout.strip().splitlines()[-1]
    assert last.startswith("test accuracy") and "on 2 processes" in last, p.stdout
    assert float(last.split()[2]) >= 0.95, last
