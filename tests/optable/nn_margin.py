"""Op-table entries for prelu and the margin-loss primitives (ops/nn_margin.py)."""
import numpy as np

from .entry import Op


def _F(m):
    return m.nn.functional


def _signs(shape, rng):
    return rng.choice([-1.0, 1.0], shape)


def _mm_inputs(rng):
    return [rng.standard_normal((3, 4)), np.array([0, 3, 1])]


def _mlm_inputs(rng):
    return [rng.standard_normal((3, 4)), np.array([[3, 0, -1, 1], [1, 2, 3, 0], [2, -1, 0, 0]])]


ENTRIES = [
    Op("prelu", lambda m, x, w: _F(m).prelu(x, w), [(2, 3, 2), (3,)]),
    Op("prelu", lambda m, x, w: _F(m).prelu(x, w), [(2, 3), (1,)], id="prelu-shared"),
    Op("prelu", lambda m, x, w: _F(m).prelu(x, w), [(3,), ()], id="prelu-1d"),
    Op("prelu", lambda m, x, w: _F(m).prelu(x, w), [(), (1,)], id="prelu-0d"),
    Op("soft_margin_loss", lambda m, x, y: _F(m).soft_margin_loss(x, y),
       [], make_inputs=lambda rng: [rng.standard_normal((2, 3)), _signs((2, 3), rng)],
       nondiff=(1,)),
    Op("soft_margin_loss", lambda m, x, y: _F(m).soft_margin_loss(x, y, reduction="none"),
       [], make_inputs=lambda rng: [rng.standard_normal((2, 3)), _signs((3,), rng)],
       nondiff=(1,), id="soft_margin_loss-none-bcast"),
    Op("multi_margin_loss", lambda m, x, t: _F(m).multi_margin_loss(x, t),
       [], make_inputs=_mm_inputs),
    Op("multi_margin_loss",
       lambda m, x, t, w: _F(m).multi_margin_loss(x, t, p=2, margin=0.8, weight=w,
                                                  reduction="none"),
       [], make_inputs=lambda rng: _mm_inputs(rng) + [rng.uniform(0.5, 2.0, 4)],
       nondiff=(2,), id="multi_margin_loss-p2-weight-none"),
    Op("multi_margin_loss", lambda m, x, t: _F(m).multi_margin_loss(x, t, reduction="sum"),
       [], make_inputs=lambda rng: [rng.standard_normal(4), np.array(2)],
       id="multi_margin_loss-1d-sum"),
    Op("multilabel_margin_loss", lambda m, x, t: _F(m).multilabel_margin_loss(x, t),
       [], make_inputs=_mlm_inputs),
    Op("multilabel_margin_loss",
       lambda m, x, t: _F(m).multilabel_margin_loss(x, t, reduction="none"),
       [], make_inputs=_mlm_inputs, id="multilabel_margin_loss-none"),
    Op("multilabel_margin_loss",
       lambda m, x, t: _F(m).multilabel_margin_loss(x, t, reduction="sum"),
       [], make_inputs=lambda rng: [rng.standard_normal(4), np.array([2, 0, -1, 3])],
       id="multilabel_margin_loss-1d-sum"),
]
