"""Op-table entries for the nn activation, loss and embedding primitives (ops/nn_loss.py)."""
import numpy as np

from .entry import Op


def _F(m):
    return m.nn.functional


def _probs(shape, rng):
    return rng.uniform(0.05, 0.95, shape)


def _cls_inputs(shape, n_cls, target_shape):
    def make(rng):
        return [rng.standard_normal(shape), rng.integers(0, n_cls, target_shape)]
    return make


def _ignore_inputs(rng):
    return [rng.standard_normal((4, 3)), np.array([0, 2, -100, 1])]


_ACT = [
    ("leaky_relu", lambda m, x: _F(m).leaky_relu(x, 0.2), {}),
    ("elu", lambda m, x: _F(m).elu(x, 0.7), {}),
    ("selu", lambda m, x: _F(m).selu(x), {}),
    ("celu", lambda m, x: _F(m).celu(x, 1.3), {}),
    ("gelu", lambda m, x: _F(m).gelu(x), {}),
    ("gelu", lambda m, x: _F(m).gelu(x, approximate="tanh"), {"id": "gelu-tanh"}),
    ("silu", lambda m, x: _F(m).silu(x), {}),
    ("mish", lambda m, x: _F(m).mish(x), {}),
    ("softplus", lambda m, x: _F(m).softplus(x), {}),
    ("softplus", lambda m, x: _F(m).softplus(x, beta=2.0, threshold=1.5),
     {"id": "softplus-beta-threshold"}),
    ("logsigmoid", lambda m, x: _F(m).logsigmoid(x), {}),
    ("hardtanh", lambda m, x: _F(m).hardtanh(x, -0.5, 1.2), {}),
    ("relu6", lambda m, x: _F(m).relu6(x * 4), {}),
    ("hardswish", lambda m, x: _F(m).hardswish(x * 3), {}),
    ("hardsigmoid", lambda m, x: _F(m).hardsigmoid(x * 3), {}),
    ("threshold", lambda m, x: _F(m).threshold(x, 0.3, -2.0), {}),
    ("hardshrink", lambda m, x: _F(m).hardshrink(x, 0.4), {}),
    ("softshrink", lambda m, x: _F(m).softshrink(x, 0.4), {}),
]

# in-place forms on a non-leaf (torch's *Backward1 nodes save the result)
_ACT += [
    ("leaky_relu_", lambda m, x: _F(m).leaky_relu(x * 1, 0.2, inplace=True), {}),
    ("elu_", lambda m, x: _F(m).elu(x * 1, 0.7, inplace=True), {}),
    ("selu_", lambda m, x: _F(m).selu(x * 1, inplace=True), {}),
    ("celu_", lambda m, x: _F(m).celu(x * 1, 1.5, inplace=True), {}),
    ("threshold_", lambda m, x: _F(m).threshold(x * 1, 0.3, -2.0, inplace=True), {}),
]

