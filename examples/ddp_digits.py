"""The digits classifier of digits_cnn.py, trained data-parallel over MPI processes.

Each process holds a copy of the model, reads its own shard of every epoch through a
DistributedSampler, and DistributedDataParallel averages the gradients in backward().
With a per-process batch of 64 // world_size the global batch stays 64.

    pip install -e '.[distributed,examples]'
    mpiexec -n 2 python examples/ddp_digits.py
    mpiexec -f hostfile -n 4 python examples/ddp_digits.py     # several machines
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lightgrad as torch  # noqa: E402
import lightgrad.distributed as dist  # noqa: E402
from lightgrad import nn  # noqa: E402
from lightgrad.nn.parallel import DistributedDataParallel  # noqa: E402
from lightgrad.utils.data import DataLoader, TensorDataset  # noqa: E402
from lightgrad.utils.data.distributed import DistributedSampler  # noqa: E402

from digits_cnn import accuracy, load_data, make_model  # noqa: E402


def main(epochs=15, global_batch=64, lr=0.05, seed=0):
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_data(seed)
    train_set = TensorDataset(x_train, y_train)
    sampler = DistributedSampler(train_set, shuffle=True, seed=seed)
    loader = DataLoader(train_set, batch_size=global_batch // world, sampler=sampler)
    model = DistributedDataParallel(make_model())     # rank 0's weights go to every rank
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(epochs):
        sampler.set_epoch(epoch)                       # a new shuffle, the same on all ranks
        total = torch.zeros(2, dtype=torch.float64)    # (sum of losses, samples) on this rank
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()                            # gradients averaged across ranks here
            optimizer.step()
            total += torch.tensor([loss.item() * len(yb), len(yb)], dtype=torch.float64)
        dist.all_reduce(total)
        if rank == 0:
            acc = accuracy(model.module, x_test, y_test)
            print(f"epoch {epoch + 1:2d}  loss {total[0].item() / total[1].item():.4f}  "
                  f"test accuracy {acc:.4f}", flush=True)
    seconds = time.perf_counter() - start
    acc = accuracy(model.module, x_test, y_test)
    if rank == 0:
        print(f"test accuracy {acc:.4f} after {epochs} epochs on {world} processes in "
              f"{seconds:.1f} s")
    dist.destroy_process_group()
    return acc


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=64, help="global batch size")
    a = p.parse_args()
    torch.utils.tune_malloc()   # lightgrad's opt-in: conv steps reuse warm heap memory
    main(a.epochs, a.batch_size)
