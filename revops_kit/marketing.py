"""Marketing and acquisition KPIs: lead funnel, trial conversion, CAC, CPA, ROI, payback, LTV:CAC.

Definitions
-----------
* **Acquisition costs** (``CAC_CATEGORIES``): the ``costs`` rows of categories
  marketing_programs, marketing_payroll, sales_payroll, tools_infrastructure and external_services
  whose ``month`` is in the period, converted to the reporting currency at the month's rate.
  A row with a ``channel`` is that channel's *direct* cost; a row without one is *shared*.
* **New customers** and their MRR come from ``rk.arpa`` (revenue module): customers whose first
  active month is in the period, with the MRR of that month (``new_mrr``). Their channel is
  ``customers.acquisition_channel`` (``"(missing)"`` when blank).
* **Shared-cost allocation** to channels (``policy.cac_allocation``): ``"spend_share"`` (default)
  splits each period's shared costs in proportion to the channels' direct spend, so channels
  without direct spend (e.g. a "(missing)" channel) carry none; ``"new_customers"`` splits them in
  proportion to each channel's new customers. Either way the channel costs add up to the total.
* **Lead funnel** steps: lead (``created_at``) → MQL (``mql_at``) → SQL (``sql_at``) →
  opportunity (``created_at`` of the lead's ``opportunity_id``) → won (that opportunity's close
  date when it is won; without an opportunities table, ``converted_at``). A lead that reached a
  later step passed the earlier ones, even where their date is missing (the missing date is then
  taken as the next known step's date for period counts, and left out of durations).
"""

from __future__ import annotations

import warnings
from typing import Iterable

import numpy as np
import pandas as pd

from ._common import frame_cache, as_list, ratio_frame, to_reporting_currency
from .catalog import NotGroupableError, register
from .errors import RevOpsError, ZeroDenominatorWarning, warn_zero_denominator
from .periods import Period, PeriodLike, as_period, to_month
from .policies import DEFAULT_POLICY, MetricPolicy

__all__ = [
    "CAC_CATEGORIES",
    "MARKETING_CATEGORIES",
    "FUNNEL_STEPS",
    "acquisition_costs",
    "new_customers",
    "cac",
    "cac_by_channel",
    "cpa",
    "marketing_roi",
    "cac_payback_months",
    "ltv_to_cac",
    "lead_volume",
    "cost_per_lead",
    "funnel_dates",
    "lead_funnel",
    "funnel_conversion",
    "trial_to_paid",
    "acquisition_by_channel",
    "spend_by_month",
]

#: Cost categories of fully loaded CAC.
CAC_CATEGORIES = ("marketing_programs", "marketing_payroll", "sales_payroll", "tools_infrastructure",
                  "external_services")
#: Cost categories of marketing spend (for marketing ROI).
MARKETING_CATEGORIES = ("marketing_programs", "marketing_payroll")
#: Lead funnel steps, in order.
FUNNEL_STEPS = ("lead", "mql", "sql", "opportunity", "won")
MISSING = "(missing)"


# ============================================================================== costs
def _costs_frame(costs: pd.DataFrame, period: Period, fx_rates, policy, categories) -> pd.DataFrame:
    """Costs rows of ``categories`` in ``period`` with ``amount_rep`` and ``channel`` (None = shared)."""
    c = costs[period.mask(costs["month"]).fillna(False) & costs["category"].isin(list(categories))].copy()
    c["amount_rep"] = to_reporting_currency(c, "amount", "month", fx_rates, policy, table="costs")
    if "channel" not in c.columns:
        c["channel"] = np.nan
    return c


def acquisition_costs(costs: pd.DataFrame, period: PeriodLike, *, fx_rates: pd.DataFrame | None = None,
                      policy: MetricPolicy = DEFAULT_POLICY,
                      categories: Iterable[str] = CAC_CATEGORIES) -> pd.DataFrame:
    """Acquisition costs of ``period`` by category and channel (reporting currency).

    Returns ``category``, ``channel`` (``None`` for shared costs), ``amount``; one row per pair.
    """
    p = as_period(period)
    c = _costs_frame(costs, p, fx_rates, policy, categories)
    c["channel"] = c["channel"].astype(object).where(c["channel"].notna(), None)
    out = c.groupby(["category", "channel"], dropna=False, sort=True)["amount_rep"].sum().reset_index()
    return out.rename(columns={"amount_rep": "amount"})


