"""revops-kit: Revenue Operations analytics — KPIs, forecasts, churn models and period reports.

>>> import revops_kit as rk
>>> data = rk.load_sample()
>>> rk.compute_kpis(data, "2025-Q4", ["mrr"])["kpi"].tolist()
['mrr']
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import forecast, plotting  # noqa: F401  (subpackages; churn is imported on first use, forecast's models too)
from . import fx  # noqa: F401  (cross rates, rebasing fx_rates onto a reporting currency)
from . import adapters  # noqa: F401  (source adapters: Salesforce, HubSpot, Stripe, mapping, warehouse)
from . import engines  # noqa: F401  (engine="sql": the month grid computed in DuckDB/PostgreSQL/Spark)
from .catalog import *  # noqa: F401,F403
from .clv import *  # noqa: F401,F403
from .crm import *  # noqa: F401,F403
from .errors import *  # noqa: F401,F403
from .finance import *  # noqa: F401,F403
from .formatting import *  # noqa: F401,F403
from .io import *  # noqa: F401,F403
from .marketing import *  # noqa: F401,F403
from .notebook import *  # noqa: F401,F403
from .periods import *  # noqa: F401,F403
from .pipeline import *  # noqa: F401,F403
from .policies import *  # noqa: F401,F403
from .quality import *  # noqa: F401,F403
from .cohorts import *  # noqa: F401,F403
from .retention import *  # noqa: F401,F403
from .revenue import *  # noqa: F401,F403
from .success import *  # noqa: F401,F403
from .targets import *  # noqa: F401,F403
from .views import *  # noqa: F401,F403



def __getattr__(name: str):
    """``rk.churn`` is imported on first use: it pulls in scikit-learn, which most notebooks and
    commands never need (about 0.8 s per process)."""
    if name == "churn":
        import importlib

        return importlib.import_module(".churn", __name__)
    if name == "ForecastResult":
        return forecast.ForecastResult
    if name == "forecast_series":  # the series forecast (rk.forecast is the subpackage, not callable)
        return forecast.forecast
    if name == "backtest_series":  # rolling-origin backtest (rk.forecast.backtest is the module)
        return forecast.backtest.backtest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


try:
    __version__ = version("revops-kit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"
