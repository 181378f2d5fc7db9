"""Accuracy across systems: CRM ↔ billing consistency checks (dimension ``consistency``).

* ``opportunities.customer_id:won_deal_has_subscription`` — every won new-business opportunity
  closed in the period has a subscription of the same customer starting within
  ``window_days`` (default 30) of its close date, before or after.
* ``opportunities.amount:won_deal_matches_billing`` — for those that have one, the opportunity
  amount (annual) matches 12 × the first MRR (the MRR of the customer's subscription rows starting
  on the first start date in the window) within ``tolerance`` (default 10 %) of the amount. Both
  sides are compared in the reporting currency when ``fx_rates`` can convert them.
* ``subscriptions.customer_id:paying_customer_in_crm`` — every customer paying (MRR > 0) in the
  period exists in the CRM: it has an account in ``customers`` **and**, when the dataset has
  ``opportunities``, at least one opportunity created before the period end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .checks import Check, Outcome, register_checks
from .context import CheckContext, isin_known, mrr_at_end, reporting_amount, scope_mask, won_flag

__all__ = ["won_deals_vs_billing"]


def won_deals_vs_billing(ctx: CheckContext) -> pd.DataFrame:
    """Won new-business deals closed in the period, with the first subscription in the window."""

    def make():
        o = ctx.table("opportunities")
        s = ctx.table("subscriptions")
        p, cfg = ctx.p, ctx.config
        won = won_flag(o)
        close = o["close_date"] if "close_date" in o.columns else pd.Series(pd.NaT, index=o.index)
        nb = (o["type"] == "new_business").fillna(False).astype(bool) if "type" in o.columns else True
        deals = o.loc[won & nb & (close >= p.start) & (close < p.end)].copy()
        deals["_row"] = deals.index
        deals["_amount_rep"] = reporting_amount(ctx, deals, "amount", "close_date", "opportunities")
        subs = s[["customer_id", "start_date", "mrr"] + (["currency"] if "currency" in s.columns else [])].copy()
        subs["_mrr_rep"] = reporting_amount(ctx, subs, "mrr", "start_date", "subscriptions")
        pairs = deals[["_row", "customer_id", "close_date"]].dropna(subset=["customer_id"]).merge(
            subs, on="customer_id", how="inner")
        delta = (pairs["start_date"] - pairs["close_date"]).dt.days
        pairs = pairs.loc[delta.abs() <= cfg.window_days]
        first = pairs.groupby("_row")["start_date"].transform("min")
        firsts = pairs.loc[pairs["start_date"] == first].groupby("_row").agg(
            subscription_start=("start_date", "first"), first_mrr=("_mrr_rep", "sum"))
        out = deals.join(firsts, on="_row")
        out["annualised_mrr"] = out["first_mrr"] * 12
        out["difference"] = out["annualised_mrr"] - out["_amount_rep"]
        amount = out["_amount_rep"].abs()
        out["relative_difference"] = out["difference"].abs() / amount.where(amount > 0)
        return out.drop(columns=["_row"])

    return ctx.cached("won_vs_billing", make)


def _billing_checks() -> list[Check]:
    def run_has_sub(ctx):
        deals = won_deals_vs_billing(ctx)
        has = deals["subscription_start"].notna()
        reason = np.where(deals["customer_id"].isna(), "opportunity has no customer_id",
                          np.where(has, "", f"no subscription of the customer starts within "
                                            f"{ctx.config.window_days} days of the close date"))
        detail = pd.DataFrame({"reason": reason}, index=deals.index)
        return Outcome(deals.drop(columns=["_amount_rep"]), ~has, detail)

    def run_amount(ctx):
        deals = won_deals_vs_billing(ctx)
        rows = deals.loc[deals["subscription_start"].notna() & deals["amount"].notna()]
        bad = rows["difference"].abs() > ctx.config.tolerance * rows["_amount_rep"].abs() + 1e-9
        return Outcome(rows.drop(columns=["_amount_rep"]), bad.astype(bool))

    return [
        Check("opportunities.customer_id:won_deal_has_subscription", "consistency", "opportunities",
              "customer_id", "a won new-business deal closed in the period has a subscription starting "
              "within window_days of its close date (CRM ↔ billing)", run_has_sub, True),
        Check("opportunities.amount:won_deal_matches_billing", "consistency", "opportunities", "amount",
              "a won new-business deal's amount (annual) is within tolerance of 12 × its first MRR "
              "(CRM ↔ billing)", run_amount, True),
    ]


def _run_paying_in_crm(ctx: CheckContext) -> Outcome | None:
    s, p = ctx.table("subscriptions"), ctx.p
    paying = s.loc[scope_mask(ctx, "subscriptions") & (s["mrr"] > 0) & s["start_date"].notna()]
    ids = pd.Index(paying["customer_id"].dropna().unique()).sort_values()
    rows = pd.DataFrame({"customer_id": ids})
    mrr_end = mrr_at_end(ctx)
    rows["mrr_period_end"] = rows["customer_id"].map(mrr_end).fillna(0.0).astype("float64")
    cust = ctx.data.customers
    in_customers = (isin_known(rows["customer_id"], cust["customer_id"]) if cust is not None
                    else pd.Series(True, index=rows.index))
    if cust is not None and "name" in cust.columns:
        rows.insert(1, "name", rows["customer_id"].map(cust.drop_duplicates("customer_id").set_index("customer_id")["name"]))
    opps = ctx.data.opportunities
    if opps is not None:
        known = opps.loc[opps["created_at"].isna() | (opps["created_at"] < p.end), "customer_id"] \
            if "customer_id" in opps.columns else pd.Series([], dtype=object)
        has_opp = isin_known(rows["customer_id"], known)
    else:
        has_opp = pd.Series(True, index=rows.index)
    reason = np.where(~in_customers, "no account in customers",
                      np.where(~has_opp, "no opportunity in the CRM", ""))
    return Outcome(rows, (~in_customers | ~has_opp).astype(bool), pd.DataFrame({"reason": reason}, index=rows.index),
                   table_rows=False)


@register_checks("consistency")
def _accuracy_checks(data) -> list[Check]:
    checks = []
    opps, subs = data.opportunities, data.subscriptions
    if opps is not None and subs is not None and "customer_id" in opps.columns:
        checks += _billing_checks()
    if subs is not None and (data.customers is not None or opps is not None):
        checks.append(Check(
            "subscriptions.customer_id:paying_customer_in_crm", "consistency", "subscriptions", "customer_id",
            "a customer paying in the period has an account in customers and, when there are "
            "opportunities, at least one opportunity created before the period end",
            _run_paying_in_crm, True))
    return checks
