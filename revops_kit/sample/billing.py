"""Billing of the synthetic company: subscriptions month by month, and the invoices they raise.

Monthly contracts can churn at any billing date (SMB most); annual contracts (Mid-Market,
Enterprise, ~40% of sales-led SMB) churn almost only at ``committed_end_date``; ~5-10% of
churners come back after 2-12 months (reactivation). Low health raises the churn hazard; high
health drives seat expansion and add-on purchases. Invoices are paid later when health is low.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .calendar import to_dates
from .constants import (
    BETA, MONTHLY_CHURN_A, OFF, PLANS, RENEWAL_CHURN_A, SEAT_CON_A, SEAT_EXP_A, sigmoid,
)
from .state import SampleState

__all__ = ["Billing", "simulate_subscriptions", "draw_invoices", "subscription_frame", "invoice_frame"]


@dataclass
class Billing:
    """Event log of the subscription simulation (customer numbers ``c``, day numbers, window months)."""

    first_total: np.ndarray  # MRR of each customer's first start
    subs: list = field(default_factory=list)  # (c, product, start, end, mrr, plan, seats, committed_end)
    months: list = field(default_factory=list)  # (c, m, lo, hi, core_seats, has_addon, health, total_mrr)
    invoices: list = field(default_factory=list)  # (c, issued, amount, kind, service_start, service_end, m)
    expansions: list = field(default_factory=list)  # (c, day, delta_mrr, product, m)
    renewals: list = field(default_factory=list)  # (c, day, renewed, old_total, new_total, m)
    starts: list = field(default_factory=list)  # (c, day, m, reactivation, total)
    churns: list = field(default_factory=list)  # (c, day, m, total)
    end_state: list = field(default_factory=list)  # (c, annual, term_end_day, total, health)


def simulate_subscriptions(state: SampleState) -> Billing:
    """Simulate every customer's product lines month by month from its first start to the window end."""
    log = Billing(first_total=np.zeros(state.n))
    for c in range(state.n):
        _simulate_customer(state, c, log)
    return log


def _line_mrr(line: list) -> float:
    return round(line[1] * line[3], 2)


def _total(lines: dict) -> float:
    return round(sum(_line_mrr(v) for v in lines.values()), 2)


def _close(subs: list, c: int, lines: dict, prod: str, day: int, committed) -> None:
    """End product line ``prod`` of customer ``c`` on ``day`` and record it as a subscription row."""
    ln = lines.pop(prod)
    subs.append((c, prod, ln[0], day, _line_mrr(ln), ln[2], ln[1], committed))