def new_customers(subscriptions: pd.DataFrame, period: PeriodLike, *, by_channel: bool = False,
                  customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                  policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """New customers of ``period`` and their first-month MRR, from ``rk.arpa``.

    Returns ``new_customers``, ``new_mrr`` and ``new_customer_arpa`` (monthly), per ``channel``
    (``customers.acquisition_channel``) when ``by_channel``.
    """
    from .revenue import arpa as _arpa

    def arpa(*args, **kwargs):  # only the new-customer columns are used: an ARPA of a group
        with warnings.catch_warnings():  # without active customers at the end is no concern here
            warnings.simplefilter("ignore", ZeroDenominatorWarning)
            return _arpa(*args, **kwargs)

    if by_channel:
        if customers is None or "acquisition_channel" not in customers.columns:
            raise NotGroupableError("new customers by channel need customers.acquisition_channel")
        a = arpa(subscriptions, period, by="acquisition_channel", customers=customers,
                 fx_rates=fx_rates, policy=policy).rename(columns={"acquisition_channel": "channel"})
        a["channel"] = a["channel"].astype(object).where(a["channel"].notna(), MISSING)
        cols = ["channel"]
    else:
        a = arpa(subscriptions, period, customers=customers, fx_rates=fx_rates, policy=policy)
        cols = []
    return a[cols + ["new_customers", "new_mrr", "new_customer_arpa"]].reset_index(drop=True)


def _channel_costs(costs, subscriptions, period, *, customers, fx_rates, policy,
                   categories=CAC_CATEGORIES) -> pd.DataFrame:
    """Per channel: direct, allocated shared and total cost of ``categories``, and new customers."""
    p = as_period(period)
    c = _costs_frame(costs, p, fx_rates, policy, categories)
    direct = c[c["channel"].notna()].groupby("channel")["amount_rep"].sum()
    shared = float(c.loc[c["channel"].isna(), "amount_rep"].sum())
    nc = new_customers(subscriptions, p, by_channel=True, customers=customers, fx_rates=fx_rates,
                       policy=policy).set_index("channel")
    channels = sorted(set(direct.index) | set(nc.index), key=str)
    out = pd.DataFrame({"channel": channels})
    out["direct_cost"] = out["channel"].map(direct).fillna(0.0)
    for col in ("new_customers", "new_mrr"):
        out[col] = out["channel"].map(nc[col]).fillna(0)
    out["new_customers"] = out["new_customers"].astype("int64")
    basis = out["direct_cost"] if policy.cac_allocation == "spend_share" else out["new_customers"].astype(float)
    total = float(basis.sum())
    if shared and total == 0:
        warn_zero_denominator(f"shared-cost allocation ({policy.cac_allocation}) {p}",
                              "no channel has direct spend / new customers; shared costs unallocated")
        out["allocated_shared"] = np.nan
    else:
        out["allocated_shared"] = shared * basis / total if total else 0.0
    out["cost"] = out["direct_cost"] + out["allocated_shared"]
    out.attrs["shared"] = shared
    return out


# ============================================================================== CAC family
def cac(costs: pd.DataFrame, subscriptions: pd.DataFrame, period: PeriodLike, *,
        customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Fully loaded customer acquisition cost.

    CAC = (marketing_programs + marketing_payroll + sales_payroll + tools_infrastructure +
    external_services costs in the period) ÷ new customers in the period.

    Returns ``value``, ``numerator`` (costs), ``denominator`` (new customers), one column per cost
    category, and ``new_mrr``. Reads ``policy.reporting_currency`` and ``fx_mode``.
    """
    p = as_period(period)
    c = _costs_frame(costs, p, fx_rates, policy, CAC_CATEGORIES)
    by_cat = c.groupby("category")["amount_rep"].sum()
    nc = new_customers(subscriptions, p, customers=customers, fx_rates=fx_rates, policy=policy)
    row = {cat: float(by_cat.get(cat, 0.0)) for cat in CAC_CATEGORIES}
    out = pd.DataFrame([{"costs": float(c["amount_rep"].sum()), **row,
                         "new_customers": int(nc["new_customers"].iloc[0]),
                         "new_mrr": float(nc["new_mrr"].iloc[0])}])
    return ratio_frame(out, "costs", "new_customers", what=f"cac {p} (no new customers)")


def cac_by_channel(costs: pd.DataFrame, subscriptions: pd.DataFrame, period: PeriodLike, *,
                   customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                   policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Fully loaded CAC per acquisition channel.

    CAC(channel) = (the channel's direct acquisition costs + its share of the shared acquisition
    costs) ÷ its new customers. Shared costs are allocated per ``policy.cac_allocation``
    (``"spend_share"``: by direct spend; ``"new_customers"``: by new customers); the channel costs
    add up to the total of :func:`cac`. A channel with costs and no new customers gets NaN and a
    warning. Returns ``channel``, ``value``, ``numerator`` (cost), ``denominator`` (new
    customers), ``direct_cost``, ``allocated_shared``, ``new_mrr``.
    """
    p = as_period(period)
    out = _channel_costs(costs, subscriptions, p, customers=customers, fx_rates=fx_rates, policy=policy)
    return ratio_frame(out, "cost", "new_customers", what=f"cac_by_channel {p} (no new customers)",
                       by=["channel"])


def cpa(costs: pd.DataFrame, subscriptions: pd.DataFrame, period: PeriodLike, *, by_channel: bool = False,
        customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Cost per acquisition: program (media) spend per new customer.

    CPA = marketing_programs costs in the period ÷ new customers; per channel with ``by_channel``
    (the channel's program spend ÷ its new customers). Unlike CAC, no payroll, tools or services.
    Returns ``value``, ``numerator`` (program spend), ``denominator`` (new customers).
    """
    p = as_period(period)
    if by_channel:
        out = _channel_costs(costs, subscriptions, p, customers=customers, fx_rates=fx_rates,
                             policy=policy, categories=("marketing_programs",))
        out["program_spend"] = out["direct_cost"] + out["allocated_shared"].fillna(0.0)
        return ratio_frame(out[["channel", "program_spend", "new_customers"]], "program_spend",
                           "new_customers", what=f"cpa {p} (no new customers)", by=["channel"])
    c = _costs_frame(costs, p, fx_rates, policy, ("marketing_programs",))
    nc = new_customers(subscriptions, p, customers=customers, fx_rates=fx_rates, policy=policy)
    out = pd.DataFrame({"program_spend": [float(c["amount_rep"].sum())],
                        "new_customers": [int(nc["new_customers"].iloc[0])]})
    return ratio_frame(out, "program_spend", "new_customers", what=f"cpa {p} (no new customers)")


def _gross_margin_value(gross_margin, invoices, costs, period, fx_rates, policy) -> float:
    if gross_margin is not None:
        if isinstance(gross_margin, pd.DataFrame):
            return float(gross_margin["value"].iloc[0])
        return float(gross_margin)
    if invoices is None:
        raise RevOpsError("gross margin needed: pass gross_margin= (a fraction) or invoices= "
                          "(and costs= for the cost_of_revenue ledger)")
    from .finance import gross_margin as _gm

    use_ledger = costs is not None and (costs["category"] == "cost_of_revenue").any()
    gm = _gm(invoices, period, costs=costs if use_ledger else None, fx_rates=fx_rates, policy=policy)
    return float(gm["value"].iloc[0])


def cac_payback_months(costs: pd.DataFrame, subscriptions: pd.DataFrame, period: PeriodLike, *,
                       invoices: pd.DataFrame | None = None, gross_margin=None, by_channel: bool = False,
                       customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                       policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Months of gross profit a new customer needs to repay its acquisition cost.

    payback = CAC ÷ (new-customer ARPA × gross margin), where new-customer ARPA is the average
    first-month MRR of the period's new customers (``rk.arpa``) and gross margin the period's
    (``rk.gross_margin`` of ``invoices``, with the cost_of_revenue ledger of ``costs`` when it has
    one; or ``gross_margin=`` as a fraction). Equivalently: acquisition costs ÷ (new MRR × gross
    margin). Per channel with ``by_channel`` (the channel's CAC and new-customer ARPA, the
    company's gross margin). Returns ``value``, ``numerator`` (CAC), ``denominator`` (new-customer
    ARPA × gross margin), ``cac``, ``new_customer_arpa``, ``gross_margin``.
    """
    p = as_period(period)
    gm = _gross_margin_value(gross_margin, invoices, costs, p, fx_rates, policy)
    if by_channel:
        base = cac_by_channel(costs, subscriptions, p, customers=customers, fx_rates=fx_rates, policy=policy)
        base = base[["channel", "value", "new_customers", "new_mrr"]].rename(columns={"value": "cac"})
        keys = ["channel"]
    else:
        base = cac(costs, subscriptions, p, customers=customers, fx_rates=fx_rates, policy=policy)
        base = base[["value", "new_customers", "new_mrr"]].rename(columns={"value": "cac"})
        keys = []
    base["new_customer_arpa"] = base["new_mrr"] / base["new_customers"].where(base["new_customers"] > 0)
    base["gross_margin"] = gm
    base["monthly_gross_profit"] = base["new_customer_arpa"] * gm
    out = ratio_frame(base, "cac", "monthly_gross_profit", what=f"cac_payback_months {p}", by=keys or None)
    return out[keys + ["value", "numerator", "denominator", "cac", "new_customer_arpa", "gross_margin",
                       "new_customers"]]


def marketing_roi(costs: pd.DataFrame, subscriptions: pd.DataFrame, period: PeriodLike, *,
                  invoices: pd.DataFrame | None = None, gross_margin=None, by_channel: bool = False,
                  customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                  policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Marketing return on investment over the new customers' first year.

    ROI = (first-year gross profit of the period's new customers − marketing spend) ÷ marketing
    spend, with first-year gross profit = 12 × their first-month MRR (new ARR) × gross margin and
    marketing spend = marketing_programs + marketing_payroll costs of the period. Per channel with
    ``by_channel`` (programs direct, marketing payroll allocated per ``policy.cac_allocation``).
    A steady-state view: it ignores churn and expansion in the first year. Returns ``value``,
    ``numerator`` (gross profit − spend), ``denominator`` (spend), ``new_arr``, ``gross_margin``.
    """
    p = as_period(period)
    gm = _gross_margin_value(gross_margin, invoices, costs, p, fx_rates, policy)
    out = _channel_costs(costs, subscriptions, p, customers=customers, fx_rates=fx_rates, policy=policy,
                         categories=MARKETING_CATEGORIES)
    keys = ["channel"]
    if not by_channel:
        out = pd.DataFrame({"cost": [out["direct_cost"].sum() + out.attrs["shared"]],
                            "new_mrr": [out["new_mrr"].sum()], "new_customers": [out["new_customers"].sum()]})
        keys = []
    out["new_arr"] = 12 * out["new_mrr"]
    out["gross_margin"] = gm
    out["first_year_gross_profit"] = out["new_arr"] * gm
    out["return"] = out["first_year_gross_profit"] - out["cost"]
    out = ratio_frame(out, "return", "cost", what=f"marketing_roi {p} (no marketing spend)", by=keys or None)
    return out[keys + ["value", "numerator", "denominator", "new_arr", "first_year_gross_profit",
                       "gross_margin", "new_customers"]]


def ltv_to_cac(costs: pd.DataFrame, subscriptions: pd.DataFrame, period: PeriodLike, *,
               invoices: pd.DataFrame | None = None, gross_margin=None,
               customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
               policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """LTV:CAC = simple customer lifetime value (``rk.clv_simple``: ARPA × gross margin ÷ monthly
    logo churn) ÷ fully loaded CAC (:func:`cac`). Returns ``value``, ``numerator`` (CLV),
    ``denominator`` (CAC)."""
    from .clv import clv_simple

    p = as_period(period)
    if gross_margin is None:
        gross_margin = _gross_margin_value(None, invoices, costs, p, fx_rates, policy)
    clv = clv_simple(subscriptions, p, gross_margin=gross_margin, customers=customers,
                     fx_rates=fx_rates, policy=policy)
    c = cac(costs, subscriptions, p, customers=customers, fx_rates=fx_rates, policy=policy)
    out = pd.DataFrame({"clv": [float(clv["value"].iloc[0])], "cac": [float(c["value"].iloc[0])]})
    return ratio_frame(out, "clv", "cac", what=f"ltv_to_cac {p}")


# ============================================================================== leads
def _lead_groups(leads: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    bad = [c for c in by if c not in leads.columns]
    if bad:
        raise NotGroupableError(f"leads cannot be grouped by {bad}: leads has columns {list(leads.columns)}")
    out = leads.copy()
    for c in by:
        out[c] = out[c].astype(object).where(out[c].notna(), MISSING)
    return out


def lead_volume(leads: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None) -> pd.DataFrame:
    """Leads created in ``period`` (``value``), per ``by`` (channel, campaign)."""
    p = as_period(period)
    by = as_list(by)
    lf = _lead_groups(leads, by)
    lf = lf[p.mask(lf["created_at"]).fillna(False)]
    if by:
        return lf.groupby(by, sort=True).size().rename("value").reset_index()
    return pd.DataFrame({"value": [len(lf)]})


def cost_per_lead(leads: pd.DataFrame, costs: pd.DataFrame, period: PeriodLike, *, by_channel: bool = False,
                  fx_rates: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Cost per lead: marketing_programs spend ÷ leads created in the period (per channel with
    ``by_channel``: the channel's program spend ÷ its leads; leads without channel form
    ``"(missing)"``, with no spend). Returns ``value``, ``numerator`` (spend), ``denominator`` (leads)."""
    p = as_period(period)
    c = _costs_frame(costs, p, fx_rates, policy, ("marketing_programs",))
    if not by_channel:
        out = pd.DataFrame({"program_spend": [float(c["amount_rep"].sum())],
                            "leads": [int(lead_volume(leads, p)["value"].iloc[0])]})
        return ratio_frame(out, "program_spend", "leads", what=f"cost_per_lead {p}")
    vol = lead_volume(leads, p, by="channel").set_index("channel")["value"]
    spend = c.assign(channel=c["channel"].astype(object).where(c["channel"].notna(), MISSING)) \
        .groupby("channel")["amount_rep"].sum()
    channels = sorted(set(vol.index) | set(spend.index), key=str)
    out = pd.DataFrame({"channel": channels})
    out["program_spend"] = out["channel"].map(spend).fillna(0.0)
    out["leads"] = out["channel"].map(vol).fillna(0).astype("int64")
    return ratio_frame(out, "program_spend", "leads", what=f"cost_per_lead {p}", by=["channel"])


def funnel_dates(leads: pd.DataFrame, opportunities: pd.DataFrame | None = None, *,
                 history: pd.DataFrame | None = None, by: str | list[str] | None = None) -> pd.DataFrame:
    """Each lead's date at every funnel step, and whether it reached it.

    Adds ``lead_at``, ``mql_at``, ``sql_at``, ``opportunity_at``, ``won_at`` (the step's own date,
    NaT when unknown) and ``reached_<step>`` (True when the lead has that step's date or a later
    step's), and ``<step>_on`` (the date used to place the step in a period: its own date, or the
    next known later step's when missing). Blank ``by`` columns (channel, campaign) become
    ``"(missing)"``.
    """
    out = _lead_groups(leads, as_list(by))
    out["lead_at"] = out["created_at"]
    for step in ("mql_at", "sql_at"):
        if step not in out.columns:
            out[step] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    opp_id = out["opportunity_id"] if "opportunity_id" in out.columns else pd.Series(np.nan, index=out.index)
    if opportunities is not None:
        from .pipeline import WON, opportunity_outcomes

        # dates only: amounts (and their currency) play no part
        plain = opportunities.drop(columns=["currency"], errors="ignore")
        oc = opportunity_outcomes(plain, history=history).drop_duplicates("opportunity_id") \
            .set_index("opportunity_id")
        out["opportunity_at"] = opp_id.map(oc["created_at"]).astype("datetime64[ns]")
        won = oc["closed_on"].where(oc["outcome"] == WON)
        out["won_at"] = opp_id.map(won).astype("datetime64[ns]")
        has_opp = opp_id.notna() & (pd.Index(oc.index).get_indexer(opp_id) >= 0)
        has_won = opp_id.map(oc["outcome"] == WON).astype("boolean").fillna(False).astype(bool)
    else:
        out["opportunity_at"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
        conv = out["converted_at"] if "converted_at" in out.columns else pd.Series(pd.NaT, index=out.index)
        out["won_at"] = conv.astype("datetime64[ns]")
        has_opp = opp_id.notna()
        has_won = out["won_at"].notna()
    own = {"lead": out["lead_at"].notna(), "mql": out["mql_at"].notna(), "sql": out["sql_at"].notna(),
           "opportunity": has_opp | out["opportunity_at"].notna(), "won": has_won | out["won_at"].notna()}
    later = pd.Series(False, index=out.index)
    on_next = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    for step in reversed(FUNNEL_STEPS):
        reached = own[step] | later
        out[f"reached_{step}"] = reached.to_numpy(dtype=bool)
        date = out[f"{step}_at"]
        out[f"{step}_on"] = date.where(date.notna(), on_next.where(reached))
        on_next = out[f"{step}_on"]
        later = reached
    return out


def lead_funnel(leads: pd.DataFrame, period: PeriodLike, *, opportunities: pd.DataFrame | None = None,
                history: pd.DataFrame | None = None, basis: str = "period",
                by: str | list[str] | None = None, as_of=None) -> pd.DataFrame:
    """Lead → MQL → SQL → opportunity → won: counts, conversion rates and days between steps.

    ``basis="period"``: each step counts the leads whose step date (see :func:`funnel_dates`)
    falls in ``period`` (flows of the period; a rate can exceed 1). ``basis="cohort"``: the leads
    created in ``period``, and how many of them reached each step (by ``as_of`` when given:
    steps dated before it; otherwise everything the data holds — recent cohorts are still
    maturing).

    One row per (group and) step: ``count``, ``conversion_rate`` (÷ previous step's count),
    ``rate_from_lead`` (÷ leads), ``median_days`` and ``mean_days`` from the previous step (leads
    with both dates known, counted at the step: in the period, or in the cohort),
    ``n_days``. The :func:`funnel_dates` behind it are built once per (leads, opportunities,
    history) frames and ``by``.
    """
    if basis not in ("period", "cohort"):
        raise ValueError(f"lead_funnel: basis must be 'period' or 'cohort', got {basis!r}")
    p = as_period(period)
    by = as_list(by)
    f = frame_cache("funnel_dates", (leads, opportunities, history), (tuple(by),),
                    lambda: funnel_dates(leads, opportunities, history=history, by=by))
    f = _lead_groups(f, by)
    if basis == "cohort":
        f = f[p.mask(f["lead_at"]).fillna(False)]
        cut = pd.Timestamp(as_of) if as_of is not None else None
    rows = []
    groups = f.groupby(by, sort=True) if by else [((), f)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        prev = None
        for i, step in enumerate(FUNNEL_STEPS):
            if basis == "period":
                at = p.mask(g[f"{step}_on"]).fillna(False)
            else:
                at = g[f"reached_{step}"]
                if cut is not None:
                    at = at & (g[f"{step}_on"] < cut).fillna(False)
            count = int(at.sum())
            row = dict(zip(by, key))
            row.update({"step": step, "count": count})
            if i:
                prev_step = FUNNEL_STEPS[i - 1]
                d = (g.loc[at, f"{step}_at"] - g.loc[at, f"{prev_step}_at"]).dt.days.dropna()
                row.update({"median_days": d.median() if len(d) else np.nan,
                            "mean_days": d.mean() if len(d) else np.nan, "n_days": len(d)})
                row["conversion_rate"] = count / prev if prev else np.nan
            rows.append(row)
            prev = count
    out = pd.DataFrame(rows)
    leads_n = out[out["step"] == "lead"].set_index(by)["count"] if by else out.loc[0, "count"]
    if by:
        out["rate_from_lead"] = out["count"] / out.set_index(by).index.map(leads_n).to_numpy(dtype=float)
    else:
        out["rate_from_lead"] = out["count"] / leads_n if leads_n else np.nan
    out["n_days"] = out["n_days"].fillna(0).astype("int64")
    return out[by + ["step", "count", "conversion_rate", "rate_from_lead", "median_days", "mean_days", "n_days"]]


def funnel_conversion(leads: pd.DataFrame, period: PeriodLike, step: str, *,
                      opportunities: pd.DataFrame | None = None, history: pd.DataFrame | None = None,
                      by: str | list[str] | None = None, basis: str = "period",
                      from_step: str | None = None) -> pd.DataFrame:
    """Conversion into funnel ``step`` from the previous step (or ``from_step``), per period.

    value = leads reaching ``step`` ÷ leads reaching the step before, counted as in
    :func:`lead_funnel` (``basis="period"`` default: both flows dated in the period).
    Returns ``value``, ``numerator``, ``denominator``, ``median_days``.
    """
    if step not in FUNNEL_STEPS[1:]:
        raise ValueError(f"funnel_conversion: step must be one of {FUNNEL_STEPS[1:]}, got {step!r}")
    from_step = from_step or FUNNEL_STEPS[FUNNEL_STEPS.index(step) - 1]
    by = as_list(by)
    fun = lead_funnel(leads, period, opportunities=opportunities, history=history, basis=basis, by=by)
    num = fun[fun["step"] == step].set_index(by) if by else fun[fun["step"] == step].reset_index(drop=True)
    den = fun[fun["step"] == from_step].set_index(by) if by else fun[fun["step"] == from_step].reset_index(drop=True)
    out = pd.DataFrame({"numerator": num["count"], "denominator": den["count"].reindex(num.index) if by else den["count"],
                        "median_days": num["median_days"]})
    out = out.reset_index() if by else out
    return ratio_frame(out, "numerator", "denominator",
                       what=f"{from_step}→{step} conversion {as_period(period)}", by=by or None)


def trial_to_paid(leads: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
                  as_of=None) -> pd.DataFrame:
    """Trial → paid conversion of the trials started in ``period`` (a cohort rate).

    trial_to_paid = trials started in the period that converted to paid (``converted_at`` on or
    after ``trial_started_at``, and before ``as_of`` when given) ÷ trials started in the period.
    Conversions dated before the trial started are not counted as trial conversions and are
    flagged in ``n_converted_before_trial``. Recent cohorts are still maturing. Returns
    ``value``, ``numerator``, ``denominator``, ``median_days_to_paid``.
    """
    p = as_period(period)
    by = as_list(by)
    if "trial_started_at" not in leads.columns:
        raise RevOpsError("trial_to_paid needs leads.trial_started_at (and converted_at)")
    lf = _lead_groups(leads, by)
    lf = lf[p.mask(lf["trial_started_at"]).fillna(False)]
    conv = lf["converted_at"] if "converted_at" in lf.columns else pd.Series(pd.NaT, index=lf.index)
    ok = (conv >= lf["trial_started_at"]).fillna(False)
    if as_of is not None:
        ok = ok & (conv < pd.Timestamp(as_of)).fillna(False)
    before = (conv < lf["trial_started_at"]).fillna(False)
    days = (conv - lf["trial_started_at"]).dt.days.where(ok)
    tmp = lf[by].copy() if by else pd.DataFrame(index=lf.index)
    tmp["paid"], tmp["trials"], tmp["before"], tmp["days"] = ok.astype("int64"), 1, before.astype("int64"), days
    if by:
        out = tmp.groupby(by, sort=True).agg(paid=("paid", "sum"), trials=("trials", "sum"),
                                             n_converted_before_trial=("before", "sum"),
                                             median_days_to_paid=("days", "median")).reset_index()
    else:
        out = pd.DataFrame({"paid": [int(tmp["paid"].sum())], "trials": [len(tmp)],
                            "n_converted_before_trial": [int(tmp["before"].sum())],
                            "median_days_to_paid": [tmp["days"].median()]})
    return ratio_frame(out, "paid", "trials", what=f"trial_to_paid {p} (no trials started)", by=by or None)


# ============================================================================== views
def acquisition_by_channel(costs: pd.DataFrame, subscriptions: pd.DataFrame, period: PeriodLike, *,
                           leads: pd.DataFrame | None = None, invoices: pd.DataFrame | None = None,
                           gross_margin=None, customers: pd.DataFrame | None = None,
                           fx_rates: pd.DataFrame | None = None,
                           policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """One table of acquisition economics per channel (plus a ``"total"`` row).

    Columns: ``channel``, ``program_spend``, ``acquisition_cost`` (fully loaded, shared costs
    allocated per ``policy.cac_allocation``), ``leads``, ``cost_per_lead``, ``new_customers``,
    ``cpa``, ``cac``, ``new_customer_arpa``, ``cac_payback_months``, ``marketing_roi``.
    """
    p = as_period(period)
    kw = dict(customers=customers, fx_rates=fx_rates, policy=policy)
    gm = _gross_margin_value(gross_margin, invoices, costs, p, fx_rates, policy)
    with warnings.catch_warnings():  # a channel without new customers is NaN; shown as such
        warnings.simplefilter("ignore", ZeroDenominatorWarning)
        cb = cac_by_channel(costs, subscriptions, p, **kw)
        cp = cpa(costs, subscriptions, p, by_channel=True, **kw)
        pb = cac_payback_months(costs, subscriptions, p, gross_margin=gm, by_channel=True, **kw)
        roi = marketing_roi(costs, subscriptions, p, gross_margin=gm, by_channel=True, **kw)
        tot = {"cac": cac(costs, subscriptions, p, **kw), "cpa": cpa(costs, subscriptions, p, **kw),
               "pb": cac_payback_months(costs, subscriptions, p, gross_margin=gm, **kw),
               "roi": marketing_roi(costs, subscriptions, p, gross_margin=gm, **kw)}
        cpl = cost_per_lead(leads, costs, p, by_channel=True, fx_rates=fx_rates, policy=policy) \
            if leads is not None else None
        cpl_tot = cost_per_lead(leads, costs, p, fx_rates=fx_rates, policy=policy) if leads is not None else None
    out = cb[["channel", "numerator", "new_customers", "value"]].rename(
        columns={"numerator": "acquisition_cost", "value": "cac"})
    out = out.merge(cp[["channel", "numerator", "value"]].rename(columns={"numerator": "program_spend", "value": "cpa"}),
                    on="channel", how="outer")
    out = out.merge(pb[["channel", "new_customer_arpa", "value"]].rename(columns={"value": "cac_payback_months"}),
                    on="channel", how="outer")
    out = out.merge(roi[["channel", "value"]].rename(columns={"value": "marketing_roi"}), on="channel", how="outer")
    if cpl is not None:
        out = out.merge(cpl[["channel", "denominator", "value"]].rename(
            columns={"denominator": "leads", "value": "cost_per_lead"}), on="channel", how="outer")
    total = {"channel": "total", "acquisition_cost": tot["cac"]["numerator"].iloc[0],
             "new_customers": tot["cac"]["denominator"].iloc[0], "cac": tot["cac"]["value"].iloc[0],
             "program_spend": tot["cpa"]["numerator"].iloc[0], "cpa": tot["cpa"]["value"].iloc[0],
             "new_customer_arpa": tot["pb"]["new_customer_arpa"].iloc[0],
             "cac_payback_months": tot["pb"]["value"].iloc[0], "marketing_roi": tot["roi"]["value"].iloc[0]}
    if cpl_tot is not None:
        total.update({"leads": cpl_tot["denominator"].iloc[0], "cost_per_lead": cpl_tot["value"].iloc[0]})
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    cols = ["channel", "program_spend", "acquisition_cost", "leads", "cost_per_lead", "new_customers", "cpa",
            "cac", "new_customer_arpa", "cac_payback_months", "marketing_roi"]
    out["new_customers"] = out["new_customers"].fillna(0).astype("int64")
    if "leads" in out.columns:
        out["leads"] = out["leads"].fillna(0).astype("int64")
    return out[[c for c in cols if c in out.columns]]


def spend_by_month(costs: pd.DataFrame, months, *, fx_rates: pd.DataFrame | None = None,
                   policy: MetricPolicy = DEFAULT_POLICY,
                   categories: Iterable[str] = CAC_CATEGORIES) -> pd.DataFrame:
    """Acquisition spend per month and category (wide: one column per category), reporting currency.

    ``months`` is a month spine (e.g. ``period.trailing_months(12)``).
    """
    months = pd.DatetimeIndex(months)
    c = costs[costs["category"].isin(list(categories))].copy()
    c["month"] = to_month(c["month"])
    c = c[c["month"].isin(months)]
    c["amount_rep"] = to_reporting_currency(c, "amount", "month", fx_rates, policy, table="costs")
    wide = c.pivot_table(index="month", columns="category", values="amount_rep", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(index=months, columns=[k for k in categories], fill_value=0.0)
    wide.index.name = "month"
    wide.columns.name = None
    return wide.reset_index()


# ============================================================================== catalogue
def _channel_only(by, what: str) -> bool:
    by = as_list(by)
    if not by:
        return False
    if by in (["channel"], ["acquisition_channel"]):
        return True
    raise NotGroupableError(f"{what} can be grouped by channel only, not {by}")


def _rename_channel(frame: pd.DataFrame, by) -> pd.DataFrame:
    by = as_list(by)
    if by == ["acquisition_channel"] and "channel" in frame.columns:
        return frame.rename(columns={"channel": "acquisition_channel"})
    return frame


def _mkw(data, policy):
    return {"customers": data.customers, "fx_rates": data.fx_rates, "policy": policy}


@register("cac", sections={"marketing": 1}, label="CAC (fully loaded)", unit="currency", good="down", family="marketing",
          headline=True,
          formula="(marketing programs + marketing payroll + sales payroll + tools/infrastructure + "
                  "external services) ÷ new customers of the period",
          tables=("costs", "subscriptions"))
def _kpi_cac(data, period: Period, *, by, policy):
    if _channel_only(by, "cac"):
        return _rename_channel(cac_by_channel(data.costs, data.subscriptions, period, **_mkw(data, policy)), by)
    return cac(data.costs, data.subscriptions, period, **_mkw(data, policy))


@register("cac_by_channel", label="CAC by channel", unit="currency", good="down", family="marketing",
          dims=("channel",), groupable=False,
          formula="(channel's direct acquisition costs + shared costs allocated per "
                  "policy.cac_allocation) ÷ channel's new customers",
          tables=("costs", "subscriptions", "customers"))
def _kpi_cac_by_channel(data, period: Period, *, by, policy):
    return cac_by_channel(data.costs, data.subscriptions, period, **_mkw(data, policy))


@register("cpa", sections={"marketing": 5}, label="Cost per acquisition", unit="currency", good="down", family="marketing",
          formula="marketing programs spend ÷ new customers (by channel: the channel's)",
          tables=("costs", "subscriptions"))
def _kpi_cpa(data, period: Period, *, by, policy):
    ch = _channel_only(by, "cpa")
    return _rename_channel(cpa(data.costs, data.subscriptions, period, by_channel=ch, **_mkw(data, policy)), by)


@register("marketing_roi", sections={"marketing": 4}, label="Marketing ROI (first year)", unit="ratio", good="up", family="marketing",
          formula="(12 × new customers' first-month MRR × gross margin − marketing spend) ÷ marketing "
                  "spend; marketing spend = programs + marketing payroll",
          tables=("costs", "subscriptions", "invoices"))
def _kpi_marketing_roi(data, period: Period, *, by, policy):
    ch = _channel_only(by, "marketing_roi")
    return _rename_channel(marketing_roi(data.costs, data.subscriptions, period, invoices=data.invoices,
                                         by_channel=ch, **_mkw(data, policy)), by)


@register("cac_payback_months", sections={"marketing": 2}, label="CAC payback", unit="months", good="down", family="marketing",
          headline=True, formula="CAC ÷ (new-customer ARPA × gross margin)",
          tables=("costs", "subscriptions", "invoices"))
def _kpi_cac_payback(data, period: Period, *, by, policy):
    ch = _channel_only(by, "cac_payback_months")
    return _rename_channel(cac_payback_months(data.costs, data.subscriptions, period, invoices=data.invoices,
                                              by_channel=ch, **_mkw(data, policy)), by)


@register("ltv_to_cac", sections={"marketing": 3}, label="LTV:CAC", unit="multiple", good="up", family="marketing", groupable=False,
          formula="CLV (ARPA × gross margin ÷ monthly logo churn) ÷ fully loaded CAC",
          tables=("costs", "subscriptions", "invoices"))
def _kpi_ltv_to_cac(data, period: Period, *, by, policy):
    return ltv_to_cac(data.costs, data.subscriptions, period, invoices=data.invoices, **_mkw(data, policy))


def _lead_by(data, by) -> list[str]:
    by = as_list(by)
    bad = [c for c in by if c not in data.leads.columns]
    if bad:
        raise NotGroupableError(f"leads cannot be grouped by {bad}")
    return by


@register("lead_volume", sections={"marketing": 6}, aggregation="sum", label="Leads created", unit="count", good="up", family="marketing",
          formula="leads created in the period (by channel, campaign)", tables=("leads",))
def _kpi_lead_volume(data, period: Period, *, by, policy):
    return lead_volume(data.leads, period, by=_lead_by(data, by))


@register("cost_per_lead", sections={"marketing": 7}, label="Cost per lead", unit="currency", good="down", family="marketing",
          formula="marketing programs spend ÷ leads created in the period (by channel: the channel's)",
          tables=("leads", "costs"))
def _kpi_cost_per_lead(data, period: Period, *, by, policy):
    ch = _channel_only(by, "cost_per_lead")
    return _rename_channel(cost_per_lead(data.leads, data.costs, period, by_channel=ch,
                                         fx_rates=data.fx_rates, policy=policy), by)


def _register_funnel(kpi_id: str, step: str, label: str, from_step: str | None = None,
                     sections: dict | None = None) -> None:
    prev = from_step or FUNNEL_STEPS[FUNNEL_STEPS.index(step) - 1]

    words = {"lead": "leads created", "mql": "leads becoming MQL", "sql": "leads becoming SQL",
             "opportunity": "leads becoming opportunities", "won": "leads won"}

    @register(kpi_id, label=label, unit="ratio", good="up", family="marketing", sections=sections or {},
              formula=f"{words[step]} in the period ÷ {words[prev]} in the period "
                      "(flows dated in the period; a later step implies the earlier ones)",
              tables=("leads",))
    def _kpi(data, period: Period, *, by, policy):
        return funnel_conversion(data.leads, period, step, by=_lead_by(data, by), from_step=from_step,
                                 opportunities=data.opportunities, history=data.opportunity_history)

    _kpi.__name__ = f"_kpi_{kpi_id}"


_register_funnel("lead_to_mql_rate", "mql", "Lead → MQL rate")
_register_funnel("mql_to_sql_rate", "sql", "MQL → SQL rate")
_register_funnel("sql_to_opportunity_rate", "opportunity", "SQL → opportunity rate")
_register_funnel("opportunity_to_won_rate", "won", "Opportunity → won rate (lead-sourced)")
_register_funnel("lead_to_won_rate", "won", "Lead → won rate", from_step="lead", sections={"marketing": 8})


@register("trial_to_paid", sections={"marketing": 9}, label="Trial → paid conversion", unit="ratio", good="up", family="marketing",
          formula="trials started in the period that converted to paid ÷ trials started in the period "
                  "(cohort; recent cohorts still maturing)",
          tables=("leads",))
def _kpi_trial_to_paid(data, period: Period, *, by, policy):
    return trial_to_paid(data.leads, period, by=_lead_by(data, by))
