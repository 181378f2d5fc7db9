"""CRM of the synthetic company: sales reps, opportunities and their stage history.

New business grows over time and is seasonal (Q4 strongest, Q1 weakest, last month of a quarter
busiest); sales cycles lengthen with segment size; win rates differ by source (partner > inbound
> event > outbound), by segment (Enterprise lowest) and by rep. Dirt on purpose: ~1.5% of won
new-business deals disagree with billing (amount or close date), stale open opportunities (close
date in the past) and a few open ones without amount or close date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .calendar import to_dates
from .constants import (
    BETA, CHANNEL_P, CYCLE_DAYS, LOST, MRR_CLIP, MRR_MEDIAN, MRR_SIGMA, OFF, REGION_P,
    RENEWAL_CHURN_A, REPS, SEG_GIVEN_CHANNEL, SEG_WIN, SOURCE_WIN, STAGE_FC, STAGE_PROB, STAGES,
    TEAMS, WON, sigmoid,
)
from .customers import Customers
from .state import SampleState

__all__ = ["SalesTeam", "Crm", "draw_opportunities", "draw_mrr", "opportunity_state",
           "opportunity_frames"]


@dataclass(frozen=True)
class SalesTeam:
    """The account executives: names, team index per rep, rep numbers per segment and skill."""

    names: list
    team: list
    ids: list  # per segment: array of rep numbers
    skill: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator) -> SalesTeam:
        """The reps of :data:`~.constants.REPS` with a skill factor drawn in 0.8-1.2."""
        ids, k = [], 0
        for team in REPS:
            ids.append(np.arange(k, k + len(team)))
            k += len(team)
        return cls(names=[r for team in REPS for r in team],
                   team=[t for t, team in enumerate(REPS) for _ in team],
                   ids=ids, skill=rng.uniform(0.8, 1.2, size=k))

    def pick(self, rng: np.random.Generator, sg: int, skill_weighted: bool = True) -> int:
        """A rep of segment ``sg``'s team, better reps more often when ``skill_weighted``."""
        reps = self.ids[sg]
        p = self.skill[reps] if skill_weighted else np.ones(len(reps))
        return int(reps[rng.choice(len(reps), p=p / p.sum())])


@dataclass
class Crm:
    """Opportunities (dicts with day numbers, customer number ``c``, rep number) and their history."""

    team: SalesTeam
    ae: np.ndarray  # account executive per customer (-1: self-serve)
    cust_source: list  # lead source per customer
    opps: list
    hist_rows: list = field(default_factory=list)  # (opp_index, day, stage, amount, close, fc, closed, won)
    dirty_amount: set = field(default_factory=set)
    dirty_close: set = field(default_factory=set)
    blank_amount: set = field(default_factory=set)
    blank_close: set = field(default_factory=set)


def draw_mrr(rng: np.random.Generator, sg: int) -> float:
    """MRR of a new deal of segment ``sg`` (log-normal, clipped to the segment's range)."""
    v = math.exp(math.log(MRR_MEDIAN[sg]) + MRR_SIGMA[sg] * rng.standard_normal())
    return round(min(MRR_CLIP[sg][1], max(MRR_CLIP[sg][0], v)), 2)


def _cycle(rng: np.random.Generator, sg: int, scale: float = 1.0) -> int:
    """Sales cycle in days of a segment-``sg`` deal."""
    return max(3, int(round(CYCLE_DAYS[sg] * scale * math.exp(0.35 * rng.standard_normal()))))


def _sales_led(cu: Customers, c: int) -> bool:
    """Sales-led accounts (Mid-Market, Enterprise, annual SMB) get expansion opportunities."""
    return (not cu.self_serve[c]) and (cu.seg[c] > 0 or cu.annual[c])


def _lost_companions(state: SampleState, team: SalesTeam, opps: list, anchor_created: int, sg: int,
                     src: str, rep: int, cur: str, region: int) -> None:
    """Lost new-business deals around a won (or future) one, as many as the win rate implies."""
    rng, W = state.rng, state.cal.W
    w = min(0.75, SEG_WIN[sg] * SOURCE_WIN[src] * team.skill[rep])
    for _ in range(rng.poisson((1 - w) / w)):
        created = int(anchor_created + round(rng.normal(0, 40)))
        if created >= W:
            continue
        amount = 12 * draw_mrr(rng, sg)
        close = created + max(2, int(_cycle(rng, sg) * rng.uniform(0.4, 1.1)))
        if close < state.cal.D0:  # lost before the CRM history we keep
            continue
        opps.append(dict(created=created, close=close, outcome="lost", amount=amount, c=-1,
                         rep=rep, sg=sg, source=src, type="new_business",
                         term=12 if sg > 0 or rng.random() < 0.3 else 1, cur=cur,
                         product="Core", region=region))


