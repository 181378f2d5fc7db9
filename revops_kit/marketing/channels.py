"""Acquisition economics per channel, in one table (the marketing section's channel view)."""

from __future__ import annotations

import warnings

import pandas as pd

from ..errors import ZeroDenominatorWarning
from ..periods import PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy
from ._shared import _gross_margin_value
from .acquisition import cac, cac_by_channel, cac_payback_months, cpa, marketing_roi
from .leads import cost_per_lead

__all__ = ["acquisition_by_channel"]


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
