"""Bookings: the won amount of the deals closed in a period, in total and by opportunity type."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .._common import as_list
from ..catalog import register
from ..periods import Period, PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ..stages import WON
from ._frames import _closed_in, _flags, _known_amounts, _kw, _of_types, _sum_by
from ._shared import _BOOKING, _outcomes_grouped
from .outcomes import BOOKING_TYPES

__all__ = ["bookings"]


@register("bookings", aggregation="sum", sections={"sales": 8, "forecast": 1}, bind=_BOOKING, label="Bookings", unit="currency", good="up", family="pipeline", headline=True,
          formula="Σ amount of new-business and expansion deals won in the period (renewals are "
                  "reported beside, see bookings_by_type)",
          tables=("opportunities",))
def bookings(opportunities: pd.DataFrame, period: PeriodLike, *, history: pd.DataFrame | None = None,
             by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
             fx_rates: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY,
             types: Iterable[str] | None = BOOKING_TYPES) -> pd.DataFrame:
    """Bookings: won amount of deals closed in ``period``, in total and by opportunity type.

    bookings = Σ current amount (reporting currency) of deals of ``types`` won with a close date
    in the period; ``types`` defaults to new business + expansion (:data:`BOOKING_TYPES`, what
    quotas are set on); ``None`` counts every type. The amount won of each type is shown beside
    the value whatever ``types`` says: ``new_business``, ``expansion``, ``renewal``, ``other_type``
    (missing or another type). Also ``won`` (deals in the value), ``n_missing_amount``,
    ``n_close_date_from_history``, ``n_unplaced``.
    """
    p = as_period(period)
    by = as_list(by)
    out = _outcomes_grouped(opportunities, history=history, customers=customers, by=by,
                            fx_rates=fx_rates, policy=policy)
    won = _closed_in(out, p, (WON,))
    counted = won & (out.index.isin(_of_types(out, types).index))
    v = out["value"].where(won, 0.0).fillna(0.0)
    typ = out["type"] if "type" in out.columns else pd.Series(np.nan, index=out.index)
    cols = {"value": v.where(counted, 0.0), "won": counted.astype("int64")}
    for t in ("new_business", "expansion", "renewal"):
        cols[t] = v.where(typ == t, 0.0)
    cols["other_type"] = v.where(~typ.isin(["new_business", "expansion", "renewal"]), 0.0)
    cols.update(_flags(out, counted))
    cols["n_unplaced"] = cols["n_unplaced"].where(out.index.isin(_of_types(out, types).index), 0)
    return _known_amounts(_sum_by(out, by, cols), "won")


@register("bookings_by_type", aggregation="sum", label="Bookings by type", unit="currency", good="up", family="pipeline",
          dims=("type",), groupable=False,
          formula="Σ amount of deals won in the period, per opportunity type",
          tables=("opportunities",))
def _kpi_bookings_by_type(data, period: Period, *, by, policy):
    kw = _kw(data, ["type"] if "type" in data.opportunities.columns else [], policy, None)  # noqa
    return bookings(data.opportunities, period, types=None, **kw)
