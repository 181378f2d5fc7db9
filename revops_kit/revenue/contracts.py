"""Contracts: total and annual contract value signed in a period (TCV, ACV) and the revenue
backlog (contracted, not yet recognised) at its end."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import as_list, attach_columns
from ..catalog import register
from ..grid import (MRRInputError, month_number, mrr_cents, month_start, month_window, OPEN_MONTH,
                    check_subscriptions)
from ..periods import PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy, get_policy
from ..engines import is_sql
from ._shared import _sql

__all__ = ["contract_values", "tcv", "acv", "revenue_backlog"]


def contract_values(opportunities: pd.DataFrame | None, period: PeriodLike, *,
                    subscriptions: pd.DataFrame | None = None, by: str | list[str] | None = None,
                    customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Total and annual contract value of the contracts signed in ``period``.

    ``policy.contract_value_source == "opportunities"`` (default): contracts are won
    opportunities of every type (new business, expansion, renewal) with ``close_date`` in the
    period; ``term_months`` missing or 0 counts as 12. With ``policy.opportunity_amount ==
    "annual"`` (default; ``amount`` is the annual value, as in the sample)::

        TCV = Σ amount × term_months ÷ 12
        ACV = Σ amount × min(term_months, 12) ÷ 12      (a contract under a year: ACV = TCV)

    and with ``"total"`` (``amount`` is the whole contract)::

        TCV = Σ amount;   ACV = Σ amount × 12 ÷ max(term_months, 12)

    ``"subscriptions"``: contracts are subscription periods starting in the period with a
    ``committed_end_date``; TCV = Σ mrr × committed months (``committed_end − start`` in months),
    ACV = Σ mrr × min(committed months, 12).

    Amounts are converted at the rate of the close (start) month per ``policy.fx_mode``.
    Returns ``[by], tcv, acv, contracts``.
    """
    policy = get_policy(policy)
    from .._common import to_reporting_currency

    p = as_period(period)
    by = as_list(by)
    if policy.contract_value_source == "subscriptions":
        if subscriptions is None:
            raise MRRInputError("contract values from subscriptions need the subscriptions table")
        subs = subscriptions
        if "committed_end_date" not in subs.columns:
            raise MRRInputError("subscriptions: no column 'committed_end_date' for contract values")
        s = month_number(subs["start_date"].to_numpy(), ceil=True)
        c = month_number(subs["committed_end_date"].to_numpy(), ceil=True)
        lo, hi = month_window(p, None)
        sel = (s >= lo) & (s < hi) & (c != OPEN_MONTH) & (c > s)
        frame = subs.loc[sel].copy()
        frame["month"] = month_start(s[sel])
        value = to_reporting_currency(frame, "mrr", "month", fx_rates, policy,
                                      table="subscriptions").to_numpy()
        months = (c - s)[sel]
        frame["tcv"] = np.rint(value * months * 100) / 100
        frame["acv"] = np.rint(value * np.minimum(months, 12) * 100) / 100
    else:
        if opportunities is None:
            raise MRRInputError("contract values from opportunities need the opportunities table")
        opp = opportunities
        won = opp["is_won"].fillna(False).astype(bool) if "is_won" in opp.columns else \
            opp["stage"].astype(str).str.lower().str.contains("won")
        cd = opp["close_date"] if "close_date" in opp.columns else opp["created_at"]
        sel = won & p.mask(cd) & opp["amount"].notna()
        frame = opp.loc[sel].copy()
        frame["month"] = cd[sel].dt.to_period("M").dt.to_timestamp()
        value = to_reporting_currency(frame, "amount", "month", fx_rates, policy,
                                      table="opportunities").to_numpy()
        term = frame["term_months"].to_numpy(dtype="float64", na_value=np.nan) \
            if "term_months" in frame.columns else np.full(len(frame), np.nan)
        term = np.where(np.isnan(term) | (term <= 0), 12.0, term)
        if policy.opportunity_amount == "annual":
            total = value * term / 12.0
        else:
            total = value
        frame["tcv"] = np.rint(total * 100) / 100
        frame["acv"] = np.rint(total * 12.0 / np.maximum(term, 12.0) * 100) / 100
    frame = attach_columns(frame, customers, by, table="opportunities")
    frame["contracts"] = 1
    frame["tcv"] = np.rint(frame["tcv"].to_numpy(dtype="float64") * 100)   # whole cents
    frame["acv"] = np.rint(frame["acv"].to_numpy(dtype="float64") * 100)
    if not by:
        out = pd.DataFrame({"tcv": [float(frame["tcv"].sum())], "acv": [float(frame["acv"].sum())],
                            "contracts": [len(frame)]})
    else:
        out = frame.groupby(by, observed=True, dropna=False)[["tcv", "acv", "contracts"]].sum() \
            .reset_index()
    out["tcv"] = out["tcv"] / 100
    out["acv"] = out["acv"] / 100
    return out


