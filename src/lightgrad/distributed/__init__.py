"""torch.distributed over MPI: a process group and collectives on tensors.

Start a job with `mpiexec -n N python train.py`; every process calls
`init_process_group("mpi")` and takes its rank and world size from MPI. Collectives move
the tensors' NumPy arrays through MPI's buffer interface (no pickling of tensor data) and
work in place where torch's do. `async_op=True` returns a work handle with `wait()`.

mpi4py is imported only inside functions, so `import lightgrad` works without it.
"""
from .c10d import (GroupMember, ReduceOp, Work, all_gather, all_gather_into_tensor,
                   all_gather_object, all_reduce, barrier, broadcast, broadcast_object_list,
                   destroy_process_group, gather, get_backend, get_rank, get_world_size, group,
                   init_process_group, irecv, is_available, is_initialized, is_mpi_available,
                   isend, recv, reduce, reduce_scatter, reduce_scatter_tensor, scatter, send)

__all__ = ["GroupMember", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor",
           "all_gather_object", "all_reduce", "barrier", "broadcast", "broadcast_object_list",
           "destroy_process_group", "gather", "get_backend", "get_rank", "get_world_size",
           "group", "init_process_group", "irecv", "is_available", "is_initialized",
           "is_mpi_available", "isend", "recv", "reduce", "reduce_scatter",
           "reduce_scatter_tensor", "scatter", "send"]
