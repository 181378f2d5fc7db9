"""What a check runs on: the period's scope of every table and the frames several checks share.

Scope of a period ``[start, end)`` — which rows a check looks at:

* customers: accounts created before the period end (the account base at the end);
* subscriptions: rows overlapping the period;
* opportunities: opportunities open at some time in the period (created before the end and not
  closed before the start);
* quotas and targets: rows whose period label overlaps the period;
* every other table: rows whose date column (``schema.TABLES[t].date_column``) is in the period.

Rows whose date is missing are in scope of every period (so a blank date never hides a row).
The open / won / lost reading of an opportunity (:func:`closed_flag`, :func:`won_flag`) is the
package's one rule, :mod:`revops_kit.stages`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import to_reporting_currency
from ..errors import RevOpsError
from ..periods import Period
from ..policies import MetricPolicy
from ..revenue import active_subscriptions
from ..schema import TABLES
from ..stages import OPEN, WON, stage_outcome
from .config import QualityConfig

__all__ = [
    "CheckContext", "isin_known", "in_period", "bool_column", "closed_flag",
    "won_flag", "scope_mask", "open_at_end", "close_date_at_end", "mrr_at_end", "reporting_amount",
]






class CheckContext:
    """Everything a check needs, with per-call caches (scopes, duplicate clusters ...)."""

    def __init__(self, data, period: Period, config: QualityConfig, policy: MetricPolicy):
        self.data, self.p, self.config, self.policy = data, period, config, policy
        self._cache: dict = {}

    def cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self.data, name)

    def scope(self, name: str) -> pd.DataFrame:
        return self.cached(("scope", name), lambda: self.table(name).loc[scope_mask(self, name)])


def isin_known(values: pd.Series, known) -> pd.Series:
    """``values.isin(known)`` as a bool Series (object comparison: much faster than on Arrow strings)."""
    ref = np.asarray(pd.Series(known).dropna().astype(object).unique(), dtype=object)
    return values.astype(object).isin(ref).astype(bool)


def in_period(dates: pd.Series, p: Period) -> pd.Series:
    """True where a date is in the period ``[start, end)`` or missing (a blank date never hides a row)."""
    return (dates.isna() | ((dates >= p.start) & (dates < p.end))).astype(bool)


def bool_column(frame: pd.DataFrame, col: str) -> pd.Series:
    """``frame[col]`` as a nullable boolean (all ``<NA>`` when the column is absent)."""
    if col not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="boolean")
    return frame[col].astype("boolean")


def closed_flag(opps: pd.DataFrame) -> pd.Series:
    """Closed (won or lost) by the one open / won / lost rule, :func:`revops_kit.stages.stage_outcome`
    (the ``is_won`` / ``is_closed`` flags, else the stage name)."""
    return pd.Series(stage_outcome(opps) != OPEN, index=opps.index, dtype=bool)


def won_flag(opps: pd.DataFrame) -> pd.Series:
    """Won by the one open / won / lost rule, :func:`revops_kit.stages.stage_outcome`."""
    return pd.Series(stage_outcome(opps) == WON, index=opps.index, dtype=bool)


def _labels_overlap(labels: pd.Series, p: Period) -> pd.Series:
    out = {}
    for label in labels.dropna().unique():
        try:
            q = Period.parse(label, fiscal_year_start=p.fiscal_year_start)
            out[label] = bool(q.start < p.end and q.end > p.start)
        except ValueError:
            out[label] = True  # unparsable: in scope so that validity reports it
    return labels.map(out).fillna(True).astype(bool)


def scope_mask(ctx: CheckContext, name: str) -> pd.Series:
    """Rows of table ``name`` in scope of the context's period (see the module docstring)."""
    frame, p = ctx.table(name), ctx.p
    if name == "customers":
        if "created_at" not in frame.columns:
            return pd.Series(True, index=frame.index)
        return (frame["created_at"].isna() | (frame["created_at"] < p.end)).astype(bool)
    if name == "subscriptions":
        start = frame["start_date"]
        end = frame["end_date"] if "end_date" in frame.columns else pd.Series(pd.NaT, index=frame.index)
        return (start.isna() | ((start < p.end) & (end.isna() | (end > p.start)))).astype(bool)
    if name == "opportunities":
        created = frame["created_at"]
        closed_before = closed_flag(frame) & (frame["close_date"] < p.start if "close_date" in frame.columns
                                               else False)
        return ((created.isna() | (created < p.end)) & ~closed_before).astype(bool)
    if name in ("quotas", "targets"):
        return _labels_overlap(frame["period"], p)
    col = TABLES[name].date_column
    if col is None or col not in frame.columns:
        return pd.Series(True, index=frame.index)
    return in_period(frame[col], p)


def open_at_end(ctx: CheckContext) -> pd.DataFrame:
    """Opportunities open at the period end: created before it and not closed before it."""

    def make():
        o = ctx.table("opportunities")
        p = ctx.p
        closed = closed_flag(o)
        close = o["close_date"] if "close_date" in o.columns else pd.Series(pd.NaT, index=o.index)
        created_ok = o["created_at"].isna() | (o["created_at"] < p.end)
        open_now = ~closed
        closed_later = closed & (close >= p.end)
        return o.loc[created_ok & (open_now | closed_later)]

    return ctx.cached("open_at_end", make)


def close_date_at_end(ctx: CheckContext, rows: pd.DataFrame) -> pd.Series:
    """The close date each opportunity had at the period end: the last one recorded in the stage
    history before the end when there is a history, else the current close date."""
    current = rows["close_date"] if "close_date" in rows.columns else pd.Series(pd.NaT, index=rows.index)
    hist = ctx.data.opportunity_history
    if hist is None or "close_date" not in hist.columns:
        return current
    h = hist.loc[(hist["changed_at"] < ctx.p.end) & hist["close_date"].notna(),
                 ["opportunity_id", "changed_at", "close_date"]]
    h = h.assign(_pos=np.arange(len(h))).sort_values(["opportunity_id", "changed_at", "_pos"], kind="stable")
    recorded = h.drop_duplicates("opportunity_id", keep="last").set_index("opportunity_id")["close_date"]
    if rows.empty or recorded.empty:  # e.g. the data's first quarter: pandas cannot map onto an empty datetime Series
        return current
    at_end = pd.to_datetime(pd.Series(rows["opportunity_id"].map(recorded).to_numpy(), index=rows.index))
    return at_end.fillna(current)


def mrr_at_end(ctx: CheckContext) -> pd.Series:
    """Period-end MRR by customer in the reporting currency (0 for customers without)."""

    def make():
        subs = ctx.data.subscriptions
        if subs is None:
            return pd.Series(dtype="float64")
        try:
            act = active_subscriptions(subs, ctx.p.last_month, fx_rates=ctx.data.fx_rates, policy=ctx.policy)
            return act.groupby("customer_id")["mrr_reporting"].sum()
        except RevOpsError:  # no FX for a currency: keep the original amounts
            m = ctx.p.last_month
            act = subs[(subs["start_date"] <= m) & (subs["end_date"].isna() | (subs["end_date"] > m))
                       & (subs["mrr"] > 0)]
            return act.groupby("customer_id")["mrr"].sum()

    return ctx.cached("mrr_at_end", make)


def reporting_amount(ctx: CheckContext, frame: pd.DataFrame, amount: str, date: str, table: str) -> pd.Series:
    """``frame[amount]`` in the reporting currency, or unchanged when it cannot be converted."""
    try:
        return to_reporting_currency(frame, amount, date, ctx.data.fx_rates, ctx.policy, table=table)
    except RevOpsError:
        return frame[amount].astype("float64")
