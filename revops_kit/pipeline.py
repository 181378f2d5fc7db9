"""Pipeline and sales KPIs: pipeline value and evolution, stages, win rate, cycle, velocity, quota.

What counts as open, won, lost and when
---------------------------------------
* **Outcome** of an opportunity row: ``won`` when ``is_won`` is true, ``lost`` when ``is_closed``
  is true and ``is_won`` false, ``open`` when ``is_closed`` is false. Where a flag is missing the
  stage name decides: a stage whose name contains "won" is won, one containing "lost" or "closed"
  is lost, any other stage is open (see :func:`stage_outcome`; pass ``stage_map`` to override).
* **Timeline** (:func:`opportunity_timeline`): the states an opportunity went through, from
  ``opportunity_history`` (one state per history row, amounts and close dates carried forward when
  a row leaves them empty). An opportunity without history has an open state at ``created_at``
  and, when closed, a closed state at its ``close_date``.
* **Point in time**: the state "at" a date ``t`` is the last state dated before ``t`` — the same
  half-open convention as periods, so the pipeline at a period's end (``t = period.end``) includes
  every change made on the period's last day. An opportunity exists at ``t`` when it was created
  before ``t``. **Open at t** = exists at ``t`` and its state at ``t`` is open.
* **Won / lost in a period**: the *current* outcome (the opportunities table), attributed to the
  period containing its ``close_date``; a closed deal without a close date is placed on the date
  its history recorded the close, and counted in ``n_close_date_from_history``; with neither it is
  counted in ``n_unplaced`` and can't be placed in any period. A deal that was won and later reopened is
  open now: it counts in no period's wins, and in the pipeline (and in
  :func:`pipeline_evolution` as won, then reopened) from its history.
* **Amounts** are converted to the reporting currency at the rate of the month of the deal's
  close date (created date when it has none), clamped to the months ``fx_rates`` covers, and rounded
  to cents. A **won** deal is worth its current amount; a **lost** deal is worth the amount of its
  last open state (so CRMs that set the amount of lost deals to 0 don't make losses look free).
  A missing amount counts as 0 in sums, and the count of such deals is reported
  (``n_missing_amount``); deals are never dropped silently.
* **Open deals never count in win rate**; missing close dates and amounts are flagged in every
  output that could be affected.

Opportunity types: win rate, deal size, cycle, velocity and opportunity ratio use new-business
deals (:data:`SALES_TYPES`); bookings, quota attainment and coverage use new business +
expansion (:data:`BOOKING_TYPES`); pipeline value, pipeline created, stages and the evolution use
every type. Each function takes ``types=`` (``None`` = all); without a ``type`` column every deal
counts.

Grouping (``by=``) works on any column of ``opportunities`` (owner, team, source, type, product,
stage) and on customer columns (segment, region, ...) looked up through ``customer_id``; deals
without a value are grouped under ``"(missing)"``. Owner, team and the other attributes are the
current ones (the history holds no owner changes).
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ._common import (as_list, frame_cache, isin, attach_columns, ratio_frame, safe_divide,
                      to_reporting_currency)
from .catalog import NotGroupableError, register
from .stages import LOST, OPEN, WON, stage_outcome
from .timeline import (UNKNOWN_STAGE, cached_timeline, opportunity_timeline, prepare_opportunities,
                       state_at)
from .errors import RevOpsError
from .periods import Period, PeriodLike, as_period, to_month
from .policies import DEFAULT_POLICY, MetricPolicy, get_policy

__all__ = [
    "OPEN",
    "WON",
    "LOST",
    "EVOLUTION_STEPS",
    "stage_outcome",
    "opportunity_timeline",
    "pipeline_snapshot",
    "opportunity_outcomes",
    "pipeline_evolution",
    "pipeline_evolution_detail",
    "stage_order",
    "stage_stints",
    "pipeline_value",
    "pipeline_created",
    "pipeline_coverage",
    "opportunities_by_stage",
    "stage_conversion_rate",
    "time_in_stage",
    "win_rate",
    "average_deal_size",
    "sales_cycle_days",
    "pipeline_velocity",
    "bookings",
    "quota_for_period",
    "quota_attainment",
    "opportunity_ratio",
    "sales_trend",
    "SALES_TYPES",
    "BOOKING_TYPES",
]

#: Opportunity types of the acquisition KPIs (win rate, deal size, cycle, velocity, opportunity
#: ratio) unless ``types=`` says otherwise: renewals and expansions are other motions.
SALES_TYPES = ("new_business",)
#: Opportunity types that make bookings, count against quota and in coverage (renewals are
#: reported beside bookings, not in them).
BOOKING_TYPES = ("new_business", "expansion")
#: Rows of :func:`pipeline_evolution`, in waterfall order.
EVOLUTION_STEPS = ("starting", "created", "reopened", "increased", "decreased", "pulled_in",
                   "slipped_out", "won", "lost", "ending")
_MOVES = EVOLUTION_STEPS[1:-1]



# =============================================================================== outcomes
def _static(opportunities: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in opportunities.columns
            if c not in ("stage", "amount", "close_date", "is_closed", "is_won", "probability",
                         "forecast_category")]
    return opportunities[keep].drop_duplicates("opportunity_id")


def _groups(frame: pd.DataFrame, by: list[str], customers: pd.DataFrame | None) -> pd.DataFrame:
    if not by:
        return frame
    if "customer_id" not in frame.columns:
        frame = frame.assign(customer_id=np.nan)
    return attach_columns(frame, customers, by, table="opportunities")


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


# =============================================================================== catalogue bindings
def _by_ok(data, by, dims: tuple[str, ...] = ()) -> list[str]:
    """Check ``by`` columns exist in opportunities or customers (NotGroupableError otherwise)."""
    by = as_list(by)
    clash = [c for c in by if c in dims]
    if clash:
        raise NotGroupableError(f"this KPI is already split by {clash}")
    cust = set(data.customers.columns) if data.customers is not None else set()
    bad = [c for c in by if c not in data.opportunities.columns and c not in cust]
    if bad:
        raise NotGroupableError(f"opportunities cannot be grouped by {bad}: not a column of "
                                "opportunities or customers")
    return by


def _kw(data, by, policy, types: str | None = None, dims: tuple[str, ...] = ()):
    """Keyword arguments of the two catalogue adapters; grouping by type uses every type."""
    by = _by_ok(data, by, dims)
    kw = {"history": data.opportunity_history, "by": by, "customers": data.customers,
          "fx_rates": data.fx_rates, "policy": policy}
    if types is not None:
        kw["types"] = None if "type" in by else types
    return kw


def _bind_by(dims: tuple[str, ...] = ()):
    return lambda data, by, policy: _by_ok(data, by, dims)


def _bind_types(types):
    return lambda data, by, policy: None if "type" in as_list(by) else types


# catalogue bindings: ``by`` checked against opportunities/customers; grouping by type uses every type
_BY = {"by": _bind_by()}
_BY_STAGE = {"by": _bind_by(("stage",))}
_SALES = {"by": _bind_by(), "types": _bind_types(SALES_TYPES)}
_BOOKING = {"by": _bind_by(), "types": _bind_types(BOOKING_TYPES)}


# =============================================================================== evolution
def _window_bounds(window) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if window is None:
        return None
    if isinstance(window, (tuple, list)):
        return pd.Timestamp(window[0]), pd.Timestamp(window[1])
    p = as_period(window)
    return p.start, p.end


def _cents(values: pd.Series) -> np.ndarray:
    return np.round(values.fillna(0.0).to_numpy(dtype="float64") * 100.0).astype("int64")


def _evolution(opportunities, start, end, *, history, window, fx_rates, policy):
    """(movement rows, per-opportunity flags at start and end) of the pipeline evolution."""
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    if t1 < t0:
        raise ValueError(f"pipeline_evolution: end ({t1.date()}) is before start ({t0.date()})")
    tl = cached_timeline(opportunities, history, fx_rates=fx_rates, policy=policy)
    bounds = _window_bounds(window)

    def in_window(close: pd.Series) -> np.ndarray:
        if bounds is None:
            return np.ones(len(close), dtype=bool)
        return ((close >= bounds[0]) & (close < bounds[1])).fillna(False).to_numpy(dtype=bool)

    s0 = state_at(tl, t0).assign(_t=0)
    s1 = state_at(tl, t1)
    inside = tl[(tl["at"] >= t0) & (tl["at"] < t1)].assign(_t=1)
    seq = pd.concat([s0, inside], ignore_index=True)
    seq = seq.sort_values(["opportunity_id", "_t"], kind="mergesort").reset_index(drop=True)
    amt = _cents(seq["amount"])
    in_pipe = (seq["outcome"] == OPEN).to_numpy() & in_window(seq["close_date"])
    seq["_in"], seq["_v"], seq["_amt"] = in_pipe, np.where(in_pipe, amt, 0), amt
    g = seq.groupby("opportunity_id", sort=False)
    seq["_p_exists"] = g.cumcount() > 0
    seq["_p_in"] = g["_in"].shift(1, fill_value=False).astype(bool)
    seq["_p_v"] = g["_v"].shift(1, fill_value=0).astype("int64")
    seq["_p_amt"] = g["_amt"].shift(1, fill_value=0).astype("int64")
    seq["_p_open"] = (g["outcome"].shift(1) == OPEN).astype(bool)
    tr = seq[seq["_t"] == 1]  # each state inside the dates is a transition from the one before
    p_exists, p_in, p_open = (tr[c].to_numpy(dtype=bool) for c in ("_p_exists", "_p_in", "_p_open"))
    p_v, p_amt = tr["_p_v"].to_numpy(), tr["_p_amt"].to_numpy()
    q_in, q_v, q_amt = tr["_in"].to_numpy(dtype=bool), tr["_v"].to_numpy(), tr["_amt"].to_numpy()
    q_win = in_window(tr["close_date"])
    q_out = tr["outcome"].to_numpy()
    q_closed = q_out != OPEN
    before = np.where(p_in, p_v, p_amt)  # the amount the deal carried just before
    # exit value of a closing deal: won at its closing amount (the previous one if empty); lost at
    # its closing amount when > 0, else the last open amount (CRMs that zero lost deals)
    won_x = np.where(tr["amount"].notna().to_numpy(), q_amt, before)
    lost_x = np.where(q_amt > 0, q_amt, before)
    exit_x = np.where(q_out == WON, won_x, lost_x)
    stays = p_in & q_in
    closes = p_in & q_closed
    slips = p_in & ~q_closed & ~q_in
    delta = np.where(stays, q_v - p_v, 0) + np.where(closes, exit_x - p_v, 0) + np.where(slips, q_amt - p_v, 0)
    direct = ~p_in & q_closed & q_win & (~p_exists | p_open)  # enters and closes in one step
    closing = closes | direct
    ids = tr["opportunity_id"].to_numpy()
    rows = []
    for step, mask, cents in (
        ("created", ~p_exists & q_in, q_v),
        ("created", direct & ~p_exists, exit_x),
        ("reopened", p_exists & ~p_open & q_in, q_v),
        ("increased", delta > 0, delta),
        ("decreased", delta < 0, delta),
        ("pulled_in", p_exists & p_open & ~p_in & q_in, q_v),
        ("pulled_in", direct & p_exists, exit_x),
        ("slipped_out", slips, -q_amt),
        ("won", closing & (q_out == WON), -exit_x),
        ("lost", closing & (q_out == LOST), -exit_x),
    ):
        if mask.any():
            rows.append(pd.DataFrame({"opportunity_id": ids[mask], "step": step,
                                      "cents": np.asarray(cents, dtype="int64")[mask]}))
    flags = []
    for st, step in ((s0, "starting"), (s1, "ending")):
        is_open = (st["outcome"] == OPEN).to_numpy()
        pipe = is_open & in_window(st["close_date"])
        rows.append(pd.DataFrame({"opportunity_id": st["opportunity_id"].to_numpy()[pipe], "step": step,
                                  "cents": _cents(st["amount"])[pipe]}))
        flags.append(pd.DataFrame({
            "opportunity_id": st["opportunity_id"].to_numpy(), "step": step,
            "missing_amount": pipe & st["amount"].isna().to_numpy(),
            "missing_close_date": is_open & st["close_date"].isna().to_numpy()}))
    detail = pd.concat(rows, ignore_index=True)
    detail["cents"] = detail["cents"].astype("int64")
    detail["amount"] = detail["cents"] / 100.0
    order = {s: i for i, s in enumerate(EVOLUTION_STEPS)}
    detail = detail.sort_values("step", key=lambda s: s.map(order), kind="mergesort").reset_index(drop=True)
    flags = pd.concat(flags, ignore_index=True)
    flags = flags[flags["missing_amount"] | flags["missing_close_date"]].reset_index(drop=True)
    return detail, flags


def pipeline_evolution_detail(opportunities: pd.DataFrame, start, end, *,
                              history: pd.DataFrame | None = None, window=None,
                              fx_rates: pd.DataFrame | None = None,
                              policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Per-opportunity movements behind :func:`pipeline_evolution`.

    One row per opportunity and step with ``cents`` (signed integer cents) and ``amount``;
    ``starting`` and ``ending`` rows hold the value of each deal in the pipeline at ``start`` and
    ``end``. Summing ``cents`` per step gives the waterfall.
    """
    return _evolution(opportunities, start, end, history=history, window=window, fx_rates=fx_rates,
                      policy=policy)[0]


