"""Spec section 9: gradcheck, gradgradcheck and anomaly mode (each test also runs on torch)."""
import inspect
import re
import sys
import warnings

import pytest

from . import autograd_helpers
from .autograd_helpers import raises, warns

m = autograd_helpers.m   # the module-under-test fixture: lightgrad, then torch

ANOMALY_ON = ("Anomaly Detection has been enabled. This mode will increase the runtime and "
              "should only be enabled for debugging.")


def _bad(m):
    class Bad(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    return Bad


def test_signatures():
    from lightgrad.autograd.gradcheck import gradcheck, gradgradcheck
    assert str(inspect.signature(gradcheck)) == (
        "(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True, "
        "nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False, "
        "check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False, "
        "check_backward_ad=True, fast_mode=False, masked=None)")
    assert str(inspect.signature(gradgradcheck)) == (
        "(func, inputs, grad_outputs=None, *, eps=1e-06, atol=1e-05, rtol=0.001, "
        "gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0, "
        "check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False, "
        "check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False)")


def test_module_access(m):
    gc_mod = sys.modules[m.__name__ + ".autograd.gradcheck"]
    assert m.autograd.gradcheck is gc_mod.gradcheck and callable(m.autograd.gradcheck)
    assert m.autograd.gradgradcheck is gc_mod.gradgradcheck
    assert issubclass(gc_mod.GradcheckError, RuntimeError)
    from importlib import import_module
    assert import_module(m.__name__ + ".autograd.gradcheck") is gc_mod


def test_gradcheck_passes(m):
    x = m.tensor([[0.5, 1.5, -0.3], [0.2, 0.9, 1.1]], dtype=m.float64, requires_grad=True)
    y = m.tensor([0.4, -0.6, 0.8], dtype=m.float64, requires_grad=True)
    assert m.autograd.gradcheck(lambda a, b: (a * b).exp().sum(0), (x, y)) is True
    assert m.autograd.gradcheck(lambda a: a.t() * 2, x) is True      # a single tensor
    assert m.autograd.gradcheck(lambda a, k: a * k, (x, 3.0)) is True  # non-tensor input
    assert m.autograd.gradcheck(lambda a, b: (a @ b, a.sum()), (x, y)) is True
    nc = m.tensor([[1., 2.], [3., 4.]], dtype=m.float64).t().requires_grad_()
    assert m.autograd.gradcheck(lambda a: a * a, (nc,)) is True      # non-contiguous input
    assert m.autograd.gradgradcheck(lambda a: a ** 3, (x,)) is True
    assert m.autograd.gradgradcheck(lambda a, b: (a * b).sin(), (x, y)) is True


def test_gradcheck_failure_message(m):
    Bad = _bad(m)
    x = m.tensor([1., 2.], dtype=m.float64, requires_grad=True)
    gc_mod = sys.modules[m.__name__ + ".autograd.gradcheck"]
    with pytest.raises(gc_mod.GradcheckError) as info:
        m.autograd.gradcheck(Bad.apply, (x,))
    msg = str(info.value).replace("torch.float64", "DT").replace("lightgrad.float64", "DT")
    assert msg == ("Jacobian mismatch for output 0 with respect to input 0,\n"
                   "numerical:tensor([[2.0000, 0.0000],\n        [0.0000, 2.0000]], dtype=DT)\n"
                   "analytical:tensor([[3., 0.],\n        [0., 3.]], dtype=DT)\n")
    assert m.autograd.gradcheck(Bad.apply, x, raise_exception=False) is False
    y = m.tensor([1., 2., 3.], dtype=m.float64, requires_grad=True)
    with pytest.raises(gc_mod.GradcheckError) as info:
        m.autograd.gradcheck(lambda a, b: (a.sum() * b, Bad.apply(b)), (x, y))
    assert str(info.value).startswith("Jacobian mismatch for output 1 with respect to input 1,")


def test_gradcheck_float32_warning_and_no_input(m):
    text = ("Input #0 requires gradient and is not a double precision floating point or "
            "complex. This check will likely fail if all the inputs are not of double precision "
            "floating point or complex. ")
    with warns(UserWarning, text):
        m.autograd.gradcheck(lambda a: a.exp(), (m.ones(2, requires_grad=True),),
                             raise_exception=False)
    with raises(ValueError, "gradcheck expects at least one input tensor to require gradient, "
                "but none of them have requires_grad=True."):
        m.autograd.gradcheck(lambda a: a * 2, (m.ones(2, dtype=m.float64),))


def test_gradgradcheck_detects_wrong_double_backward(m):
    class BadDouble(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x.detach() * g        # the detach makes the second derivative wrong

    x = m.tensor([1., 2.], dtype=m.float64, requires_grad=True)
    assert m.autograd.gradcheck(BadDouble.apply, (x,))
    assert m.autograd.gradgradcheck(BadDouble.apply, (x,), raise_exception=False) is False


# -- anomaly mode --------------------------------------------------------------------------
def test_anomaly_queries_and_contexts(m):
    assert m.is_anomaly_enabled() is False and m.is_anomaly_check_nan_enabled() is True
    with warns(UserWarning, ANOMALY_ON):
        d = m.autograd.detect_anomaly()
    assert not m.is_anomaly_enabled()            # only entering turns it on
    with d:
        assert m.is_anomaly_enabled() and m.is_anomaly_check_nan_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with m.autograd.detect_anomaly(check_nan=False):
            assert m.is_anomaly_enabled() and not m.is_anomaly_check_nan_enabled()
    assert not m.is_anomaly_enabled() and m.is_anomaly_check_nan_enabled()
    with raises(TypeError, "'detect_anomaly' object is not callable"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")

            @m.autograd.detect_anomaly()
            def f():
                pass


def test_set_detect_anomaly(m):
    m.autograd.set_detect_anomaly(True)           # applies in __init__: a plain call works
    try:
        assert m.is_anomaly_enabled()
    finally:
        m.autograd.set_detect_anomaly(False)
    assert not m.is_anomaly_enabled()
    with m.autograd.set_detect_anomaly(True, check_nan=False):
        assert m.is_anomaly_enabled() and not m.is_anomaly_check_nan_enabled()
    assert not m.is_anomaly_enabled() and m.is_anomaly_check_nan_enabled()


def _forward(x):
    return x.sqrt()


def test_anomaly_forward_traceback(m):
    x = m.ones(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with m.autograd.detect_anomaly():
            y = _forward(x)
            y.add_(1)
            with pytest.raises(RuntimeError):
                y.sum().backward()
    msgs = [str(w.message) for w in rec if str(w.message).startswith("Error detected")]
    assert len(msgs) == 1
    msg = msgs[0]
    assert msg.startswith("Error detected in SqrtBackward0. Traceback of forward call that "
                          "caused the error:\n  File \"")
    assert re.search(r'  File ".*test_gradcheck_anomaly\.py", line \d+, in '
                     r'test_anomaly_forward_traceback\n    y = _forward\(x\)\n', msg)
    body = re.sub(r" \(Triggered internally at .*\)$", "", msg, flags=re.DOTALL)
    assert body.endswith('in _forward\n    return x.sqrt()\n')


def test_anomaly_nan_check(m):
    x = m.tensor([0., 1.], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with m.autograd.detect_anomaly():
            y = (x * 0).sqrt()         # backward 0 * inf = nan in MulBackward0
            with raises(RuntimeError, "Function 'MulBackward0' returned nan values in its 0th "
                        "output."):
                y.sum().backward()
            z = x / x                  # NaN in the forward pass is not flagged
            assert z[0].item() != z[0].item()
        with m.autograd.detect_anomaly(check_nan=False):
            x.grad = None
            (x * 0).sqrt().sum().backward()
        assert x.grad[0].item() != x.grad[0].item()
        x.grad = None
        (x * 0).sqrt().sum().backward()          # anomaly off: passes silently
        assert x.grad[0].item() != x.grad[0].item()


def test_gradcheck_failure_shows_jacobians_in_input_dtype(m):
    x = m.ones(2, dtype=m.float32, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError) as info:
            m.autograd.gradcheck(lambda t: t * 2, x)
    assert "dtype" not in str(info.value) and "analytical:tensor([[2., 0.]," in str(info.value)
