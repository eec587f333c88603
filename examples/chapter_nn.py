"""The autograd chapter's two-layer network, the modular way: nn.Sequential, nn.MSELoss and
optim.SGD instead of hand-written weights and updates.

    python examples/chapter_nn.py
"""
import argparse

import lightgrad as torch
from lightgrad import nn


def main(steps=200, lr=1e-2, seed=0, verbose=True):
    torch.manual_seed(seed)
    d_in, d_hidden, d_out, n = 3, 32, 1, 100
    x = torch.randn(n, d_in)
    y = (x[:, 0] * 0.2 - x[:, 1] * 1.3 - x[:, 2] * 0.5 + torch.randn(n)).unsqueeze(1)
    model = nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Linear(d_hidden, d_out))
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for t in range(1, steps + 1):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if verbose and t % 10 == 0:
            print(t, loss.item())
    if verbose:
        print(model)
    return losses


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=200)
    main(p.parse_args().steps)
