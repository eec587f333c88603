"""torch.autograd.grad_mode: the grad-mode context managers (lightgrad._graph.grad_mode)."""
from .._graph.grad_mode import (enable_grad, enforce_grad_layout_policy, inference_mode,
                                no_grad, set_grad_enabled, set_multithreading_enabled)

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "set_multithreading_enabled", "enforce_grad_layout_policy"]