def draw_opportunities(state: SampleState) -> Crm:
    """Every opportunity (won new business of sales-led customers, lost companions, future wins,
    expansions, renewals, open pipeline) with its stage history as of the window end."""
    rng, cal, cu, bl = state.rng, state.cal, state.customers, state.billing
    W = cal.W
    team = SalesTeam.draw(rng)
    opps: list[dict] = []
    ae = np.full(state.n, -1)
    src_of_channel = {0: ("inbound", "event"), 1: ("inbound",), 2: ("partner",), 3: ("outbound", "event")}
    cust_source = [None] * state.n


    # won new business for sales-led customers (and their lost companions)
    for c in range(state.n):
        sg = int(cu.seg[c])
        src = src_of_channel[int(cu.channel[c])][0]
        if int(cu.channel[c]) == 0 and rng.random() < 0.2:
            src = "event"
        elif int(cu.channel[c]) == 3 and rng.random() < 0.15:
            src = "event"
        cust_source[c] = src
        if cu.self_serve[c]:
            continue
        rep = team.pick(rng, sg)
        ae[c] = rep
        close = int(cu.close_day[c])
        created = close - _cycle(rng, sg)
        opps.append(dict(created=created, close=close, outcome="won", amount=12 * bl.first_total[c],
                         c=c, rep=rep, sg=sg, source=src, type="new_business",
                         term=12 if cu.annual[c] else 1, cur=cu.cur[c], product="Core",
                         region=int(cu.region[c])))
        _lost_companions(state, team, opps, created, sg, src, rep, cu.cur[c], int(cu.region[c]))

    # future wins (close after the window): open pipeline, no customer yet
    n_sales = int((~cu.self_serve).sum())
    w_in = cal.acq_weight[OFF:OFF + cal.T].sum()
    for m in range(cal.T, cal.T + 7):
        lam = n_sales * cal.acq_weight[m + OFF] / w_in
        for _ in range(rng.poisson(lam)):
            ch = int(rng.choice(4, p=CHANNEL_P))
            sg = int(rng.choice(3, p=SEG_GIVEN_CHANNEL[ch]))
            src = {0: "inbound", 1: "inbound", 2: "partner", 3: "outbound"}[ch]
            region = int(rng.choice(3, p=REGION_P))
            cur = "EUR" if region == 1 and rng.random() < 0.7 else "USD"
            rep = team.pick(rng, sg)
            close = cal.cal_ms[m + OFF] + int(rng.integers(0, cal.dim[m + OFF]))
            created = close - _cycle(rng, sg)
            if created < W:
                opps.append(dict(created=created, close=close, outcome="won", amount=12 * draw_mrr(rng, sg),
                                 c=-1, rep=rep, sg=sg, source=src, type="new_business",
                                 term=12 if sg > 0 else 1, cur=cur, product="Core", region=region))
            _lost_companions(state, team, opps, created, sg, src, rep, cur, region)

    # expansion opportunities (sales-led accounts: Mid-Market, Enterprise, annual SMB)
    for c, day, delta, product, m in bl.expansions:
        if not _sales_led(cu, c):
            continue
        sg = int(cu.seg[c])
        close = day - int(rng.integers(0, 11))
        created = close - _cycle(rng, sg, 0.4)
        base = dict(rep=int(ae[c]), sg=sg, source=cust_source[c], type="expansion",
                    term=12 if cu.annual[c] else 1, cur=cu.cur[c], product=product,
                    region=int(cu.region[c]))
        opps.append(dict(base, created=created, close=close, outcome="won", amount=12 * delta, c=c))
        for _ in range(rng.poisson(0.6)):
            cr = int(created + round(rng.normal(0, 30)))
            if cr >= W:
                continue
            opps.append(dict(base, created=cr, close=cr + _cycle(rng, sg, 0.4), outcome="lost",
                             amount=12 * delta * rng.uniform(0.7, 1.5), c=c))
    # renewals of annual contracts
    for c, day, renewed, old, new, m in bl.renewals:
        sg = int(cu.seg[c])
        base = dict(rep=int(ae[c]), sg=sg, source=cust_source[c], type="renewal", term=12,
                    cur=cu.cur[c], product="Core", region=int(cu.region[c]), c=c)
        created = day - int(rng.integers(60, 121))
        if renewed:
            opps.append(dict(base, created=created, close=day - int(rng.integers(0, 15)), outcome="won",
                             amount=12 * new))
        else:
            opps.append(dict(base, created=created, close=day - int(rng.integers(0, 8)), outcome="lost",
                             amount=12 * old, drop=int(rng.choice([1, 2, 3], p=[0.2, 0.4, 0.4]))))
    # open renewals and open expansions at the end of the window
    for c, annual, term_end, total, h in bl.end_state:
        if cu.self_serve[c]:
            continue
        sg = int(cu.seg[c])
        base = dict(rep=int(ae[c]), sg=sg, source=cust_source[c], cur=cu.cur[c],
                    region=int(cu.region[c]), c=c)
        if annual and term_end is not None:
            created = term_end - int(rng.integers(60, 121))
            if created < W:
                won = rng.random() > sigmoid(RENEWAL_CHURN_A[sg] - BETA * h)
                opps.append(dict(base, created=created, close=term_end, outcome="won" if won else "lost",
                                 amount=12 * total, type="renewal", term=12, product="Core"))
        if _sales_led(cu, c) and rng.random() < 0.06 * math.exp(0.5 * h):
            created = W - 1 - int(rng.integers(0, 60))
            opps.append(dict(base, created=created, close=W + int(rng.integers(5, 150)),
                             outcome="won" if rng.random() < 0.6 else "lost",
                             amount=12 * total * rng.uniform(0.1, 0.3), type="expansion",
                             term=12 if annual else 1, product=str(rng.choice(["Core", "Analytics"]))))

    # stable order: by created date, then generation order
    order = sorted(range(len(opps)), key=lambda i: (opps[i]["created"], i))
    opps = [opps[i] for i in order]
    crm = Crm(team=team, ae=ae, cust_source=cust_source, opps=opps)
    _histories(rng, cal.W, crm)
    return crm


