"""torch.optim.Adagrad."""
import lightgrad as _lg
from .optimizer import (Optimizer, _check_lr, _check_nonneg, _get_value, _scalar_state,
                        _use_grad)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad: per-coordinate step sizes from the accumulated squared gradients."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        _check_lr(lr)
        _check_nonneg(lr_decay, "lr_decay")
        _check_nonneg(weight_decay, "weight_decay")
        _check_nonneg(initial_accumulator_value, "initial_accumulator_value")
        _check_nonneg(eps, "epsilon")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        # unlike the other optimizers, Adagrad creates its state up front (as torch does)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _scalar_state(0.0)
                state["sum"] = _lg.full_like(p, initial_accumulator_value)

    # group keys that older pickled optimizers may lack (see Optimizer.__setstate__)
    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}

    def share_memory(self):
        """A no-op: lightgrad tensors live in ordinary process memory."""

    @_use_grad
    def step(self, closure=None):
        """Perform a single optimization step."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _get_value(group["lr"])
            wd, lr_decay, eps = group["weight_decay"], group["lr_decay"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:   # a group added after construction
                    state["step"] = _scalar_state(0.0)
                    state["sum"] = _lg.full_like(p, self.defaults["initial_accumulator_value"])
                state["step"] += 1
                step = _get_value(state["step"])
                grad = -p.grad if group["maximize"] else p.grad
                if wd != 0:
                    grad = grad.add(p, alpha=wd)
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum = state["sum"]
                state_sum.addcmul_(grad, grad, value=1)
                std = state_sum.sqrt().add_(eps)
                p.addcdiv_(grad, std, value=-clr)
        return loss
