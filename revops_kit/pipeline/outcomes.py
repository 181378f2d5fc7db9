"""Outcomes and the point-in-time pipeline: what is open, won and lost, when it closed and what it
was worth (see :mod:`revops_kit.pipeline` for the definitions), and the opportunity types each
KPI family counts."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from .._common import as_list, isin
from ..policies import DEFAULT_POLICY, MetricPolicy
from ..stages import LOST, OPEN
from ..timeline import cached_timeline, opportunity_timeline, prepare_opportunities, state_at
from ._frames import _groups, _static

__all__ = ["SALES_TYPES", "BOOKING_TYPES", "pipeline_snapshot", "opportunity_outcomes"]


#: Opportunity types of the acquisition KPIs (win rate, deal size, cycle, velocity, opportunity
#: ratio) unless ``types=`` says otherwise: renewals and expansions are other motions.
SALES_TYPES = ("new_business",)
#: Opportunity types that make bookings, count against quota and in coverage (renewals are
#: reported beside bookings, not in them).
BOOKING_TYPES = ("new_business", "expansion")


def pipeline_snapshot(opportunities: pd.DataFrame, at, *, history: pd.DataFrame | None = None,
                      customers: pd.DataFrame | None = None, by: str | list[str] | None = None,
                      fx_rates: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY,
                      include_closed: bool = False) -> pd.DataFrame:
    """The pipeline as it stood at ``at`` (point-in-time reconstruction from the history).

    One row per opportunity created before ``at`` that was open at ``at`` (every existing one with
    ``include_closed=True``), with its stage, outcome, amount (reporting currency) and close date
    *as they were then* (``state_since`` = date of that state) and its current attributes
    (owner, team, source, type, ...). ``at`` follows the half-open convention: the pipeline at
    ``"2026-01-01"`` is the pipeline at the close of 2025-12-31.
    """
    tl = cached_timeline(opportunities, history, fx_rates=fx_rates, policy=policy)
    st = state_at(tl, at).rename(columns={"at": "state_since"})
    if not include_closed:
        st = st[st["outcome"] == OPEN]
    out = st.merge(_static(opportunities), on="opportunity_id", how="left")
    out["missing_amount"] = out["amount"].isna()
    out["missing_close_date"] = out["close_date"].isna()
    return _groups(out.reset_index(drop=True), as_list(by), customers)


def opportunity_outcomes(opportunities: pd.DataFrame, *, history: pd.DataFrame | None = None,
                         fx_rates: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY,
                         stage_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The current outcome of every opportunity and when it closed.

    Adds to ``opportunities`` (a copy): ``outcome`` (open/won/lost), ``closed_on`` (the close
    date; for a closed deal without one, the date its history recorded the close), ``closed_on_source``
    (``"close_date"``, ``"history"`` or ``"missing"``), ``amount_rep`` (current amount in the
    reporting currency), ``value`` (won: current amount; lost: amount of its last open state),
    ``created_amount`` (amount of its first state) and ``cycle_days`` (``closed_on − created_at``).
    """
    opp = prepare_opportunities(opportunities, fx_rates, policy, stage_map)
    tl = (cached_timeline(opportunities, history, fx_rates=fx_rates, policy=policy) if stage_map is None
          else opportunity_timeline(opportunities, history, fx_rates=fx_rates, policy=policy,
                                    stage_map=stage_map))
    ids = opp["opportunity_id"]
    is_closed = opp["outcome"] != OPEN
    # date the final closed run began, when that came from the history
    hist = tl[tl["state_source"] == "history"]
    opened = (hist["outcome"] == OPEN).astype("int64").groupby(hist["opportunity_id"]).cumsum()
    last_open = opened.groupby(hist["opportunity_id"]).transform("max")
    final_closed = hist[(hist["outcome"] != OPEN) & (opened == last_open)]
    closed_at_hist = final_closed.groupby("opportunity_id")["at"].min()
    closed_on = opp["close_date"].where(is_closed)
    from_hist = is_closed & closed_on.isna() & isin(ids, closed_at_hist.index)
    if from_hist.any():
        closed_on = closed_on.where(~from_hist, ids.map(closed_at_hist.astype("datetime64[ns]")))
    opp["closed_on"] = closed_on.astype("datetime64[ns]")
    opp["closed_on_source"] = np.where(~is_closed, None, np.where(
        from_hist, "history", np.where(opp["closed_on"].isna(), "missing", "close_date")))
    last_open_amount = tl[tl["outcome"] == OPEN].drop_duplicates("opportunity_id", keep="last") \
        .set_index("opportunity_id")["amount"]
    lost_value = ids.map(last_open_amount).astype("float64")
    lost_value = lost_value.where(lost_value.notna(), opp["amount_rep"])
    opp["value"] = np.where(opp["outcome"] == LOST, lost_value, opp["amount_rep"])
    opp["created_amount"] = ids.map(tl.drop_duplicates("opportunity_id").set_index("opportunity_id")["amount"])
    opp["cycle_days"] = (opp["closed_on"] - opp["created_at"]).dt.days.astype("float64")
    return opp
