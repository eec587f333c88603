"""lightgrad.utils.tune_malloc: an explicit opt-in, never applied on import."""
import subprocess
import sys

import pytest

import lightgrad.utils


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tune_malloc_applies_on_glibc():
    assert lightgrad.utils.tune_malloc() is True
    assert lightgrad.utils.tune_malloc(32 << 20, 8 << 20) is True


def test_importing_nn_leaves_malloc_alone():
    # trace every mallopt call made while lightgrad and its nn/conv ops are imported
    code = ("import ctypes, sys\n"
            "calls = []\n"
            "real = ctypes.CDLL\n"
            "class Spy:\n"
            "    def __init__(self, *a, **k): self._lib = real(*a, **k)\n"
            "    def __getattr__(self, n):\n"
            "        if n == 'mallopt': calls.append(n)\n"
            "        return getattr(self._lib, n)\n"
            "ctypes.CDLL = Spy\n"
            "import lightgrad, lightgrad.nn, lightgrad.nn.functional as F\n"
            "F.conv2d(lightgrad.ones(1, 1, 3, 3), lightgrad.ones(1, 1, 2, 2))\n"
            "print(len(calls))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "0"
