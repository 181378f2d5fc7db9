"""Pipeline (sales) velocity: open opportunities × win rate × deal size ÷ cycle days."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from .._common import as_list, safe_divide
from ..catalog import register
from ..periods import PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ._shared import _SALES
from .deals import average_deal_size, sales_cycle_days
from .outcomes import SALES_TYPES
from .value import pipeline_value
from .win_loss import win_rate

__all__ = ["pipeline_velocity"]


@register("pipeline_velocity", aggregation="ratio", sections={"sales": 7}, bind=_SALES, label="Pipeline velocity (per day)", unit="currency", good="up",
          family="pipeline",
          formula="open opportunities at period end × win rate (count) × average deal size ÷ mean "
                  "sales cycle days (new business)",
          tables=("opportunities",))
def pipeline_velocity(opportunities: pd.DataFrame, period: PeriodLike, *,
                      history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                      customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                      policy: MetricPolicy = DEFAULT_POLICY, types: Iterable[str] | None = SALES_TYPES) -> pd.DataFrame:
    """Pipeline (sales) velocity: the revenue the pipeline turns into per day.

    velocity per day = open opportunities at the period end × win rate × average deal size ÷
    mean sales cycle days, with win rate (by count, whatever ``policy.win_rate_basis`` says: the
    formula already weighs by deal size), average deal size and cycle (``policy.sales_cycle_basis``)
    from the deals closed in the period; all over deals of ``types`` (default new business).
    ``per_period`` = per day × days in the period.

    Columns: ``value`` (per day), ``per_period``, ``numerator`` (open × win rate × deal size),
    ``denominator`` (mean cycle days), ``open_opportunities``, ``win_rate``, ``average_deal_size``,
    ``cycle_days_mean``, ``n_missing_amount``, ``known_share``.

    Unknown is not zero: the amounts in it are those of the deal size, the mean over the won deals
    with a known amount; ``n_missing_amount`` counts the won deals without one and ``known_share``
    is the share of won deals with one. With none known the deal size, and the velocity, are NaN.
    """
    p = as_period(period)
    by = as_list(by)
    kw = dict(history=history, by=by, customers=customers, fx_rates=fx_rates, types=types)
    openp = pipeline_value(opportunities, p, policy=policy, **kw)[by + ["open_opportunities"]]
    wr = win_rate(opportunities, p, policy=policy.replace(win_rate_basis="count"), **kw)
    wr = wr[by + ["value"]].rename(columns={"value": "win_rate"})
    ds = average_deal_size(opportunities, p, policy=policy, **kw)
    ds = ds.assign(known_share=ds["won_with_amount"] / ds["won"].where(ds["won"] > 0))
    ds = ds[by + ["value", "n_missing_amount", "known_share"]].rename(columns={"value": "average_deal_size"})
    cy = sales_cycle_days(opportunities, p, policy=policy, **kw)[by + ["mean"]] \
        .rename(columns={"mean": "cycle_days_mean"})
    if by:
        res = openp.merge(wr, on=by, how="outer").merge(ds, on=by, how="outer").merge(cy, on=by, how="outer")
        res["open_opportunities"] = res["open_opportunities"].fillna(0)
        res["n_missing_amount"] = res["n_missing_amount"].fillna(0).astype("int64")
    else:
        res = pd.concat([openp, wr, ds, cy], axis=1)
    res["numerator"] = res["open_opportunities"] * res["win_rate"] * res["average_deal_size"]
    res["denominator"] = res["cycle_days_mean"]
    res["value"] = safe_divide(res["numerator"], res["denominator"], what=f"pipeline_velocity {p}")
    res["per_period"] = res["value"] * (p.end - p.start).days
    return res.reset_index(drop=True)
