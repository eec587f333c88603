"""Evaluate one expression with torch and with lightgrad and compare what comes out:
values, dtypes and shapes for tensors, type and message for errors."""
import math
import warnings

import numpy as np

import lightgrad


def outcome(mod, expr, values=True):
    env = {"torch": mod, "np": np, "math": math}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = eval(expr, env)
    except Exception as e:  # noqa: BLE001 - the error itself is what is compared
        return ("error", type(e).__name__, str(e).split("\n")[0].replace("torch.", "lightgrad."))
    if isinstance(r, mod.Tensor):
        return ("tensor", str(r.dtype).split(".")[-1], tuple(r.shape), r.requires_grad,
                r.tolist() if values else None)
    return ("value", repr(r).replace("torch.", "lightgrad."))


def check(torch, expr, values=True):
    expected = outcome(torch, expr, values)
    got = outcome(lightgrad, expr, values)
    assert got == expected, f"{expr}\n torch:     {expected}\n lightgrad: {got}"
