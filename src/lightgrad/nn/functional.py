"""torch.nn.functional: every layer, activation and loss as a function."""
from ._functional.basic import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.conv3d import *  # noqa: F401,F403
from ._functional.attention import *  # noqa: F401,F403
from ._functional.margin import *  # noqa: F401,F403
from ..ops import nn_embedding_bag as _nn_embedding_bag  # noqa: F401  (F.embedding_bag)
from ..ops import nn_grid as _nn_grid  # noqa: F401  (affine_grid, grid_sample: declared there)
from ..ops._core import public_functions as _public_functions

globals().update(_public_functions("F"))   # declared ops: they dispatch under vmap
