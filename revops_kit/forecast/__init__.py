"""Forecasting: series models, accuracy metrics, backtests, pipeline forecast, submitted-forecast accuracy.

An ordinary package (no callable-module tricks): the series forecast is the function
:func:`revops_kit.forecast.models.forecast` — ``rk.forecast_series(y, h, method="auto")`` or
``rk.forecast.forecast(y, h)`` —, the backtest is ``rk.backtest_series(y, h, ...)`` (=
``rk.forecast.backtest.backtest``; ``rk.forecast.backtest`` is the module).

The series models (``models``, ``backtest``, ``revenue_forecast``: scipy and statsmodels) are
imported on first use of one of their names, so ``import revops_kit`` does not pay for them;
``accuracy``, ``pipeline_forecast`` and ``submitted`` (the catalogue's forecast KPIs) load with
the package.
"""

from __future__ import annotations

import importlib

from . import accuracy as _accuracy
from . import pipeline_forecast as _pipeline_forecast
from . import submitted as _submitted
from .accuracy import *  # noqa: F401,F403
from .pipeline_forecast import *  # noqa: F401,F403
from .submitted import *  # noqa: F401,F403

#: Names of the lazily imported modules (checked against their ``__all__`` by the tests).
LAZY = {
    "models": ["forecast", "ForecastResult", "ForecastInputError", "METHODS", "AUTO_MEMBERS", "MIN_OBS",
               "seasonality_test", "seasonal_indices", "season_length_for", "series_from_long"],
    "backtest": ["backtest", "error_by_horizon", "backtest_summary", "evaluate_holdout", "HoldoutResult"],
    "revenue_forecast": ["revenue_series", "monthly_bookings", "revenue_forecasts", "forecast_from",
                         "forecast_table"],
}
_LAZY_NAME = {name: mod for mod, names in LAZY.items() for name in names if name != "backtest"}

__all__: list[str] = [*_accuracy.__all__, *_pipeline_forecast.__all__, *_submitted.__all__,
                      *[n for names in LAZY.values() for n in names]]


def __getattr__(name: str):
    if name in ("models", "backtest", "revenue_forecast"):
        # the module itself (``backtest`` is the module; its function is backtest.backtest)
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    if name in _LAZY_NAME:
        value = getattr(importlib.import_module(f".{_LAZY_NAME[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
