"""Figures (matplotlib/seaborn). One module per report section; ``_core`` has shared helpers.

Every function returns a matplotlib Figure with a title, axis labels and units.
"""

from __future__ import annotations

from ._core import *  # noqa: F401,F403
from .revenue import *  # noqa: F401,F403
from .sales import *  # noqa: F401,F403
from .marketing import *  # noqa: F401,F403
from .success import *  # noqa: F401,F403
from .finance import *  # noqa: F401,F403
from .forecast import *  # noqa: F401,F403
from .churn import *  # noqa: F401,F403
from .quality import *  # noqa: F401,F403
from .clv import *  # noqa: F401,F403
