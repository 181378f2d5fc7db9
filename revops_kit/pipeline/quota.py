"""Quotas: each owner's quota for a period (prorated by months) and quota attainment."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .._common import as_list, ratio_frame
from ..catalog import NotGroupableError, register
from ..periods import Period, PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ._frames import _check_quota_by
from ._shared import _BOOKING
from .booking import bookings
from .outcomes import BOOKING_TYPES

__all__ = ["quota_for_period", "quota_attainment"]


def quota_for_period(quotas: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None) -> pd.DataFrame:
    """Quota of each owner (and team) for ``period``, prorated by months.

    A quota row counts with ``amount × (months it shares with the period) ÷ (its months)``: a
    quarter of monthly quotas sums them, a quarter of an annual quota takes a quarter of it.
    Returns ``owner`` (and ``team`` when ``quotas`` has it) and ``quota``, or the ``by`` columns.
    """
    p = as_period(period)
    by = as_list(by)
    q = quotas.copy()
    periods = q["period"].astype(str).map(lambda s: Period.parse(s))
    qs = periods.map(lambda x: x.start)
    qe = periods.map(lambda x: x.end)
    n = periods.map(lambda x: x.n_months).astype("float64")

    def months(a, b):
        return (b.year - a.year) * 12 + b.month - a.month

    overlap = [max(0, months(max(s, p.start), min(e, p.end))) for s, e in zip(qs, qe)]
    q["quota"] = q["amount"].astype("float64") * np.asarray(overlap, dtype="float64") / n.to_numpy()
    q = q[np.asarray(overlap) > 0]
    keys = by or (["owner", "team"] if "team" in q.columns else ["owner"])
    bad = [c for c in keys if c not in q.columns]
    if bad:
        raise NotGroupableError(f"quotas cannot be grouped by {bad}: quotas has columns {list(quotas.columns)}")
    return q.groupby(keys, sort=True, dropna=False)["quota"].sum().reset_index()


@register("quota_attainment", sections={"sales": 9}, bind=_BOOKING, label="Quota attainment", unit="ratio", good="up", family="pipeline",
          formula="bookings (new business + expansion) ÷ quota of the period; by owner or team",
          tables=("opportunities", "quotas"))
def quota_attainment(opportunities: pd.DataFrame, quotas: pd.DataFrame, period: PeriodLike, *,
                     history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                     fx_rates: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY,
                     types: Iterable[str] | None = BOOKING_TYPES) -> pd.DataFrame:
    """Quota attainment: bookings ÷ quota, in total, by owner or by team.

    attainment = Σ won amount closed in the period (deals of ``types``, default new business and
    expansion; ``None`` for all) ÷ Σ quota of the period (:func:`quota_for_period`). By owner, an
    owner with bookings but no quota gets NaN and a warning; one with a quota and no bookings gets
    0. In total, ``unassigned_bookings`` is the part booked by owners without a quota (it is in the
    numerator). Columns: ``value``, ``numerator`` (bookings), ``denominator`` (quota), ``won``.
    """
    p = as_period(period)
    by = as_list(by)
    _check_quota_by(by)
    bk = bookings(opportunities, p, history=history, by=by or ["owner"], fx_rates=fx_rates,
                  policy=policy, types=types)
    quota = quota_for_period(quotas, p, by=by or ["owner"])
    merged = quota.merge(bk[(by or ["owner"]) + ["value", "won"]], on=by or ["owner"], how="outer")
    merged = merged.fillna({"quota": 0.0, "value": 0.0, "won": 0}).rename(columns={"value": "booked"})
    if not by:
        has_quota = merged["quota"] > 0
        merged = pd.DataFrame({"booked": [merged["booked"].sum()], "quota": [merged["quota"].sum()],
                               "won": [int(merged["won"].sum())],
                               "unassigned_bookings": [merged.loc[~has_quota, "booked"].sum()]})
    res = ratio_frame(merged, "booked", "quota", what=f"quota_attainment {p}", by=by)
    return res.reset_index(drop=True)
