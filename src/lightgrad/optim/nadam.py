"""torch.optim.NAdam: Adam with Nesterov momentum (and momentum decay)."""
import lightgrad as _lg
from .optimizer import (Optimizer, _check_betas, _check_lr, _check_nonneg, _get_value,
                        _use_grad, _weight_decay)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam; decoupled_weight_decay=True gives NAdamW."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check_nonneg(eps, "epsilon")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay")
        _check_nonneg(momentum_decay, "momentum_decay")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    # group keys that older pickled optimizers may lack (see Optimizer.__setstate__)
    _group_defaults = {"maximize": False, "foreach": None, "capturable": False,
                       "differentiable": False, "decoupled_weight_decay": False}

    @_use_grad
    def step(self, closure=None):
        """Perform a single optimization step."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _get_value(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd, mdecay = group["eps"], group["weight_decay"], group["momentum_decay"]
            for p, grad, state, step in self._updates(group, **{"mu_product": 1.0}):
                if "exp_avg" not in state:   # torch's key order: step, mu_product, buffers
                    state["exp_avg"] = _lg.zeros_like(p)
                    state["exp_avg_sq"] = _lg.zeros_like(p)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                bias_correction2 = 1 - beta2 ** step
                grad = _weight_decay(p, grad, lr, wd, group["decoupled_weight_decay"])
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * mdecay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * mdecay)))
                # the product is kept as a tensor in the scalar dtype, like torch's state
                state["mu_product"] *= mu
                mu_product = _get_value(state["mu_product"])
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
                mu_product_next = mu_product * mu_next
                p.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
                p.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))
        return loss
