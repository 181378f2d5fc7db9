"""A deterministic synthetic SaaS company: the 14 canonical tables, with real signal.

:func:`generate` simulates a B2B SaaS business month by month and returns every table of the
canonical data model (see :data:`revops_kit.schema.TABLES`); :func:`write_sample` writes them as
CSV files (byte-identical for the same seed). The committed ``data/sample/`` folder is
``write_sample("data/sample", seed=42)``; its README lists the row counts and the built-in signal.

What is true in the data (so that models have something real to find):

* every customer has a latent monthly **health** (a persistent AR(1) process plus occasional
  multi-month decline episodes). Low health raises the churn hazard, lowers product usage
  (``active_users / licensed_seats`` and ``feature_events``), raises the number and the priority of
  support tickets, lowers CSAT and NPS scores and slows invoice payments; high health drives seat
  expansion and add-on purchases;
* monthly contracts can churn at any billing date (SMB most); annual contracts (Mid-Market,
  Enterprise, ~40% of sales-led SMB) churn almost only at ``committed_end_date``; ~5-10% of
  churners come back after 2-12 months (reactivation);
* new business grows over time and is seasonal (Q4 strongest, Q1 weakest, last month of a quarter
  busiest); sales cycles lengthen with segment size; win rates differ by source (partner > inbound
  > event > outbound), by segment (Enterprise lowest) and by rep;
* costs are driven by new MRR (sales and marketing) and by MRR (cost of revenue, success, R&D,
  G&A) so that CAC payback is ~12-24 months and gross margin ~75%.

Untrusted text on purpose: four customers carry hostile names (:data:`HOSTILE_NAMES`: an HTML
``<script>`` tag, a spreadsheet formula, and names starting with ``@`` and ``+``) so that every
view is tested against injection. Realistic dirt that still passes :func:`schema.validate`: ~3% of
customers without industry, 5 likely-duplicate accounts (same domain, other spelling, own id),
~1.5% of won new-business deals whose amount or close date disagrees with billing, stale open
opportunities (close date in the past), a few open ones without amount or close date, self-serve
customers without any opportunity and a few leads without channel.

Randomness only comes from ``numpy.random.default_rng(seed)``; nothing reads the clock.
"""

from __future__ import annotations

import bisect
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import COST_CATEGORIES, TABLES

__all__ = ["generate", "write_sample", "SEGMENTS", "CHANNELS", "HOSTILE_NAMES", "KPI_TARGETS"]

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
CHANNELS = ("organic", "paid_search", "partner", "outbound")
#: Customer names that must be rendered as text, never interpreted (HTML, spreadsheet formulas).
HOSTILE_NAMES = (
    '<script>alert("x")</script> Labs',
    '=HYPERLINK("http://x","y") Ltd',
    "@Risk Partners",
    "+Plus Co",
)
#: KPI ids that get a target per quarter.
KPI_TARGETS = (
    "mrr", "arr", "nrr", "grr", "logo_churn_rate", "customers_new", "bookings", "win_rate",
    "pipeline_coverage", "cac_payback_months", "nps", "gross_margin", "dso", "forecast_accuracy",
    "crm_quality_score",
)

# ----------------------------------------------------------------------------- business constants
_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
_STAGE_PROB = (0.1, 0.2, 0.4, 0.7, 1.0, 0.0)
_STAGE_FC = ("pipeline", "pipeline", "best_case", "commit", "closed", "omitted")
_WON, _LOST = 4, 5

_TEAMS = ("SMB Sales", "Mid-Market Sales", "Enterprise Sales")
_REPS = (
    ("Ivy Chen", "Jonas Weber", "Kate O'Brien", "Liam Novak", "Maya Patel"),
    ("Noah Fischer", "Olivia Santos", "Pablo Ruiz", "Quinn Murphy"),
    ("Rosa Lindqvist", "Sam Adeyemi", "Tara Nakamura"),
)
_CSMS = (
    ("Alice Moreau", "Ben Okafor", "Carla Jensen"),
    ("David Kim", "Elena Rossi", "Farid Haddad"),
    ("Grace Liu", "Hugo Martins"),
)
_SOURCES = ("inbound", "outbound", "partner", "event")
_SOURCE_WIN = {"inbound": 1.15, "outbound": 0.6, "partner": 1.4, "event": 0.9}
_SEG_WIN = (0.34, 0.25, 0.16)
_CYCLE_DAYS = (25.0, 70.0, 140.0)  # median new-business sales cycle by segment
_CHANNEL_P = (0.30, 0.30, 0.15, 0.25)
_SEG_GIVEN_CHANNEL = ((0.72, 0.22, 0.06), (0.76, 0.19, 0.05), (0.45, 0.38, 0.17), (0.30, 0.44, 0.26))
_MRR_MEDIAN = (280.0, 2200.0, 15000.0)
_MRR_SIGMA = (0.45, 0.38, 0.42)
_MRR_CLIP = ((100.0, 800.0), (1000.0, 5000.0), (8000.0, 40000.0))
_PLANS = ("Starter", "Growth", "Scale")
_PLAN_P = ((0.75, 0.25, 0.0), (0.0, 0.75, 0.25), (0.0, 0.15, 0.85))
_PRICE = {  # list price per seat and month
    "USD": {"Starter": 20.0, "Growth": 40.0, "Scale": 65.0, "Add-on": 9.0},
    "EUR": {"Starter": 18.0, "Growth": 36.0, "Scale": 59.0, "Add-on": 8.0},
}
_REGIONS = ("NA", "EMEA", "APAC")
_REGION_P = (0.55, 0.30, 0.15)
_COUNTRIES = {
    "NA": (("US", "CA"), (0.85, 0.15)),
    "EMEA": (("DE", "FR", "GB", "NL", "ES", "IT", "IE", "SE"),
             (0.22, 0.16, 0.20, 0.10, 0.08, 0.08, 0.06, 0.10)),
    "APAC": (("AU", "SG", "JP", "IN"), (0.35, 0.25, 0.20, 0.20)),
}
_EURO = {"DE", "FR", "NL", "ES", "IT", "IE"}
_TLD = {"US": ".com", "CA": ".ca", "DE": ".de", "FR": ".fr", "GB": ".co.uk", "NL": ".nl",
        "ES": ".es", "IT": ".it", "IE": ".ie", "SE": ".se", "AU": ".com.au", "SG": ".sg",
        "JP": ".jp", "IN": ".in"}
_INDUSTRIES = ("Software", "Financial Services", "Healthcare", "Retail", "Manufacturing",
               "Education", "Media", "Logistics", "Professional Services", "Telecommunications")
