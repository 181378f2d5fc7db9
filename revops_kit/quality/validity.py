"""Validity checks: a value outside its domain.

The schema's allowed values and bounds, ISO codes and period labels, dates in the wrong order (the
schema's single-table date checks plus a few more), malformed web domains, won deals at 0.
"""

from __future__ import annotations

import pandas as pd

from ..periods import Period
from ..schema import CROSS_CHECKS, TABLES
from .checks import Check, Outcome, register_checks
from .config import CRM_TABLES
from .context import won_flag
from .normalise import DOMAIN_RE

__all__ = []


def _domain_mask(col, values: pd.Series) -> pd.Series | None:
    """True where a present value is outside the schema's domain for ``col``."""
    bad = pd.Series(False, index=values.index)
    present = values.notna()
    if col.allowed is not None:
        bad |= present & ~values.isin(list(col.allowed))
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        if col.ge is not None:
            bad |= present & (values < col.ge)
        if col.gt is not None:
            bad |= present & (values <= col.gt)
        if col.le is not None:
            bad |= present & (values > col.le)
    if col.kind == "currency":
        bad |= present & ~values.astype("string").str.fullmatch(r"[A-Z]{3}").fillna(False).astype(bool)
    if col.kind == "period":
        labels = values[present]
        ok = {}
        for label in labels.unique():
            try:
                Period.parse(label)
                ok[label] = True
            except ValueError:
                ok[label] = False
        bad |= present & ~values.map(ok).fillna(True).astype(bool)
    return bad.astype(bool)


@register_checks("validity")
def _validity_checks(data) -> list[Check]:
    checks = []
    for table, spec in TABLES.items():
        frame = getattr(data, table)
        if frame is None:
            continue
        for col in spec.columns:
            has_rule = (col.allowed is not None or col.ge is not None or col.gt is not None
                        or col.le is not None or col.kind in ("currency", "period"))
            if not has_rule or col.name not in frame.columns:
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
                rows = ctx.scope(table)
                values = rows[col.name]
                rows = rows.loc[values.notna()]
                return Outcome(rows, _domain_mask(col, rows[col.name]))

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
