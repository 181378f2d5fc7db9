"""Win rate (won ÷ won + lost, by count or amount) and the opportunity-to-win ratio."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .._common import as_list, ratio_frame
from ..catalog import register
from ..periods import PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ..stages import LOST, WON
from ._frames import _closed_in, _flags, _sum_by
from ._shared import _SALES, _outcomes_grouped
from .outcomes import SALES_TYPES

__all__ = ["win_rate", "opportunity_ratio"]


@register("win_rate", sections={"sales": 4}, bind=_SALES, label="Win rate", unit="ratio", good="up", family="pipeline", headline=True,
          formula="won ÷ (won + lost) over new-business deals closed in the period (count; amount per "
                  "policy.win_rate_basis); open deals never count",
          tables=("opportunities",))
def win_rate(opportunities: pd.DataFrame, period: PeriodLike, *, history: pd.DataFrame | None = None,
             by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
             fx_rates: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY,
             types: Iterable[str] | None = SALES_TYPES) -> pd.DataFrame:
    """Win rate of deals closed in ``period``; open deals never count.

    win_rate = won ÷ (won + lost) over deals of ``types`` (default new business,
    :data:`SALES_TYPES`; ``None`` for all) whose close date is in the period, by number of
    deals (``policy.win_rate_basis == "count"``, default) or by amount (``"amount"``: won amount ÷
    (won + lost amount), lost deals valued at their last open amount; deals without an amount are
    left out of both and counted in ``n_missing_amount``).

    Columns: ``value``, ``numerator``, ``denominator``, ``won``, ``lost``, ``won_amount``,
    ``lost_amount``, ``n_missing_amount``, ``n_close_date_from_history``, ``n_unplaced``.

    >>> opps = pd.DataFrame({"opportunity_id": list("abcd"), "stage": ["Won", "Lost", "Lost", "Demo"],
    ...     "created_at": pd.to_datetime(["2025-01-01"] * 4),
    ...     "close_date": pd.to_datetime(["2025-02-01", "2025-02-15", "2025-03-01", "2025-03-10"]),
    ...     "amount": [300.0, 100.0, 200.0, 1000.0]})
    >>> win_rate(opps, "2025-Q1")["value"].item()
    0.3333333333333333
    >>> win_rate(opps, "2025-Q1", policy=DEFAULT_POLICY.replace(win_rate_basis="amount"))["value"].item()
    0.5
    """
    p = as_period(period)
    by = as_list(by)
    out = _outcomes_grouped(opportunities, history=history, customers=customers, by=by,
                            fx_rates=fx_rates, policy=policy, types=types)
    closed = _closed_in(out, p)
    won = closed & (out["outcome"] == WON)
    lost = closed & (out["outcome"] == LOST)
    cols = {"won": won.astype("int64"), "lost": lost.astype("int64"),
            "won_amount": out["value"].where(won, 0.0).fillna(0.0),
            "lost_amount": out["value"].where(lost, 0.0).fillna(0.0)}
    cols.update(_flags(out, closed))
    res = _sum_by(out, by, cols)
    res = res[(res["won"] + res["lost"] + res["n_unplaced"]) > 0] if by else res
    if policy.win_rate_basis == "amount":
        res["_num"], res["_den"] = res["won_amount"], res["won_amount"] + res["lost_amount"]
        lost_unknown = _sum_by(out, by, {"n": (lost & out["value"].isna()).astype("int64")})
        n_lost_unknown = (res[by].merge(lost_unknown, on=by, how="left")["n"] if by
                          else lost_unknown["n"]).fillna(0).to_numpy()
        res["n_lost_missing_amount"] = n_lost_unknown.astype("int64")
        if (n_lost_unknown > 0).any():
            import warnings

            from ..errors import RevOpsWarning

            warnings.warn(f"win_rate {p} (by amount): {int(n_lost_unknown.sum())} lost deal(s) have no "
                          "amount, so the amount lost is unknown; the amount-based win rate is NaN there "
                          "(count-based: policy.win_rate_basis='count')", RevOpsWarning, stacklevel=2)
            res["_num"] = res["_num"].where(n_lost_unknown == 0, np.nan)
    else:
        res["_num"], res["_den"] = res["won"], res["won"] + res["lost"]
    res = ratio_frame(res, "_num", "_den", what=f"win_rate {p}", by=by)
    return res.drop(columns=["_num", "_den"]).reset_index(drop=True)


@register("opportunity_ratio", sections={"sales": 10}, bind=_SALES, label="Opportunity-to-win ratio", unit="ratio", good="up",
          family="pipeline",
          formula="new-business deals won in the period ÷ new-business opportunities created in it",
          tables=("opportunities",))
def opportunity_ratio(opportunities: pd.DataFrame, period: PeriodLike, *,
                      history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                      customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                      policy: MetricPolicy = DEFAULT_POLICY, types: Iterable[str] | None = SALES_TYPES) -> pd.DataFrame:
    """Opportunity-to-win ratio: deals won in ``period`` ÷ opportunities created in it.

    Deals of ``types`` (default new business). A flow ratio (the won deals were mostly created
    earlier), unlike :func:`win_rate`, which compares won with lost deals. Columns: ``value``, ``numerator`` (won), ``denominator``
    (created).
    """
    p = as_period(period)
    by = as_list(by)
    out = _outcomes_grouped(opportunities, history=history, customers=customers, by=by,
                            fx_rates=fx_rates, policy=policy, types=types)
    won = _closed_in(out, p, (WON,))
    created = p.mask(out["created_at"]).fillna(False)
    res = _sum_by(out, by, {"won": won.astype("int64"), "created": created.astype("int64")})
    res = res[(res["won"] + res["created"]) > 0] if by else res
    return ratio_frame(res, "won", "created", what=f"opportunity_ratio {p}", by=by).reset_index(drop=True)
