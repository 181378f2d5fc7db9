"""Won deals: average deal size and sales cycle length."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from .._common import as_list, ratio_frame
from ..catalog import register
from ..periods import PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ..stages import LOST, WON
from ._frames import _closed_in, _flags, _sum_by
from ._shared import _SALES, _outcomes_grouped
from .outcomes import SALES_TYPES

__all__ = ["average_deal_size", "sales_cycle_days"]


@register("average_deal_size", aggregation="ratio", sections={"sales": 5}, bind=_SALES, label="Average deal size (won)", unit="currency", good="up",
          family="pipeline", formula="Σ won amount ÷ won deals with an amount, new business closed in the period",
          tables=("opportunities",))
def average_deal_size(opportunities: pd.DataFrame, period: PeriodLike, *,
                      history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                      customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                      policy: MetricPolicy = DEFAULT_POLICY, types: Iterable[str] | None = SALES_TYPES) -> pd.DataFrame:
    """Average won deal size in ``period``.

    average_deal_size = Σ amount of deals of ``types`` (default new business) won in the period
    ÷ number of them with an amount (won deals without an amount are left out of both and counted
    in ``n_missing_amount``).
    """
    p = as_period(period)
    by = as_list(by)
    out = _outcomes_grouped(opportunities, history=history, customers=customers, by=by,
                            fx_rates=fx_rates, policy=policy, types=types)
    won = _closed_in(out, p, (WON,))
    known = won & out["value"].notna()
    cols = {"won_amount": out["value"].where(known, 0.0).fillna(0.0),
            "won_with_amount": known.astype("int64"), "won": won.astype("int64")}
    cols.update(_flags(out, won))
    res = _sum_by(out, by, cols)
    res = res[(res["won"] + res["n_unplaced"]) > 0] if by else res
    return ratio_frame(res, "won_amount", "won_with_amount", what=f"average_deal_size {p}", by=by) \
        .reset_index(drop=True)


@register("sales_cycle_days", sections={"sales": 6}, bind=_SALES, label="Sales cycle (median days)", unit="days", good="down",
          family="pipeline",
          formula="median days from created_at to close date of new-business deals won (all closed per "
                  "policy.sales_cycle_basis) in the period; mean shown beside",
          tables=("opportunities",))
def sales_cycle_days(opportunities: pd.DataFrame, period: PeriodLike, *,
                     history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                     customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                     policy: MetricPolicy = DEFAULT_POLICY, types: Iterable[str] | None = SALES_TYPES) -> pd.DataFrame:
    """Sales cycle length of deals closed in ``period``: days from ``created_at`` to the close date.

    value = median days; ``mean`` beside it. Deals of ``types`` (default new business). Over won deals (``policy.sales_cycle_basis ==
    "won"``, default) or all closed deals (``"closed"``). Deals closing before they were created
    (bad data) are left out and counted in ``n_negative``. Columns: ``value`` (median), ``mean``,
    ``deals``, ``n_negative``, ``n_close_date_from_history``, ``n_unplaced``.
    """
    p = as_period(period)
    by = as_list(by)
    out = _outcomes_grouped(opportunities, history=history, customers=customers, by=by,
                            fx_rates=fx_rates, policy=policy, types=types)
    which = (WON,) if policy.sales_cycle_basis == "won" else (WON, LOST)
    sel = _closed_in(out, p, which)
    neg = sel & (out["cycle_days"] < 0)
    ok = sel & ~neg
    flags = _flags(out, sel)
    base = _sum_by(out, by, {"deals": ok.astype("int64"), "n_negative": neg.astype("int64"),
                             "n_close_date_from_history": flags["n_close_date_from_history"],
                             "n_unplaced": flags["n_unplaced"]})
    days = out.loc[ok, by + ["cycle_days"]]
    if by:
        stats = days.groupby(by, sort=True, dropna=False)["cycle_days"].agg(["median", "mean"]).reset_index()
        res = base.merge(stats, on=by, how="left")
        res = res[(res["deals"] + res["n_negative"] + res["n_unplaced"]) > 0]
    else:
        res = base.assign(median=days["cycle_days"].median(), mean=days["cycle_days"].mean())
    res = res.rename(columns={"median": "value"})
    return res.reset_index(drop=True)
