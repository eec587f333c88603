"""torch.optim.Rprop: resilient backpropagation."""
import lightgrad as _lg
from .optimizer import Optimizer, _check_lr, _get_value, _use_grad

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop: per-coordinate step sizes that grow while the gradient keeps its sign and
    shrink when it flips; only the gradient's sign is used."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    # group keys that older pickled optimizers may lack (see Optimizer.__setstate__)
    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False,
                       "capturable": False}

    @_use_grad
    def step(self, closure=None):
        """Perform a single optimization step."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p, grad, state, _ in self._updates(group, "prev"):
                if "step_size" not in state:   # first step: every step size starts at lr
                    state["step_size"] = _lg.full_like(p.grad, _get_value(group["lr"]))
                prev, step_size = state["prev"], state["step_size"]
                sign = grad.mul(prev).sign()
                flipped = sign.lt(0)
                # sign -> step-size factor; a NaN sign stays NaN, as in torch
                factor = _lg.where(sign.gt(0), etaplus, sign)
                factor = _lg.where(flipped, etaminus, factor)
                factor = _lg.where(factor.eq(0), 1.0, factor)
                step_size.mul_(factor).clamp_(step_size_min, step_size_max)
                # after a sign flip: no move now, and no flip detected at the next step
                grad = _lg.where(flipped, 0.0, grad)
                p.addcmul_(grad.sign(), step_size, value=-1)
                prev.copy_(grad)
        return loss
