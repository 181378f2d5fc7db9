"""Report section views: one object per report section that computes each of its frames once, or
carries a one-sentence note naming what the dataset lacks; and the report context
(:func:`open_report`) that builds them with one period, policy and reporting currency.

The notebooks in ``notebooks/`` show these; the KPI modules below never import them.
"""

from __future__ import annotations

from . import _base, context, forecast, marketing, notes, quality, sales
from ._base import *  # noqa: F401,F403
from .context import *  # noqa: F401,F403
from .forecast import *  # noqa: F401,F403
from .marketing import *  # noqa: F401,F403
from .notes import *  # noqa: F401,F403
from .quality import *  # noqa: F401,F403
from .sales import *  # noqa: F401,F403

__all__: list[str] = [*_base.__all__, *context.__all__, *notes.__all__, *sales.__all__, *marketing.__all__,
                      *forecast.__all__, *quality.__all__]
