"""A character-level LSTM language model on the nursery rhymes the repo ships
(examples/data/rhymes.txt, public domain). The loss falls as it learns, and it prints
samples as it goes.

    python examples/char_lstm.py
"""
import argparse
import pathlib

import numpy as np

import lightgrad as torch
from lightgrad import nn

TEXT = pathlib.Path(__file__).with_name("data") / "rhymes.txt"


class CharLM(nn.Module):
    def __init__(self, vocab, hidden=128):
        super().__init__()
        self.embed = nn.Embedding(vocab, 32)
        self.lstm = nn.LSTM(32, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def sample(model, chars, start, length, generator):
    """Generate `length` characters after `start`, feeding the LSTM state forward."""
    index = {c: i for i, c in enumerate(chars)}
    model.eval()
    with torch.no_grad():
        x = torch.tensor([[index[c] for c in start]])
        logits, state = model(x)
        out = list(start)
        for _ in range(length):
            probs = logits[0, -1].softmax(-1)
            i = torch.multinomial(probs, 1, generator=generator).item()
            out.append(chars[i])
            logits, state = model(torch.tensor([[i]]), state)
    model.train()
    return "".join(out)


def main(steps=300, seq_len=48, batch_size=16, hidden=128, lr=3e-3, seed=0, every=50,
         verbose=True):
    torch.manual_seed(seed)
    text = TEXT.read_text()
    chars = sorted(set(text))
    data = np.array([chars.index(c) for c in text], dtype=np.int64)
    model = CharLM(len(chars), hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for step in range(1, steps + 1):
        starts = rng.integers(0, len(data) - seq_len - 1, batch_size)
        chunk = np.stack([data[s:s + seq_len + 1] for s in starts])
        x, y = torch.from_numpy(chunk[:, :-1]), torch.from_numpy(chunk[:, 1:])
        logits, _ = model(x)
        loss = loss_fn(logits.reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if verbose and step % every == 0:
            print(f"step {step}: loss {np.mean(losses[-every:]):.3f}")
            print("  " + sample(model, chars, "The ", 60, gen).replace("\n", " / "))
    return losses


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600)
    main(p.parse_args().steps)
