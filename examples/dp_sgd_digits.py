"""Differentially private SGD on scikit-learn's 8x8 digits, the use case per-example
gradients exist for: each example's gradient is clipped to norm <= C before the batch is
averaged and noise is added, so no single example can move the model much.

vmap(grad(loss)) gives all 64 per-example gradients of a batch in one batched pass (a
plain backward() would only give their sum); functional_call runs the nn.Module with the
parameters as explicit arguments.

    pip install -e '.[examples]'
    python examples/dp_sgd_digits.py
"""
import argparse
import time

import numpy as np

import lightgrad as torch
from lightgrad import nn
from lightgrad.func import functional_call, grad, vmap


def load_data(seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)                 # (N, 64) in [0, 1]
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.2, random_state=seed, stratify=digits.target)
    return (torch.from_numpy(x_train), torch.from_numpy(y_train.astype(np.int64)),
            torch.from_numpy(x_test), torch.from_numpy(y_test.astype(np.int64)))


def main(epochs=8, batch_size=64, lr=0.5, clip=1.0, noise=0.5, seed=0, verbose=True):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_train, y_train, x_test, y_test = load_data(seed)
    model = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))
    params = {k: p.detach() for k, p in model.named_parameters()}

    def loss_of_one(p, x, y):           # written for ONE example; vmap maps it over a batch
        logits = functional_call(model, p, (x.unsqueeze(0),))
        return nn.functional.cross_entropy(logits, y.unsqueeze(0))

    per_example_grads = vmap(grad(loss_of_one), in_dims=(None, 0, 0))
    start = time.perf_counter()
    for epoch in range(epochs):
        order = rng.permutation(len(y_train))
        for i in range(0, len(order) - batch_size + 1, batch_size):
            idx = torch.from_numpy(order[i:i + batch_size])
            g = per_example_grads(params, x_train[idx], y_train[idx])  # each (64, *shape)
            # clip every example's whole gradient to norm <= clip
            norms = sum((v.reshape(batch_size, -1) ** 2).sum(1) for v in g.values()).sqrt()
            scale = (clip / (norms + 1e-6)).clamp(max=1.0)
            for k, v in g.items():
                clipped = (v * scale.reshape((-1,) + (1,) * (v.dim() - 1))).sum(0)
                noisy = clipped + noise * clip * torch.randn(*clipped.shape)
                params[k] = params[k] - lr * noisy / batch_size
        with torch.no_grad():
            acc = (functional_call(model, params, (x_test,)).argmax(1) == y_test).float()
        if verbose:
            print(f"epoch {epoch + 1}: test accuracy {acc.mean().item():.3f}")
    if verbose:
        print(f"{time.perf_counter() - start:.1f} s")
    return acc.mean().item()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--noise", type=float, default=0.5)
    a = ap.parse_args()
    main(epochs=a.epochs, clip=a.clip, noise=a.noise)
