"""`lightgrad.as_torch()`: `import torch` (and every `torch.X`) gives lightgrad's modules.

A `sys.meta_path` finder, placed first, answers every import of `torch` or `torch.X.Y` with
the module `lightgrad.X.Y`, importing it only when it is first asked for. The module object
is lightgrad's own (`torch.nn is lightgrad.nn`), so there is one copy of each class and
`isinstance` works across both names. Submodules lightgrad lacks raise ModuleNotFoundError
naming lightgrad; they never fall through to a real torch installed beside it.
"""
import importlib
import importlib.abc
import importlib.util
import sys

_PREFIX = "torch"


def _target(fullname):
    """The lightgrad module that stands for `fullname` ("torch.nn" -> "lightgrad.nn"),
    or None when fullname is not torch's."""
    if fullname == _PREFIX:
        return "lightgrad"
    if fullname.startswith(_PREFIX + "."):
        return "lightgrad" + fullname[len(_PREFIX):]
    return None


class _Alias(importlib.abc.Loader):
    """Loads `torch.X` as the already importable `lightgrad.X`."""

    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        # the import system keeps an existing module's __name__, __spec__ and __path__
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass  # imported (and run) as lightgrad.X already


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        name = _target(fullname)
        if name is None:
            return None
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            raise ModuleNotFoundError(
                f"No module named '{fullname}': lightgrad stands in for torch here "
                f"(lightgrad.as_torch()) and has no module '{name}'", name=fullname)
        return importlib.util.spec_from_loader(fullname, _Alias(name),
                                               is_package=hasattr(_module(name), "__path__"))


def _module(name):
    return sys.modules.get(name) or importlib.import_module(name)


_FINDER = TorchAliasFinder()


def as_torch():
    """Make `import torch`, `import torch.X`, `from torch.X import Y` and
    `importlib.import_module("torch.X")` give lightgrad's modules from now on, so torch
    scripts and libraries run on lightgrad unmodified. Idempotent. Raises RuntimeError when
    the real torch is imported already (its tensors and lightgrad's do not mix)."""
    real = sys.modules.get(_PREFIX)
    if real is not None and real is not sys.modules["lightgrad"]:
        raise RuntimeError(
            "lightgrad.as_torch(): the real torch is already imported "
            f"({getattr(real, '__file__', real)!s}), and its tensors do not mix with "
            "lightgrad's. Call lightgrad.as_torch() before anything imports torch, or run "
            "the script with `python -m lightgrad run SCRIPT`.")
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    return sys.modules["lightgrad"]
