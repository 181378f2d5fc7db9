"""Customers of the synthetic company: accounts, their first deal and their latent health.

Every customer has a latent monthly **health** (a persistent AR(1) process plus occasional
multi-month decline episodes) that drives churn, usage, tickets, NPS and payment delays in the
later steps. The ``customers`` table adds the dirt: hostile names and likely-duplicate accounts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import to_dates
from .constants import (
    CHANNEL_P, CHANNELS, COUNTRIES, CSMS, EURO, HOSTILE_NAMES, INDUSTRIES, MRR_CLIP, MRR_MEDIAN,
    MRR_SIGMA, NAME_A, NAME_B, OFF, PHI, PLAN_P, PRICE, REGION_P, REGIONS, SEG_GIVEN_CHANNEL,
    SEGMENTS, SIGMA, TLD,
)
from .state import SampleState

__all__ = ["Customers", "draw_customers", "customer_frame"]


@dataclass(frozen=True)
class Customers:
    """Per-customer arrays, indexed by customer number ``c`` (ids follow the first start date)."""

    seg: np.ndarray
    channel: np.ndarray
    self_serve: np.ndarray
    region: np.ndarray
    country: list
    cur: list
    close_day: np.ndarray  # close date of the won deal (self-serve: sign-up day)
    start_day: np.ndarray  # first subscription start
    m_start: np.ndarray  # window month of start_day
    bday: np.ndarray  # billing anchor day of the month
    annual: np.ndarray
    mrr0: np.ndarray
    disc: np.ndarray
    plan0: np.ndarray
    industry: list
    csm: list
    names: list
    domains: list
    ids: list
    health: np.ndarray  # (n, T) latent health per window month

    def unit(self, c: int, plan: str) -> float:
        """Discounted price per seat and month of ``plan`` for customer ``c``."""
        return round(PRICE[self.cur[c]][plan] * (1.0 - float(self.disc[c])), 2)


def draw_customers(state: SampleState) -> Customers:
    """Draw the accounts (segment, channel, region, first deal, price) and their health paths."""
    rng, n, cal = state.rng, state.n, state.cal
    T = cal.T
    ch = rng.choice(4, size=n, p=CHANNEL_P)
    seg = np.array([rng.choice(3, p=SEG_GIVEN_CHANNEL[c]) for c in ch])
    self_serve = (seg == 0) & (ch <= 1) & (rng.random(n) < 0.22)
    region = rng.choice(3, size=n, p=REGION_P)
    country = [str(rng.choice(COUNTRIES[REGIONS[r]][0], p=COUNTRIES[REGIONS[r]][1])) for r in region]
    cur = ["EUR" if (c in EURO and u < 0.95) else "USD" for c, u in zip(country, rng.random(n))]
    w = cal.acq_weight[OFF:OFF + T]
    month = rng.choice(T, size=n, p=w / w.sum())
    close = np.array([cal.cal_ms[m + OFF] for m in month]) + np.floor(
        rng.random(n) * np.array([cal.dim[m + OFF] for m in month])).astype(np.int64)
    close = np.minimum(close, cal.W - 1)
    lag = rng.integers(0, 15, size=n)
    lag[self_serve] = 0
    start = close + lag
    start = np.where(start >= cal.W, close, start)
    annual = np.where(seg > 0, True, (~self_serve) & (rng.random(n) < 0.40))
    mrr0 = np.exp(np.log(np.array(MRR_MEDIAN)[seg]) + np.array(MRR_SIGMA)[seg] * rng.standard_normal(n))
    mrr0 = np.clip(mrr0, np.array(MRR_CLIP)[seg, 0], np.array(MRR_CLIP)[seg, 1])
    disc = np.where(seg == 0, 0.0, np.where(seg == 1, rng.uniform(0, 0.15, n), rng.uniform(0.05, 0.25, n)))
    plan = np.array([rng.choice(3, p=PLAN_P[s]) for s in seg])
    industry = rng.choice(len(INDUSTRIES), size=n)
    no_industry = rng.random(n) < 0.03
    csm = [CSMS[s][int(rng.integers(len(CSMS[s])))] for s in seg]
    names = _company_names(rng, n)
    io_tld = rng.random(n) < 0.15

    order = np.lexsort((np.arange(n), start))  # customer ids follow the first start date
    start_day = start[order]
    m_start = cal.months_of(start_day)
    seg = seg[order]
    return Customers(
        seg=seg,
        channel=ch[order],
        self_serve=self_serve[order],
        region=region[order],
        country=[country[i] for i in order],
        cur=[cur[i] for i in order],
        close_day=close[order],
        start_day=start_day,
        m_start=m_start,
        bday=start_day - np.array([cal.cal_ms[m + OFF] for m in m_start]) + 1,
        annual=annual[order],
        mrr0=mrr0[order],
        disc=disc[order],
        plan0=plan[order],
        industry=[None if no_industry[i] else INDUSTRIES[industry[i]] for i in order],
        csm=[csm[i] for i in order],
        names=[names[i] for i in order],
        domains=[re.sub(r"[^a-z0-9]+", "-", names[i].lower()).strip("-")
                 + (".io" if io_tld[i] else TLD[country[i]]) for i in order],
        ids=[f"CUS-{i + 1:05d}" for i in range(n)],
        health=_draw_health(rng, seg, T),
    )


def _company_names(rng: np.random.Generator, n: int) -> list[str]:
    pairs = [(a, b) for a in NAME_A for b in NAME_B]
    pick = rng.permutation(len(pairs))
    names = []
    for i in range(n):
        a, b = pairs[pick[i % len(pairs)]]
        suffix = ("", " Group", " Holdings", " International")[min(i // len(pairs), 3)]
        names.append(f"{a} {b}{suffix}" + (f" {i // (4 * len(pairs)) + 1}" if i >= 4 * len(pairs) else ""))
    return names


def _draw_health(rng: np.random.Generator, seg: np.ndarray, T: int) -> np.ndarray:
    """AR(1) health per customer and month plus 2%/month chance of a 3-8 month decline episode."""
    n = len(seg)
    base = np.array([0.2, 0.35, 0.5])[seg] + rng.normal(0.0, 0.55, n)
    x = rng.normal(0.0, SIGMA / math.sqrt(1 - PHI ** 2), n)
    e = np.zeros(n)
    left = np.zeros(n, dtype=np.int64)
    step = np.zeros(n)
    H = np.empty((n, T))
    for m in range(T):
        x = PHI * x + SIGMA * rng.standard_normal(n)
        new = (left == 0) & (rng.random(n) < 0.02)
        left[new] = rng.integers(3, 9, size=int(new.sum()))
        step[new] = rng.uniform(0.15, 0.4, size=int(new.sum()))
        decl = left > 0
        e = np.where(decl, e - step, e * 0.7)
        left = np.maximum(left - 1, 0)
        H[:, m] = base + x + e
    return H


def customer_frame(state: SampleState) -> pd.DataFrame:
    """The ``customers`` table, with four hostile names and five likely-duplicate accounts.

    Draws from the generator (which accounts get the dirt), so it runs first among the frames.
    """
    rng, cu, W = state.rng, state.customers, state.cal.W
    n = state.n
    ids = cu.ids
    names = list(cu.names)
    sales_led = np.flatnonzero(~cu.self_serve)
    hostile = sorted(rng.choice(sales_led, size=len(HOSTILE_NAMES), replace=False).tolist())
    for c, name in zip(hostile, HOSTILE_NAMES):
        names[c] = name
    cand = [c for c in range(n) if c not in set(hostile) and cu.start_day[c] < W - 400]
    dups = sorted(rng.choice(cand, size=min(5, len(cand)), replace=False).tolist())
    created = [int(cu.close_day[c]) for c in range(n)]
    cust = dict(
        customer_id=list(ids), name=names, domain=list(cu.domains),
        segment=[SEGMENTS[s] for s in cu.seg], region=[REGIONS[r] for r in cu.region],
        country=list(cu.country), industry=list(cu.industry),
        acquisition_channel=[CHANNELS[ch] for ch in cu.channel], owner=list(cu.csm),
        created_at=created,
    )
    variants = (lambda s: s.upper() + " Inc.", lambda s: s + ", Inc.", lambda s: s.lower(),
                lambda s: s + " Ltd", lambda s: s + " (EMEA)")
    for k, c in enumerate(dups):
        cust["customer_id"].append(f"CUS-{n + k + 1:05d}")
        cust["name"].append(variants[k % len(variants)](cu.names[c]))
        cust["domain"].append(cu.domains[c])
        cust["segment"].append(SEGMENTS[cu.seg[c]])
        cust["region"].append(REGIONS[cu.region[c]])
        cust["country"].append(cu.country[c])
        cust["industry"].append(None if k % 2 else cu.industry[c])
        cust["acquisition_channel"].append(CHANNELS[cu.channel[c]])
        cust["owner"].append(cu.csm[(c + 7) % n])
        cust["created_at"].append(created[c] + int(rng.integers(30, 400)))
    customers = pd.DataFrame(cust)
    customers["created_at"] = to_dates(customers["created_at"])
    return customers
