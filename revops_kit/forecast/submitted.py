"""Accuracy of the sales team's submitted forecasts (``forecast_submissions``) against actual bookings.

Definitions (catalogue ids ``forecast_accuracy`` and ``forecast_bias``)
-----------------------------------------------------------------------
* A **submission** is one row of ``forecast_submissions``: an owner's ``amount`` for a ``period``
  (``2025-Q4``), of a ``category`` (``commit``, ``best_case``, ``pipeline``), made on
  ``submitted_at``. Amounts are taken to be in the reporting currency (the table has no currency
  column). When an owner submits twice on the same day for the same period and category, the
  later row counts.
* The **actual** of a submission is its owner's bookings in the submission's period:
  won new-business + expansion amounts with a close date in the period, in the reporting currency
  (:func:`revops_kit.pipeline.bookings`, the definition quotas use).
* A **forecast** being scored is a group's total on one submission date: F = Σ amounts the group's
  owners submitted that day, A = Σ their actuals (group = owner, team or everybody, per ``by``;
  one forecast per group × category × submission date). Owners who submitted nothing are not
  scored; their bookings do not enter A.
* **forecast_accuracy** = 1 − Σ|F − A| ÷ ΣA over the forecasts in scope (1 − WAPE): 1 is perfect,
  0 means the forecasts missed by as much as was booked, and it goes below 0 when they missed by
  more. numerator = ΣA − Σ|F − A|, denominator = ΣA. ΣA = 0 gives NaN and a warning.
* **forecast_bias** = Σ(F − A) ÷ ΣA: positive = over-forecast (sandbagging shows as negative).
* **hit rate** = share of forecasts within ±10 % of the actual (|F − A| ≤ 0.10·A; ``tolerance``).
* **months ahead** = ⌈days from submission to the period end ÷ 30.44⌉: a week-1 quarterly commit is
  3 months ahead, a last-month one 1 month ahead.

By default the KPIs score ``commit`` submissions; grouping by ``category`` scores every category.
A KPI period P scores the submissions for periods inside P (a year scores its four quarters).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import as_list, ratio_frame
from ..catalog import NotGroupableError, register
from ..periods import Period, PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy

__all__ = ["latest_submissions", "submission_errors", "forecast_accuracy", "forecast_bias",
           "SUBMISSION_GROUPS"]

#: Columns the submitted-forecast KPIs can be grouped by.
SUBMISSION_GROUPS = ("owner", "team", "category", "months_ahead")


def latest_submissions(submissions: pd.DataFrame) -> pd.DataFrame:
    """The latest submission per owner, period and category (later rows win ties on a date).

    >>> s = pd.DataFrame({"submitted_at": pd.to_datetime(["2025-10-07", "2025-11-15", "2025-10-07"]),
    ...     "period": ["2025-Q4"] * 3, "amount": [10.0, 12.0, 30.0], "owner": ["a", "a", "b"],
    ...     "category": ["commit"] * 3})
    >>> latest_submissions(s)[["owner", "amount"]].values.tolist()
    [['a', 12.0], ['b', 30.0]]
    """
    keys = [c for c in ("owner", "period", "category") if c in submissions.columns]
    order = submissions.assign(_row=np.arange(len(submissions)))
    order = order.sort_values(["submitted_at", "_row"], kind="mergesort")
    return order.drop_duplicates(keys, keep="last").drop(columns="_row").sort_index()


def _periods_inside(labels: pd.Series, p: Period) -> pd.Series:
    cache = {lab: Period.parse(lab) for lab in labels.dropna().astype(str).unique()}
    return labels.astype(str).map(lambda lab: lab in cache and cache[lab].start >= p.start
                                  and cache[lab].end <= p.end).astype(bool)


def submission_errors(submissions: pd.DataFrame, opportunities: pd.DataFrame,
                      period: PeriodLike | None = None, *, history: pd.DataFrame | None = None,
                      by: str | list[str] | None = "owner", categories=("commit",),
                      fx_rates: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY,
                      tolerance: float = 0.10) -> pd.DataFrame:
    """One row per scored forecast: group × category × submission date (see the module docstring).

    Columns: ``period, category, submitted_at, months_ahead``, the ``by`` columns, ``owners``,
    ``forecast``, ``actual``, ``error`` (F − A), ``abs_error``, ``pct_error`` ((F − A) ÷ A, NaN when
    A = 0) and ``hit`` (|F − A| ≤ tolerance·A). ``categories=None`` scores every category.
    """
    from .. import pipeline as pl

    by = as_list(by)
    bad = [c for c in by if c not in SUBMISSION_GROUPS]
    if bad:
        raise NotGroupableError(f"submitted-forecast accuracy can be grouped by {SUBMISSION_GROUPS}, not {bad}")
    subs = submissions.copy()
    if "owner" not in subs.columns:
        raise NotGroupableError("forecast_submissions has no owner column: submissions cannot be "
                                "matched with the owners' bookings")
    if "category" not in subs.columns:
        subs["category"] = "commit"
    if "team" not in subs.columns:
        subs["team"] = "(missing)"
    subs["period"] = subs["period"].astype(str)
    if period is not None:
        subs = subs[_periods_inside(subs["period"], as_period(period)).to_numpy()]
    if categories is not None:
        subs = subs[subs["category"].isin(list(categories))]
    subs = subs.assign(_row=np.arange(len(subs))).sort_values(["submitted_at", "_row"], kind="mergesort")
    subs = subs.drop_duplicates(["owner", "period", "category", "submitted_at"], keep="last")
    cols = ["period", "category", "submitted_at", "months_ahead"] + \
        [c for c in by if c not in ("category", "months_ahead")] + \
        ["owners", "forecast", "actual", "error", "abs_error", "pct_error", "hit"]
    if subs.empty:
        return pd.DataFrame(columns=list(dict.fromkeys(cols)))
    actual_parts = []
    for lab in subs["period"].unique():
        b = pl.bookings(opportunities, lab, history=history, by=["owner"], fx_rates=fx_rates,
                        policy=policy)
        actual_parts.append(b[["owner", "value"]].assign(period=lab))
    actuals = pd.concat(actual_parts, ignore_index=True).rename(columns={"value": "actual"})
    subs = subs.merge(actuals, on=["period", "owner"], how="left")
    subs["actual"] = subs["actual"].fillna(0.0)
    ends = {lab: Period.parse(lab).end for lab in subs["period"].unique()}
    days = subs["period"].map(ends) - pd.to_datetime(subs["submitted_at"])
    subs["months_ahead"] = np.ceil(days.dt.days.astype("float64") / 30.44).astype("int64")
    keys = ["period", "category", "submitted_at", "months_ahead"] + \
        [c for c in by if c not in ("category", "months_ahead")]
    g = subs.groupby(keys, sort=True, dropna=False).agg(
        owners=("owner", "nunique"), forecast=("amount", "sum"), actual=("actual", "sum")).reset_index()
    g["error"] = g["forecast"] - g["actual"]
    g["abs_error"] = g["error"].abs()
    g["pct_error"] = g["error"] / g["actual"].where(g["actual"] != 0)
    g["hit"] = g["abs_error"] <= tolerance * g["actual"]
    return g[list(dict.fromkeys(cols))]


def _summarise(errors: pd.DataFrame, by: list[str], kind: str) -> pd.DataFrame:
    what = "forecast_accuracy" if kind == "accuracy" else "forecast_bias"
    if errors.empty:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in by})
        for c in ("forecast", "actual", "abs_error", "error", "forecasts", "hits"):
            frame[c] = pd.Series(dtype="float64")
    else:
        agg = dict(forecast=("forecast", "sum"), actual=("actual", "sum"),
                   abs_error=("abs_error", "sum"), error=("error", "sum"),
                   forecasts=("forecast", "size"), hits=("hit", "sum"))
        frame = errors.groupby(by, sort=True, dropna=False).agg(**agg).reset_index() if by \
            else pd.DataFrame({k: [errors[c].agg(f) if f != "size" else len(errors)]
                               for k, (c, f) in agg.items()})
    frame["hit_rate"] = frame["hits"] / frame["forecasts"].where(frame["forecasts"] > 0)
    frame["correct"] = frame["actual"] - frame["abs_error"]
    if kind == "accuracy":
        out = ratio_frame(frame, "correct", "actual", what=what, by=by or None)
        out["bias"] = out["error"] / out["actual"].where(out["actual"] != 0)
    else:
        out = ratio_frame(frame, "error", "actual", what=what, by=by or None)
        out["accuracy"] = 1 - out["abs_error"] / out["actual"].where(out["actual"] != 0)
    return out.drop(columns=["correct"])


def _scored(submissions, opportunities, period, what: str, *, history, by, categories, fx_rates,
            policy, tolerance) -> pd.DataFrame:
    """The one body of :func:`forecast_accuracy` and :func:`forecast_bias` (``what`` picks the value)."""
    by = as_list(by)
    if "category" in by and categories == ("commit",):
        categories = None
    keep = [c for c in by if c not in ("category", "months_ahead")]
    errors = submission_errors(submissions, opportunities, period, history=history, by=keep,
                               categories=categories, fx_rates=fx_rates, policy=policy,
                               tolerance=tolerance)
    return _summarise(errors, by, what)


def forecast_accuracy(submissions: pd.DataFrame, opportunities: pd.DataFrame, period: PeriodLike, *,
                      history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                      categories=("commit",), fx_rates: pd.DataFrame | None = None,
                      policy: MetricPolicy = DEFAULT_POLICY, tolerance: float = 0.10) -> pd.DataFrame:
    """Accuracy of submitted forecasts: 1 − Σ|F − A| ÷ ΣA (see the module docstring).

    Scores the forecasts of ``categories`` (default commit; every category when grouping by
    ``category``) submitted for periods inside ``period``. ``by``: owner, team, category,
    months_ahead. Reads ``policy.reporting_currency``/``fx_mode`` (actual bookings).

    Returns one row per group: ``value`` (accuracy), ``numerator`` (ΣA − Σ|F − A|),
    ``denominator`` (ΣA), ``forecast`` (ΣF), ``actual``, ``abs_error``, ``error``, ``bias``,
    ``forecasts`` (scored), ``hits`` and ``hit_rate`` (within ±``tolerance``).

    Examples
    --------
    >>> subs = pd.DataFrame({"submitted_at": pd.to_datetime(["2025-10-07", "2025-10-07"]),
    ...     "period": ["2025-Q4", "2025-Q4"], "amount": [90.0, 50.0], "owner": ["a", "b"],
    ...     "team": ["t", "t"], "category": ["commit", "commit"]})
    >>> opps = pd.DataFrame({"opportunity_id": ["o1", "o2"], "stage": ["Closed Won"] * 2,
    ...     "created_at": pd.to_datetime(["2025-09-01"] * 2), "amount": [100.0, 40.0],
    ...     "close_date": pd.to_datetime(["2025-11-03", "2025-12-01"]), "owner": ["a", "b"]})
    >>> forecast_accuracy(subs, opps, "2025-Q4", by="owner")[["owner", "value", "hit_rate"]].values.tolist()
    [['a', 0.9, 1.0], ['b', 0.75, 0.0]]
    """
    return _scored(submissions, opportunities, period, "accuracy", history=history, by=by,
                   categories=categories, fx_rates=fx_rates, policy=policy, tolerance=tolerance)


def forecast_bias(submissions: pd.DataFrame, opportunities: pd.DataFrame, period: PeriodLike, *,
                  history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                  categories=("commit",), fx_rates: pd.DataFrame | None = None,
                  policy: MetricPolicy = DEFAULT_POLICY, tolerance: float = 0.10) -> pd.DataFrame:
    """Bias of submitted forecasts: Σ(F − A) ÷ ΣA; positive = over-forecast (module docstring).

    Same arguments and columns as :func:`forecast_accuracy`, with ``value`` = bias, ``numerator``
    = Σ(F − A) and an ``accuracy`` column.
    """
    return _scored(submissions, opportunities, period, "bias", history=history, by=by,
                   categories=categories, fx_rates=fx_rates, policy=policy, tolerance=tolerance)


# =============================================================================== catalogue
def _kw(data, by, policy):
    return {"history": data.opportunity_history, "by": by, "fx_rates": data.fx_rates, "policy": policy}


@register("forecast_accuracy", label="Forecast accuracy (submitted commit)", unit="ratio", good="up",
          family="forecast", sections={"forecast": 2},
          formula="1 − Σ|F − A| ÷ ΣA over submitted commit forecasts for the period (F = owners' "
                  "submitted total on a submission date, A = their bookings: won new business + "
                  "expansion closed in the period); by owner, team, category, months_ahead",
          tables=("forecast_submissions", "opportunities"))
def _kpi_forecast_accuracy(data, period: Period, *, by, policy):
    return _labels(forecast_accuracy(data.forecast_submissions, data.opportunities, period,
                                     **_kw(data, by, policy)))


@register("forecast_bias", label="Forecast bias (submitted commit)", unit="ratio", good="neutral",
          family="forecast", sections={"forecast": 3},
          formula="Σ(F − A) ÷ ΣA over submitted commit forecasts for the period (positive = "
                  "over-forecast); by owner, team, category, months_ahead",
          tables=("forecast_submissions", "opportunities"))
def _kpi_forecast_bias(data, period: Period, *, by, policy):
    return _labels(forecast_bias(data.forecast_submissions, data.opportunities, period,
                                 **_kw(data, by, policy)))


def _labels(frame: pd.DataFrame) -> pd.DataFrame:
    """``months_ahead`` as text so catalogue group labels read ``months_ahead=3``."""
    if "months_ahead" in frame.columns:
        frame = frame.assign(months_ahead=frame["months_ahead"].astype(str))
    return frame
