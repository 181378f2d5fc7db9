"""The opportunity timeline: every state each opportunity went through, point in time.

The intermediate behind pipeline, marketing (funnel outcomes) and forecast KPIs: one row per state,
``opportunity_id, at, stage, outcome, amount, close_date, state_source`` (:data:`TIMELINE_COLUMNS`;
amount in the reporting currency, rounded to the cent, NaN when unknown). Build it with
:func:`opportunity_timeline` (a fresh frame) or :func:`cached_timeline` (once per dataset frames
and FX policy, shared). :func:`state_at` reads the pipeline as it stood at a date. Outcomes come
from the one rule in :mod:`revops_kit.stages`.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ._common import frame_cache, isin, to_reporting_currency
from .errors import RevOpsError
from .periods import to_month
from .policies import DEFAULT_POLICY, MetricPolicy, get_policy
from .stages import LOST, OPEN, WON, learned_outcomes, stage_outcome

__all__ = ["TIMELINE_COLUMNS", "UNKNOWN_STAGE", "opportunity_timeline", "cached_timeline", "state_at",
           "prepare_opportunities"]

#: Stage of an assumed initial state whose real stage is unknown.
UNKNOWN_STAGE = "(unknown)"
TIMELINE_COLUMNS = ("opportunity_id", "at", "stage", "outcome", "amount", "close_date", "state_source")


def _fx_factor(opps: pd.DataFrame, fx_rates: pd.DataFrame | None, policy: MetricPolicy) -> pd.Series:
    """Reporting-currency units per unit of each opportunity's currency."""
    ones = pd.Series(1.0, index=opps.index)
    if "currency" not in opps.columns:
        return ones
    when = opps["close_date"] if "close_date" in opps.columns else opps["created_at"]
    when = to_month(when.fillna(opps["created_at"]))
    if fx_rates is not None and len(fx_rates):
        months = to_month(fx_rates["month"])
        when = when.clip(months.min(), months.max())
    tmp = pd.DataFrame({"one": ones, "currency": opps["currency"], "fx_month": when})
    return to_reporting_currency(tmp, "one", "fx_month", fx_rates, policy, table="opportunities")


def prepare_opportunities(opportunities: pd.DataFrame, fx_rates, policy, stage_map=None) -> pd.DataFrame:
    """A copy of ``opportunities`` with ``amount``/``close_date`` ensured, ``outcome`` (the rule of
    :mod:`revops_kit.stages`), ``_fx`` (reporting-currency units per unit) and ``amount_rep``."""
    missing = [c for c in ("opportunity_id", "created_at", "stage") if c not in opportunities.columns]
    if missing:
        raise RevOpsError(f"opportunities: missing required column(s) {missing}")
    opp = opportunities.copy()
    if "amount" not in opp.columns:
        opp["amount"] = np.nan
    if "close_date" not in opp.columns:
        opp["close_date"] = pd.Series(pd.NaT, index=opp.index, dtype="datetime64[ns]")
    opp["outcome"] = stage_outcome(opp, stage_map=stage_map)
    opp["_fx"] = _fx_factor(opp, fx_rates, policy).to_numpy()
    opp["amount_rep"] = (opp["amount"].astype("float64") * opp["_fx"]).round(2)
    return opp