def _histories(rng: np.random.Generator, W: int, crm: Crm) -> None:
    """Stage path, amount changes and close-date slips of every opportunity, as of the window end.

    Adds the dirt (won deals that disagree with billing, open deals without amount or close date)
    to ``crm.opps`` and fills ``crm.hist_rows``.
    """
    rows: list[tuple] = []  # (opp_index, day, stage, amount, close_date, fc, closed, won)
    won_nb = [i for i, o in enumerate(crm.opps) if o["type"] == "new_business" and o["outcome"] == "won"
              and o["c"] >= 0]
    # dirt: won deals that disagree with billing (amount off by >10% or close >30 days early)
    n_dirty = max(2, int(round(0.015 * len(won_nb))))
    dirty = rng.choice(won_nb, size=min(n_dirty, len(won_nb)), replace=False)
    for j, i in enumerate(sorted(dirty)):
        o = crm.opps[i]
        if j % 2 == 0:
            o["amount"] *= float(rng.choice([rng.uniform(1.15, 1.5), rng.uniform(0.55, 0.85)]))
            crm.dirty_amount.add(i)
        else:
            shift = int(rng.integers(35, 76))
            o["close"] -= shift
            o["created"] -= shift
            crm.dirty_close.add(i)
    for o in crm.opps:
        o["amount"] = round(float(o["amount"]), 2)

    open_idx = [i for i, o in enumerate(crm.opps) if o["close"] >= W]
    blank = rng.choice(open_idx, size=min(len(open_idx), 12), replace=False) if open_idx else []
    crm.blank_amount = set(int(i) for i in blank[:6])
    crm.blank_close = set(int(i) for i in blank[6:])

    for i, o in enumerate(crm.opps):
        created, close, amount = int(o["created"]), int(o["close"]), float(o["amount"])
        if o["outcome"] == "won":
            reach = 3
        else:
            reach = o.get("drop", int(rng.choice(4, p=[0.3, 0.3, 0.25, 0.15])))
        span = max(close - created, 1)
        stage_days = sorted(created + int(f * span) for f in rng.uniform(0.05, 0.95, size=reach))
        events = [(created, 0, "stage", 0)]
        events += [(sd, 1, "stage", s + 1) for s, sd in enumerate(stage_days)]
        # amount changes: the first amount was an estimate
        amount0 = amount
        if rng.random() < 0.35:
            amount0 = round(amount * rng.uniform(0.75, 1.3), -2)
            when = stage_days[1] if reach >= 2 else created + int(rng.uniform(0.2, 0.9) * span)
            events.append((min(when, close), 2, "amount", amount))
        # close-date slips: the first close date was optimistic
        est = close
        if rng.random() < 0.45 and span > 10:
            est = created + int(span * rng.uniform(0.45, 0.9))
            slip_day = max(created + 1, est - int(rng.integers(0, 10)))
            recorded = close < W or slip_day >= W or rng.random() < 0.7  # else: stale
            if recorded:
                events.append((slip_day, 3, "close", close))
        events.append((close, 4, "final", None))
        events.sort(key=lambda e: (e[0], e[1]))
        stage, amt, cd = 0, amount0, est
        if i in crm.blank_amount:
            amt = None
        if i in crm.blank_close:
            cd = None
        hist: list[tuple] = []
        for day, _, kind, val in events:
            if day >= W:
                break
            if kind == "stage":
                stage = val
            elif kind == "amount" and amt is not None:
                amt = val
            elif kind == "close" and cd is not None:
                cd = val
            elif kind == "final":
                stage = WON if o["outcome"] == "won" else LOST
                if amt is not None:
                    amt = amount
                cd = close
            row = (i, day, stage, amt, cd)
            if hist and hist[-1][1] == day:
                hist[-1] = row
            else:
                hist.append(row)
        for (_, day, stage, amt, cd) in hist:
            fc = STAGE_FC[stage]
            if stage in (2, 3) and rng.random() < 0.1:
                fc = "commit" if stage == 2 else "best_case"
            rows.append((i, day, stage, amt, cd, fc, stage >= WON, stage == WON))
    crm.hist_rows = rows


