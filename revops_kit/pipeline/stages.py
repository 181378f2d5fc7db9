"""Stages: funnel order, stints, open opportunities by stage, stage-to-stage conversion and time
in stage. (Whether a stage is open, won or lost is decided by :mod:`revops_kit.stages`.)"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import as_list, ratio_frame
from ..catalog import register
from ..periods import PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ..stages import LOST, OPEN, WON, stage_outcome
from ..timeline import UNKNOWN_STAGE, cached_timeline
from ._frames import _groups, _static, _sum_by
from ._shared import _BY_STAGE
from .outcomes import pipeline_snapshot

__all__ = [
    "stage_order", "stage_stints", "opportunities_by_stage", "stage_conversion_rate",
    "time_in_stage",
]


def stage_order(opportunities: pd.DataFrame, history: pd.DataFrame | None = None) -> list[str]:
    """Open stages in funnel order.

    When ``opportunities`` has a ``probability`` for every open stage (the CRM's own ordering),
    stages are sorted by their mean probability. Otherwise the order is learned from the history:
    a stage comes before another when more opportunities visited it first (a Copeland ranking of
    the first visits, robust to deals that enter the funnel at different stages). Ties go by name.
    """
    tl = cached_timeline(opportunities, history, stage_only=True)
    op = tl[(tl["outcome"] == OPEN) & (tl["stage"] != UNKNOWN_STAGE)]
    opp_open = opportunities[stage_outcome(opportunities) == OPEN]
    stages = sorted(set(op["stage"].dropna()) | set(opp_open["stage"].dropna()), key=str)
    if "probability" in opp_open.columns:
        prob = opp_open.groupby("stage")["probability"].mean()
        if all(s in prob.index and pd.notna(prob[s]) for s in stages):
            return sorted(stages, key=lambda s: (prob[s], str(s)))
    first = op.drop_duplicates(["opportunity_id", "stage"])[["opportunity_id", "stage"]]
    first = first.assign(pos=first.groupby("opportunity_id").cumcount())
    pairs = first.merge(first, on="opportunity_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs["pos_a"] < pairs["pos_b"]]
    before = pairs.groupby(["stage_a", "stage_b"]).size()
    score = {s: 0 for s in stages}
    for i, a in enumerate(stages):
        for b in stages[i + 1:]:
            ab, ba = before.get((a, b), 0), before.get((b, a), 0)
            if ab != ba:
                win, lose = (a, b) if ab > ba else (b, a)
                score[win] += 1
                score[lose] -= 1
    return sorted(stages, key=lambda s: (-score[s], str(s)))


def stage_stints(opportunities: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each stretch of time an opportunity spent in one open stage.

    Columns: ``opportunity_id, stage, entered, exited`` (NaT while still in it), ``days``,
    ``next_stage`` and ``next_outcome`` (what it moved to). Consecutive states with the same stage
    (amount or close-date changes) are one stint; the ``"(unknown)"`` stage is left out.
    """
    tl = cached_timeline(opportunities, history, stage_only=True)
    key = tl["stage"].astype(str) + "\x00" + tl["outcome"].astype(str)
    new = (key != key.groupby(tl["opportunity_id"]).shift(1))
    runs = tl[new.to_numpy()].copy()
    g = runs.groupby("opportunity_id", sort=False)
    runs["exited"] = g["at"].shift(-1)
    runs["next_stage"] = g["stage"].shift(-1)
    runs["next_outcome"] = g["outcome"].shift(-1)
    runs = runs[(runs["outcome"] == OPEN) & (runs["stage"] != UNKNOWN_STAGE)]
    out = runs.rename(columns={"at": "entered"})[["opportunity_id", "stage", "entered", "exited",
                                                 "next_stage", "next_outcome"]].reset_index(drop=True)
    out["days"] = (out["exited"] - out["entered"]).dt.days.astype("float64")
    return out


@register("opportunities_by_stage", aggregation="level", bind=_BY_STAGE, label="Open opportunities by stage", unit="count", good="neutral",
          family="pipeline", dims=("stage",),
          formula="number of opportunities open at the period end, per stage",
          tables=("opportunities",))
def opportunities_by_stage(opportunities: pd.DataFrame, period: PeriodLike, *,
                           history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                           customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                           policy: MetricPolicy = DEFAULT_POLICY, order: list[str] | None = None) -> pd.DataFrame:
    """Open opportunities at the end of ``period`` by stage (in funnel order, :func:`stage_order`).

    Columns: ``stage``, ``value`` (count), ``amount`` (reporting currency), ``n_missing_amount``,
    ``share_of_amount``.
    """
    p = as_period(period)
    by = as_list(by)
    snap = pipeline_snapshot(opportunities, p.end, history=history, customers=customers, by=by,
                             fx_rates=fx_rates, policy=policy)
    res = _sum_by(snap, by + ["stage"], {"value": np.ones(len(snap), dtype="int64"),
                                          "amount": snap["amount"].fillna(0.0),
                                          "n_missing_amount": snap["missing_amount"].astype("int64")})
    order = order or stage_order(opportunities, history)
    rank = {s: i for i, s in enumerate(order)}
    res["_r"] = res["stage"].map(lambda s: rank.get(s, len(rank)))
    res = res.sort_values(by + ["_r", "stage"], kind="mergesort").drop(columns="_r").reset_index(drop=True)
    total = res.groupby(by)["amount"].transform("sum") if by else res["amount"].sum()
    res["share_of_amount"] = res["amount"] / total if np.all(np.asarray(total) != 0) else np.nan
    res["value"] = res["value"].astype("int64")
    return res


@register("stage_conversion_rate", bind=_BY_STAGE, label="Stage conversion rate", unit="ratio", good="up",
          family="pipeline", dims=("stage",),
          formula="exits from a stage in the period to a later stage or won ÷ all exits from that stage",
          tables=("opportunities", "opportunity_history"))
def stage_conversion_rate(opportunities: pd.DataFrame, period: PeriodLike, *,
                          history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                          customers: pd.DataFrame | None = None, order: list[str] | None = None) -> pd.DataFrame:
    """Stage-to-stage conversion: of the deals that left a stage in ``period``, the share that
    moved forward.

    conversion(stage) = exits to a later stage or to won ÷ all exits from the stage, over stints
    (:func:`stage_stints`) that ended in the period. Deals still in the stage are not counted
    (their outcome is unknown). Stage order from :func:`stage_order` unless ``order`` is given.
    Columns: ``stage``, ``value``, ``numerator`` (advanced), ``denominator`` (exits), ``to_won``,
    ``to_lost``, ``moved_back``.
    """
    p = as_period(period)
    by = as_list(by)
    order = order or stage_order(opportunities, history)
    rank = {s: i for i, s in enumerate(order)}
    st = stage_stints(opportunities, history)
    st = st[p.mask(st["exited"]).fillna(False)]
    st = _groups(st.merge(_static(opportunities), on="opportunity_id", how="left"), by, customers)
    r_now = st["stage"].map(rank)
    r_next = st["next_stage"].map(rank)
    to_won = st["next_outcome"] == WON
    to_lost = st["next_outcome"] == LOST
    forward = (st["next_outcome"] == OPEN) & (r_next > r_now).fillna(False)
    back = (st["next_outcome"] == OPEN) & ~forward
    res = _sum_by(st, by + ["stage"], {"advanced": (forward | to_won).astype("int64"),
                                        "exits": np.ones(len(st), dtype="int64"),
                                        "to_won": to_won.astype("int64"), "to_lost": to_lost.astype("int64"),
                                        "moved_back": back.astype("int64")})
    res["_r"] = res["stage"].map(lambda s: rank.get(s, len(rank)))
    res = res.sort_values(by + ["_r"], kind="mergesort").drop(columns="_r")
    return ratio_frame(res, "advanced", "exits", what=f"stage_conversion_rate {p}", by=by + ["stage"]) \
        .reset_index(drop=True)


@register("time_in_stage", bind=_BY_STAGE, label="Time in stage (median)", unit="days", good="down", family="pipeline",
          dims=("stage",), formula="median days in the stage of the stints that ended in the period",
          tables=("opportunities", "opportunity_history"))
def time_in_stage(opportunities: pd.DataFrame, period: PeriodLike, *,
                  history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                  customers: pd.DataFrame | None = None, order: list[str] | None = None) -> pd.DataFrame:
    """Days spent in each stage by the deals that left it in ``period``.

    value = median days of the stints (:func:`stage_stints`) that ended in the period; ``mean``
    and ``stints`` beside it. ``in_stage`` counts deals still in the stage at the period end.
    """
    p = as_period(period)
    by = as_list(by)
    order = order or stage_order(opportunities, history)
    rank = {s: i for i, s in enumerate(order)}
    st = stage_stints(opportunities, history)
    st = _groups(st.merge(_static(opportunities), on="opportunity_id", how="left"), by, customers)
    ended = st[p.mask(st["exited"]).fillna(False)]
    ongoing = st[(st["entered"] < p.end) & ~(st["exited"] < p.end).fillna(False)]
    keys = by + ["stage"]
    stats = ended.groupby(keys, sort=True, dropna=False)["days"].agg(["median", "mean", "size"]).reset_index() \
        .rename(columns={"median": "value", "size": "stints"})
    still = ongoing.groupby(keys, sort=True, dropna=False).size().rename("in_stage").reset_index()
    res = stats.merge(still, on=keys, how="outer").fillna({"stints": 0, "in_stage": 0})
    res[["stints", "in_stage"]] = res[["stints", "in_stage"]].astype("int64")
    res["_r"] = res["stage"].map(lambda s: rank.get(s, len(rank)))
    return res.sort_values(by + ["_r"], kind="mergesort").drop(columns="_r").reset_index(drop=True)
