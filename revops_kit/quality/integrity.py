"""Integrity checks: an orphan reference (the schema's cross-table ``*_exists`` checks), a won deal
without an account, an opportunity without stage history, a converted lead without a customer."""

from __future__ import annotations

from ..schema import CROSS_CHECKS, TABLES
from .checks import Check, Outcome, register_checks
from .config import CRM_TABLES
from .context import isin_known, won_flag

__all__ = []


@register_checks("integrity")
def _integrity_checks(data) -> list[Check]:
    checks = []
    present = {n for n in TABLES if getattr(data, n) is not None}
    for cc in CROSS_CHECKS:
        if not cc.name.endswith("_exists") or not set(cc.tables) <= present:
            continue
        child, parent = cc.tables
        if cc.column not in getattr(data, child).columns:
            continue

        parent_col = "opportunity_id" if parent == "opportunities" else "customer_id"

        def run(ctx, cc=cc, child=child, parent=parent, parent_col=parent_col):
            rows = ctx.scope(child)
            rows = rows.loc[rows[cc.column].notna()]
            return Outcome(rows, ~isin_known(rows[cc.column], ctx.table(parent)[parent_col]))

        checks.append(Check(f"{child}.{cc.column}:{cc.name}", "integrity", child, cc.column,
                            f"every {child}.{cc.column} exists in {parent}", run,
                            child in CRM_TABLES))
    opps = data.opportunities
    if opps is not None and "customer_id" in opps.columns:
        def run_account(ctx):
            rows = ctx.scope("opportunities")
            rows = rows.loc[won_flag(rows)]
            return Outcome(rows, rows["customer_id"].isna().astype(bool))

        checks.append(Check("opportunities.customer_id:won_deal_has_account", "integrity", "opportunities",
                            "customer_id", "a won opportunity is linked to an account", run_account, True))
    if opps is not None and data.opportunity_history is not None:
        def run_has_hist(ctx):
            rows = ctx.scope("opportunities")
            known = ctx.table("opportunity_history")["opportunity_id"]
            return Outcome(rows, ~isin_known(rows["opportunity_id"], known))

        checks.append(Check("opportunities.opportunity_id:has_history", "integrity", "opportunities",
                            "opportunity_id", "an opportunity has at least one stage-history row",
                            run_has_hist, True))
    leads = data.leads
    if leads is not None and {"converted_at", "customer_id"} <= set(leads.columns):
        def run_lead(ctx):
            rows = ctx.scope("leads")
            rows = rows.loc[rows["converted_at"].notna()]
            return Outcome(rows, rows["customer_id"].isna().astype(bool))

        checks.append(Check("leads.customer_id:converted_has_customer", "integrity", "leads", "customer_id",
                            "a converted lead is linked to its customer", run_lead, True))
    return checks
