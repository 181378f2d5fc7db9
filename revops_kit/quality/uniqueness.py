"""Uniqueness checks: a duplicated key, or a likely-duplicate account (same normalised name or domain)."""

from __future__ import annotations

import pandas as pd

from ..schema import TABLES
from .checks import Check, Outcome, register_checks
from .config import CRM_TABLES
from .normalise import likely_duplicate_accounts

__all__ = []


@register_checks("uniqueness")
def _uniqueness_checks(data) -> list[Check]:
    checks = []
    for table, spec in TABLES.items():
        frame = getattr(data, table)
        if frame is None:
            continue
        keys = [list(spec.key)] if spec.key else []
        keys += [[c.name] for c in spec.columns if c.unique and [c.name] not in keys]
        for key in keys:
            if not set(key) <= set(frame.columns):
                continue

            def run(ctx, table=table, key=key):
                full = ctx.table(table)
                dup = full.duplicated(key, keep="first")
                rows = ctx.scope(table)
                return Outcome(rows, dup.loc[rows.index].astype(bool))

            checks.append(Check(f"{table}.{'+'.join(key)}:unique", "uniqueness", table, "+".join(key),
                                f"{table}: {' + '.join(key)} is unique", run, table in CRM_TABLES))
    cust = data.customers
    if cust is not None and ("name" in cust.columns or "domain" in cust.columns):
        def run_dups(ctx):
            dups = ctx.cached("dups", lambda: likely_duplicate_accounts(ctx.table("customers"), config=ctx.config))
            rows = ctx.scope("customers")
            failed = pd.Series(rows.index.isin(dups.index), index=rows.index)
            detail = dups.drop(columns=["customer_id", "name"]).reindex(rows.index)
            return Outcome(rows, failed, detail)

        checks.append(Check("customers.name:likely_duplicate", "uniqueness", "customers", "name",
                            "an account is not a likely duplicate of an older one "
                            "(same normalised name or web domain)", run_dups, True))
    return checks
