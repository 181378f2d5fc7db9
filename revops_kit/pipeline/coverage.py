"""Pipeline coverage: the open pipeline closing in a period ÷ the quota still to book in it."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .._common import as_list, ratio_frame
from ..catalog import register
from ..periods import Period, PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ..stages import WON
from ._frames import _check_quota_by, _known_amounts, _kw, _of_types, _sum_by
from ._shared import _outcomes
from .outcomes import BOOKING_TYPES, pipeline_snapshot
from .quota import quota_for_period

__all__ = ["pipeline_coverage"]


def pipeline_coverage(opportunities: pd.DataFrame, quotas: pd.DataFrame, period: PeriodLike, *,
                      as_of=None, history: pd.DataFrame | None = None,
                      by: str | list[str] | None = None, fx_rates: pd.DataFrame | None = None,
                      policy: MetricPolicy = DEFAULT_POLICY, types: Iterable[str] | None = BOOKING_TYPES) -> pd.DataFrame:
    """Pipeline coverage of ``period``'s remaining quota, as it stood at ``as_of``.

    coverage = open pipeline at ``as_of`` with a close date in the period ÷ max(quota of the
    period − bookings closed in the period before ``as_of``, 0). ``as_of`` defaults to the
    period's start (coverage going into the period). Deals and bookings of ``types`` only
    (default new business and expansion, like quotas; ``None`` for all). Past-due deals with a
    close date in the period still count. A met quota leaves nothing to cover: NaN + warning.
    Groupable by owner or team. Columns: ``value``, ``numerator`` (pipeline), ``denominator``
    (remaining quota), ``quota``, ``booked``, ``open_opportunities``, ``n_missing_amount``,
    ``known_share``, ``booked_deals``, ``n_booked_missing_amount``.

    Unknown is not zero: the pipeline is the sum of the known amounts, ``n_missing_amount`` counts
    the open deals without one and ``known_share`` is the share of open deals with one; with none
    known the pipeline, and the coverage, are NaN. Likewise ``booked`` is the known part of the
    bookings so far (``n_booked_missing_amount`` of the ``booked_deals`` have no amount, so the
    remaining quota is then an upper bound); when none of them has an amount the remaining quota
    and the coverage are NaN.

    The catalogue KPI ``pipeline_coverage`` of period P is the coverage of the *next* period at
    the end of P (``pipeline_coverage(..., P.next(), as_of=P.end)``).
    """
    p = as_period(period)
    by = as_list(by)
    _check_quota_by(by)
    t = pd.Timestamp(as_of) if as_of is not None else p.start
    snap = pipeline_snapshot(opportunities, t, history=history, fx_rates=fx_rates, policy=policy)
    out = _outcomes(opportunities, history=history, fx_rates=fx_rates, policy=policy)
    if types is not None:
        types = list(types)
        snap, out = _of_types(snap, types), _of_types(out, types)
    snap = snap[p.mask(snap["close_date"]).fillna(False)]
    booked = out[(out["outcome"] == WON) & p.mask(out["closed_on"]).fillna(False) & (out["closed_on"] < t)]
    pipe = _sum_by(snap, by, {"numerator": snap["amount"].fillna(0.0),
                              "open_opportunities": np.ones(len(snap), dtype="int64"),
                              "n_missing_amount": snap["amount"].isna().astype("int64")})
    bk = _sum_by(booked, by, {"booked": booked["value"].fillna(0.0),
                              "booked_deals": np.ones(len(booked), dtype="int64"),
                              "n_booked_missing_amount": booked["value"].isna().astype("int64")})
    quota = quota_for_period(quotas, p, by=by or ["owner"])
    if not by:
        quota = pd.DataFrame({"quota": [quota["quota"].sum()]})
        res = pd.concat([pipe, bk, quota], axis=1)
    else:
        res = quota.merge(pipe, on=by, how="outer").merge(bk, on=by, how="outer")
    res = res.fillna({"numerator": 0.0, "open_opportunities": 0, "n_missing_amount": 0, "booked": 0.0, "quota": 0.0,
                      "booked_deals": 0, "n_booked_missing_amount": 0})
    for c in ("open_opportunities", "n_missing_amount", "booked_deals", "n_booked_missing_amount"):
        res[c] = res[c].astype("int64")
    none_known = (res["booked_deals"] > 0) & (res["n_booked_missing_amount"] >= res["booked_deals"])
    res["booked"] = res["booked"].where(~none_known, np.nan)
    res["denominator"] = (res["quota"] - res["booked"]).clip(lower=0.0)
    res["remaining_quota"] = res["denominator"]
    res = _known_amounts(res, "open_opportunities", value="numerator")
    res = ratio_frame(res, "numerator", "denominator", what=f"pipeline_coverage {p} at {t.date()}", by=by)
    return res.reset_index(drop=True)


@register("pipeline_coverage", sections={"sales": 3}, label="Pipeline coverage (next period)", unit="multiple", good="up",
          family="pipeline",
          formula="open pipeline at the period end closing in the next period ÷ max(next period's quota − "
                  "its bookings so far, 0); new business + expansion",
          tables=("opportunities", "quotas"))
def _kpi_pipeline_coverage(data, period: Period, *, by, policy):
    kw = _kw(data, by, policy, BOOKING_TYPES)
    kw.pop("customers")
    return pipeline_coverage(data.opportunities, data.quotas, period.next(), as_of=period.end, **kw)