def _simulate_customer(state: SampleState, c: int, log: Billing) -> None:  # noqa: C901 (one state machine)
    """Start, renew, expand, contract, churn and reactivate customer ``c``; append to ``log``."""
    rng, cal, cu = state.rng, state.cal, state.customers
    T = cal.T
    sg = int(cu.seg[c])
    d = int(cu.bday[c])
    m0 = int(cu.m_start[c])
    Hc = cu.health[c]
    U = rng.random((T, 16))
    annual = bool(cu.annual[c])
    plan = PLANS[int(cu.plan0[c])]
    lines: dict[str, list] = {}  # product -> [start_day, seats, plan, unit]
    active, next_start, n_starts, boost, term_end = False, m0, 0, 0.0, -1

    for m in range(m0, T):
        u = U[m]
        day = cal.bill(m, d)
        ms, me = cal.cal_ms[m + OFF], cal.cal_ms[m + OFF + 1]
        h = float(Hc[m]) + boost
        hp = float(Hc[m - 1] if m > m0 else Hc[m]) + boost
        if not active:
            if m != next_start:
                continue
            reactivation = n_starts > 0
            if reactivation:
                boost = 0.6
                h, hp = h + boost, hp + boost
                total = float(cu.mrr0[c]) * (0.5 + 0.6 * u[2])
                annual = sg > 0
                has_addon = False
            else:
                total = float(cu.mrr0[c])
                has_addon = u[13] < (0.05, 0.15, 0.30)[sg]
            unit = cu.unit(c, plan)
            seats = max(1, round(total * (0.8 if has_addon else 1.0) / unit))
            lines = {"Core": [day, seats, plan, unit]}
            if has_addon:
                lines["Analytics"] = [day, max(1, round(seats * (0.3 + 0.4 * u[14]))), "Add-on",
                                      cu.unit(c, "Add-on")]
            total = _total(lines)
            if not reactivation:
                log.first_total[c] = total
            active, n_starts = True, n_starts + 1
            term_end = m + 12 if annual else -1
            log.starts.append((c, day, m, reactivation, total))
            if annual:
                log.invoices.append((c, day, 12 * total, "recurring", day, cal.bill(m + 12, d), m))
            else:
                log.invoices.append((c, day, total, "recurring", day, cal.bill(m + 1, d), m))
            if not reactivation and sg > 0 and u[15] < 0.85:
                amt = round(float(rng.uniform(1500, 5000) if sg == 1 else rng.uniform(6000, 25000)), -1)
                log.invoices.append((c, day, amt, "services", day, day + int(rng.integers(30, 91)), m))
            log.months.append((c, m, day, me, lines["Core"][1], "Analytics" in lines, h, total))
            continue

        # ---- active since the previous billing date: decide churn / renewal / changes
        before = _total(lines)
        renewal = annual and m == term_end
        if renewal:
            h_avg = float(np.mean(Hc[max(m0, m - 3):m])) + boost
            churn = u[0] < sigmoid(RENEWAL_CHURN_A[sg] - BETA * h_avg)
        elif annual:
            churn = u[0] < 0.0015 * math.exp(-1.2 * hp)
        else:
            tenure_adj = 0.4 if m - m0 <= 3 else 0.0
            churn = u[0] < sigmoid(MONTHLY_CHURN_A[sg] + tenure_adj - BETA * hp)
        if churn:
            committed = cal.bill(term_end, d) if annual else None
            if renewal:
                log.renewals.append((c, day, False, before, 0.0, m))
            for prod in list(lines):
                _close(log.subs, c, lines, prod, day, committed)
            log.churns.append((c, day, m, before))
            if day > ms:
                log.months.append((c, m, ms, day, 0, False, h, before))
            active = False
            if n_starts == 1 and u[10] < 0.13 * math.exp(0.3 * hp):
                next_start = m + 2 + int(u[11] * 11)
            continue

        core = lines["Core"]
        if renewal:
            old_term_end = day
            term_end = m + 12
            new_lines = {p: list(v) for p, v in lines.items()}
            if u[8] < 0.35:
                uplift = 1.0 + 0.03 + 0.05 * u[9]
                for v in new_lines.values():
                    v[3] = round(v[3] * uplift, 2)
            r = u[1]
            p_exp = sigmoid(-1.4 + 0.8 * h)
            p_con = sigmoid(-1.9 - 1.0 * h)
            p_rem = 0.08 * math.exp(-h) if "Analytics" in lines else 0.0
            if r < p_exp:
                nc = new_lines["Core"]
                nc[1] = nc[1] + max(1, round(nc[1] * (0.08 + 0.27 * u[2])))
            elif r < p_exp + p_con:
                nc = new_lines["Core"]
                nc[1] = max(1, nc[1] - max(1, round(nc[1] * (0.1 + 0.25 * u[6]))))
            elif r < p_exp + p_con + p_rem:
                new_lines.pop("Analytics")
            for prod in list(lines):
                _close(log.subs, c, lines, prod, day, old_term_end)
            for prod, v in new_lines.items():
                v[0] = day
                lines[prod] = v
            after = _total(lines)
            log.renewals.append((c, day, True, before, after, m))
            log.invoices.append((c, day, 12 * after, "recurring", day, cal.bill(m + 12, d), m))
        else:
            committed = cal.bill(term_end, d) if annual else None
            season = cal.season_of(m)
            p_seat = sigmoid(SEAT_EXP_A[sg] + 0.8 * h) * season
            p_add = 0.0 if "Analytics" in lines else sigmoid(-5.3 + 0.3 * sg + 0.6 * h) * season
            p_up = 0.003 * math.exp(0.5 * h) if core[2] != "Scale" else 0.0
            p_con = 0.0 if annual else sigmoid(SEAT_CON_A[sg] - 1.0 * h)
            p_rem = 0.0 if (annual or "Analytics" not in lines) else 0.004 * math.exp(-h)
            r = u[1]
            product = None
            if r < p_seat:
                add = max(1, round(core[1] * (0.08 + 0.27 * u[2])))
                _close(log.subs, c, lines, "Core", day, committed)
                lines["Core"] = [day, core[1] + add, core[2], core[3]]
                product = "Core"
            elif r < p_seat + p_add:
                lines["Analytics"] = [day, max(1, round(core[1] * (0.3 + 0.4 * u[14]))), "Add-on",
                                      cu.unit(c, "Add-on")]
                product = "Analytics"
            elif r < p_seat + p_add + p_up:
                new_plan = PLANS[PLANS.index(core[2]) + 1]
                _close(log.subs, c, lines, "Core", day, committed)
                lines["Core"] = [day, core[1], new_plan, cu.unit(c, new_plan)]
                plan = new_plan
                product = "Core"
            elif r < p_seat + p_add + p_up + p_con:
                if core[1] > 1:
                    cut = max(1, round(core[1] * (0.1 + 0.25 * u[6])))
                    _close(log.subs, c, lines, "Core", day, committed)
                    lines["Core"] = [day, max(1, core[1] - cut), core[2], core[3]]
            elif r < p_seat + p_add + p_up + p_con + p_rem:
                _close(log.subs, c, lines, "Analytics", day, committed)
            after = _total(lines)
            delta = round(after - before, 2)
            if product is not None and delta > 0:
                log.expansions.append((c, day, delta, product, m))
            if annual:
                if delta > 0:
                    log.invoices.append((c, day, delta * (term_end - m), "recurring", day,
                                     cal.bill(term_end, d), m))
            else:
                log.invoices.append((c, day, after, "recurring", day, cal.bill(m + 1, d), m))
            if sg > 0 and u[12] < 0.012:
                log.invoices.append((c, day, round(float(rng.uniform(500, 3000)), -1), "one_time",
                                 day, day + 1, m))
        log.months.append((c, m, ms, me, lines["Core"][1], "Analytics" in lines, h, _total(lines)))

    if active:
        committed = cal.bill(term_end, d) if annual else None
        total = _total(lines)
        for prod in list(lines):
            ln = lines.pop(prod)
            log.subs.append((c, prod, ln[0], None, _line_mrr(ln), ln[2], ln[1], committed))
        log.end_state.append((c, annual, cal.bill(term_end, d) if annual else None, total,
                          float(Hc[T - 1]) + boost))


