"""Revenue series for forecasting (MRR, ARR, bookings) and the "forecast made a year ago" view.

These helpers turn a dataset into monthly series on a month spine and run
:func:`~revops_kit.forecast.models.forecast` on them, so that report notebooks stay thin:

* MRR: period-end MRR of each month (:func:`revops_kit.revenue.mrr_series`); ARR = 12 × MRR, so
  the ARR forecast is 12 × the MRR forecast (one model, two units).
* Bookings: won new-business + expansion amounts by close month, reporting currency (the
  definition of :func:`revops_kit.pipeline.bookings`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import MissingTableError
from ..periods import PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from .models import ForecastResult, forecast

__all__ = ["revenue_series", "monthly_bookings", "revenue_forecasts", "forecast_from",
           "forecast_table"]


def monthly_bookings(opportunities: pd.DataFrame, months, *, history: pd.DataFrame | None = None,
                     fx_rates: pd.DataFrame | None = None,
                     policy: MetricPolicy = DEFAULT_POLICY) -> pd.Series:
    """Bookings per month of ``months`` (a month spine): Σ won new-business + expansion amounts
    with a close date in the month, reporting currency (same rules as
    :func:`revops_kit.pipeline.bookings`; months without wins are 0)."""
    from .. import pipeline as pl

    spine = pd.DatetimeIndex(months)
    out = pl.opportunity_outcomes(opportunities, history=history, fx_rates=fx_rates, policy=policy)
    won = out[(out["outcome"] == pl.WON) & out["closed_on"].notna()]
    if "type" in won.columns:
        won = won[won["type"].isin(list(pl.BOOKING_TYPES))]
    month = won["closed_on"].dt.to_period("M").dt.to_timestamp()
    values = won["value"].fillna(0.0).groupby(month).sum()
    series = values.reindex(spine, fill_value=0.0).astype("float64")
    series.index = pd.DatetimeIndex(spine, freq="MS", name="month")
    series.name = "bookings"
    return series


def revenue_series(data, period: PeriodLike, *, months: int = 48,
                   policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Monthly ``mrr``, ``arr`` and ``bookings`` for the ``months`` months ending with the period's
    last month (a month-start index named ``month``).

    A column whose table is absent is left out (``mrr``/``arr`` need ``subscriptions``,
    ``bookings`` needs ``opportunities``). Leading months before the first revenue are dropped
    (a company that started mid-spine is not forecast from a run of zeros).
    """
    from ..revenue import mrr_series

    p = as_period(period)
    spine = pd.date_range(end=p.last_month, periods=int(months), freq="MS")
    frame = pd.DataFrame(index=pd.DatetimeIndex(spine, freq="MS", name="month"))
    if data.subscriptions is not None:
        m = mrr_series(data.subscriptions, spine, fx_rates=data.fx_rates, policy=policy)
        frame["mrr"] = m.set_index("month")["mrr"].reindex(spine).to_numpy(dtype="float64")
        frame["arr"] = 12 * frame["mrr"]
    if data.opportunities is not None:
        frame["bookings"] = monthly_bookings(data.opportunities, spine, history=data.opportunity_history,
                                             fx_rates=data.fx_rates, policy=policy).to_numpy()
    if frame.shape[1] == 0:
        raise MissingTableError("revenue_series needs table subscriptions or opportunities, which the "
                                f"dataset {data.source or '(in memory)'} does not have")
    started = (frame.fillna(0) > 0).any(axis=1)
    if started.any():
        frame = frame.loc[started.idxmax():]
    frame.index = pd.DatetimeIndex(frame.index, freq="MS", name="month")
    return frame


def revenue_forecasts(data, period: PeriodLike, *, h: int = 12, method: str = "auto",
                      months: int = 36, policy: MetricPolicy = DEFAULT_POLICY,
                      n_jobs: int = 1) -> dict[str, ForecastResult]:
    """Forecasts of ``mrr``, ``arr`` and ``bookings`` for the ``h`` months after ``period``,
    fitted on the ``months`` months up to the period end (leading zero months dropped per series).

    The ARR forecast is 12 × the MRR forecast (same model). Returns a dict keyed by series name;
    fallback warnings name the series.
    """
    series = revenue_series(data, period, months=months, policy=policy)
    wanted = {k: _trim(series[k]) for k in ("mrr", "bookings") if k in series.columns}
    results = forecast(wanted, h, method=method, n_jobs=n_jobs)
    if "mrr" in results:
        results["arr"] = _scaled(results["mrr"], 12.0, "arr")
        results = {k: results[k] for k in ("mrr", "arr", "bookings") if k in results}
    return results


def _trim(s: pd.Series) -> pd.Series:
    """Drop the leading zero months (before the first revenue)."""
    return s.loc[s.ne(0).idxmax():] if s.ne(0).any() else s


def _scaled(res: ForecastResult, factor: float, name: str) -> ForecastResult:
    hist = res.history
    hist = None if hist is None else (hist * factor).rename(name)
    return ForecastResult(res.frame * factor, res.method, res.model, res.members, res.season_length,
                          res.seasonal, res.n_obs, res.levels, res.fallbacks, hist, res.cpu_seconds)


def forecast_from(y: pd.Series, origin, h: int = 12, *, method: str = "auto",
                  months: int | None = 36, season_length: int | None = None) -> pd.DataFrame:
    """The forecast that would have been made at ``origin``, next to what happened.

    Fits on the ``months`` points of ``y`` up to and including ``origin`` (a date of ``y``'s
    index; ``None`` = all; leading zeros dropped), forecasts ``h`` steps and returns the forecast
    frame with an ``actual`` column (NaN beyond the data) and ``error`` = mean − actual. Used for
    "the forecast made a year ago against what happened".
    """
    origin = pd.Timestamp(origin)
    train = y[y.index <= origin]
    if months is not None:
        train = train.iloc[-int(months):]
    res = forecast(_trim(train), h, method=method, season_length=season_length)
    frame = res.frame
    frame["actual"] = y.reindex(frame.index).to_numpy(dtype="float64")
    frame["error"] = frame["mean"] - frame["actual"]
    return frame


def forecast_table(results: dict[str, ForecastResult], *, flows=("bookings",)) -> pd.DataFrame:
    """One row per series: the last actual month, the forecast at 3, 6 and 12 months (as far as
    the horizon goes) with the 80 % interval, and for flows (amounts per month, e.g. bookings;
    not stocks such as MRR) the total over the horizon."""
    rows = []
    for name, res in results.items():
        f = res.frame
        hist = res.history
        row = {"series": name, "model": res.model,
               "last_actual": float(hist.iloc[-1]) if hist is not None and len(hist) else np.nan}
        for k in (3, 6, 12):
            if k <= len(f):
                row[f"month_{k}"] = float(f["mean"].iloc[k - 1])
                if "lower_80" in f.columns:
                    row[f"month_{k}_80"] = f"{f['lower_80'].iloc[k - 1]:,.0f} .. {f['upper_80'].iloc[k - 1]:,.0f}"
        row["horizon_total"] = float(f["mean"].sum()) if name in flows else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