def opportunity_timeline(opportunities: pd.DataFrame, history: pd.DataFrame | None = None, *,
                         fx_rates: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY,
                         stage_map: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every state each opportunity went through, in time order (the basis of point-in-time views).

    One row per state with ``opportunity_id, at, stage, outcome, amount`` (reporting currency,
    cents), ``close_date`` and ``state_source``:

    * ``"history"`` — a row of ``opportunity_history`` (``at = changed_at``); an empty amount or
      close date carries the previous one forward, then falls back to the current value; missing
      ``is_closed``/``is_won`` come from what the opportunities table says about that stage name,
      then from the name itself (:func:`stage_outcome`).
    * ``"assumed_initial"`` — the history starts after ``created_at``: an open state at
      ``created_at`` with the first row's amount and close date (stage ``"(unknown)"`` if that
      first row is already closed).
    * ``"current"`` / ``"current_close"`` — no history: open at ``created_at`` with the current
      amount and close date, then (when closed) the current closed state at ``close_date``, or at
      ``created_at`` when the close date is missing (``"current_close_no_date"``: never open).

    Rows of the same opportunity and date keep the history's order.
    """
    opp = prepare_opportunities(opportunities, fx_rates, policy, stage_map)
    cur = opp.drop_duplicates("opportunity_id").set_index("opportunity_id")
    cols = ["opportunity_id", "at", "stage", "outcome", "amount", "close_date", "state_source", "_seq"]
    parts: list[pd.DataFrame] = []
    with_history: set = set()
    if history is not None and len(history):
        h = history[isin(history["opportunity_id"], cur.index)].copy()
        h["_seq"] = np.arange(len(h), dtype="int64")
        h = h.sort_values(["opportunity_id", "changed_at", "_seq"], kind="mergesort")
        ids = h["opportunity_id"]
        fx = ids.map(cur["_fx"]).astype("float64")
        raw = h["amount"].astype("float64") if "amount" in h.columns else pd.Series(np.nan, index=h.index)
        amount = (raw.groupby(ids, sort=False).ffill() * fx).round(2)
        amount = amount.fillna(ids.map(cur["amount_rep"]))
        close = h["close_date"] if "close_date" in h.columns else pd.Series(pd.NaT, index=h.index)
        close = close.groupby(ids, sort=False).ffill().fillna(ids.map(cur["close_date"]))
        rows = pd.DataFrame({
            "opportunity_id": ids, "at": h["changed_at"], "stage": h["stage"].astype(object),
            "outcome": stage_outcome(h, stage_map=stage_map, known=learned_outcomes(opp)),
            "amount": amount, "close_date": close.astype("datetime64[ns]"), "state_source": "history",
            "_seq": h["_seq"],
        })
        first = rows.drop_duplicates("opportunity_id")
        created = first["opportunity_id"].map(cur["created_at"])
        need = (created < first["at"]).to_numpy()
        init = first[need].copy()
        init["at"] = created[need]
        init["stage"] = np.where(init["outcome"] == OPEN, init["stage"], UNKNOWN_STAGE)
        init["outcome"] = OPEN
        init["state_source"] = "assumed_initial"
        init["_seq"] = -1
        parts += [init[cols], rows[cols]]
        with_history = set(rows["opportunity_id"])
    bare = opp[~isin(opp["opportunity_id"], with_history)]
    if len(bare):
        is_open = bare["outcome"] == OPEN
        start = pd.DataFrame({
            "opportunity_id": bare["opportunity_id"], "at": bare["created_at"],
            "stage": bare["stage"].astype(object).where(is_open, UNKNOWN_STAGE), "outcome": OPEN,
            "amount": bare["amount_rep"], "close_date": bare["close_date"], "state_source": "current",
            "_seq": -1,
        })
        closed = bare[~is_open]
        no_date = closed["close_date"].isna()
        end = pd.DataFrame({
            "opportunity_id": closed["opportunity_id"],
            "at": closed["close_date"].where(~no_date, closed["created_at"]).clip(lower=closed["created_at"]),
            "stage": closed["stage"].astype(object), "outcome": closed["outcome"],
            "amount": closed["amount_rep"], "close_date": closed["close_date"],
            "state_source": np.where(no_date, "current_close_no_date", "current_close"), "_seq": 0,
        })
        parts += [start[cols], end[cols]]
    tl = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else pd.DataFrame(columns=cols)
    tl["at"] = tl["at"].astype("datetime64[ns]")
    tl["close_date"] = tl["close_date"].astype("datetime64[ns]")
    tl["amount"] = tl["amount"].astype("float64")
    tl["_seq"] = tl["_seq"].astype("int64")
    tl = tl.sort_values(["opportunity_id", "at", "_seq"], kind="mergesort").reset_index(drop=True)
    return tl.drop(columns="_seq")


def cached_timeline(opportunities: pd.DataFrame, history: pd.DataFrame | None = None, *,
                    fx_rates: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY,
                    stage_only: bool = False) -> pd.DataFrame:
    """:func:`opportunity_timeline`, built once per (opportunities, history, fx_rates) frame objects
    and FX policy, and shared: treat it as read-only. ``stage_only=True`` is the timeline for
    stage questions (amounts stay in their own currency: no FX needed)."""
    if stage_only:
        return frame_cache("opportunity_timeline", (opportunities, history), ("stages",),
                           lambda: opportunity_timeline(
                               opportunities.drop(columns=["currency"], errors="ignore"), history))
    policy = get_policy(policy)
    key = (policy.reporting_currency, policy.fx_mode, policy.fx_fixed_month)
    return frame_cache("opportunity_timeline", (opportunities, history, fx_rates), key,
                       lambda: opportunity_timeline(opportunities, history, fx_rates=fx_rates, policy=policy))


def state_at(tl: pd.DataFrame, at) -> pd.DataFrame:
    """Each opportunity's last state before ``at`` (half-open: the state at the close of the day before)."""
    t = pd.Timestamp(at)
    return tl[tl["at"] < t].drop_duplicates("opportunity_id", keep="last")
