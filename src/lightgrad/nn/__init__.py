"""torch.nn: modules, parameters, functional, init and utils."""
from .parameter import *  # noqa: F401,F403
from .modules import *  # noqa: F401,F403
from . import functional, init, utils  # noqa: F401
from .utils import parametrizations, parametrize  # noqa: F401  (built on nn.modules)
from . import parallel  # noqa: F401
