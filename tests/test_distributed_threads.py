"""init_process_group splits a machine's cores between the ranks on it (one BLAS pool per
rank of cores // ranks threads), unless the user chose the number."""
import os
import re
import subprocess
import sys

import pytest

from lightgrad import _backend

from .test_distributed import SCRIPTS, SRC, mpiexec


def _threads(env_extra, *args, with_cores=False):
    """Each rank's BLAS threads after init_process_group (sorted), or (cores it sees, threads)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    env.update(env_extra, PYTHONPATH=os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]))
    p = subprocess.run([mpiexec(), "-n", "2", sys.executable, str(SCRIPTS / "blas_threads.py"),
                        *args], capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    pairs = sorted((int(c), int(t)) for c, t in re.findall(r"cores (\d+) threads (\d+)",
                                                           p.stdout))
    return pairs if with_cores else [t for _, t in pairs]


@pytest.fixture
def cores():
    if _backend._openblas("get") is None:
        pytest.skip("NumPy's BLAS is not the bundled OpenBLAS")
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return n


def test_ranks_share_the_cores(cores):
    # (the cores a rank sees: mpiexec may bind ranks to fewer than this process has)
    pairs = _threads({}, with_cores=True)
    assert len(pairs) == 2 and all(t == max(1, c // 2) for c, t in pairs)


def test_the_users_choice_wins(cores):
    assert _threads({"OPENBLAS_NUM_THREADS": "2"}) == [2, 2]     # not split
    assert _threads({}, "set") == [3, 3]


def test_set_num_threads_resizes_numpys_blas(cores):
    before = _backend.get_num_threads()
    try:
        _backend.set_num_threads(1)
        assert _backend._openblas("get")() == 1
    finally:
        _backend.set_num_threads(before)
    assert _backend._openblas("get")() == before
