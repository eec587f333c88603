"""torch.optim.ASGD: averaged stochastic gradient descent."""
import lightgrad as _lg
from .optimizer import Optimizer, _check_lr, _check_nonneg, _get_value, _use_grad

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged SGD: a decaying step size eta, and a running average 'ax' of the iterates
    that starts after t0 steps."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg(weight_decay, "weight_decay")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
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
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            wd = group["weight_decay"]
            for p, grad, state, step in self._updates(group, eta=lr, mu=1.0):
                if "ax" not in state:   # after the scalars, in torch's state-dict order
                    state["ax"] = _lg.zeros_like(p)
                eta, mu, ax = state["eta"], state["mu"], state["ax"]
                if wd != 0:
                    grad = grad.add(p, alpha=wd)
                eta_value = _get_value(eta)
                p.mul_(1 - lambd * eta_value)
                p.add_(grad, alpha=-eta_value)
                if mu.item() != 1:
                    ax.add_(p.sub(ax).mul_(mu))
                else:   # no averaging yet: the average is the current iterate
                    ax.copy_(p)
                # eta and mu are float scalar tensors: the Python values round into them
                eta.fill_(lr / ((1 + lambd * lr * step) ** alpha))
                mu.fill_(1 / max(1, step - t0))
        return loss