def pipeline_evolution(opportunities: pd.DataFrame, start, end, *,
                       history: pd.DataFrame | None = None, window=None,
                       by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                       fx_rates: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """How the pipeline moved between two dates: a waterfall that adds up exactly.

    ending = starting + created + reopened + increased − decreased + pulled_in − slipped_out
    − won − lost, exactly, in integer cents of the reporting currency (per group too).

    The pipeline at a date is the open amount at that date (:func:`pipeline_snapshot`), restricted
    to deals whose close date lies in ``window`` when one is given (a period label, a
    :class:`Period` or a ``(start, end)`` pair, half-open; deals without a close date are then
    outside it). Each opportunity's states between ``start`` and ``end`` are replayed, and each
    change of state moves the pipeline in one of these steps:

    ``created``      created (inside the dates) with a close date in the window; valued at its first amount
    ``reopened``     a closed deal reopened into the window pipeline
    ``increased`` / ``decreased``  amount changes of a deal while it is in the window pipeline
    ``pulled_in``    an open deal whose close date moved *into* the window (from later, earlier or empty)
    ``slipped_out``  an open deal whose close date moved *out of* the window (valued at its new amount)
    ``won`` / ``lost`` a deal in the window pipeline closed; won at its closing amount, lost at its
                     closing amount or, when that is 0 or empty, its last open amount

    A deal created or pulled in and closed in the same step (closing date in the window) shows
    in both ``created``/``pulled_in`` and ``won``/``lost``. Without ``window`` every open deal is
    in the pipeline and ``pulled_in``/``slipped_out`` are zero. Amount changes that come with an
    exit are counted first (so a deal won for more than its pipeline amount shows the difference
    as ``increased``). Missing amounts count as 0; ``n_missing_amount`` on the ``starting`` and
    ``ending`` rows counts open deals without an amount (and ``n_missing_close_date`` those
    without a close date).

    Returns one row per step (and group) with ``step``, ``value`` (signed: decreases are
    negative; ``starting``/``ending`` are balances), ``cents`` (int64), ``opportunities``.
    """
    by = as_list(by)
    detail, flags = _evolution(opportunities, start, end, history=history, window=window,
                               fx_rates=fx_rates, policy=policy)
    keys = by + ["step"]
    if by:
        attrs = _groups(_static(opportunities), by, customers)[["opportunity_id"] + by]
        detail = detail.merge(attrs, on="opportunity_id", how="left")
        flags = flags.merge(attrs, on="opportunity_id", how="left")
        for frame in (detail, flags):
            for c in by:
                frame[c] = frame[c].astype(object).where(frame[c].notna(), "(missing)")
        groups = pd.concat([detail[by], flags[by]]).drop_duplicates().sort_values(by, kind="mergesort")
        grid = groups.merge(pd.DataFrame({"step": list(EVOLUTION_STEPS)}), how="cross")
    else:
        grid = pd.DataFrame({"step": list(EVOLUTION_STEPS)})
    agg = detail.groupby(keys, sort=False).agg(cents=("cents", "sum"),
                                               opportunities=("opportunity_id", "nunique")).reset_index()
    fl = flags.groupby(keys, sort=False)[["missing_amount", "missing_close_date"]].sum().reset_index() \
        .rename(columns={"missing_amount": "n_missing_amount", "missing_close_date": "n_missing_close_date"})
    out = grid.merge(agg, on=keys, how="left").merge(fl, on=keys, how="left")
    for c in ("cents", "opportunities", "n_missing_amount", "n_missing_close_date"):
        out[c] = out[c].fillna(0).astype("int64")
    out["value"] = out["cents"] / 100.0
    # the identity, per group (it holds by construction; a failure here is a bug)
    for _, grp in (out.groupby(by, sort=False) if by else [(None, out)]):
        c = dict(zip(grp["step"], grp["cents"]))
        if c["starting"] + sum(c[s] for s in _MOVES) != c["ending"]:  # pragma: no cover
            raise RevOpsError("pipeline_evolution: the waterfall does not add up; please report this bug")
    return out[by + ["step", "value", "cents", "opportunities", "n_missing_amount",
                     "n_missing_close_date"]].reset_index(drop=True)


# =============================================================================== stages
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


# =============================================================================== helpers
def _sum_by(frame: pd.DataFrame, by: list[str], cols: dict) -> pd.DataFrame:
    tmp = pd.DataFrame({k: np.asarray(v) for k, v in cols.items()}, index=frame.index)
    if by:
        tmp = pd.concat([frame[by], tmp], axis=1)
        return tmp.groupby(by, sort=True, observed=True, dropna=False)[list(cols)].sum().reset_index()
    return pd.DataFrame({k: [tmp[k].sum()] for k in cols})


def _outcomes(opportunities, *, history, fx_rates, policy):
    """:func:`opportunity_outcomes`, built once per dataset frames and FX policy (trends ask for
    many periods); shared, so read-only."""
    policy = get_policy(policy)
    key = (policy.reporting_currency, policy.fx_mode, policy.fx_fixed_month)
    return frame_cache("opportunity_outcomes", (opportunities, history, fx_rates), key,
                       lambda: opportunity_outcomes(opportunities, history=history, fx_rates=fx_rates,
                                                    policy=policy))


def _outcomes_grouped(opportunities, *, history, customers, by, fx_rates, policy,
                      types=None):
    out = _outcomes(opportunities, history=history, fx_rates=fx_rates, policy=policy)
    return _groups(_of_types(out, types), by, customers)


def _of_types(frame: pd.DataFrame, types) -> pd.DataFrame:
    """Rows of the given opportunity types (all when ``types`` is None or there is no ``type``
    column: a CRM export without types is taken to be all one motion)."""
    if types is None or "type" not in frame.columns:
        return frame
    return frame[isin(frame["type"], list(types))]


def _closed_in(out: pd.DataFrame, p: Period, outcomes=(WON, LOST)) -> pd.Series:
    return out["outcome"].isin(outcomes) & p.mask(out["closed_on"]).fillna(False)


def _flags(out: pd.DataFrame, mask: pd.Series) -> dict:
    """Flag columns for a set of closed deals: missing amounts, close dates from history, unplaced."""
    closed = out["outcome"] != OPEN
    return {
        "n_missing_amount": (mask & out["value"].isna()).astype("int64"),
        "n_close_date_from_history": (mask & (out["closed_on_source"] == "history")).astype("int64"),
        "n_unplaced": (closed & (out["closed_on_source"] == "missing")).astype("int64"),
    }


def _known_amounts(res: pd.DataFrame, rows: str, value: str = "value",
                   missing: str = "n_missing_amount") -> pd.DataFrame:
    """Unknown is not zero: ``value`` is the sum of the known amounts, ``known_share`` the share of
    the ``rows`` deals whose amount is known, and ``value`` is NaN when none is known."""
    n = res[rows].astype("float64")
    m = res[missing].astype("float64")
    res["known_share"] = np.where(n > 0, (n - m) / n.where(n > 0, 1.0), np.nan)
    res[value] = res[value].astype("float64").where(~((n > 0) & (m >= n)), np.nan)
    return res


# =============================================================================== KPIs
@register("pipeline_value", aggregation="level", sections={"sales": 1}, bind=_BY, label="Open pipeline", unit="currency", good="up", family="pipeline",
          headline=True, formula="Σ amount of opportunities open at the period end (point in time, from "
                                 "opportunity_history), reporting currency",
          tables=("opportunities",))
def pipeline_value(opportunities: pd.DataFrame, period: PeriodLike, *,
                   history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                   customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                   policy: MetricPolicy = DEFAULT_POLICY, types: Iterable[str] | None = None) -> pd.DataFrame:
    """Open pipeline at the end of ``period``.

    pipeline_value = Σ amount of opportunities open at ``period.end`` (point in time, from the
    history), in the reporting currency; every type unless ``types`` says otherwise. Reads
    ``policy.reporting_currency``/``fx_mode``.

    Columns: ``value``, ``open_opportunities``, ``n_missing_amount`` (open deals without an
    amount, counted as 0), ``n_missing_close_date``, ``n_past_due`` (close date before the period
    end: stale pipeline).

    >>> opps = pd.DataFrame({"opportunity_id": ["a", "b", "c"], "stage": ["Demo", "Closed Won", "Demo"],
    ...     "created_at": pd.to_datetime(["2025-01-05", "2025-01-10", "2025-04-02"]),
    ...     "close_date": pd.to_datetime(["2025-05-01", "2025-02-01", "2025-06-01"]),
    ...     "amount": [100.0, 50.0, 30.0]})
    >>> pipeline_value(opps, "2025-Q1")[["value", "open_opportunities"]].values.tolist()
    [[100.0, 1.0]]
    """
    p = as_period(period)
    snap = pipeline_snapshot(opportunities, p.end, history=history, customers=customers,
                             by=by, fx_rates=fx_rates, policy=policy)
    snap = _of_types(snap, types)
    by = as_list(by)
    return _known_amounts(_sum_by(snap, by, {
        "value": snap["amount"].fillna(0.0), "open_opportunities": np.ones(len(snap), dtype="int64"),
        "n_missing_amount": snap["missing_amount"].astype("int64"),
        "n_missing_close_date": snap["missing_close_date"].astype("int64"),
        "n_past_due": (snap["close_date"] < p.end).fillna(False).astype("int64"),
    }), "open_opportunities")


@register("pipeline_created", aggregation="sum", sections={"sales": 2}, bind=_BY, label="Pipeline created", unit="currency", good="up", family="pipeline",
          formula="Σ amount at creation of opportunities created in the period",
          tables=("opportunities",))
def pipeline_created(opportunities: pd.DataFrame, period: PeriodLike, *,
                     history: pd.DataFrame | None = None, by: str | list[str] | None = None,
                     customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                     policy: MetricPolicy = DEFAULT_POLICY, types: Iterable[str] | None = None) -> pd.DataFrame:
    """Pipeline generated in ``period``.

    pipeline_created = Σ amount at creation (first state in the history, else the current amount)
    of opportunities with ``created_at`` in the period, whatever happened to them since.
    Columns: ``value``, ``created`` (count), ``n_missing_amount``.
    """
    p = as_period(period)
    by = as_list(by)
    out = _outcomes_grouped(opportunities, history=history, customers=customers, by=by,
                            fx_rates=fx_rates, policy=policy, types=types)
    m = p.mask(out["created_at"]).fillna(False)
    sub = out[m]
    return _known_amounts(_sum_by(sub, by, {"value": sub["created_amount"].fillna(0.0),
                                            "created": np.ones(len(sub), dtype="int64"),
                                            "n_missing_amount": sub["created_amount"].isna().astype("int64")}),
                          "created")


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


def _check_quota_by(by: list[str]) -> None:
    bad = [c for c in by if c not in ("owner", "team")]
    if bad:
        raise NotGroupableError(f"quota-based KPIs can be grouped by owner or team only, not {bad}")


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

            from .errors import RevOpsWarning

            warnings.warn(f"win_rate {p} (by amount): {int(n_lost_unknown.sum())} lost deal(s) have no "
                          "amount, so the amount lost is unknown; the amount-based win rate is NaN there "
                          "(count-based: policy.win_rate_basis='count')", RevOpsWarning, stacklevel=2)
            res["_num"] = res["_num"].where(n_lost_unknown == 0, np.nan)
    else:
        res["_num"], res["_den"] = res["won"], res["won"] + res["lost"]
    res = ratio_frame(res, "_num", "_den", what=f"win_rate {p}", by=by)
    return res.drop(columns=["_num", "_den"]).reset_index(drop=True)


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
    ``cycle_days_mean``.
    """
    p = as_period(period)
    by = as_list(by)
    kw = dict(history=history, by=by, customers=customers, fx_rates=fx_rates, types=types)
    openp = pipeline_value(opportunities, p, policy=policy, **kw)[by + ["open_opportunities"]]
    wr = win_rate(opportunities, p, policy=policy.replace(win_rate_basis="count"), **kw)
    wr = wr[by + ["value"]].rename(columns={"value": "win_rate"})
    ds = average_deal_size(opportunities, p, policy=policy, **kw)[by + ["value"]] \
        .rename(columns={"value": "average_deal_size"})
    cy = sales_cycle_days(opportunities, p, policy=policy, **kw)[by + ["mean"]] \
        .rename(columns={"mean": "cycle_days_mean"})
    if by:
        res = openp.merge(wr, on=by, how="outer").merge(ds, on=by, how="outer").merge(cy, on=by, how="outer")
        res["open_opportunities"] = res["open_opportunities"].fillna(0)
    else:
        res = pd.concat([openp, wr, ds, cy], axis=1)
    res["numerator"] = res["open_opportunities"] * res["win_rate"] * res["average_deal_size"]
    res["denominator"] = res["cycle_days_mean"]
    res["value"] = safe_divide(res["numerator"], res["denominator"], what=f"pipeline_velocity {p}")
    res["per_period"] = res["value"] * (p.end - p.start).days
    return res.reset_index(drop=True)


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
    (remaining quota), ``quota``, ``booked``, ``open_opportunities``, ``n_missing_amount``.

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
    bk = _sum_by(booked, by, {"booked": booked["value"].fillna(0.0)})
    quota = quota_for_period(quotas, p, by=by or ["owner"])
    if not by:
        quota = pd.DataFrame({"quota": [quota["quota"].sum()]})
        res = pd.concat([pipe, bk, quota], axis=1)
    else:
        res = quota.merge(pipe, on=by, how="outer").merge(bk, on=by, how="outer")
    res = res.fillna({"numerator": 0.0, "open_opportunities": 0, "n_missing_amount": 0, "booked": 0.0, "quota": 0.0})
    res["denominator"] = (res["quota"] - res["booked"]).clip(lower=0.0)
    res["remaining_quota"] = res["denominator"]
    res = _known_amounts(res, "open_opportunities", value="numerator")
    res = ratio_frame(res, "numerator", "denominator", what=f"pipeline_coverage {p} at {t.date()}", by=by)
    return res.reset_index(drop=True)


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


# =============================================================================== catalogue


@register("pipeline_coverage", sections={"sales": 3}, label="Pipeline coverage (next period)", unit="multiple", good="up",
          family="pipeline",
          formula="open pipeline at the period end closing in the next period ÷ max(next period's quota − "
                  "its bookings so far, 0); new business + expansion",
          tables=("opportunities", "quotas"))
def _kpi_pipeline_coverage(data, period: Period, *, by, policy):
    kw = _kw(data, by, policy, BOOKING_TYPES)
    kw.pop("customers")
    return pipeline_coverage(data.opportunities, data.quotas, period.next(), as_of=period.end, **kw)


@register("bookings_by_type", aggregation="sum", label="Bookings by type", unit="currency", good="up", family="pipeline",
          dims=("type",), groupable=False,
          formula="Σ amount of deals won in the period, per opportunity type",
          tables=("opportunities",))
def _kpi_bookings_by_type(data, period: Period, *, by, policy):
    kw = _kw(data, ["type"] if "type" in data.opportunities.columns else [], policy, None)  # noqa
    return bookings(data.opportunities, period, types=None, **kw)

