"""torch.nn.functional: every layer, activation and loss as a function."""
from ._functional.basic import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.conv3d import *  # noqa: F401,F403
from ._functional.attention import *  # noqa: F401,F403
from ._functional.margin import *  # noqa: F401,F403
from ..ops._core import public_functions as _public_functions

globals().update(_public_functions("F"))   # declared ops: they dispatch under vmap
