"""Marketing funnel of the synthetic company: leads with their MQL, SQL, trial and conversion dates.

Every sales-led new-business opportunity (most inbound and event ones, fewer outbound) comes from
a lead; self-serve customers come from a trial; about nine leads per customer never convert. Dirt
on purpose: a few leads lost their channel and campaign in a CRM migration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import to_dates
from .constants import CAMPAIGNS, CHANNELS, GROWTH, OFF
from .state import SampleState

__all__ = ["Leads", "draw_leads", "lead_frame"]


@dataclass(frozen=True)
class Leads:
    """Lead rows ``(created, channel, campaign, mql, sql, opp_index, c, trial, converted)``."""

    rows: list
    n_blank_channel: int


def draw_leads(state: SampleState) -> Leads:
    """Leads behind new-business opportunities and self-serve sign-ups, plus leads that never converted."""
    rng, cal, cu, bl = state.rng, state.cal, state.customers, state.billing
    W = cal.W
    leads: list[tuple] = []  # (created, channel, campaign, mql, sql, opp_index, c, trial, converted)
    first_start = {}
    for c, day, m, react, total in bl.starts:
        if not react:
            first_start[c] = day
    for i, o in enumerate(state.crm.opps):
        if o["type"] != "new_business":
            continue
        if rng.random() >= {"inbound": 1.0, "event": 1.0, "partner": 0.85, "outbound": 0.5}[o["source"]]:
            continue
        c = o["c"]
        if c >= 0:
            ch = CHANNELS[int(cu.channel[c])]
        else:
            ch = {"inbound": ("organic" if rng.random() < 0.45 else "paid_search"), "event": "outbound",
                  "partner": "partner", "outbound": "outbound"}[o["source"]]
        camp = "field-events" if o["source"] == "event" else str(rng.choice(CAMPAIGNS[ch][:2] if ch == "outbound" else CAMPAIGNS[ch]))
        oc = int(o["created"])
        created = oc - int(rng.integers(3, 41))
        mql = created + int((oc - created) * rng.uniform(0.1, 0.5))
        sql = mql + int((oc - mql) * rng.uniform(0.3, 1.0))
        trial = None
        if o["sg"] == 0 and o["source"] == "inbound" and rng.random() < 0.4:
            trial = created + int(rng.integers(0, 4))
        converted = first_start.get(c) if c >= 0 else None
        leads.append((created, ch, camp, mql, sql, i, c if c >= 0 else None, trial, converted))
    for c in np.flatnonzero(cu.self_serve):
        c = int(c)
        start = int(cu.start_day[c])
        created = start - int(rng.integers(14, 36))
        trial = created + int(rng.integers(0, 4))
        ch = CHANNELS[int(cu.channel[c])]
        leads.append((created, ch, str(rng.choice(CAMPAIGNS[ch])), trial + int(rng.integers(1, 6)), None,
                      None, c, trial, start))
    # leads that never converted
    n_rest = max(0, int(round(9.0 * state.n)) - len(leads))
    T = cal.T
    w = np.exp(GROWTH * np.arange(T))
    month = rng.choice(T, size=n_rest, p=w / w.sum())
    chs = rng.choice(4, size=n_rest, p=(0.33, 0.37, 0.08, 0.22))
    for m, chi in zip(month, chs):
        ch = CHANNELS[int(chi)]
        created = cal.cal_ms[int(m) + OFF] + int(rng.integers(0, cal.dim[int(m) + OFF]))
        mql = created + int(rng.integers(0, 21)) if rng.random() < 0.28 else None
        sql = mql + int(rng.integers(2, 31)) if (mql is not None and rng.random() < 0.18) else None
        trial = created + int(rng.integers(0, 6)) if (chi <= 1 and rng.random() < 0.12) else None
        mql = mql if mql is not None and mql < W else None
        sql = sql if sql is not None and mql is not None and sql < W else None
        trial = trial if trial is not None and trial < W else None
        leads.append((created, ch, str(rng.choice(CAMPAIGNS[ch])), mql, sql, None, None, trial, None))
    # dirt: a few leads lost their channel (and campaign) in a CRM migration
    blank = set(rng.choice(len(leads), size=max(1, len(leads) // 200), replace=False).tolist())
    leads = [(l[0], None, None) + l[3:] if j in blank else l for j, l in enumerate(leads)]
    order = sorted(range(len(leads)), key=lambda j: (leads[j][0], j))
    return Leads(rows=[leads[j] for j in order], n_blank_channel=len(blank))


def lead_frame(state: SampleState) -> pd.DataFrame:
    """The ``leads`` table."""
    lr, ids = state.leads.rows, state.customers.ids
    oid = [f"OPP-{i + 1:06d}" for i in range(len(state.crm.opps))]
    return pd.DataFrame({
        "lead_id": [f"LEAD-{i + 1:06d}" for i in range(len(lr))],
        "created_at": to_dates([r[0] for r in lr]),
        "channel": [r[1] for r in lr], "campaign": [r[2] for r in lr],
        "mql_at": to_dates([r[3] for r in lr]), "sql_at": to_dates([r[4] for r in lr]),
        "opportunity_id": [oid[r[5]] if r[5] is not None else None for r in lr],
        "customer_id": [ids[r[6]] if r[6] is not None else None for r in lr],
        "trial_started_at": to_dates([r[7] for r in lr]),
        "converted_at": to_dates([r[8] for r in lr]),
    })
