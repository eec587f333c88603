"""torch.optim.Adamax: Adam with the infinity norm."""
import lightgrad as _lg
from .optimizer import (Optimizer, _check_betas, _check_lr, _check_nonneg, _get_value,
                        _use_grad, _weight_decay)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, a variant of Adam based on the infinity norm."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg(eps, "epsilon")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    # group keys that older pickled optimizers may lack (see Optimizer.__setstate__)
    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False,
                       "capturable": False}

    @_use_grad
    def step(self, closure=None):
        """Perform a single optimization step."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _get_value(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd = group["eps"], group["weight_decay"]
            for p, grad, state, step in self._updates(group, "exp_avg", "exp_inf"):
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                grad = _weight_decay(p, grad, lr, wd)
                exp_avg.lerp_(grad, 1 - beta1)
                _lg.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
                clr = lr / (1 - beta1 ** step)
                p.addcdiv_(exp_avg, exp_inf, value=-clr)
        return loss
