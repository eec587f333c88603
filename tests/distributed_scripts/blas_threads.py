"""Prints, per rank, the BLAS threads NumPy's OpenBLAS runs with after init_process_group
(argv[1] == 'set': the script chose 3 threads before init)."""
import os
import sys

import lightgrad
import lightgrad.distributed as dist
from lightgrad import _backend

if sys.argv[1:] == ["set"]:
    lightgrad.set_num_threads(3)
dist.init_process_group("mpi")
blas = _backend._openblas("get")
cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
print(f"rank {dist.get_rank()} cores {cores} threads {blas() if blas else 'unknown'}",
      flush=True)
dist.destroy_process_group()
