"""Sales plans of the synthetic company: quotas per rep and quarter, and submitted forecasts.

Quotas follow each team's bookings trend (a log-linear fit) with a 5-25% stretch; reps submit a
commit and a best case in week 1, mid-quarter and in the last month, noisier early in the
quarter and biased low (commit) or high (best case) around the rep's actual bookings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import to_dates
from .constants import OFF, TEAMS
from .crm import opportunity_state
from .state import SampleState

__all__ = ["SalesPlans", "draw_sales_plans", "quota_frame", "forecast_frame"]


@dataclass(frozen=True)
class SalesPlans:
    """Current opportunity state, bookings per rep and quarter, quota and forecast rows."""

    opp_state: pd.DataFrame  # crm.opportunity_state
    bookings_q: np.ndarray  # (rep, quarter) won new business + expansion in USD
    quota_rows: list  # (owner, period, amount, team)
    fc_rows: list  # (day, period, amount, owner, team, category)


def draw_sales_plans(state: SampleState) -> SalesPlans:
    """Quotas for the window's quarters and two more; forecast submissions for the window's quarters."""
    rng, cal, fx, team = state.rng, state.cal, state.fx, state.crm.team
    W = cal.W
    quarters = cal.quarters(cal.q_first, cal.q_last + 2)
    n_rep = len(team.names)
    nq = len(quarters)
    # actual bookings (won new business + expansion, USD) per rep and quarter
    opp_state = opportunity_state(state.crm)
    book = np.zeros((n_rep, nq))
    won = opp_state[(opp_state["is_won"]) & (opp_state["type"] != "renewal")]
    for o in won.itertuples():
        m = cal.month_of(int(o.close_date))
        qi = next((j for j, (_, a, b) in enumerate(quarters) if a <= m < b), None)
        if qi is not None and not np.isnan(o.amount):
            book[o.rep, qi] += o.amount * fx.rate(o.currency, m)
    n_actual = cal.q_last - cal.q_first + 1
    rows = []
    for t, reps in enumerate(team.ids):
        team_book = book[reps, :n_actual].sum(axis=0)
        trend = _loglinear(team_book, nq)
        for j, (label, a, b) in enumerate(quarters):
            for r in reps:
                quota = trend[j] / len(reps) * rng.uniform(1.05, 1.25)
                rows.append((team.names[r], label, round(quota, -3), TEAMS[t]))
    subs = []
    for j, (label, a, b) in enumerate(quarters[:n_actual]):
        qs = cal.cal_ms[a + OFF]
        for r in range(n_rep):
            actual = book[r, j]
            owner, team_name = team.names[r], TEAMS[team.team[r]]
            for offset, sd in ((6, 0.30), (45, 0.20), (70, 0.12)):
                when = qs + offset
                if when >= W:
                    continue
                commit = actual * math.exp(rng.normal(-0.12, sd))
                best = actual * math.exp(rng.normal(0.15, sd))
                best = max(best, commit)
                subs.append((when, label, round(commit, 2), owner, team_name, "commit"))
                subs.append((when, label, round(best, 2), owner, team_name, "best_case"))
    return SalesPlans(opp_state=opp_state, bookings_q=book, quota_rows=rows, fc_rows=subs)


def _loglinear(values: np.ndarray, n_out: int) -> np.ndarray:
    """Exponential trend fitted on the positive values (index = quarter), evaluated at 0..n_out-1."""
    values = np.asarray(values, dtype=float)
    x = np.arange(len(values))
    ok = ~np.isnan(values) & (values > 0)
    xs = np.arange(n_out)
    if ok.sum() >= 2:
        slope, intercept = np.polyfit(x[ok], np.log(values[ok]), 1)
        return np.exp(intercept + slope * xs)
    level = float(values[ok][-1]) if ok.any() else 0.0
    return np.full(n_out, level)


def quota_frame(state: SampleState) -> pd.DataFrame:
    """The ``quotas`` table."""
    return pd.DataFrame(state.plans.quota_rows, columns=["owner", "period", "amount", "team"])


def forecast_frame(state: SampleState) -> pd.DataFrame:
    """The ``forecast_submissions`` table."""
    fcs = pd.DataFrame(state.plans.fc_rows,
                       columns=["submitted_at", "period", "amount", "owner", "team", "category"])
    fcs["submitted_at"] = to_dates(fcs["submitted_at"])
    return fcs[["submitted_at", "period", "amount", "owner", "team", "category"]]