ENTRIES = [Op(name, fn, [(2, 3)], **kw) for name, fn, kw in _ACT]
ENTRIES += [
    Op("selu", lambda m, x: _F(m).selu(x), [()], id="selu-0d"),
    Op("glu", lambda m, x: _F(m).glu(x), [(2, 4)]),
    Op("glu", lambda m, x: _F(m).glu(x, 0), [(4, 3)], id="glu-dim0"),
    # losses: every reduction, both inputs differentiable
    Op("mse_loss", lambda m, x, y: _F(m).mse_loss(x, y), [(2, 3), (2, 3)]),
    Op("mse_loss", lambda m, x, y: _F(m).mse_loss(x, y, reduction="sum"), [(2, 3), (2, 3)],
       id="mse_loss-sum"),
    Op("mse_loss", lambda m, x, y: _F(m).mse_loss(x, y, reduction="none"), [(2, 3), (2, 3)],
       id="mse_loss-none"),
    Op("mse_loss", lambda m, x, y: _F(m).mse_loss(x, y), [(), ()], id="mse_loss-0d"),
    Op("smooth_l1_loss", lambda m, x, y: _F(m).smooth_l1_loss(x, y, beta=0.5), [(2, 3), (2, 3)]),
    Op("smooth_l1_loss", lambda m, x, y: _F(m).smooth_l1_loss(x, y, reduction="none"),
       [(2, 3), (2, 3)], id="smooth_l1_loss-none"),
    Op("huber_loss", lambda m, x, y: _F(m).huber_loss(x, y, delta=0.7), [(2, 3), (2, 3)]),
    Op("huber_loss", lambda m, x, y: _F(m).huber_loss(x, y, reduction="sum"),
       [(2, 3), (2, 3)], id="huber_loss-sum"),
    Op("binary_cross_entropy", lambda m, x, y: _F(m).binary_cross_entropy(x, y),
       [(2, 3), (2, 3)], domain=_probs),
    Op("binary_cross_entropy",
       lambda m, x, y, w: _F(m).binary_cross_entropy(x, y, weight=w, reduction="none"),
       [(2, 3), (2, 3), (3,)], domain=_probs, nondiff=(2,), id="binary_cross_entropy-weight"),
    Op("binary_cross_entropy_with_logits",
       lambda m, x, y: _F(m).binary_cross_entropy_with_logits(x, y), [(2, 3), (2, 3)]),
    Op("binary_cross_entropy_with_logits",
       lambda m, x, y, w, pw: _F(m).binary_cross_entropy_with_logits(
           x, y, weight=w, pos_weight=pw, reduction="sum"),
       [(2, 3), (2, 3), (2, 1), (3,)], domain=(0.2, 2.0), nondiff=(2, 3),
       id="binary_cross_entropy_with_logits-weights"),
    Op("nll_loss", lambda m, x, t: _F(m).nll_loss(x, t),
       [], make_inputs=_cls_inputs((4, 3), 3, (4,))),
    Op("nll_loss", lambda m, x, t, w: _F(m).nll_loss(x, t, weight=w, reduction="none"),
       [], make_inputs=lambda rng: [rng.standard_normal((4, 3)), rng.integers(0, 3, (4,)),
                                      rng.uniform(0.5, 2.0, (3,))],
       nondiff=(2,), id="nll_loss-weight-none"),
    Op("nll_loss", lambda m, x, t: _F(m).nll_loss(x, t, reduction="sum"),
       [], make_inputs=_ignore_inputs, id="nll_loss-ignore-sum"),
    Op("nll_loss", lambda m, x, t: _F(m).nll_loss(x, t),
       [], make_inputs=_cls_inputs((2, 3, 2, 2), 3, (2, 2, 2)), id="nll_loss-2d"),
    Op("nll_loss", lambda m, x, t: _F(m).nll_loss(x, t, reduction="none"),
       [], make_inputs=_cls_inputs((2, 3, 4), 3, (2, 4)), id="nll_loss-1d-spatial"),
    Op("nll_loss", lambda m, x, t: _F(m).cross_entropy(x, t),
       [], make_inputs=_cls_inputs((4, 5), 5, (4,)), id="cross_entropy"),
    Op("embedding", lambda m, w, i: _F(m).embedding(i, w),
       [], make_inputs=lambda rng: [rng.standard_normal((5, 3)),
                                      np.array([[0, 2], [4, 2]])]),
    Op("embedding", lambda m, w, i: _F(m).embedding(i, w, padding_idx=2),
       [], make_inputs=lambda rng: [rng.standard_normal((5, 3)), np.array([0, 2, 4, 2])],
       grad=False, gradgrad=False, id="embedding-padding"),  # padding grads: test_nn_layers
    Op("embedding", lambda m, w, i: _F(m).embedding(i, w, scale_grad_by_freq=True),
       [], make_inputs=lambda rng: [rng.standard_normal((5, 3)), np.array([0, 2, 4, 2])],
       grad=False, gradgrad=False, id="embedding-freq"),  # scaled grads: test_nn_layers
]
