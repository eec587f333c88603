"""The op table: one entry per (op, input shapes) drives the op tests in test_ops.py.

Each family module (elementwise.py, reduction.py, ...) defines ENTRIES, a list of `Op`.
"""
