"""A convolutional classifier for scikit-learn's bundled 8x8 handwritten digits (no
download), trained with lightgrad. Shows a tqdm progress bar and saves a loss/accuracy plot.

    pip install -e '.[examples]'
    python examples/digits_cnn.py --plot digits.png
"""
import argparse
import time

import numpy as np

import lightgrad as torch
from lightgrad import nn
from lightgrad.utils.data import DataLoader, TensorDataset


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 10))


def load_data(seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]      # (N, 1, 8, 8) in [0, 1]
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.2, random_state=seed, stratify=digits.target)
    return (torch.from_numpy(x_train), torch.from_numpy(y_train.astype(np.int64)),
            torch.from_numpy(x_test), torch.from_numpy(y_test.astype(np.int64)))


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(1)
    model.train()
    return (pred == y).float().mean().item()


def main(epochs=15, batch_size=64, lr=0.05, seed=0, plot=None, progress=True):
    from tqdm import tqdm
    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_data(seed)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    history = {"loss": [], "test_accuracy": []}
    start = time.perf_counter()
    for _ in tqdm(range(epochs), desc="epochs", disable=not progress):
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
        history["loss"].append(total / len(y_train))
        history["test_accuracy"].append(accuracy(model, x_test, y_test))
    seconds = time.perf_counter() - start
    acc = history["test_accuracy"][-1]
    print(f"test accuracy {acc:.4f} after {epochs} epochs in {seconds:.1f} s")
    if plot:
        save_plot(history, plot)
    return acc, seconds, history


def save_plot(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    ax[0].plot(history["loss"])
    ax[0].set(title="training loss", xlabel="epoch")
    ax[1].plot(history["test_accuracy"])
    ax[1].set(title="test accuracy", xlabel="epoch")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--plot", default="digits.png")
    a = p.parse_args()
    torch.utils.tune_malloc()   # lightgrad's opt-in: conv steps reuse warm heap memory
    main(a.epochs, plot=a.plot)
