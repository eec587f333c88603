"""torch.nn.functional: every layer, activation and loss as a function."""
from ._functional.basic import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.conv3d import *  # noqa: F401,F403
from ._functional.attention import *  # noqa: F401,F403
from ._functional.margin import *  # noqa: F401,F403