def draw_invoices(state: SampleState) -> pd.DataFrame:
    """Payment dates and cost of revenue of every invoice the simulation raised (day numbers)."""
    rng, W, cu = state.rng, state.cal.W, state.customers
    inv = state.billing.invoices
    n = len(inv)
    c = np.array([r[0] for r in inv], dtype=np.int64)
    issued = np.array([r[1] for r in inv], dtype=np.int64)
    amount = np.round(np.array([r[2] for r in inv], dtype=float), 2)
    kind = np.array([r[3] for r in inv], dtype=object)
    s0 = np.array([r[4] for r in inv], dtype=np.int64)
    s1 = np.array([r[5] for r in inv], dtype=np.int64)
    m = np.array([r[6] for r in inv], dtype=np.int64)
    h = cu.health[c, np.minimum(m, state.cal.T - 1)]
    seg = cu.seg[c]
    delay = np.round(np.exp(rng.normal(2.9 - 0.25 * h + 0.2 * seg, 0.45)))
    late = rng.random(n) < 0.04 * np.exp(-0.6 * h)
    delay = np.where(late, rng.integers(46, 150, n), np.minimum(delay, 45))
    never = rng.random(n) < 0.006 * np.exp(-0.8 * h)
    paid = issued + delay
    paid = np.where(never | (paid >= W), np.nan, paid)
    cor_share = np.where(kind == "recurring", rng.uniform(0.15, 0.26, n),
                         np.where(kind == "services", rng.uniform(0.24, 0.30, n), rng.uniform(0.18, 0.28, n)))
    order = np.lexsort((np.arange(n), c, issued))
    return pd.DataFrame({
        "invoice_id": [f"INV-{i + 1:06d}" for i in range(n)], "c": c[order], "issued": issued[order],
        "amount": amount[order], "kind": kind[order], "s0": s0[order], "s1": s1[order],
        "paid": paid[order], "cor": np.round(amount * cor_share, 2)[order]})


def subscription_frame(state: SampleState) -> pd.DataFrame:
    """The ``subscriptions`` table."""
    ids, cur = state.customers.ids, state.customers.cur
    subs = sorted(state.billing.subs, key=lambda r: (r[0], r[2], 0 if r[1] == "Core" else 1))
    return pd.DataFrame({
        "subscription_id": [f"SUB-{i + 1:06d}" for i in range(len(subs))],
        "customer_id": [ids[r[0]] for r in subs],
        "start_date": to_dates([r[2] for r in subs]),
        "end_date": to_dates([r[3] for r in subs]),
        "mrr": np.round([float(r[4]) for r in subs], 2),
        "currency": [cur[r[0]] for r in subs],
        "product": [r[1] for r in subs],
        "plan": [r[5] for r in subs],
        "quantity": np.array([r[6] for r in subs], dtype=float),
        "committed_end_date": to_dates([r[7] for r in subs]),
    })


def invoice_frame(state: SampleState) -> pd.DataFrame:
    """The ``invoices`` table (due 30 days after issue)."""
    ids, cur = state.customers.ids, state.customers.cur
    inv = state.invoices
    return pd.DataFrame({
        "invoice_id": inv["invoice_id"], "customer_id": [ids[c] for c in inv["c"]],
        "issued_at": to_dates(inv["issued"]), "amount": inv["amount"].round(2),
        "currency": [cur[c] for c in inv["c"]], "due_at": to_dates(inv["issued"] + 30),
        "paid_at": to_dates(inv["paid"]), "kind": inv["kind"].astype(str),
        "cost_of_revenue": inv["cor"], "service_start": to_dates(inv["s0"]),
        "service_end": to_dates(inv["s1"]),
    })
