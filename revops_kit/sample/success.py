"""Customer success side of the synthetic company: product usage, support tickets and NPS.

Low health lowers product usage (``active_users / licensed_seats`` and ``feature_events``),
raises the number and the priority of support tickets, and lowers CSAT and NPS scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import to_dates
from .constants import OFF
from .state import SampleState

__all__ = ["Success", "draw_success", "success_frames"]


@dataclass(frozen=True)
class Success:
    """Usage, tickets and NPS with customer numbers and day numbers; ``cm_arr`` holds the
    customer-month facts (``c, m, lo, hi, h, total, seg`` arrays) used by costs and targets."""

    usage: pd.DataFrame
    cm_arr: dict
    tickets: pd.DataFrame
    nps: pd.DataFrame


def draw_success(state: SampleState) -> Success:
    """Usage of every customer-month, support tickets and NPS answers, all driven by health."""
    rng, cal, bl, cu = state.rng, state.cal, state.billing, state.customers
    W = cal.W
    cm = bl.months
    c = np.array([r[0] for r in cm], dtype=np.int64)
    m = np.array([r[1] for r in cm], dtype=np.int64)
    lo = np.array([r[2] for r in cm], dtype=np.int64)
    hi = np.array([r[3] for r in cm], dtype=np.int64)
    seats = np.array([r[4] for r in cm], dtype=float)
    addon = np.array([r[5] for r in cm], dtype=bool)
    h = np.array([r[6] for r in cm], dtype=float)
    total = np.array([r[7] for r in cm], dtype=float)
    seg = cu.seg[c]
    # the churn month (seats 0) keeps the previous month's seats for usage
    keep = seats > 0
    idx = np.flatnonzero(~keep)
    prev_seats = seats.copy()
    for j in idx:
        prev_seats[j] = seats[j - 1] if j > 0 and c[j - 1] == c[j] else 1.0
    seats = prev_seats
    n = len(cm)
    ratio = 1.0 / (1.0 + np.exp(-(0.9 + 1.0 * h + rng.normal(0, 0.2, n))))
    over = rng.random(n) < 0.02
    ratio = np.where(over, rng.uniform(1.0, 1.12, n), ratio)
    active = np.round(seats * ratio)
    events = np.round(active * np.exp(3.2 + 0.4 * h + 0.3 * addon + rng.normal(0, 0.3, n)))
    usage = pd.DataFrame({"c": c, "m": m, "active_users": active, "licensed_seats": seats,
                               "feature_events": events})
    cm_arr = dict(c=c, m=m, lo=lo, hi=hi, h=h, total=total, seg=seg)

    # support tickets
    lam = np.array([0.22, 0.6, 1.4])[seg] * (seats / np.array([15.0, 50.0, 230.0])[seg]) ** 0.3
    lam = lam * np.exp(-1.0 * h) * (hi - lo) / 30.0
    k = rng.poisson(lam)
    rep = np.repeat(np.arange(n), k)
    nt = len(rep)
    opened = lo[rep] + np.floor(rng.random(nt) * (hi[rep] - lo[rep])).astype(np.int64)
    th = h[rep]
    logits = np.stack([np.full(nt, 0.5), np.full(nt, 1.0), -0.6 - 0.6 * th, -1.9 - 0.9 * th], axis=1)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    pri = (rng.random(nt)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    pri = np.minimum(pri, 3)
    mean_days = np.array([8.0, 6.0, 4.0, 2.5])[pri]
    days = np.floor(rng.exponential(mean_days))
    days = np.where(rng.random(nt) < 0.03, days + rng.integers(25, 90, nt), np.minimum(days, 20))
    closed = opened + days
    closed = np.where(closed >= W, np.nan, closed)
    answered = (~np.isnan(closed)) & (rng.random(nt) < 0.65)
    csat = np.clip(np.round(3.9 + 0.7 * th - 0.3 * (pri >= 2) + rng.normal(0, 0.7, nt)), 1, 5)
    csat = np.where(answered, csat, np.nan)
    order = np.lexsort((np.arange(nt), opened))
    tickets = pd.DataFrame({
        "ticket_id": [f"TCK-{i + 1:06d}" for i in range(nt)],
        "c": c[rep][order], "opened": opened[order], "closed": closed[order],
        "priority": np.array(["low", "normal", "high", "urgent"])[pri][order], "csat": csat[order]})

    # NPS: a survey in the middle month of every quarter, ~40% of invited contacts answer
    cal_month = np.array(cal.cal_month)[m + OFF]
    first_m = np.full(state.n, 10 ** 6)
    for cc, day, mm, react, tot in bl.starts:
        first_m[cc] = min(first_m[cc], mm)
    survey = np.isin(cal_month, (2, 5, 8, 11)) & (m - first_m[c] >= 2)
    invites = np.where(survey, np.array([1, 2, 4])[seg], 0)
    rep = np.repeat(np.arange(n), invites)
    resp = rng.random(len(rep)) < 0.4
    rep = rep[resp]
    nr = len(rep)
    span = np.minimum(hi[rep] - lo[rep], 21)
    when = lo[rep] + np.floor(rng.random(nr) * np.maximum(span, 1)).astype(np.int64)
    score = np.clip(np.round(rng.normal(7.6 + 1.4 * h[rep], 1.3)), 0, 10).astype(np.int64)
    order = np.lexsort((c[rep], when))
    nps = pd.DataFrame({"c": c[rep][order], "when": when[order], "score": score[order]})
    return Success(usage=usage, cm_arr=cm_arr, tickets=tickets, nps=nps)


def success_frames(state: SampleState) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The ``support_tickets``, ``nps_responses`` and ``product_usage`` tables."""
    ids, cal, su = state.customers.ids, state.cal, state.success
    tk = su.tickets
    support = pd.DataFrame({
        "ticket_id": tk["ticket_id"], "customer_id": [ids[c] for c in tk["c"]],
        "opened_at": to_dates(tk["opened"]), "closed_at": to_dates(tk["closed"]),
        "priority": tk["priority"].astype(str), "csat": tk["csat"].astype(float),
    })
    nps = pd.DataFrame({"customer_id": [ids[c] for c in su.nps["c"]],
                        "responded_at": to_dates(su.nps["when"]),
                        "score": su.nps["score"].astype(np.int64)})
    us = su.usage
    usage = pd.DataFrame({
        "customer_id": [ids[c] for c in us["c"]],
        "month": to_dates([cal.cal_ms[m + OFF] for m in us["m"]]),
        "active_users": us["active_users"].astype(float), "licensed_seats": us["licensed_seats"].astype(float),
        "feature_events": us["feature_events"].astype(float),
    }).sort_values(["customer_id", "month"], kind="mergesort").reset_index(drop=True)
    return support, nps, usage
