"""Shared fixtures. torch is the reference: absent, its comparisons skip, except under
CI=true, where a missing reference fails the run (CI must not go green without it)."""
import os

import numpy as np
import pytest

import lightgrad

CI = os.environ.get("CI", "").lower() == "true"


def require(module_name):
    """Import a reference module, or skip (fail under CI) when it is not installed."""
    try:
        return __import__(module_name)
    except ImportError:
        if CI:
            pytest.fail(f"reference '{module_name}' is missing under CI=true")
        pytest.skip(f"{module_name} is not installed")


@pytest.fixture
def torch():
    return require("torch")


@pytest.fixture(autouse=True)
def _seed():
    lightgrad.manual_seed(0)
    np.random.seed(0)
