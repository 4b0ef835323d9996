"""Log-space numerics with exact edge-case contracts (from :mod:`fugue_lab.core.numerical`).

Examples
--------
>>> from fugue_lab.numerical import log_sum_exp
>>> log_sum_exp([1000.0, 1000.0]) > 1000.0
True
"""

from fugue_lab.core.numerical import *  # noqa: F403
from fugue_lab.core.numerical import __all__  # noqa: F401
