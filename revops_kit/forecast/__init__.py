"""Forecasting: series models, accuracy metrics, backtests, pipeline forecast, submitted-forecast accuracy.

The subpackage is itself callable: ``rk.forecast(y, h, method="auto")`` is
:func:`revops_kit.forecast.models.forecast`, while ``revops_kit.forecast`` stays an ordinary
package (``import revops_kit.forecast.models``, ``rk.forecast.backtest(...)``).
"""

from __future__ import annotations

import sys
import types

from . import accuracy as _accuracy
from . import backtest as _backtest
from . import models as _models
from . import pipeline_forecast as _pipeline_forecast
from . import revenue_forecast as _revenue_forecast
from . import submitted as _submitted
from .accuracy import *  # noqa: F401,F403
from .backtest import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .pipeline_forecast import *  # noqa: F401,F403
from .revenue_forecast import *  # noqa: F401,F403
from .submitted import *  # noqa: F401,F403

backtest = _backtest  # the module, callable as the function (import revops_kit.forecast.backtest works)

__all__: list[str] = [*_models.__all__, *_accuracy.__all__, *_backtest.__all__,
                      *_pipeline_forecast.__all__, *_submitted.__all__, *_revenue_forecast.__all__]


class _CallableModule(types.ModuleType):
    """``revops_kit.forecast(...)`` calls :func:`~revops_kit.forecast.models.forecast`."""

    def __call__(self, *args, **kwargs):
        return _models.forecast(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
