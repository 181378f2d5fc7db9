"""The sales trend: win rate, deal size, cycle, bookings, pipeline and velocity per period."""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from .._common import as_list
from ..periods import PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from .booking import bookings
from .deals import average_deal_size, sales_cycle_days
from .value import pipeline_value
from .velocity import pipeline_velocity
from .win_loss import win_rate

__all__ = ["sales_trend"]


def sales_trend(opportunities: pd.DataFrame, periods: Iterable[PeriodLike], *,
                history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Win rate, average deal size, sales cycle, bookings and velocity for each period (a trend).

    Columns: ``period``, ``period_start``, the ``by`` columns, ``win_rate``, ``won``, ``lost``,
    ``average_deal_size``, ``cycle_days_median``, ``cycle_days_mean``, ``bookings``,
    ``pipeline_value``, ``velocity_per_day``.
    """
    by = as_list(by)
    kw = dict(history=history, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    frames = []
    for period in periods:
        p = as_period(period)
        wr = win_rate(opportunities, p, **kw)[by + ["value", "won", "lost"]].rename(columns={"value": "win_rate"})
        ds = average_deal_size(opportunities, p, **kw)[by + ["value"]].rename(columns={"value": "average_deal_size"})
        cy = sales_cycle_days(opportunities, p, **kw)[by + ["value", "mean"]] \
            .rename(columns={"value": "cycle_days_median", "mean": "cycle_days_mean"})
        bk = bookings(opportunities, p, **kw)[by + ["value"]].rename(columns={"value": "bookings"})
        pv = pipeline_value(opportunities, p, **kw)[by + ["value"]].rename(columns={"value": "pipeline_value"})
        ve = pipeline_velocity(opportunities, p, **kw)[by + ["value"]].rename(columns={"value": "velocity_per_day"})
        parts = [wr, ds, cy, bk, pv, ve]
        if by:
            f = parts[0]
            for other in parts[1:]:
                f = f.merge(other, on=by, how="outer")
        else:
            f = pd.concat(parts, axis=1)
        f.insert(0, "period_start", p.start)
        f.insert(0, "period", str(p))
        frames.append(f)
    return pd.concat(frames, ignore_index=True)
