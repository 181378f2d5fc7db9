"""Validity checks: a value outside its domain.

The schema's own pandera value checks (allowed values and bounds, ISO codes, period labels;
:func:`revops_kit.schema.column_checks`) run on the period's scoped rows, dates in the wrong order (the
schema's single-table date checks plus a few more), malformed web domains, won deals at 0.
"""

from __future__ import annotations

import pandas as pd

from .._common import frame_cache
from ..schema import CROSS_CHECKS, TABLES, column_checks, value_check_failures
from .checks import Check, Outcome, register_checks
from .config import CRM_TABLES
from .context import won_flag
from .normalise import DOMAIN_RE

__all__ = []


def _domain_failures(ctx, table: str, column: str) -> pd.Series:
    """True where a present in-scope value of ``table.column`` fails one of the schema's pandera
    value checks (:func:`revops_kit.schema.value_check_failures`). The checks are value by value,
    so they run once per table on the whole table (not once per period on its scoped rows) and
    each period keeps the failures of its rows. A check that cannot run on the column at all
    (e.g. a bound on text) fails every present value."""
    rows = ctx.scope(table)
    frame = ctx.table(table)
    cases = frame_cache("dq_value_checks", (frame,), (table,), lambda: value_check_failures(table, frame))
    cases = cases[cases["column"] == column]
    values = rows[column]
    present = values.notna()
    if cases["index"].isna().any():
        return present.astype(bool)
    return (present & rows.index.isin(cases["index"].tolist())).astype(bool)


@register_checks("validity")
def _validity_checks(data) -> list[Check]:
    checks = []
    for table, spec in TABLES.items():
        frame = getattr(data, table)
        if frame is None:
            continue
        for col in spec.columns:
            if not column_checks(col) or col.name not in frame.columns:  # the schema declares no value check
                continue
            rule = []
            if col.allowed is not None:
                rule.append("in " + "/".join(map(str, col.allowed)))
            for sym, bound in (("≥", col.ge), (">", col.gt), ("≤", col.le)):
                if bound is not None:
                    rule.append(f"{sym} {bound:g}")
            if col.kind == "currency":
                rule.append("a 3-letter ISO 4217 code")
            if col.kind == "period":
                rule.append("a period label")

            def run(ctx, table=table, col=col):
                failed = _domain_failures(ctx, table, col.name)
                rows = ctx.scope(table)
                present = rows[col.name].notna()
                return Outcome(rows.loc[present], failed.loc[present])

            checks.append(Check(f"{table}.{col.name}:in_domain", "validity", table, col.name,
                                f"{table}.{col.name} is {' and '.join(rule)}", run, table in CRM_TABLES))

    # date order checks of the schema plus a few more
    orders = [(c.tables[0], c.column, c.name, c.func) for c in CROSS_CHECKS if len(c.tables) == 1
              and c.name != "won_implies_closed"]

    def after(later: str, earlier: str):
        def func(frame):
            return (frame[later] < frame[earlier]).fillna(False).astype(bool)
        return func

    extra = [("opportunities", "close_date", "close_not_before_created", after("close_date", "created_at"),
              ("close_date", "created_at")),
             ("invoices", "paid_at", "paid_not_before_issue", after("paid_at", "issued_at"), ("paid_at", "issued_at")),
             ("leads", "mql_at", "mql_not_before_created", after("mql_at", "created_at"), ("mql_at", "created_at")),
             ("leads", "sql_at", "sql_not_before_mql", after("sql_at", "mql_at"), ("sql_at", "mql_at")),
             ("leads", "converted_at", "converted_not_before_created", after("converted_at", "created_at"),
              ("converted_at", "created_at"))]
    specs = [(t, c, n, f, None) for t, c, n, f in orders] + extra
    for table, column, name, func, needs in specs:
        frame = getattr(data, table)
        if frame is None or column not in frame.columns or (needs and not set(needs) <= set(frame.columns)):
            continue

        def run(ctx, table=table, column=column, func=func):
            rows = ctx.scope(table)
            rows = rows.loc[rows[column].notna()]
            return Outcome(rows, func(rows).reindex(rows.index).fillna(False).astype(bool))

        checks.append(Check(f"{table}.{column}:{name}", "validity", table, column,
                            f"{table}: {name.replace('_', ' ')}", run, table in CRM_TABLES))

    cust = data.customers
    if cust is not None and "domain" in cust.columns:
        def run_domain(ctx):
            rows = ctx.scope("customers")
            rows = rows.loc[rows["domain"].notna()]
            text = rows["domain"].astype("string").str.strip().str.lower()
            text = text.str.replace(r"^[a-z][a-z0-9+.-]*://", "", regex=True).str.replace(r"^www\d?\.", "", regex=True)
            text = text.str.rstrip("/")
            ok = text.str.fullmatch(DOMAIN_RE.pattern).fillna(False).astype(bool)
            return Outcome(rows, ~ok)

        checks.append(Check("customers.domain:well_formed", "validity", "customers", "domain",
                            "customers.domain looks like a web domain (name.tld)", run_domain, True))
    opps = data.opportunities
    if opps is not None:
        def run_won_amount(ctx):
            rows = ctx.scope("opportunities")
            rows = rows.loc[won_flag(rows) & rows["amount"].notna()]
            return Outcome(rows, (rows["amount"] <= 0).astype(bool))

        checks.append(Check("opportunities.amount:won_amount_positive", "validity", "opportunities",
                            "amount", "a won opportunity has an amount > 0", run_won_amount, True))
    return checks
