"""Pipeline value: the open pipeline at a period's end and the pipeline created in a period."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .._common import as_list
from ..catalog import register
from ..periods import PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ._frames import _known_amounts, _of_types, _sum_by
from ._shared import _BY, _outcomes_grouped
from .outcomes import pipeline_snapshot

__all__ = ["pipeline_value", "pipeline_created"]


@register("pipeline_value", aggregation="level", sections={"sales": 1}, bind=_BY, label="Open pipeline", unit="currency", good="up", family="pipeline",
          headline=True, formula="Σ amount of opportunities open at the period end (point in time, from "
                                 "opportunity_history), reporting currency",
          tables=("opportunities",))
def pipeline_value(opportunities: pd.DataFrame, period: PeriodLike, *,
                   history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                   customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                   policy: MetricPolicy = DEFAULT_POLICY, types: Iterable[str] | None = None) -> pd.DataFrame:
    """Open pipeline at the end of ``period``.

    pipeline_value = Σ amount of opportunities open at ``period.end`` (point in time, from the
    history), in the reporting currency; every type unless ``types`` says otherwise. Reads
    ``policy.reporting_currency``/``fx_mode``.

    Columns: ``value``, ``open_opportunities``, ``n_missing_amount`` (open deals without an
    amount, counted as 0), ``n_missing_close_date``, ``n_past_due`` (close date before the period
    end: stale pipeline).

    >>> opps = pd.DataFrame({"opportunity_id": ["a", "b", "c"], "stage": ["Demo", "Closed Won", "Demo"],
    ...     "created_at": pd.to_datetime(["2025-01-05", "2025-01-10", "2025-04-02"]),
    ...     "close_date": pd.to_datetime(["2025-05-01", "2025-02-01", "2025-06-01"]),
    ...     "amount": [100.0, 50.0, 30.0]})
    >>> pipeline_value(opps, "2025-Q1")[["value", "open_opportunities"]].values.tolist()
    [[100.0, 1.0]]
    """
    p = as_period(period)
    snap = pipeline_snapshot(opportunities, p.end, history=history, customers=customers,
                             by=by, fx_rates=fx_rates, policy=policy)
    snap = _of_types(snap, types)
    by = as_list(by)
    return _known_amounts(_sum_by(snap, by, {
        "value": snap["amount"].fillna(0.0), "open_opportunities": np.ones(len(snap), dtype="int64"),
        "n_missing_amount": snap["missing_amount"].astype("int64"),
        "n_missing_close_date": snap["missing_close_date"].astype("int64"),
        "n_past_due": (snap["close_date"] < p.end).fillna(False).astype("int64"),
    }), "open_opportunities")


@register("pipeline_created", aggregation="sum", sections={"sales": 2}, bind=_BY, label="Pipeline created", unit="currency", good="up", family="pipeline",
          formula="Σ amount at creation of opportunities created in the period",
          tables=("opportunities",))
def pipeline_created(opportunities: pd.DataFrame, period: PeriodLike, *,
                     history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                     customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                     policy: MetricPolicy = DEFAULT_POLICY, types: Iterable[str] | None = None) -> pd.DataFrame:
    """Pipeline generated in ``period``.

    pipeline_created = Σ amount at creation (first state in the history, else the current amount)
    of opportunities with ``created_at`` in the period, whatever happened to them since.
    Columns: ``value``, ``created`` (count), ``n_missing_amount``.
    """
    p = as_period(period)
    by = as_list(by)
    out = _outcomes_grouped(opportunities, history=history, customers=customers, by=by,
                            fx_rates=fx_rates, policy=policy, types=types)
    m = p.mask(out["created_at"]).fillna(False)
    sub = out[m]
    return _known_amounts(_sum_by(sub, by, {"value": sub["created_amount"].fillna(0.0),
                                            "created": np.ones(len(sub), dtype="int64"),
                                            "n_missing_amount": sub["created_amount"].isna().astype("int64")}),
                          "created")
