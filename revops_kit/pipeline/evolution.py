"""Pipeline evolution between two dates: a waterfall (starting, created, reopened, increased,
decreased, pulled in, slipped out, won, lost, ending) that adds up exactly in integer cents."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import as_list
from ..errors import RevOpsError
from ..periods import as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ..stages import LOST, OPEN, WON
from ..timeline import cached_timeline, state_at
from ._frames import _groups, _known_amounts, _static

__all__ = ["EVOLUTION_STEPS", "UNOBSERVED_WITHOUT_HISTORY", "pipeline_evolution", "pipeline_evolution_detail"]


#: Rows of :func:`pipeline_evolution`, in waterfall order.
EVOLUTION_STEPS = ("starting", "created", "reopened", "increased", "decreased", "pulled_in",
                   "slipped_out", "won", "lost", "ending")
_MOVES = EVOLUTION_STEPS[1:-1]
#: Steps that only the opportunity history shows (without it they are unknown, not zero).
UNOBSERVED_WITHOUT_HISTORY = ("reopened", "increased", "decreased", "pulled_in", "slipped_out")


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
    seq["_known"] = seq["amount"].notna().to_numpy()
    g = seq.groupby("opportunity_id", sort=False)
    seq["_p_exists"] = g.cumcount() > 0
    seq["_p_in"] = g["_in"].shift(1, fill_value=False).astype(bool)
    seq["_p_v"] = g["_v"].shift(1, fill_value=0).astype("int64")
    seq["_p_amt"] = g["_amt"].shift(1, fill_value=0).astype("int64")
    seq["_p_open"] = (g["outcome"].shift(1) == OPEN).astype(bool)
    seq["_p_known"] = g["_known"].shift(1, fill_value=False).astype(bool)
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
    # unknown is not zero: whether the amount a movement is valued at is known (an amount that
    # becomes known while the deal stays in the pipeline is a known increase)
    q_known, p_known = tr["_known"].to_numpy(dtype=bool), tr["_p_known"].to_numpy(dtype=bool)
    exit_known = np.where(q_out == WON, q_known | p_known, (q_amt > 0) | p_known)
    none = np.zeros(len(tr), dtype=bool)
    stays = p_in & q_in
    closes = p_in & q_closed
    slips = p_in & ~q_closed & ~q_in
    delta = np.where(stays, q_v - p_v, 0) + np.where(closes, exit_x - p_v, 0) + np.where(slips, q_amt - p_v, 0)
    direct = ~p_in & q_closed & q_win & (~p_exists | p_open)  # enters and closes in one step
    closing = closes | direct
    ids = tr["opportunity_id"].to_numpy()
    rows = []
    for step, mask, cents, known in (
        ("created", ~p_exists & q_in, q_v, q_known),
        ("created", direct & ~p_exists, exit_x, exit_known),
        ("reopened", p_exists & ~p_open & q_in, q_v, q_known),
        ("increased", delta > 0, delta, ~none),
        ("decreased", delta < 0, delta, ~none),
        ("pulled_in", p_exists & p_open & ~p_in & q_in, q_v, q_known),
        ("pulled_in", direct & p_exists, exit_x, exit_known),
        ("slipped_out", slips, -q_amt, q_known),
        ("won", closing & (q_out == WON), -exit_x, exit_known),
        ("lost", closing & (q_out == LOST), -exit_x, exit_known),
    ):
        if mask.any():
            rows.append(pd.DataFrame({"opportunity_id": ids[mask], "step": step,
                                      "cents": np.asarray(cents, dtype="int64")[mask],
                                      "missing_amount": ~known[mask]}))
    flags = []
    for st, step in ((s0, "starting"), (s1, "ending")):
        is_open = (st["outcome"] == OPEN).to_numpy()
        pipe = is_open & in_window(st["close_date"])
        rows.append(pd.DataFrame({"opportunity_id": st["opportunity_id"].to_numpy()[pipe], "step": step,
                                  "cents": _cents(st["amount"])[pipe],
                                  "missing_amount": st["amount"].isna().to_numpy()[pipe]}))
        flags.append(pd.DataFrame({
            "opportunity_id": st["opportunity_id"].to_numpy(), "step": step,
            "missing_amount": pipe & st["amount"].isna().to_numpy(),
            "missing_close_date": is_open & st["close_date"].isna().to_numpy()}))
    detail = pd.concat(rows, ignore_index=True)
    detail["cents"] = detail["cents"].astype("int64")
    detail["missing_amount"] = detail["missing_amount"].astype(bool)
    detail["amount"] = (detail["cents"] / 100.0).where(~detail["missing_amount"])
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

    One row per opportunity and step with ``cents`` (signed integer cents), ``amount`` and
    ``missing_amount``; ``starting`` and ``ending`` rows hold the value of each deal in the pipeline
    at ``start`` and ``end``. Summing ``cents`` per step gives the waterfall. A movement valued at an
    amount that is unknown (``missing_amount``) has ``amount`` NaN and ``cents`` 0 (cents are the
    known part).
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
    as ``increased``).

    Unknown is not zero: a movement valued at an amount nobody knows (a deal created without an
    amount, won or lost with no amount before or at the close) is counted in its step's
    ``n_missing_amount``; the step's ``value`` is the sum of the known movements, ``known_share``
    the share of the step's movements whose amount is known, and ``value`` is NaN when the step
    has movements and none has a known amount. On ``starting`` and ``ending``, the movements are
    the open deals in the pipeline. ``cents`` are the known part (0 for an unknown movement), so
    the identity holds in cents whatever is unknown. An amount that becomes known while the deal
    stays in the pipeline shows as ``increased`` (the known pipeline grew by it).
    ``n_missing_close_date`` counts open deals without a close date.

    Without ``history`` (no ``opportunity_history`` table) each deal keeps its current amount and
    close date throughout: ``reopened``, ``increased``, ``decreased``, ``pulled_in`` and
    ``slipped_out`` cannot be seen, so their ``value`` and ``known_share`` are NaN (cents 0) and
    ``attrs["unobserved_steps"]`` lists them; ``starting`` uses today's amounts and close dates.

    Returns one row per step (and group) with ``step``, ``value`` (signed: decreases are
    negative; ``starting``/``ending`` are balances), ``cents`` (int64), ``opportunities``,
    ``n_missing_amount``, ``known_share``, ``n_missing_close_date``.
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
                                               opportunities=("opportunity_id", "nunique"),
                                               movements=("cents", "size"),
                                               n_missing_amount=("missing_amount", "sum")).reset_index()
    fl = flags.groupby(keys, sort=False)[["missing_close_date"]].sum().reset_index() \
        .rename(columns={"missing_close_date": "n_missing_close_date"})
    out = grid.merge(agg, on=keys, how="left").merge(fl, on=keys, how="left")
    for c in ("cents", "opportunities", "movements", "n_missing_amount", "n_missing_close_date"):
        out[c] = out[c].fillna(0).astype("int64")
    out["value"] = out["cents"] / 100.0
    out = _known_amounts(out, "movements")
    # the identity, per group (it holds by construction; a failure here is a bug)
    for _, grp in (out.groupby(by, sort=False) if by else [(None, out)]):
        c = dict(zip(grp["step"], grp["cents"]))
        if c["starting"] + sum(c[s] for s in _MOVES) != c["ending"]:  # pragma: no cover
            raise RevOpsError("pipeline_evolution: the waterfall does not add up; please report this bug")
    out = out[by + ["step", "value", "cents", "opportunities", "n_missing_amount", "known_share",
                    "n_missing_close_date"]].reset_index(drop=True)
    out.attrs["unobserved_steps"] = []
    if history is None or not len(history):
        # Only the current state is known: each deal is taken with today's amount and close date
        # throughout, so re-opens, amount changes and close-date moves cannot be seen. Those steps
        # are unknown, not zero (their cents stay 0: the known part, and the identity still holds).
        unseen = out["step"].isin(UNOBSERVED_WITHOUT_HISTORY)
        out.loc[unseen, ["value", "known_share"]] = np.nan
        out.attrs["unobserved_steps"] = list(UNOBSERVED_WITHOUT_HISTORY)
    return out
