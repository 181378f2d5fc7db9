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
  G&A) so that CAC payback is ~12-24 months and gross margin ~75%;
* targets are set relative to the KPIs that :func:`revops_kit.compute_kpis` computes on the
  generated tables (see :mod:`.targets`).

Untrusted text on purpose: four customers carry hostile names (:data:`HOSTILE_NAMES`: an HTML
``<script>`` tag, a spreadsheet formula, and names starting with ``@`` and ``+``) so that every
view is tested against injection. Realistic dirt that still passes :func:`schema.validate`: ~3% of
customers without industry, 5 likely-duplicate accounts (same domain, other spelling, own id),
~1.5% of won new-business deals whose amount or close date disagrees with billing, stale open
opportunities (close date in the past), a few open ones without amount or close date,
self-serve customers without any opportunity and a few leads without channel.

One module per part of the company, each a step ``step(state) -> result`` on one explicit
:class:`~.state.SampleState`: :mod:`.calendar`, :mod:`.finance` (FX, costs), :mod:`.customers`,
:mod:`.billing` (subscriptions, invoices), :mod:`.crm` (opportunities), :mod:`.leads`,
:mod:`.success` (usage, tickets, NPS), :mod:`.plans` (quotas, forecasts), :mod:`.targets`;
:mod:`.output` shapes and writes the tables. Randomness only comes from
``numpy.random.default_rng(seed)``, drawn in the fixed order of :func:`generate`; nothing reads
the clock.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .billing import draw_invoices, invoice_frame, simulate_subscriptions, subscription_frame
from .calendar import Calendar
from .constants import CHANNELS, HOSTILE_NAMES, SEGMENTS
from .crm import draw_opportunities, opportunity_frames
from .customers import customer_frame, draw_customers
from .finance import cost_frame, fx_frame, simulate_costs, simulate_fx
from .leads import draw_leads, lead_frame
from .output import normalise, sort_table, to_text
from .plans import draw_sales_plans, forecast_frame, quota_frame
from .state import SampleState
from .success import draw_success, success_frames
from .targets import KPI_TARGETS, target_frame

__all__ = ["generate", "write_sample", "simulate", "SEGMENTS", "CHANNELS", "HOSTILE_NAMES", "KPI_TARGETS"]


def simulate(seed: int, n_customers: int, start: str, end: str) -> SampleState:
    """Run every simulation step, in the order of the random draws, and return the state."""
    if int(n_customers) < 20:
        raise ValueError(f"generate: n_customers must be at least 20, got {n_customers!r}")
    cal = Calendar.build(start, end)
    state = SampleState(rng=np.random.default_rng(seed), cal=cal, n=int(n_customers))
    state.fx = simulate_fx(state)
    state.customers = draw_customers(state)
    state.billing = simulate_subscriptions(state)
    state.crm = draw_opportunities(state)
    state.leads = draw_leads(state)
    state.success = draw_success(state)
    state.invoices = draw_invoices(state)
    state.costs = simulate_costs(state)
    state.plans = draw_sales_plans(state)
    return state


def _tables(state: SampleState) -> dict[str, pd.DataFrame]:
    customers = customer_frame(state)  # draws the hostile names and duplicates: first
    opportunities, history = opportunity_frames(state)
    support, nps, usage = success_frames(state)
    tables = {
        "customers": customers, "subscriptions": subscription_frame(state),
        "invoices": invoice_frame(state), "opportunities": opportunities,
        "opportunity_history": history, "leads": lead_frame(state), "costs": cost_frame(state),
        "support_tickets": support, "nps_responses": nps, "product_usage": usage,
        "quotas": quota_frame(state), "forecast_submissions": forecast_frame(state),
    }
    fx = fx_frame(state)
    tables["targets"] = target_frame(state, {**tables, "fx_rates": fx})
    tables["fx_rates"] = fx
    return tables


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
    state = simulate(seed, n_customers, start, end)
    return {name: normalise(name, sort_table(name, frame)) for name, frame in _tables(state).items()}


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
        to_text(name, frame).to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
        counts[name] = len(frame)
    return counts
