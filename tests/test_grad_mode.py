"""Spec section 4: grad modes (each test also runs on torch)."""
import threading

import pytest

from . import autograd_helpers
from .autograd_helpers import raises

m = autograd_helpers.m   # the module-under-test fixture: lightgrad, then torch


def test_default_and_aliases(m):
    assert m.is_grad_enabled() is True
    assert m.no_grad is m.autograd.no_grad and m.enable_grad is m.autograd.enable_grad
    assert m.set_grad_enabled is m.autograd.set_grad_enabled
    assert m.inference_mode is m.autograd.inference_mode
    assert m.autograd.grad_mode.__all__ == [
        "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
        "set_multithreading_enabled", "enforce_grad_layout_policy"]


def test_mro_names(m):
    def names(c):
        return [k.__name__ for k in c.__mro__]

    assert names(m.no_grad) == ["no_grad", "_NoParamDecoratorContextManager",
                                "_DecoratorContextManager", "object"]
    assert names(m.enable_grad) == ["enable_grad", "_NoParamDecoratorContextManager",
                                    "_DecoratorContextManager", "object"]
    assert names(m.set_grad_enabled) == ["set_grad_enabled", "_DecoratorContextManager", "object"]
    assert names(m.inference_mode) == ["inference_mode", "_DecoratorContextManager", "object"]


def test_no_grad_forms(m):
    x = m.ones(2, requires_grad=True)
    with m.no_grad():
        assert not m.is_grad_enabled() and not (x * 2).requires_grad
    assert m.is_grad_enabled()

    @m.no_grad()
    def f():
        return m.is_grad_enabled(), (x * 2).requires_grad

    @m.no_grad
    def g(a, b=1):
        """doc"""
        return m.is_grad_enabled(), a + b

    assert f() == (False, False) and g(2, b=3) == (False, 5)
    assert g.__name__ == "g" and g.__doc__ == "doc"
    assert m.is_grad_enabled()


def test_no_grad_generator(m):
    @m.no_grad()
    def gen():
        for _ in range(2):
            got = yield m.is_grad_enabled()
            assert got == "sent"

    it = gen()
    assert next(it) is False
    assert m.is_grad_enabled()               # the caller's state is untouched between steps
    assert it.send("sent") is False
    assert m.is_grad_enabled()
    with pytest.raises(StopIteration):
        it.send("sent")

    @m.enable_grad
    def gen2():
        yield m.is_grad_enabled()

    with m.no_grad():
        assert list(gen2()) == [True]


def test_enable_grad(m):
    x = m.ones(2, requires_grad=True)
    with m.no_grad():
        with m.enable_grad():
            assert m.is_grad_enabled() and (x * 2).requires_grad
        assert not m.is_grad_enabled()

        @m.enable_grad()
        def f():
            return m.is_grad_enabled()

        @m.enable_grad
        def g():
            return m.is_grad_enabled()

        assert f() is True and g() is True and not m.is_grad_enabled()
    assert m.is_grad_enabled()


def test_set_grad_enabled(m):
    r = m.set_grad_enabled(False)                   # takes effect immediately
    try:
        assert not m.is_grad_enabled()
        assert repr(r) == "torch.autograd.grad_mode.set_grad_enabled(mode=False)"
    finally:
        m.set_grad_enabled(True)
    assert m.is_grad_enabled()
    with m.set_grad_enabled(False):
        assert not m.is_grad_enabled()
        with m.set_grad_enabled(True):
            assert m.is_grad_enabled()
        assert not m.is_grad_enabled()
    assert m.is_grad_enabled()

    @m.set_grad_enabled(False)          # as a decorator: restores now, applies inside
    def f():
        return m.is_grad_enabled()

    assert m.is_grad_enabled() and f() is False and m.is_grad_enabled()
    with raises(TypeError, "set_grad_enabled.__init__() missing 1 required positional argument: "
                "'mode'"):
        m.set_grad_enabled()


def test_inference_mode(m):
    x = m.ones(2, requires_grad=True)
    with m.inference_mode():
        assert not m.is_grad_enabled() and m.is_inference_mode_enabled()
        t = m.ones(2)
        y = x * 2
        assert t.is_inference() and not y.requires_grad
        with m.inference_mode(False):
            assert not m.is_inference_mode_enabled()
    assert not m.is_inference_mode_enabled() and m.is_grad_enabled()
    assert not m.ones(2).is_inference()

    @m.inference_mode()
    def f():
        return m.is_inference_mode_enabled()

    @m.inference_mode
    def g():
        return m.is_inference_mode_enabled()

    assert f() and g() and not m.is_inference_mode_enabled()
    r = t * 2                                  # non-saving use outside: a normal tensor
    assert not r.is_inference() and r.tolist() == [2., 2.]
    with raises(RuntimeError, (
            "Inference tensors cannot be saved for backward. Please do not use Tensors created "
            "in inference mode in computation tracked by autograd. To work around this, you can "
            "make a clone to get a normal tensor and use it in autograd, or use "
            "`torch.no_grad()` instead of `torch.inference_mode()`.")):
        x * t
    with raises(RuntimeError, (
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can make "
            "a clone to get a normal tensor before doing inplace update.See "
            "https://github.com/pytorch/rfcs/pull/17 for more details.")):
        t.add_(1)
    with raises(RuntimeError, "Setting requires_grad=True on inference tensor outside "
                "InferenceMode is not allowed."):
        t.requires_grad_()
    c = t.clone()
    assert not c.is_inference()
    c.requires_grad_()
    assert c.requires_grad


def test_modes_restore_after_exception(m):
    with pytest.raises(ValueError), m.no_grad():
        raise ValueError
    assert m.is_grad_enabled()

    @m.no_grad()
    def f():
        raise KeyError

    with pytest.raises(KeyError):
        f()
    assert m.is_grad_enabled()


def test_grad_mode_is_thread_local(m):
    seen = {}
    started, release = threading.Event(), threading.Event()

    def worker():
        seen["initial"] = m.is_grad_enabled()      # a new thread starts with grad on
        with m.no_grad():
            started.set()
            release.wait(5)
            seen["inside"] = m.is_grad_enabled()

    with m.no_grad():
        th = threading.Thread(target=worker)
        th.start()
        started.wait(5)
        assert not m.is_grad_enabled()
    assert m.is_grad_enabled()                     # the other thread's no_grad is not ours
    x = m.ones(1, requires_grad=True)
    assert (x * 2).requires_grad
    release.set()
    th.join()
    assert seen == {"initial": True, "inside": False}


def test_compat_modes(m):
    with m.autograd.set_multithreading_enabled(False):
        pass
    with m.autograd.grad_mode.enforce_grad_layout_policy(False):
        pass
