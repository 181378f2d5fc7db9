"""Forecasting: series models, accuracy metrics, backtests, pipeline forecast, submitted-forecast accuracy.

An ordinary package: the series forecast is the function :func:`revops_kit.forecast.models.forecast`,
also ``rk.forecast_series(y, h, method="auto")`` and ``rk.forecast.forecast(y, h)``; the backtest
is the function ``rk.forecast.backtest(y, h, ...)``.
"""

from __future__ import annotations


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


__all__: list[str] = [*_models.__all__, *_accuracy.__all__, *_backtest.__all__,
                      *_pipeline_forecast.__all__, *_submitted.__all__, *_revenue_forecast.__all__]
