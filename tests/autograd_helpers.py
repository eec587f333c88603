"""Helpers for the autograd semantics tests: each test runs on lightgrad and on real torch,
so the expectation written in the test is checked against the reference too."""
import contextlib
import re
import warnings

import pytest

import lightgrad

from .conftest import require

_SUFFIX = re.compile(r" \(Triggered internally at .*\)$", re.DOTALL)


@pytest.fixture(params=["lightgrad", "torch"])
def m(request):
    """The module under test: lightgrad, or torch as the reference."""
    if request.param == "lightgrad":
        return lightgrad
    return require("torch")


def _clean(msg):
    return _SUFFIX.sub("", str(msg))


@contextlib.contextmanager
def raises(exc, text, prefix=False):
    """Expect `exc` whose message is exactly `text` (or starts with it when prefix=True);
    torch's build-specific ' (Triggered internally at ...)' suffix is ignored."""
    with pytest.raises(exc) as info:
        yield info
    msg = _clean(info.value)
    if prefix:
        assert msg.startswith(text), msg
    else:
        assert msg == text, msg


@contextlib.contextmanager
def warns(category, text, prefix=False):
    """Expect at least one warning of `category` with exactly `text` (suffix ignored)."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        yield rec
    msgs = [_clean(w.message) for w in rec if issubclass(w.category, category)]
    if prefix:
        assert any(s.startswith(text) for s in msgs), msgs
    else:
        assert text in msgs, msgs


@contextlib.contextmanager
def no_warnings():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        yield rec
    assert not rec, [str(w.message) for w in rec]


def is_lightgrad(m):
    return m is lightgrad


BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")