@register("tcv", label="TCV (signed)", unit="currency", good="up", family="revenue",
          aggregation="sum", policy_tables=lambda pol: ("opportunities",) if pol.contract_value_source == "opportunities" else (),
          formula="Σ annual amount × term_months ÷ 12 of won opportunities closed in the period "
                  "(policy.opportunity_amount='total': Σ amount); "
                  "policy.contract_value_source='subscriptions': Σ mrr × committed months of "
                  "subscription periods starting in the period",
          tables=("subscriptions",))
def tcv(opportunities: pd.DataFrame | None, period: PeriodLike, *,
        subscriptions: pd.DataFrame | None = None, by: str | list[str] | None = None,
        customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Total contract value signed in ``period`` (see :func:`contract_values`); ``value`` = TCV."""
    out = contract_values(opportunities, period, subscriptions=subscriptions, by=by,
                          customers=customers, fx_rates=fx_rates, policy=policy)
    return out.assign(value=out["tcv"])


@register("acv", label="ACV (signed)", unit="currency", good="up", family="revenue",
          aggregation="sum", policy_tables=lambda pol: ("opportunities",) if pol.contract_value_source == "opportunities" else (),
          formula="TCV × 12 ÷ max(term_months, 12) of won opportunities closed in the period "
                  "(the first year's value); 'subscriptions': Σ mrr × min(committed months, 12)",
          tables=("subscriptions",))
def acv(opportunities: pd.DataFrame | None, period: PeriodLike, *,
        subscriptions: pd.DataFrame | None = None, by: str | list[str] | None = None,
        customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Annual contract value signed in ``period`` (see :func:`contract_values`); ``value`` = ACV."""
    out = contract_values(opportunities, period, subscriptions=subscriptions, by=by,
                          customers=customers, fx_rates=fx_rates, policy=policy)
    return out.assign(value=out["acv"])


@register("revenue_backlog", label="Revenue backlog", unit="currency", good="up", family="revenue",
          aggregation="level", columns={"subscriptions": ("committed_end_date",)},
          formula="Σ over periods active at period end of mrr × committed months remaining after "
                  "the period (min(committed_end_date, end_date) − period end)",
          tables=("subscriptions",))
def revenue_backlog(subscriptions: pd.DataFrame, period: PeriodLike, *,
                    by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                    fx_rates: pd.DataFrame | None = None,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Contracted recurring revenue not yet recognised at the end of ``period``.

    For each subscription period active in the period's last month::

        remaining months = max(0, min(ceil_month(committed_end_date), ceil_month(end_date))
                                  − first month after the period)
        backlog = Σ mrr (converted at the period's last month's rate) × remaining months

    Periods without a ``committed_end_date`` (month-to-month) add nothing. Returns
    ``[by], value, subscriptions`` (periods contributing).
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        _sql().unsupported("revenue backlog")
    from .._common import to_reporting_currency

    p = as_period(period)
    by = as_list(by)
    subs = subscriptions
    check_subscriptions(subs, [])
    if "committed_end_date" not in subs.columns:
        raise MRRInputError("subscriptions: no column 'committed_end_date' for revenue backlog")
    last = int(month_number([p.last_month], ceil=False)[0])
    s = month_number(subs["start_date"].to_numpy(), ceil=True)
    e = month_number(subs["end_date"].to_numpy(), ceil=True)
    c = month_number(subs["committed_end_date"].to_numpy(), ceil=True)
    remaining = np.minimum(c, e) - (last + 1)
    sel = (s <= last) & (e > last) & (c != OPEN_MONTH) & (remaining > 0) & (mrr_cents(subs) > 0)
    frame = subs.loc[sel].copy()
    frame["month"] = p.last_month
    value = to_reporting_currency(frame, "mrr", "month", fx_rates, policy,
                                  table="subscriptions").to_numpy()
    frame["backlog"] = np.rint(value * 100) * remaining[sel]      # whole cents
    frame = attach_columns(frame, customers, by, table="subscriptions")
    if not by:
        return pd.DataFrame({"value": [float(frame["backlog"].sum()) / 100],
                             "subscriptions": [len(frame)]})
    out = frame.groupby(by, observed=True, dropna=False).agg(
        value=("backlog", "sum"), subscriptions=("backlog", "size")).reset_index()
    out["value"] = out["value"] / 100
    return out
