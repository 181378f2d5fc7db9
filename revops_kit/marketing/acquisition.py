"""Acquisition economics: fully loaded CAC (overall and by channel), CPA, CAC payback, marketing
ROI and LTV:CAC."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import ratio_frame
from ..catalog import register
from ..errors import warn_zero_denominator
from ..periods import Period, PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ._shared import (_channel_only, _costs_frame, _gross_margin_value, _mkw,
                      _rename_channel)
from .costs import CAC_CATEGORIES, MARKETING_CATEGORIES, new_customers

__all__ = ["cac", "cac_by_channel", "cpa", "marketing_roi", "cac_payback_months", "ltv_to_cac"]


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
    from ..clv import clv_simple

    p = as_period(period)
    if gross_margin is None:
        gross_margin = _gross_margin_value(None, invoices, costs, p, fx_rates, policy)
    clv = clv_simple(subscriptions, p, gross_margin=gross_margin, customers=customers,
                     fx_rates=fx_rates, policy=policy)
    c = cac(costs, subscriptions, p, customers=customers, fx_rates=fx_rates, policy=policy)
    out = pd.DataFrame({"clv": [float(clv["value"].iloc[0])], "cac": [float(c["value"].iloc[0])]})
    return ratio_frame(out, "clv", "cac", what=f"ltv_to_cac {p}")


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
