"""Timeliness checks: stale or inactive open opportunities and tables whose newest row is too old.

An open opportunity whose close date had passed at the period end (stale; the close date recorded
by then in the stage history), an open opportunity without any change for ``inactivity_days``, a
table whose newest row is older than ``freshness_days`` at the period end.
"""

from __future__ import annotations

import pandas as pd

from ..schema import TABLES
from .checks import Check, Outcome, register_checks
from .config import CRM_TABLES, FRESHNESS_TABLES
from .context import close_date_at_end, closed_flag, open_at_end

__all__ = []


@register_checks("timeliness")
def _timeliness_checks(data) -> list[Check]:
    checks = []
    opps = data.opportunities
    if opps is not None and "close_date" in opps.columns:
        def run_stale(ctx):
            rows = open_at_end(ctx)
            close = close_date_at_end(ctx, rows)
            rows, close = rows.loc[close.notna()], close.loc[close.notna()]
            still_open = ~closed_flag(rows) | (rows["close_date"] >= ctx.p.end).fillna(False).astype(bool)
            stale = still_open & (close < ctx.p.end)
            days = (ctx.p.end - close).dt.days
            detail = pd.DataFrame({"close_date_at_period_end": close,
                                   "days_past_close": days.where(stale)}, index=rows.index)
            return Outcome(rows, stale.astype(bool), detail)

        checks.append(Check("opportunities.close_date:not_stale", "timeliness", "opportunities", "close_date",
                            "an opportunity open at the period end has a close date on or after it "
                            "(the close date recorded by then, from the stage history when there is one)",
                            run_stale, True))
    if opps is not None and data.opportunity_history is not None:
        def run_inactive(ctx):
            rows = open_at_end(ctx)
            h = ctx.table("opportunity_history")
            h = h.loc[h["changed_at"] < ctx.p.end]
            last = h.groupby("opportunity_id")["changed_at"].max()
            last_change = (rows["opportunity_id"].map(last) if len(last)  # mapping onto an empty datetime
                           else pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns]"))  # Series fails
            rows = rows.loc[last_change.notna()]
            last_change = last_change.loc[rows.index]
            idle = (ctx.p.end - last_change).dt.days
            detail = pd.DataFrame({"last_change": last_change, "days_idle": idle}, index=rows.index)
            return Outcome(rows, (idle > ctx.config.inactivity_days).astype(bool), detail)

        checks.append(Check("opportunities.changed_at:recent_activity", "timeliness", "opportunities",
                            "changed_at", "an opportunity open at the period end changed within "
                            "inactivity_days before it", run_inactive, True))
    for table in FRESHNESS_TABLES:
        frame = getattr(data, table)
        col = TABLES[table].date_column
        if frame is None or col not in frame.columns:
            continue

        def run(ctx, table=table, col=col):
            dates = ctx.table(table)[col]
            before = dates[dates < ctx.p.end]
            if before.empty:
                return None
            last = before.max()
            lag = int((ctx.p.end - last).days)
            rows = pd.DataFrame({"table": [table], "last_date": [last], "days_old_at_period_end": [lag]})
            return Outcome(rows, pd.Series([lag > ctx.config.freshness_days]), table_rows=False)

        checks.append(Check(f"{table}.{col}:fresh", "timeliness", table, col,
                            f"the newest {table} row is at most freshness_days old at the period end",
                            run, table in CRM_TABLES))
    return checks