_CAMPAIGNS = {
    "organic": ("seo-content", "webinar-series", "community"),
    "paid_search": ("google-brand", "google-generic", "bing-generic"),
    "partner": ("reseller-program", "tech-alliance"),
    "outbound": ("sdr-sequence", "abm-enterprise", "field-events"),
}
_NAME_A = (
    "Acme", "Apex", "Atlas", "Aurora", "Beacon", "Birch", "Blue River", "Bright", "Cascade",
    "Cedar", "Cobalt", "Copper", "Crescent", "Crystal", "Delta", "Echo", "Ember", "Evergreen",
    "Falcon", "Fern", "Flux", "Forge", "Granite", "Harbor", "Helix", "Horizon", "Indigo", "Iron",
    "Juniper", "Keystone", "Kite", "Lakeside", "Lumen", "Maple", "Meridian", "Mosaic", "Nimbus",
    "North Star", "Nova", "Oak", "Onyx", "Orbit", "Pacific", "Pine", "Pioneer", "Pixel", "Polar",
    "Prism", "Quartz", "Quantum", "Radiant", "Red Rock", "Ridge", "River", "Sage", "Sapphire",
    "Silver", "Summit", "Sun", "Swift", "Terra", "Tidal", "Timber", "Trident", "True North",
    "Union", "Vector", "Velvet", "Vertex", "Vista", "Wave", "Willow", "Zenith", "Zephyr", "Alder",
    "Basalt", "Clearwater", "Driftwood", "Granite Peak", "Highland",
)
_NAME_B = (
    "Analytics", "Logistics", "Health", "Labs", "Systems", "Foods", "Media", "Capital",
    "Robotics", "Energy", "Retail", "Software", "Studios", "Partners", "Networks", "Biotech",
    "Learning", "Insurance", "Motors", "Materials", "Telecom", "Consulting", "Dynamics",
    "Solutions", "Ventures", "Pharma", "Apparel", "Freight", "Security", "Travel", "Brewing",
    "Games", "Clinics", "Finance", "Marine", "Aerospace", "Farms", "Realty", "Textiles", "Devices",
)
_QUARTER_SEASON = (0.80, 1.00, 0.95, 1.30)  # calendar quarter factor of new business
_MONTH_IN_Q_SEASON = (0.80, 0.95, 1.30)  # first, second, last month of a quarter
_GROWTH = math.log(3.5) / 47.0  # monthly growth of acquisitions (x3.5 over four years)
_PHI, _SIGMA = 0.85, 0.3  # AR(1) of the health process
_BETA = 1.8  # churn log-odds per unit of health
_MONTHLY_CHURN_A = (-3.95, -4.5, -5.0)  # monthly contracts, at any billing date
_RENEWAL_CHURN_A = (-1.75, -2.4, -3.0)  # annual contracts, at committed_end_date
_SEAT_EXP_A = (-4.6, -4.0, -3.6)
_SEAT_CON_A = (-4.3, -4.3, -4.3)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# ============================================================================= the simulation
class _Company:
    """Builds every table; dates are kept as integer day numbers (days since 1970-01-01)."""

    OFF = 36  # calendar months kept before the window start (history of early opportunities)

    def __init__(self, seed: int, n_customers: int, start: str, end: str):
        if int(n_customers) < 20:
            raise ValueError(f"generate: n_customers must be at least 20, got {n_customers!r}")
        first = pd.Period(start, "M").to_timestamp()
        last = pd.Period(end, "M").to_timestamp()
        if last < first:
            raise ValueError(f"generate: end {end!r} is before start {start!r}")
        self.rng = np.random.default_rng(seed)
        self.n = int(n_customers)
        self.first_month = first
        self.T = (last.year - first.year) * 12 + last.month - first.month + 1
        cal = pd.date_range(first - pd.DateOffset(months=self.OFF), periods=self.OFF + self.T + 40,
                            freq="MS")
        self.cal = cal
        self.cal_ms = cal.values.astype("datetime64[D]").astype(np.int64).tolist()
        self.dim = cal.days_in_month.tolist()
        self.cal_month = cal.month.tolist()
        self.W = self.cal_ms[self.OFF + self.T]  # first day after the window (exclusive end)
        self.D0 = self.cal_ms[self.OFF]  # first day of the window
        m = np.arange(-self.OFF, self.T + 40)
        cm = np.array(self.cal_month)
        self.season = (np.array(_QUARTER_SEASON)[(cm - 1) // 3]
                       * np.array(_MONTH_IN_Q_SEASON)[(cm - 1) % 3])
        self.acq_weight = np.exp(_GROWTH * m) * self.season  # index = month + OFF

    # ------------------------------------------------------------------ calendar helpers
    def bill(self, m: int, d: int) -> int:
        """Day number of the billing date with anchor day ``d`` in window month ``m``."""
        i = m + self.OFF
        return self.cal_ms[i] + min(d, self.dim[i]) - 1

    def month_of(self, day: int) -> int:
        return bisect.bisect_right(self.cal_ms, day) - 1 - self.OFF

    def season_of(self, m: int) -> float:
        return float(self.season[m + self.OFF])

    def months_of(self, days: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.array(self.cal_ms), days, side="right") - 1 - self.OFF

    # ------------------------------------------------------------------ run
    def build(self) -> dict[str, pd.DataFrame]:
        self._fx()
        self._customers()
        self._health()
        self._simulate()
        self._opportunities()
        self._leads()
        self._usage_tickets_nps()
        self._invoices()
        self._costs()
        self._sales_plans()
        self._targets()
        return self._frames()

    # ------------------------------------------------------------------ fx
    def _fx(self) -> None:
        rng = self.rng
        n = 12 + self.T
        r, rates = 1.10, []
        for _ in range(n):
            r = 1.10 + 0.88 * (r - 1.10) + rng.normal(0.0, 0.011)
            r = min(1.149, max(1.051, r))
            rates.append(round(r, 4))
        self.eur = np.array(rates)  # index = window month + 12
        self.fx_first = -12

    def fx(self, currency: str, m: int) -> float:
        if currency == "USD":
            return 1.0
        return float(self.eur[min(max(m + 12, 0), len(self.eur) - 1)])

    # ------------------------------------------------------------------ customers
    def _customers(self) -> None:
        rng, n, T = self.rng, self.n, self.T
        ch = rng.choice(4, size=n, p=_CHANNEL_P)
        seg = np.array([rng.choice(3, p=_SEG_GIVEN_CHANNEL[c]) for c in ch])
        self_serve = (seg == 0) & (ch <= 1) & (rng.random(n) < 0.22)
        region = rng.choice(3, size=n, p=_REGION_P)
        country = [str(rng.choice(_COUNTRIES[_REGIONS[r]][0], p=_COUNTRIES[_REGIONS[r]][1]))
                   for r in region]
        cur = ["EUR" if (c in _EURO and u < 0.95) else "USD"
               for c, u in zip(country, rng.random(n))]
        w = self.acq_weight[self.OFF:self.OFF + T]
        month = rng.choice(T, size=n, p=w / w.sum())
        close = np.array([self.cal_ms[m + self.OFF] for m in month]) + np.floor(
            rng.random(n) * np.array([self.dim[m + self.OFF] for m in month])).astype(np.int64)
        close = np.minimum(close, self.W - 1)
        lag = rng.integers(0, 15, size=n)
        lag[self_serve] = 0
        start = close + lag
        start = np.where(start >= self.W, close, start)
        annual = np.where(seg > 0, True, (~self_serve) & (rng.random(n) < 0.40))
        mrr0 = np.exp(np.log(np.array(_MRR_MEDIAN)[seg]) + np.array(_MRR_SIGMA)[seg] * rng.standard_normal(n))
        mrr0 = np.clip(mrr0, np.array(_MRR_CLIP)[seg, 0], np.array(_MRR_CLIP)[seg, 1])
        disc = np.where(seg == 0, 0.0, np.where(seg == 1, rng.uniform(0, 0.15, n), rng.uniform(0.05, 0.25, n)))
        plan = np.array([rng.choice(3, p=_PLAN_P[s]) for s in seg])
        industry = rng.choice(len(_INDUSTRIES), size=n)
        no_industry = rng.random(n) < 0.03
        csm = [_CSMS[s][int(rng.integers(len(_CSMS[s])))] for s in seg]
        pairs = [(a, b) for a in _NAME_A for b in _NAME_B]
        pick = rng.permutation(len(pairs))
        names = []
        for i in range(n):
            a, b = pairs[pick[i % len(pairs)]]
            suffix = ("", " Group", " Holdings", " International")[min(i // len(pairs), 3)]
            names.append(f"{a} {b}{suffix}" + (f" {i // (4 * len(pairs)) + 1}" if i >= 4 * len(pairs) else ""))
        io_tld = rng.random(n) < 0.15

        order = np.lexsort((np.arange(n), start))  # customer ids follow the first start date
        self.seg = seg[order]
        self.channel = ch[order]
        self.self_serve = self_serve[order]
        self.region = region[order]
        self.country = [country[i] for i in order]
        self.cur = [cur[i] for i in order]
        self.close_day = close[order]
        self.start_day = start[order]
        self.m_start = self.months_of(self.start_day)
        self.bday = (self.start_day - np.array([self.cal_ms[m + self.OFF] for m in self.m_start]) + 1)
        self.annual = annual[order]
        self.mrr0 = mrr0[order]
        self.disc = disc[order]
        self.plan0 = plan[order]
        self.industry = [None if no_industry[i] else _INDUSTRIES[industry[i]] for i in order]
        self.csm = [csm[i] for i in order]
        self.names = [names[i] for i in order]
        self.domains = [re.sub(r"[^a-z0-9]+", "-", names[i].lower()).strip("-")
                        + (".io" if io_tld[i] else _TLD[country[i]]) for i in order]
        self.ids = [f"CUS-{i + 1:05d}" for i in range(n)]

    # ------------------------------------------------------------------ latent health
    def _health(self) -> None:
        rng, n, T = self.rng, self.n, self.T
        base = np.array([0.2, 0.35, 0.5])[self.seg] + rng.normal(0.0, 0.55, n)
        x = rng.normal(0.0, _SIGMA / math.sqrt(1 - _PHI ** 2), n)
        e = np.zeros(n)
        left = np.zeros(n, dtype=np.int64)
        step = np.zeros(n)
        H = np.empty((n, T))
        for m in range(T):
            x = _PHI * x + _SIGMA * rng.standard_normal(n)
            new = (left == 0) & (rng.random(n) < 0.02)
            left[new] = rng.integers(3, 9, size=int(new.sum()))
            step[new] = rng.uniform(0.15, 0.4, size=int(new.sum()))
            decl = left > 0
            e = np.where(decl, e - step, e * 0.7)
            left = np.maximum(left - 1, 0)
            H[:, m] = base + x + e
        self.H = H

    # ------------------------------------------------------------------ subscriptions
    def _unit(self, c: int, plan: str) -> float:
        return round(_PRICE[self.cur[c]][plan] * (1.0 - float(self.disc[c])), 2)

    def _simulate(self) -> None:
        rng, T = self.rng, self.T
        subs: list[tuple] = []  # (c, product, start, end, mrr, plan, seats, committed_end)
        months: list[tuple] = []  # (c, m, lo, hi, core_seats, has_addon, health, total_mrr)
        invoices: list[tuple] = []  # (c, issued, amount, kind, service_start, service_end, m)
        expansions: list[tuple] = []  # (c, day, delta_mrr, product, m)
        renewals: list[tuple] = []  # (c, day, renewed, old_total, new_total, m)
        starts: list[tuple] = []  # (c, day, m, reactivation, total)
        churns: list[tuple] = []  # (c, day, m, total)
        end_state: list[tuple] = []  # (c, annual, term_end_day, total, health)
        self.first_total = np.zeros(self.n)

        for c in range(self.n):
            sg = int(self.seg[c])
            d = int(self.bday[c])
            m0 = int(self.m_start[c])
            Hc = self.H[c]
            U = rng.random((T, 16))
            annual = bool(self.annual[c])
            plan = _PLANS[int(self.plan0[c])]
            lines: dict[str, list] = {}  # product -> [start_day, seats, plan, unit]
            active, next_start, n_starts, boost, term_end = False, m0, 0, 0.0, -1

            def mrr_of(line):
                return round(line[1] * line[3], 2)

            def total_of():
                return round(sum(mrr_of(v) for v in lines.values()), 2)

            def close(prod, day, committed):
                ln = lines.pop(prod)
                subs.append((c, prod, ln[0], day, mrr_of(ln), ln[2], ln[1], committed))

            for m in range(m0, T):
                u = U[m]
                day = self.bill(m, d)
                ms, me = self.cal_ms[m + self.OFF], self.cal_ms[m + self.OFF + 1]
                h = float(Hc[m]) + boost
                hp = float(Hc[m - 1] if m > m0 else Hc[m]) + boost
                if not active:
                    if m != next_start:
                        continue
                    reactivation = n_starts > 0
                    if reactivation:
                        boost = 0.6
                        h, hp = h + boost, hp + boost
                        total = float(self.mrr0[c]) * (0.5 + 0.6 * u[2])
                        annual = sg > 0
                        has_addon = False
                    else:
                        total = float(self.mrr0[c])
                        has_addon = u[13] < (0.05, 0.15, 0.30)[sg]
                    unit = self._unit(c, plan)
                    seats = max(1, round(total * (0.8 if has_addon else 1.0) / unit))
                    lines = {"Core": [day, seats, plan, unit]}
                    if has_addon:
                        lines["Analytics"] = [day, max(1, round(seats * (0.3 + 0.4 * u[14]))), "Add-on",
                                              self._unit(c, "Add-on")]
                    total = total_of()
                    if not reactivation:
                        self.first_total[c] = total
                    active, n_starts = True, n_starts + 1
                    term_end = m + 12 if annual else -1
                    starts.append((c, day, m, reactivation, total))
                    if annual:
                        invoices.append((c, day, 12 * total, "recurring", day, self.bill(m + 12, d), m))
                    else:
                        invoices.append((c, day, total, "recurring", day, self.bill(m + 1, d), m))
                    if not reactivation and sg > 0 and u[15] < 0.85:
                        amt = round(float(rng.uniform(1500, 5000) if sg == 1 else rng.uniform(6000, 25000)), -1)
                        invoices.append((c, day, amt, "services", day, day + int(rng.integers(30, 91)), m))
                    months.append((c, m, day, me, lines["Core"][1], "Analytics" in lines, h, total))
                    continue

                # ---- active since the previous billing date: decide churn / renewal / changes
                before = total_of()
                renewal = annual and m == term_end
                if renewal:
                    h_avg = float(np.mean(Hc[max(m0, m - 3):m])) + boost
                    churn = u[0] < _sigmoid(_RENEWAL_CHURN_A[sg] - _BETA * h_avg)
                elif annual:
                    churn = u[0] < 0.0015 * math.exp(-1.2 * hp)
                else:
                    tenure_adj = 0.4 if m - m0 <= 3 else 0.0
                    churn = u[0] < _sigmoid(_MONTHLY_CHURN_A[sg] + tenure_adj - _BETA * hp)
                if churn:
                    committed = self.bill(term_end, d) if annual else None
                    if renewal:
                        renewals.append((c, day, False, before, 0.0, m))
                    for prod in list(lines):
                        close(prod, day, committed)
                    churns.append((c, day, m, before))
                    if day > ms:
                        months.append((c, m, ms, day, 0, False, h, before))
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
                    p_exp = _sigmoid(-1.4 + 0.8 * h)
                    p_con = _sigmoid(-1.9 - 1.0 * h)
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
                        close(prod, day, old_term_end)
                    for prod, v in new_lines.items():
                        v[0] = day
                        lines[prod] = v
                    after = total_of()
                    renewals.append((c, day, True, before, after, m))
                    invoices.append((c, day, 12 * after, "recurring", day, self.bill(m + 12, d), m))
                else:
                    committed = self.bill(term_end, d) if annual else None
                    season = self.season_of(m)
                    p_seat = _sigmoid(_SEAT_EXP_A[sg] + 0.8 * h) * season
                    p_add = 0.0 if "Analytics" in lines else _sigmoid(-5.3 + 0.3 * sg + 0.6 * h) * season
                    p_up = 0.003 * math.exp(0.5 * h) if core[2] != "Scale" else 0.0
                    p_con = 0.0 if annual else _sigmoid(_SEAT_CON_A[sg] - 1.0 * h)
                    p_rem = 0.0 if (annual or "Analytics" not in lines) else 0.004 * math.exp(-h)
                    r = u[1]
                    product = None
                    if r < p_seat:
                        add = max(1, round(core[1] * (0.08 + 0.27 * u[2])))
                        close("Core", day, committed)
                        lines["Core"] = [day, core[1] + add, core[2], core[3]]
                        product = "Core"
                    elif r < p_seat + p_add:
                        lines["Analytics"] = [day, max(1, round(core[1] * (0.3 + 0.4 * u[14]))), "Add-on",
                                              self._unit(c, "Add-on")]
                        product = "Analytics"
                    elif r < p_seat + p_add + p_up:
                        new_plan = _PLANS[_PLANS.index(core[2]) + 1]
                        close("Core", day, committed)
                        lines["Core"] = [day, core[1], new_plan, self._unit(c, new_plan)]
                        plan = new_plan
                        product = "Core"
                    elif r < p_seat + p_add + p_up + p_con:
                        if core[1] > 1:
                            cut = max(1, round(core[1] * (0.1 + 0.25 * u[6])))
                            close("Core", day, committed)
                            lines["Core"] = [day, max(1, core[1] - cut), core[2], core[3]]
                    elif r < p_seat + p_add + p_up + p_con + p_rem:
                        close("Analytics", day, committed)
                    after = total_of()
                    delta = round(after - before, 2)
                    if product is not None and delta > 0:
                        expansions.append((c, day, delta, product, m))
                    if annual:
                        if delta > 0:
                            invoices.append((c, day, delta * (term_end - m), "recurring", day,
                                             self.bill(term_end, d), m))
                    else:
                        invoices.append((c, day, after, "recurring", day, self.bill(m + 1, d), m))
                    if sg > 0 and u[12] < 0.012:
                        invoices.append((c, day, round(float(rng.uniform(500, 3000)), -1), "one_time",
                                         day, day + 1, m))
                months.append((c, m, ms, me, lines["Core"][1], "Analytics" in lines, h, total_of()))

            if active:
                committed = self.bill(term_end, d) if annual else None
                total = total_of()
                for prod in list(lines):
                    ln = lines.pop(prod)
                    subs.append((c, prod, ln[0], None, mrr_of(ln), ln[2], ln[1], committed))
                end_state.append((c, annual, self.bill(term_end, d) if annual else None, total,
                                  float(Hc[T - 1]) + boost))

        self.subs, self.cm, self.inv_raw = subs, months, invoices
        self.expansions, self.renewals, self.starts = expansions, renewals, starts
        self.churns, self.end_state = churns, end_state

    # ------------------------------------------------------------------ opportunities
    def _pick_rep(self, sg: int, skill_weighted: bool) -> int:
        reps = self.rep_ids[sg]
        p = self.rep_skill[reps] if skill_weighted else np.ones(len(reps))
        return int(reps[self.rng.choice(len(reps), p=p / p.sum())])

    def _opportunities(self) -> None:
        rng, W = self.rng, self.W
        self.rep_names = [r for team in _REPS for r in team]
        self.rep_team = [t for t, team in enumerate(_REPS) for _ in team]
        ids, k = [], 0
        for team in _REPS:
            ids.append(np.arange(k, k + len(team)))
            k += len(team)
        self.rep_ids = ids
        self.rep_skill = rng.uniform(0.8, 1.2, size=k)
        opps: list[dict] = []
        self.ae = np.full(self.n, -1)
        src_of_channel = {0: ("inbound", "event"), 1: ("inbound",), 2: ("partner",), 3: ("outbound", "event")}
        self.cust_source = [None] * self.n

        def cycle(sg: int, scale: float = 1.0) -> int:
            return max(3, int(round(_CYCLE_DAYS[sg] * scale * math.exp(0.35 * rng.standard_normal()))))

        def lost_companions(anchor_created, sg, src, rep, cur, region):
            w = min(0.75, _SEG_WIN[sg] * _SOURCE_WIN[src] * self.rep_skill[rep])
            for _ in range(rng.poisson((1 - w) / w)):
                created = int(anchor_created + round(rng.normal(0, 40)))
                if created >= W:
                    continue
                amount = 12 * self._draw_mrr(sg) 
                close = created + max(2, int(cycle(sg) * rng.uniform(0.4, 1.1)))
                if close < self.D0:  # lost before the CRM history we keep
                    continue
                opps.append(dict(created=created, close=close, outcome="lost", amount=amount, c=-1,
                                 rep=rep, sg=sg, source=src, type="new_business",
                                 term=12 if sg > 0 or rng.random() < 0.3 else 1, cur=cur,
                                 product="Core", region=region))

        # won new business for sales-led customers (and their lost companions)
        for c in range(self.n):
            sg = int(self.seg[c])
            src = src_of_channel[int(self.channel[c])][0]
            if int(self.channel[c]) == 0 and rng.random() < 0.2:
                src = "event"
            elif int(self.channel[c]) == 3 and rng.random() < 0.15:
                src = "event"
            self.cust_source[c] = src
            if self.self_serve[c]:
                continue
            rep = self._pick_rep(sg, True)
            self.ae[c] = rep
            close = int(self.close_day[c])
            created = close - cycle(sg)
            opps.append(dict(created=created, close=close, outcome="won", amount=12 * self.first_total[c],
                             c=c, rep=rep, sg=sg, source=src, type="new_business",
                             term=12 if self.annual[c] else 1, cur=self.cur[c], product="Core",
                             region=int(self.region[c])))
            lost_companions(created, sg, src, rep, self.cur[c], int(self.region[c]))

        # future wins (close after the window): open pipeline, no customer yet
        n_sales = int((~self.self_serve).sum())
        w_in = self.acq_weight[self.OFF:self.OFF + self.T].sum()
        for m in range(self.T, self.T + 7):
            lam = n_sales * self.acq_weight[m + self.OFF] / w_in
            for _ in range(rng.poisson(lam)):
                ch = int(rng.choice(4, p=_CHANNEL_P))
                sg = int(rng.choice(3, p=_SEG_GIVEN_CHANNEL[ch]))
                src = {0: "inbound", 1: "inbound", 2: "partner", 3: "outbound"}[ch]
                region = int(rng.choice(3, p=_REGION_P))
                cur = "EUR" if region == 1 and rng.random() < 0.7 else "USD"
                rep = self._pick_rep(sg, True)
                close = self.cal_ms[m + self.OFF] + int(rng.integers(0, self.dim[m + self.OFF]))
                created = close - cycle(sg)
                if created < W:
                    opps.append(dict(created=created, close=close, outcome="won", amount=12 * self._draw_mrr(sg),
                                     c=-1, rep=rep, sg=sg, source=src, type="new_business",
                                     term=12 if sg > 0 else 1, cur=cur, product="Core", region=region))
                lost_companions(created, sg, src, rep, cur, region)

        # expansion opportunities (sales-led accounts: Mid-Market, Enterprise, annual SMB)
        def sales_led_account(c):
            return (not self.self_serve[c]) and (self.seg[c] > 0 or self.annual[c])

        for c, day, delta, product, m in self.expansions:
            if not sales_led_account(c):
                continue
            sg = int(self.seg[c])
            close = day - int(rng.integers(0, 11))
            created = close - cycle(sg, 0.4)
            base = dict(rep=int(self.ae[c]), sg=sg, source=self.cust_source[c], type="expansion",
                        term=12 if self.annual[c] else 1, cur=self.cur[c], product=product,
                        region=int(self.region[c]))
            opps.append(dict(base, created=created, close=close, outcome="won", amount=12 * delta, c=c))
            for _ in range(rng.poisson(0.6)):
                cr = int(created + round(rng.normal(0, 30)))
                if cr >= W:
                    continue
                opps.append(dict(base, created=cr, close=cr + cycle(sg, 0.4), outcome="lost",
                                 amount=12 * delta * rng.uniform(0.7, 1.5), c=c))
        # renewals of annual contracts
        for c, day, renewed, old, new, m in self.renewals:
            sg = int(self.seg[c])
            base = dict(rep=int(self.ae[c]), sg=sg, source=self.cust_source[c], type="renewal", term=12,
                        cur=self.cur[c], product="Core", region=int(self.region[c]), c=c)
            created = day - int(rng.integers(60, 121))
            if renewed:
                opps.append(dict(base, created=created, close=day - int(rng.integers(0, 15)), outcome="won",
                                 amount=12 * new))
            else:
                opps.append(dict(base, created=created, close=day - int(rng.integers(0, 8)), outcome="lost",
                                 amount=12 * old, drop=int(rng.choice([1, 2, 3], p=[0.2, 0.4, 0.4]))))
        # open renewals and open expansions at the end of the window
        for c, annual, term_end, total, h in self.end_state:
            if self.self_serve[c]:
                continue
            sg = int(self.seg[c])
            base = dict(rep=int(self.ae[c]), sg=sg, source=self.cust_source[c], cur=self.cur[c],
                        region=int(self.region[c]), c=c)
            if annual and term_end is not None:
                created = term_end - int(rng.integers(60, 121))
                if created < W:
                    won = rng.random() > _sigmoid(_RENEWAL_CHURN_A[sg] - _BETA * h)
                    opps.append(dict(base, created=created, close=term_end, outcome="won" if won else "lost",
                                     amount=12 * total, type="renewal", term=12, product="Core"))
            if sales_led_account(c) and rng.random() < 0.06 * math.exp(0.5 * h):
                created = W - 1 - int(rng.integers(0, 60))
                opps.append(dict(base, created=created, close=W + int(rng.integers(5, 150)),
                                 outcome="won" if rng.random() < 0.6 else "lost",
                                 amount=12 * total * rng.uniform(0.1, 0.3), type="expansion",
                                 term=12 if annual else 1, product=str(rng.choice(["Core", "Analytics"]))))

        # stable order: by created date, then generation order
        order = sorted(range(len(opps)), key=lambda i: (opps[i]["created"], i))
        self.opps = [opps[i] for i in order]
        self._histories()

    def _draw_mrr(self, sg: int) -> float:
        v = math.exp(math.log(_MRR_MEDIAN[sg]) + _MRR_SIGMA[sg] * self.rng.standard_normal())
        return round(min(_MRR_CLIP[sg][1], max(_MRR_CLIP[sg][0], v)), 2)

    def _histories(self) -> None:
        """Stage path, amount changes and close-date slips of every opportunity, as of the window end."""
        rng, W = self.rng, self.W
        rows: list[tuple] = []  # (opp_index, day, stage, amount, close_date, fc, closed, won)
        won_nb = [i for i, o in enumerate(self.opps) if o["type"] == "new_business" and o["outcome"] == "won"
                  and o["c"] >= 0]
        # dirt: won deals that disagree with billing (amount off by >10% or close >30 days early)
        n_dirty = max(2, int(round(0.015 * len(won_nb))))
        dirty = rng.choice(won_nb, size=min(n_dirty, len(won_nb)), replace=False)
        self.dirty_amount, self.dirty_close = set(), set()
        for j, i in enumerate(sorted(dirty)):
            o = self.opps[i]
            if j % 2 == 0:
                o["amount"] *= float(rng.choice([rng.uniform(1.15, 1.5), rng.uniform(0.55, 0.85)]))
                self.dirty_amount.add(i)
            else:
                shift = int(rng.integers(35, 76))
                o["close"] -= shift
                o["created"] -= shift
                self.dirty_close.add(i)
        for o in self.opps:
            o["amount"] = round(float(o["amount"]), 2)

        open_idx = [i for i, o in enumerate(self.opps) if o["close"] >= W]
        blank = rng.choice(open_idx, size=min(len(open_idx), 12), replace=False) if open_idx else []
        self.blank_amount = set(int(i) for i in blank[:6])
        self.blank_close = set(int(i) for i in blank[6:])

        for i, o in enumerate(self.opps):
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
            if i in self.blank_amount:
                amt = None
            if i in self.blank_close:
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
                    stage = _WON if o["outcome"] == "won" else _LOST
                    if amt is not None:
                        amt = amount
                    cd = close
                row = (i, day, stage, amt, cd)
                if hist and hist[-1][1] == day:
                    hist[-1] = row
                else:
                    hist.append(row)
            for (_, day, stage, amt, cd) in hist:
                fc = _STAGE_FC[stage]
                if stage in (2, 3) and rng.random() < 0.1:
                    fc = "commit" if stage == 2 else "best_case"
                rows.append((i, day, stage, amt, cd, fc, stage >= _WON, stage == _WON))
        self.hist_rows = rows

    # ------------------------------------------------------------------ leads
    def _leads(self) -> None:
        rng, W = self.rng, self.W
        leads: list[tuple] = []  # (created, channel, campaign, mql, sql, opp_index, c, trial, converted)
        first_start = {}
        for c, day, m, react, total in self.starts:
            if not react:
                first_start[c] = day
        for i, o in enumerate(self.opps):
            if o["type"] != "new_business":
                continue
            if rng.random() >= {"inbound": 1.0, "event": 1.0, "partner": 0.85, "outbound": 0.5}[o["source"]]:
                continue
            c = o["c"]
            if c >= 0:
                ch = CHANNELS[int(self.channel[c])]
            else:
                ch = {"inbound": ("organic" if rng.random() < 0.45 else "paid_search"), "event": "outbound",
                      "partner": "partner", "outbound": "outbound"}[o["source"]]
            camp = "field-events" if o["source"] == "event" else str(rng.choice(_CAMPAIGNS[ch][:2] if ch == "outbound" else _CAMPAIGNS[ch]))
            oc = int(o["created"])
            created = oc - int(rng.integers(3, 41))
            mql = created + int((oc - created) * rng.uniform(0.1, 0.5))
            sql = mql + int((oc - mql) * rng.uniform(0.3, 1.0))
            trial = None
            if o["sg"] == 0 and o["source"] == "inbound" and rng.random() < 0.4:
                trial = created + int(rng.integers(0, 4))
            converted = first_start.get(c) if c >= 0 else None
            leads.append((created, ch, camp, mql, sql, i, c if c >= 0 else None, trial, converted))
        for c in np.flatnonzero(self.self_serve):
            c = int(c)
            start = int(self.start_day[c])
            created = start - int(rng.integers(14, 36))
            trial = created + int(rng.integers(0, 4))
            ch = CHANNELS[int(self.channel[c])]
            leads.append((created, ch, str(rng.choice(_CAMPAIGNS[ch])), trial + int(rng.integers(1, 6)), None,
                          None, c, trial, start))
        # leads that never converted
        n_rest = max(0, int(round(9.0 * self.n)) - len(leads))
        T = self.T
        w = np.exp(_GROWTH * np.arange(T))
        month = rng.choice(T, size=n_rest, p=w / w.sum())
        chs = rng.choice(4, size=n_rest, p=(0.33, 0.37, 0.08, 0.22))
        for m, chi in zip(month, chs):
            ch = CHANNELS[int(chi)]
            created = self.cal_ms[int(m) + self.OFF] + int(rng.integers(0, self.dim[int(m) + self.OFF]))
            mql = created + int(rng.integers(0, 21)) if rng.random() < 0.28 else None
            sql = mql + int(rng.integers(2, 31)) if (mql is not None and rng.random() < 0.18) else None
            trial = created + int(rng.integers(0, 6)) if (chi <= 1 and rng.random() < 0.12) else None
            mql = mql if mql is not None and mql < W else None
            sql = sql if sql is not None and mql is not None and sql < W else None
            trial = trial if trial is not None and trial < W else None
            leads.append((created, ch, str(rng.choice(_CAMPAIGNS[ch])), mql, sql, None, None, trial, None))
        # dirt: a few leads lost their channel (and campaign) in a CRM migration
        blank = set(rng.choice(len(leads), size=max(1, len(leads) // 200), replace=False).tolist())
        leads = [(l[0], None, None) + l[3:] if j in blank else l for j, l in enumerate(leads)]
        self.n_blank_channel = len(blank)
        order = sorted(range(len(leads)), key=lambda j: (leads[j][0], j))
        self.lead_rows = [leads[j] for j in order]

    # ------------------------------------------------------------------ usage, tickets, NPS
    def _usage_tickets_nps(self) -> None:
        rng, W = self.rng, self.W
        cm = self.cm
        c = np.array([r[0] for r in cm], dtype=np.int64)
        m = np.array([r[1] for r in cm], dtype=np.int64)
        lo = np.array([r[2] for r in cm], dtype=np.int64)
        hi = np.array([r[3] for r in cm], dtype=np.int64)
        seats = np.array([r[4] for r in cm], dtype=float)
        addon = np.array([r[5] for r in cm], dtype=bool)
        h = np.array([r[6] for r in cm], dtype=float)
        total = np.array([r[7] for r in cm], dtype=float)
        seg = self.seg[c]
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
        self.usage = pd.DataFrame({"c": c, "m": m, "active_users": active, "licensed_seats": seats,
                                   "feature_events": events})
        self.cm_arr = dict(c=c, m=m, lo=lo, hi=hi, h=h, total=total, seg=seg)

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
        self.tickets = pd.DataFrame({
            "ticket_id": [f"TCK-{i + 1:06d}" for i in range(nt)],
            "c": c[rep][order], "opened": opened[order], "closed": closed[order],
            "priority": np.array(["low", "normal", "high", "urgent"])[pri][order], "csat": csat[order]})

        # NPS: a survey in the middle month of every quarter, ~40% of invited contacts answer
        cal_month = np.array(self.cal_month)[m + self.OFF]
        first_m = np.full(self.n, 10 ** 6)
        for cc, day, mm, react, tot in self.starts:
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
        self.nps = pd.DataFrame({"c": c[rep][order], "when": when[order], "score": score[order]})

    # ------------------------------------------------------------------ invoices
    def _invoices(self) -> None:
        rng, W = self.rng, self.W
        inv = self.inv_raw
        n = len(inv)
        c = np.array([r[0] for r in inv], dtype=np.int64)
        issued = np.array([r[1] for r in inv], dtype=np.int64)
        amount = np.round(np.array([r[2] for r in inv], dtype=float), 2)
        kind = np.array([r[3] for r in inv], dtype=object)
        s0 = np.array([r[4] for r in inv], dtype=np.int64)
        s1 = np.array([r[5] for r in inv], dtype=np.int64)
        m = np.array([r[6] for r in inv], dtype=np.int64)
        h = self.H[c, np.minimum(m, self.T - 1)]
        seg = self.seg[c]
        delay = np.round(np.exp(rng.normal(2.9 - 0.25 * h + 0.2 * seg, 0.45)))
        late = rng.random(n) < 0.04 * np.exp(-0.6 * h)
        delay = np.where(late, rng.integers(46, 150, n), np.minimum(delay, 45))
        never = rng.random(n) < 0.006 * np.exp(-0.8 * h)
        paid = issued + delay
        paid = np.where(never | (paid >= W), np.nan, paid)
        cor_share = np.where(kind == "recurring", rng.uniform(0.15, 0.26, n),
                             np.where(kind == "services", rng.uniform(0.24, 0.30, n), rng.uniform(0.18, 0.28, n)))
        order = np.lexsort((np.arange(n), c, issued))
        self.invoices = pd.DataFrame({
            "invoice_id": [f"INV-{i + 1:06d}" for i in range(n)], "c": c[order], "issued": issued[order],
            "amount": amount[order], "kind": kind[order], "s0": s0[order], "s1": s1[order],
            "paid": paid[order], "cor": np.round(amount * cor_share, 2)[order]})

    # ------------------------------------------------------------------ costs
    def _costs(self) -> None:
        rng, T = self.rng, self.T
        eur = np.array([self.fx("EUR", m) for m in range(T)])
        a = self.cm_arr
        fxm = np.where(np.array([self.cur[i] == "EUR" for i in a["c"]]), eur[a["m"]], 1.0)
        mrr_usd = np.bincount(a["m"], weights=a["total"] * fxm, minlength=T)
        new_usd = np.zeros(T)
        self.new_by_channel = np.zeros((T, 4))
        for c, day, m, react, total in self.starts:
            if not react:
                new_usd[m] += total * self.fx(self.cur[c], m)
                self.new_by_channel[m, int(self.channel[c])] += 1
        smooth = np.array([new_usd[max(0, m - 2):m + 1].mean() for m in range(T)])
        self.mrr_usd, self.new_usd = mrr_usd, new_usd
        rows = []
        split = np.array([0.15, 0.42, 0.20, 0.23])  # marketing programs by channel
        for m in range(T):
            month = self.cal_ms[m + self.OFF]
            snm = 13.0 * smooth[m] * rng.uniform(0.93, 1.07) + 30000.0
            noise = rng.uniform(0.95, 1.05, size=16)
            programs = 0.30 * snm * split * noise[:4]
            for ch, amt in zip(CHANNELS, programs):
                rows.append((month, "marketing_programs", round(float(amt), 2), ch))
            rows += [
                (month, "marketing_payroll", round(0.17 * snm * noise[4], 2), None),
                (month, "sales_payroll", round(0.40 * snm * noise[5], 2), None),
                (month, "tools_infrastructure", round(0.06 * snm * noise[6], 2), None),
                (month, "external_services", round(0.07 * snm * noise[7], 2), None),
                (month, "customer_success", round((0.07 * mrr_usd[m] + 12000) * noise[8], 2), None),
                (month, "cost_of_revenue", round((0.21 * mrr_usd[m] + 15000) * noise[9], 2), None),
                (month, "research_development", round((0.25 * mrr_usd[m] + 120000) * noise[10], 2), None),
                (month, "general_administrative", round((0.12 * mrr_usd[m] + 60000) * noise[11], 2), None),
            ]
        assert {r[1] for r in rows} == set(COST_CATEGORIES)
        self.cost_rows = rows

    # ------------------------------------------------------------------ quotas and forecasts
    def _quarters(self, first_q: int, last_q: int) -> list[tuple[str, int, int]]:
        """(label, first window month, end window month) for absolute quarter numbers year*4+q."""
        out = []
        base = self.first_month.year * 12 + self.first_month.month - 1
        for aq in range(first_q, last_q + 1):
            y, q = divmod(aq, 4)
            m = y * 12 + 3 * q - base
            out.append((f"{y}-Q{q + 1}", m, m + 3))
        return out

    def _sales_plans(self) -> None:
        rng, W = self.rng, self.W
        fm = self.first_month
        self.q_first = fm.year * 4 + (fm.month - 1) // 3
        last = self.cal[self.OFF + self.T - 1]
        self.q_last = last.year * 4 + (last.month - 1) // 3
        quarters = self._quarters(self.q_first, self.q_last + 2)
        n_rep = len(self.rep_names)
        nq = len(quarters)
        # actual bookings (won new business + expansion, USD) per rep and quarter
        state = self._opp_state()
        self.opp_state = state
        book = np.zeros((n_rep, nq))
        won = state[(state["is_won"]) & (state["type"] != "renewal")]
        for o in won.itertuples():
            m = self.month_of(int(o.close_date))
            qi = next((j for j, (_, a, b) in enumerate(quarters) if a <= m < b), None)
            if qi is not None and not np.isnan(o.amount):
                book[o.rep, qi] += o.amount * self.fx(o.currency, m)
        self.bookings_q = book
        n_actual = self.q_last - self.q_first + 1
        rows = []
        for t, team in enumerate(self.rep_ids):
            team_book = book[team, :n_actual].sum(axis=0)
            trend = _loglinear(team_book, nq)
            for j, (label, a, b) in enumerate(quarters):
                for r in team:
                    quota = trend[j] / len(team) * rng.uniform(1.05, 1.25)
                    rows.append((self.rep_names[r], label, round(quota, -3), _TEAMS[t]))
        self.quota_rows = rows
        subs = []
        for j, (label, a, b) in enumerate(quarters[:n_actual]):
            qs = self.cal_ms[a + self.OFF]
            for r in range(n_rep):
                actual = book[r, j]
                for k, (offset, sd) in enumerate(((6, 0.30), (45, 0.20), (70, 0.12))):
                    when = qs + offset
                    if when >= W:
                        continue
                    commit = actual * math.exp(rng.normal(-0.12, sd))
                    best = actual * math.exp(rng.normal(0.15, sd))
                    best = max(best, commit)
                    subs.append((when, label, round(commit, 2), self.rep_names[r], _TEAMS[self.rep_team[r]], "commit"))
                    subs.append((when, label, round(best, 2), self.rep_names[r], _TEAMS[self.rep_team[r]], "best_case"))
        self.fc_rows = subs

    def _opp_state(self) -> pd.DataFrame:
        last = {}
        for row in self.hist_rows:
            last[row[0]] = row
        recs = []
        for i, o in enumerate(self.opps):
            _, day, stage, amt, cd, fc, closed, won = last[i]
            recs.append(dict(i=i, rep=o["rep"], type=o["type"], stage=stage, amount=np.nan if amt is None else amt,
                             close_date=np.nan if cd is None else cd, is_closed=closed, is_won=won,
                             fc=fc, currency=o["cur"], sg=o["sg"], source=o["source"], created=o["created"]))
        return pd.DataFrame(recs)

    # ------------------------------------------------------------------ targets
    def _targets(self) -> None:
        T = self.T
        quarters = self._quarters(self.q_first, self.q_last)
        nqa = len(quarters)
        a = self.cm_arr
        # month-level facts
        cust_m = np.zeros((self.n, T))
        eur_fixed = 1.10
        cust_m[a["c"], a["m"]] = a["total"] * np.where(
            np.array([self.cur[i] == "EUR" for i in a["c"]]), eur_fixed, 1.0)
        actual = {k: np.full(nqa, np.nan) for k in KPI_TARGETS}
        seg_nrr = np.full(nqa, np.nan)
        seg_churn = np.full(nqa, np.nan)
        state = self.opp_state
        nb = state[(state["type"] == "new_business") & state["is_closed"]]
        nb_m = self.months_of(nb["close_date"].to_numpy(dtype=np.int64))
        costs = pd.DataFrame(self.cost_rows, columns=["month", "category", "amount", "channel"])
        cm_idx = np.array(self.months_of(costs["month"].to_numpy(dtype=np.int64)))
        snm_cat = ("marketing_programs", "marketing_payroll", "sales_payroll", "tools_infrastructure",
                   "external_services")
        inv = self.invoices
        inv_usd = inv["amount"].to_numpy() * np.where(
            np.array([self.cur[i] == "EUR" for i in inv["c"]]),
            self.eur[np.clip(self.months_of(inv["issued"].to_numpy()) + 12, 0, len(self.eur) - 1)], 1.0)
        for j, (label, s, e) in enumerate(quarters):
            s_, e_ = max(s, 0), min(e, T)
            if e_ <= s_:
                continue
            actual["mrr"][j] = self.mrr_usd[e_ - 1]
            actual["arr"][j] = 12 * self.mrr_usd[e_ - 1]
            actual["customers_new"][j] = sum(1 for st in self.starts if not st[3] and s_ <= st[2] < e_)
            actual["bookings"][j] = self.bookings_q[:, j].sum()
            if s_ >= 1:
                m0 = cust_m[:, s_ - 1]
                m1 = cust_m[:, e_ - 1]
                base = m0 > 0
                actual["nrr"][j] = m1[base].sum() / m0[base].sum()
                actual["grr"][j] = np.minimum(m1, m0)[base].sum() / m0[base].sum()
                churned = base & (cust_m[:, s_:e_].min(axis=1) == 0)
                actual["logo_churn_rate"][j] = churned.sum() / base.sum()
                ent = base & (self.seg == 2)
                seg_nrr[j] = m1[ent].sum() / max(m0[ent].sum(), 1e-9)
                smb = base & (self.seg == 0)
                seg_churn[j] = churned[smb].sum() / max(smb.sum(), 1)
            inq = (nb_m >= s_) & (nb_m < e_)
            if inq.sum():
                actual["win_rate"][j] = nb["is_won"].to_numpy()[inq].mean()
            in_c = (cm_idx >= s_) & (cm_idx < e_)
            snm = costs.loc[in_c & costs["category"].isin(snm_cat).to_numpy(), "amount"].sum()
            cor = costs.loc[in_c & (costs["category"] == "cost_of_revenue").to_numpy(), "amount"].sum()
            rev = self.mrr_usd[s_:e_].sum()
            gm = 1 - cor / rev if rev > 0 else np.nan
            actual["gross_margin"][j] = gm
            new = self.new_usd[s_:e_].sum()
            actual["cac_payback_months"][j] = snm / (new * gm) if new > 0 and gm > 0 else np.nan
            resp = self.nps[(self.months_of(self.nps["when"].to_numpy()) >= s_)
                            & (self.months_of(self.nps["when"].to_numpy()) < e_)]["score"]
            if len(resp):
                actual["nps"][j] = 100 * ((resp >= 9).mean() - (resp <= 6).mean())
            # DSO = receivables at quarter end / billings of the quarter x days (finance.dso)
            qs, qe = self.cal_ms[s_ + self.OFF], self.cal_ms[e_ + self.OFF]
            issued = inv["issued"].to_numpy()
            paid = inv["paid"].to_numpy()
            open_ar = (issued < qe) & (np.isnan(paid) | (paid >= qe))
            billed = (issued >= qs) & (issued < qe)
            if inv_usd[billed].sum() > 0:
                actual["dso"][j] = inv_usd[open_ar].sum() / inv_usd[billed].sum() * (qe - qs)
        fc = pd.DataFrame(self.fc_rows, columns=["when", "period", "amount", "owner", "team", "category"])
        last_commit = fc[fc["category"] == "commit"].sort_values("when").groupby("period")["amount"].agg("sum")
        for j, (label, s, e) in enumerate(quarters):
            act = actual["bookings"][j]
            if label in last_commit.index and act > 0:
                actual["forecast_accuracy"][j] = max(0.0, 1 - abs(last_commit[label] / 3 - act) / act)
        self.actuals = actual

        # targets: one per KPI and quarter from the second year of data to a year after the end
        t_first = (self.first_month.year + 1) * 4
        t_last = (self.cal[self.OFF + self.T - 1].year + 1) * 4 + 3
        tq = self._quarters(t_first, t_last)
        owner = {"mrr": "CFO", "arr": "CFO", "nrr": "VP Customer Success", "grr": "VP Customer Success",
                 "logo_churn_rate": "VP Customer Success", "customers_new": "VP Sales", "bookings": "VP Sales",
                 "win_rate": "VP Sales", "pipeline_coverage": "VP Sales", "cac_payback_months": "VP Marketing",
                 "nps": "VP Customer Success", "gross_margin": "CFO", "dso": "CFO",
                 "forecast_accuracy": "Head of RevOps", "crm_quality_score": "Head of RevOps"}
        level = {"mrr", "arr", "customers_new", "bookings"}
        rows = []
        for kpi in KPI_TARGETS:
            hist = actual[kpi]
            for j, (label, s, e) in enumerate(tq):
                jq = t_first + j - self.q_first  # index in the actual quarters
                if kpi in level:
                    target = _plan(hist, jq, kpi in ("bookings", "customers_new"))
                    target = round(target, -3) if kpi in ("mrr", "arr", "bookings") else round(target)
                elif kpi == "pipeline_coverage":
                    target = 3.0
                elif kpi == "crm_quality_score":
                    target = round(min(98.0, 88.0 + 1.0 * j), 1)  # 0-100 score
                else:
                    # the four latest actual quarters before the target quarter
                    known = min(jq, nqa)
                    prev = hist[max(0, known - 4):known]
                    prev = prev[~np.isnan(prev)]
                    if not len(prev):
                        prev = hist[~np.isnan(hist)][:1]
                    ref = float(np.mean(prev)) if len(prev) else np.nan
                    target = {
                        "nrr": ref + 0.005, "grr": ref + 0.005, "win_rate": ref + 0.02,
                        "logo_churn_rate": ref * 0.9, "cac_payback_months": ref * 0.9,
                        "nps": ref + 4, "gross_margin": ref + 0.01, "dso": ref - 3,
                        "forecast_accuracy": min(0.92, ref + 0.02),
                    }[kpi]
                    target = round(float(target), 1 if kpi in ("nps", "dso", "cac_payback_months") else 4)
                if not np.isnan(target):  # a KPI without any actual yet gets no target
                    rows.append((kpi, label, target, None, owner[kpi]))
        for j, (label, s, e) in enumerate(tq):
            jq = t_first + j - self.q_first
            prev = seg_nrr[max(0, jq - 4):min(jq, nqa)]
            prev = prev[~np.isnan(prev)]
            if len(prev):
                rows.append(("nrr", label, round(float(prev.mean()) + 0.01, 4), "Enterprise", "VP Customer Success"))
            prev = seg_churn[max(0, jq - 4):min(jq, nqa)]
            prev = prev[~np.isnan(prev)]
            if len(prev):
                rows.append(("logo_churn_rate", label, round(float(prev.mean()) * 0.9, 4), "SMB",
                             "VP Customer Success"))
        self.target_rows = rows

    # ------------------------------------------------------------------ frames
    def _frames(self) -> dict[str, pd.DataFrame]:
        rng = self.rng
        n = self.n
        ids = self.ids
        # ---- customers (+ dirt: hostile names, duplicate accounts)
        names = list(self.names)
        sales_led = np.flatnonzero(~self.self_serve)
        hostile = rng.choice(sales_led, size=len(HOSTILE_NAMES), replace=False)
        for c, name in zip(sorted(hostile.tolist()), HOSTILE_NAMES):
            names[c] = name
        self.hostile = sorted(hostile.tolist())
        cand = [c for c in range(n) if c not in set(self.hostile) and self.start_day[c] < self.W - 400]
        dups = sorted(rng.choice(cand, size=min(5, len(cand)), replace=False).tolist())
        created = [int(self.close_day[c]) for c in range(n)]
        cust = dict(
            customer_id=list(ids), name=names, domain=list(self.domains),
            segment=[SEGMENTS[s] for s in self.seg], region=[_REGIONS[r] for r in self.region],
            country=list(self.country), industry=list(self.industry),
            acquisition_channel=[CHANNELS[ch] for ch in self.channel], owner=list(self.csm),
            created_at=created,
        )
        variants = (lambda s: s.upper() + " Inc.", lambda s: s + ", Inc.", lambda s: s.lower(),
                    lambda s: s + " Ltd", lambda s: s + " (EMEA)")
        self.duplicates = []
        for k, c in enumerate(dups):
            new_id = f"CUS-{n + k + 1:05d}"
            self.duplicates.append((ids[c], new_id))
            cust["customer_id"].append(new_id)
            cust["name"].append(variants[k % len(variants)](self.names[c]))
            cust["domain"].append(self.domains[c])
            cust["segment"].append(SEGMENTS[self.seg[c]])
            cust["region"].append(_REGIONS[self.region[c]])
            cust["country"].append(self.country[c])
            cust["industry"].append(None if k % 2 else self.industry[c])
            cust["acquisition_channel"].append(CHANNELS[self.channel[c]])
            cust["owner"].append(self.csm[(c + 7) % n])
            cust["created_at"].append(created[c] + int(rng.integers(30, 400)))
        customers = pd.DataFrame(cust)
        customers["created_at"] = _dates(customers["created_at"])

        # ---- subscriptions
        subs = sorted(self.subs, key=lambda r: (r[0], r[2], 0 if r[1] == "Core" else 1))
        subscriptions = pd.DataFrame({
            "subscription_id": [f"SUB-{i + 1:06d}" for i in range(len(subs))],
            "customer_id": [ids[r[0]] for r in subs],
            "start_date": _dates([r[2] for r in subs]),
            "end_date": _dates([r[3] for r in subs]),
            "mrr": np.round([float(r[4]) for r in subs], 2),
            "currency": [self.cur[r[0]] for r in subs],
            "product": [r[1] for r in subs],
            "plan": [r[5] for r in subs],
            "quantity": np.array([r[6] for r in subs], dtype=float),
            "committed_end_date": _dates([r[7] for r in subs]),
        })

        # ---- invoices
        inv = self.invoices
        invoices = pd.DataFrame({
            "invoice_id": inv["invoice_id"], "customer_id": [ids[c] for c in inv["c"]],
            "issued_at": _dates(inv["issued"]), "amount": inv["amount"].round(2),
            "currency": [self.cur[c] for c in inv["c"]], "due_at": _dates(inv["issued"] + 30),
            "paid_at": _dates(inv["paid"]), "kind": inv["kind"].astype(str),
            "cost_of_revenue": inv["cor"], "service_start": _dates(inv["s0"]), "service_end": _dates(inv["s1"]),
        })

        # ---- opportunities and history
        st = self.opp_state
        oid = [f"OPP-{i + 1:06d}" for i in range(len(self.opps))]
        opportunities = pd.DataFrame({
            "opportunity_id": oid,
            "created_at": _dates([o["created"] for o in self.opps]),
            "stage": [_STAGES[s] for s in st["stage"]],
            "amount": st["amount"].to_numpy(dtype=float),
            "customer_id": [ids[o["c"]] if o["c"] >= 0 else None for o in self.opps],
            "owner": [self.rep_names[o["rep"]] for o in self.opps],
            "team": [_TEAMS[self.rep_team[o["rep"]]] for o in self.opps],
            "source": [o["source"] for o in self.opps],
            "type": [o["type"] for o in self.opps],
            "close_date": _dates(st["close_date"]),
            "is_closed": st["is_closed"].astype(bool).to_numpy(),
            "is_won": st["is_won"].astype(bool).to_numpy(),
            "probability": [_STAGE_PROB[s] for s in st["stage"]],
            "forecast_category": st["fc"].to_numpy(),
            "term_months": np.array([o["term"] for o in self.opps], dtype=float),
            "currency": [o["cur"] for o in self.opps],
            "product": [o["product"] for o in self.opps],
        })
        hr = self.hist_rows
        history = pd.DataFrame({
            "opportunity_id": [oid[r[0]] for r in hr],
            "changed_at": _dates([r[1] for r in hr]),
            "stage": [_STAGES[r[2]] for r in hr],
            "amount": np.array([np.nan if r[3] is None else r[3] for r in hr], dtype=float),
            "close_date": _dates([r[4] for r in hr]),
            "forecast_category": [r[5] for r in hr],
            "is_closed": np.array([r[6] for r in hr], dtype=bool),
            "is_won": np.array([r[7] for r in hr], dtype=bool),
        })

        # ---- leads
        lr = self.lead_rows
        leads = pd.DataFrame({
            "lead_id": [f"LEAD-{i + 1:06d}" for i in range(len(lr))],
            "created_at": _dates([r[0] for r in lr]),
            "channel": [r[1] for r in lr], "campaign": [r[2] for r in lr],
            "mql_at": _dates([r[3] for r in lr]), "sql_at": _dates([r[4] for r in lr]),
            "opportunity_id": [oid[r[5]] if r[5] is not None else None for r in lr],
            "customer_id": [ids[r[6]] if r[6] is not None else None for r in lr],
            "trial_started_at": _dates([r[7] for r in lr]),
            "converted_at": _dates([r[8] for r in lr]),
        })

        # ---- costs
        costs = pd.DataFrame(self.cost_rows, columns=["month", "category", "amount", "channel"])
        costs["month"] = _dates(costs["month"])
        costs["currency"] = "USD"
        costs = costs[["month", "category", "amount", "channel", "currency"]]

        # ---- support, NPS, usage
        tk = self.tickets
        support = pd.DataFrame({
            "ticket_id": tk["ticket_id"], "customer_id": [ids[c] for c in tk["c"]],
            "opened_at": _dates(tk["opened"]), "closed_at": _dates(tk["closed"]),
            "priority": tk["priority"].astype(str), "csat": tk["csat"].astype(float),
        })
        nps = pd.DataFrame({"customer_id": [ids[c] for c in self.nps["c"]],
                            "responded_at": _dates(self.nps["when"]),
                            "score": self.nps["score"].astype(np.int64)})
        us = self.usage
        usage = pd.DataFrame({
            "customer_id": [ids[c] for c in us["c"]],
            "month": _dates([self.cal_ms[m + self.OFF] for m in us["m"]]),
            "active_users": us["active_users"].astype(float), "licensed_seats": us["licensed_seats"].astype(float),
            "feature_events": us["feature_events"].astype(float),
        }).sort_values(["customer_id", "month"], kind="mergesort").reset_index(drop=True)

        quotas = pd.DataFrame(self.quota_rows, columns=["owner", "period", "amount", "team"])
        fcs = pd.DataFrame(self.fc_rows, columns=["submitted_at", "period", "amount", "owner", "team", "category"])
        fcs["submitted_at"] = _dates(fcs["submitted_at"])
        fcs = fcs[["submitted_at", "period", "amount", "owner", "team", "category"]]
        targets = pd.DataFrame(self.target_rows, columns=["kpi", "period", "target", "segment", "owner"])
        targets["baseline"] = np.nan
        fx_months = [self.cal_ms[self.OFF + m] for m in range(-12, self.T)]
        fx = pd.DataFrame({
            "month": _dates(fx_months * 2),
            "currency": ["USD"] * len(fx_months) + ["EUR"] * len(fx_months),
            "rate": [1.0] * len(fx_months) + [float(v) for v in self.eur],
        })

        tables = {
            "customers": customers, "subscriptions": subscriptions, "invoices": invoices,
            "opportunities": opportunities, "opportunity_history": history, "leads": leads,
            "costs": costs, "support_tickets": support, "nps_responses": nps, "product_usage": usage,
            "quotas": quotas, "forecast_submissions": fcs, "targets": targets, "fx_rates": fx,
        }
        out = {}
        for name, frame in tables.items():
            frame = _sort(name, frame)
            out[name] = _normalise(name, frame)
        return out


# ============================================================================= helpers
def _dates(days) -> pd.Series:
    """Day numbers (float/int/None) to a datetime64 Series (missing -> NaT)."""
    arr = np.array([np.nan if v is None else v for v in days], dtype=float) if not isinstance(
        days, (np.ndarray, pd.Series)) else np.asarray(days, dtype=float)
    out = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnan(arr)
    out[ok] = arr[ok].astype(np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    return pd.Series(out)


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


def _plan(hist: np.ndarray, j: int, seasonal: bool) -> float:
    """Plan of a level KPI for quarter ``j`` (index into ``hist``, the actual quarters).

    The plan only uses actuals known before quarter ``j`` and adds a 4% stretch: seasonal KPIs
    (bookings, new customers) grow the same quarter a year earlier by the latest year-on-year
    rate; stock KPIs (MRR, ARR) compound the latest quarterly growth rate from the latest actual.
    """
    hist = np.asarray(hist, dtype=float)
    last = min(j - 1, len(hist) - 1)
    if last < 0 or np.isnan(hist[last]):
        ok = hist[~np.isnan(hist)]
        return float(ok[0] * 1.04) if len(ok) else 0.0
    if seasonal:
        if last >= 7 and np.nansum(hist[last - 7:last - 3]) > 0:
            yoy = np.nansum(hist[last - 3:last + 1]) / np.nansum(hist[last - 7:last - 3])
        else:
            yoy = 1.5
        yoy = min(1.8, max(1.0, yoy))
        base = hist[j - 4] if 0 <= j - 4 < len(hist) and not np.isnan(hist[j - 4]) else hist[last]
        if j - 4 > last:  # more than a year ahead: grow the planned year-ago quarter
            base = _plan(hist, j - 4, seasonal)
        return float(base * yoy * 1.04)
    if last >= 4 and hist[last - 4] > 0:
        qg = (hist[last] / hist[last - 4]) ** 0.25 - 1
    elif last >= 1 and hist[last - 1] > 0:
        qg = hist[last] / hist[last - 1] - 1
    else:
        qg = 0.1
    qg = min(0.25, max(0.0, qg))
    return float(hist[last] * (1 + qg) ** (j - last) * 1.04)


_SORT_KEYS = {
    "customers": ["customer_id"],
    "subscriptions": ["subscription_id"],
    "invoices": ["invoice_id"],
    "opportunities": ["opportunity_id"],
    "opportunity_history": ["opportunity_id", "changed_at"],
    "leads": ["lead_id"],
    "costs": ["month", "category", "channel"],
    "support_tickets": ["ticket_id"],
    "nps_responses": ["responded_at", "customer_id", "score"],
    "product_usage": ["customer_id", "month"],
    "quotas": ["period", "owner"],
    "forecast_submissions": ["period", "owner", "submitted_at", "category"],
    "targets": ["kpi", "period", "segment"],
    "fx_rates": ["month", "currency"],
}


def _sort(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(_SORT_KEYS[name], kind="mergesort", na_position="first").reset_index(drop=True)


def _normalise(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Schema column order and dtypes: ids/strings as str, money rounded, bools as bool."""
    table = TABLES[name]
    out = {}
    for col in table.columns:
        s = frame[col.name] if col.name in frame.columns else pd.Series([None] * len(frame))
        if col.kind in ("id", "str", "currency", "period"):
            s = s.astype(object).where(s.notna(), None)
            s = pd.Series([None if v is None else str(v) for v in s], dtype="str")
        elif col.kind == "money":
            s = pd.Series(np.round(s.astype(float).to_numpy(), 2))
        elif col.kind == "float":
            s = s.astype(float)
        elif col.kind == "int":
            s = s.astype(np.int64)
        elif col.kind == "bool":
            s = s.astype(bool)
        elif col.kind == "date":
            s = pd.to_datetime(s)
        out[col.name] = s.reset_index(drop=True)
    return pd.DataFrame(out)


def generate(seed: int = 42, *, n_customers: int = 2400, start: str = "2022-01",
             end: str = "2025-12") -> dict[str, pd.DataFrame]:
    """Generate the synthetic SaaS company.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives identical tables.
    n_customers : int
        Number of paying customers acquired over the window (five likely-duplicate CRM accounts
        come on top).
    start, end : str
        First and last month with data (``"YYYY-MM"``, both inclusive). Data ends on the last day
        of ``end``; open opportunities may close later.

    Returns
    -------
    dict of str to pandas.DataFrame
        The 14 canonical tables keyed by name, with exactly the columns of
        :data:`revops_kit.schema.TABLES` in that order: dates as ``datetime64`` (months as the
        first day of the month), ids and labels as strings, money rounded to cents, flags as bool.

    Examples
    --------
    >>> t = generate(seed=1, n_customers=60, start="2025-01", end="2025-06")
    >>> sorted(t) == sorted(["customers", "subscriptions", "invoices", "opportunities",
    ...     "opportunity_history", "leads", "costs", "support_tickets", "nps_responses",
    ...     "product_usage", "quotas", "forecast_submissions", "targets", "fx_rates"])
    True
    """
    return _Company(seed, n_customers, start, end).build()


_DECIMALS = {
    ("subscriptions", "quantity"): 0,
    ("opportunities", "probability"): 2,
    ("opportunities", "term_months"): 0,
    ("support_tickets", "csat"): 0,
    ("product_usage", "active_users"): 0,
    ("product_usage", "licensed_seats"): 0,
    ("product_usage", "feature_events"): 0,
    ("targets", "target"): 4,
    ("targets", "baseline"): 4,
    ("fx_rates", "rate"): 4,
}


def _to_text(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    table = TABLES[name]
    out = {}
    for col in table.columns:
        s = frame[col.name]
        if col.kind == "date":
            txt = s.dt.strftime("%Y-%m-%d")
            out[col.name] = txt.where(s.notna(), "")
        elif col.kind in ("money", "float"):
            k = 2 if col.kind == "money" else _DECIMALS.get((name, col.name), 4)
            out[col.name] = ["" if np.isnan(v) else f"{v:.{k}f}" for v in s.to_numpy(dtype=float)]
        elif col.kind == "int":
            out[col.name] = [str(int(v)) for v in s]
        elif col.kind == "bool":
            out[col.name] = ["True" if v else "False" for v in s]
        else:
            out[col.name] = ["" if pd.isna(v) else str(v) for v in s]
    return pd.DataFrame(out, columns=table.column_names)


def write_sample(out_dir, seed: int = 42, **kwargs) -> dict[str, int]:
    """Generate the company and write one ``<table>.csv`` per table.

    Parameters
    ----------
    out_dir : str or path-like
        Folder to write (created if missing). Existing CSVs of the 14 tables are overwritten.
    seed : int
        Seed passed to :func:`generate`.
    **kwargs
        ``n_customers``, ``start``, ``end`` of :func:`generate`.

    Returns
    -------
    dict of str to int
        Row count per table.

    Notes
    -----
    Dates are written ``YYYY-MM-DD``, money with two decimals, missing values as empty fields,
    rows sorted by the table's key (or date), ``\\n`` line endings: the same seed gives
    byte-identical files.
    """
    tables = generate(seed, **kwargs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, frame in tables.items():
        text = _to_text(name, frame)
        text.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
        counts[name] = len(frame)
    return counts