def opportunity_state(crm: Crm) -> pd.DataFrame:
    """Current state of every opportunity (its last history row): day numbers and stage indexes."""
    last = {}
    for row in crm.hist_rows:
        last[row[0]] = row
    recs = []
    for i, o in enumerate(crm.opps):
        _, day, stage, amt, cd, fc, closed, won = last[i]
        recs.append(dict(i=i, rep=o["rep"], type=o["type"], stage=stage, amount=np.nan if amt is None else amt,
                         close_date=np.nan if cd is None else cd, is_closed=closed, is_won=won,
                         fc=fc, currency=o["cur"], sg=o["sg"], source=o["source"], created=o["created"]))
    return pd.DataFrame(recs)


def opportunity_frames(state: SampleState) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``opportunities`` and ``opportunity_history`` tables."""
    crm, ids, st = state.crm, state.customers.ids, state.plans.opp_state
    opps, team = crm.opps, crm.team
    oid = [f"OPP-{i + 1:06d}" for i in range(len(opps))]
    opportunities = pd.DataFrame({
        "opportunity_id": oid,
        "created_at": to_dates([o["created"] for o in opps]),
        "stage": [STAGES[s] for s in st["stage"]],
        "amount": st["amount"].to_numpy(dtype=float),
        "customer_id": [ids[o["c"]] if o["c"] >= 0 else None for o in opps],
        "owner": [team.names[o["rep"]] for o in opps],
        "team": [TEAMS[team.team[o["rep"]]] for o in opps],
        "source": [o["source"] for o in opps],
        "type": [o["type"] for o in opps],
        "close_date": to_dates(st["close_date"]),
        "is_closed": st["is_closed"].astype(bool).to_numpy(),
        "is_won": st["is_won"].astype(bool).to_numpy(),
        "probability": [STAGE_PROB[s] for s in st["stage"]],
        "forecast_category": st["fc"].to_numpy(),
        "term_months": np.array([o["term"] for o in opps], dtype=float),
        "currency": [o["cur"] for o in opps],
        "product": [o["product"] for o in opps],
    })
    hr = crm.hist_rows
    history = pd.DataFrame({
        "opportunity_id": [oid[r[0]] for r in hr],
        "changed_at": to_dates([r[1] for r in hr]),
        "stage": [STAGES[r[2]] for r in hr],
        "amount": np.array([np.nan if r[3] is None else r[3] for r in hr], dtype=float),
        "close_date": to_dates([r[4] for r in hr]),
        "forecast_category": [r[5] for r in hr],
        "is_closed": np.array([r[6] for r in hr], dtype=bool),
        "is_won": np.array([r[7] for r in hr], dtype=bool),
    })
    return opportunities, history
