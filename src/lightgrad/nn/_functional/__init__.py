"""The parts of nn.functional, split by family (re-exported by nn/functional.py)."""
