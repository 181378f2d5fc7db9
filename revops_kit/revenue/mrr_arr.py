"""Point-in-time recurring revenue: MRR, ARR and active customers at a period's end, the MRR of a
month spine, and the subscription rows active in a month."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import as_list, attach_columns
from ..catalog import register
from ..grid import month_grid, month_number, group_codes, group_frame, period_grid, split_by
from ..periods import Period, PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy, get_policy
from ..engines import is_sql
from ._shared import _sql

__all__ = ["active_subscriptions", "mrr", "arr", "customers_active", "mrr_series"]


def _month_mrr(subscriptions, month: pd.Timestamp, *, by, customers, fx_rates, policy):
    """(groups, mrr cents, active customers) for one month."""
    policy = get_policy(policy)
    m = pd.Timestamp(month)
    g, ents, by = period_grid(subscriptions, Period.containing(m), by=by, customers=customers,
                               fx_rates=fx_rates, policy=policy)
    gcode, groups = group_codes(ents, by)
    k = len(groups)
    rg = gcode[g.ent] if len(g.ent) else np.zeros(0, dtype=np.int64)
    cents = np.rint(np.bincount(rg, weights=g.mrr.astype(np.float64), minlength=k)).astype(np.int64)
    customers_n = np.bincount(rg[g.active], minlength=k)
    return groups, by, cents, customers_n


def active_subscriptions(subscriptions: pd.DataFrame, month, *, fx_rates: pd.DataFrame | None = None,
                         policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Subscription rows active in ``month`` with ``mrr_reporting`` in the reporting currency.

    Active means ``start_date <= month < end_date`` (or ``end_date`` empty) and ``mrr > 0``.
    ``mrr_reporting`` is each row converted at the month's rate and rounded to the cent (row-level;
    the KPIs convert per customer × currency, see the module docstring).
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        _sql().unsupported("the subscriptions active in a month")
    from .._common import to_reporting_currency

    m = pd.Timestamp(month).to_period("M").to_timestamp()
    active = (subscriptions["start_date"] <= m) & (
        subscriptions["end_date"].isna() | (subscriptions["end_date"] > m)
    ) & (subscriptions["mrr"] > 0)
    out = subscriptions.loc[active].copy()
    out["month"] = m
    out["mrr_reporting"] = to_reporting_currency(out, "mrr", "month", fx_rates, policy,
                                                 table="subscriptions").round(2)
    return out


@register("mrr", label="MRR", unit="currency", good="up", family="revenue", headline=True,
          aggregation="level", sections={"revenue": 1},
          formula="Σ mrr of subscription periods active in the period's last month "
                  "(start_date ≤ month < end_date), in the reporting currency",
          tables=("subscriptions",))
def mrr(subscriptions: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
        customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Monthly recurring revenue at the end of ``period``.

    MRR = Σ over customers of their MRR in the period's last month (Σ mrr of subscription periods
    with ``start_date <= month < end_date``), in the reporting currency, in integer cents
    (see the module docstring). Reads ``reporting_currency``, ``fx_mode``, ``fx_fixed_month``.

    Returns one row per group with ``value`` (MRR) and ``customers`` (active customers).

    Examples
    --------
    >>> import pandas as pd
    >>> subs = pd.DataFrame({"subscription_id": ["s1", "s2"], "customer_id": ["a", "b"],
    ...     "start_date": pd.to_datetime(["2025-01-01", "2025-02-01"]),
    ...     "end_date": pd.to_datetime([None, "2025-03-01"]), "mrr": [100.0, 50.0]})
    >>> mrr(subs, "2025-02")["value"].item(), mrr(subs, "2025-03")["value"].item()
    (150.0, 100.0)
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().mrr(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates,
                           policy=policy)
    p = as_period(period)
    groups, by, cents, n = _month_mrr(subscriptions, p.last_month, by=by, customers=customers,
                                      fx_rates=fx_rates, policy=policy)
    return group_frame(groups, by, value=cents / 100.0, customers=n)


@register("arr", label="ARR", unit="currency", good="up", family="revenue", headline=True,
          aggregation="level", sections={"revenue": 2},
          formula="12 × MRR at period end", tables=("subscriptions",))
def arr(subscriptions: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
        customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Annual recurring revenue: ARR = 12 × period-end MRR (same arguments as :func:`mrr`)."""
    out = mrr(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    out["mrr"] = out["value"]
    out["value"] = out["value"] * 12
    return out


@register("customers_active", label="Active customers", unit="count", good="up", family="revenue",
          headline=True, aggregation="level", sections={"revenue": 4},
          formula="customers with MRR > 0 in the period's last month",
          tables=("subscriptions",))
def customers_active(subscriptions: pd.DataFrame, period: PeriodLike, *,
                     by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                     fx_rates: pd.DataFrame | None = None,
                     policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Customers with MRR > 0 in the period's last month (same arguments as :func:`mrr`)."""
    out = mrr(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    out["mrr"] = out["value"]
    out["value"] = out["customers"].astype("float64")
    return out


def mrr_series(subscriptions: pd.DataFrame, months, *, by: str | list[str] | None = None,
               customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
               policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """MRR and active customers for each month in ``months`` (a month spine).

    Returns columns ``month``, the ``by`` columns, ``mrr`` and ``customers``; every month × group
    seen in the window appears (0 where nothing is active).
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().mrr_series(subscriptions, months, by=by, customers=customers,
                                  fx_rates=fx_rates, policy=policy)
    months = pd.DatetimeIndex(months)
    if len(months) == 0:
        return pd.DataFrame(columns=["month"] + as_list(by) + ["mrr", "customers"])
    grain, cust_cols = split_by(subscriptions, by)
    g = month_grid(subscriptions, start=months.min(), end=months.max() + pd.DateOffset(months=1),
              grain=grain, fx_rates=fx_rates, policy=policy)
    ents = attach_columns(g.entities, customers, cust_cols, table="subscriptions") if cust_cols \
        else g.entities
    by = as_list(by)
    gcode, groups = group_codes(ents, by)
    k = len(groups)
    want = month_number(months.to_numpy(), ceil=False)
    mi = np.searchsorted(want, g.month)
    ok = (mi < len(want)) & (want[np.minimum(mi, len(want) - 1)] == g.month)
    rg = gcode[g.ent] if len(g.ent) else np.zeros(0, dtype=np.int64)
    key = mi[ok] * k + rg[ok]
    cents = np.rint(np.bincount(key, weights=g.mrr[ok].astype(np.float64),
                                minlength=len(want) * k)).astype(np.int64)
    n = np.bincount(key[g.active[ok]], minlength=len(want) * k)
    out = groups.reset_index(drop=True).loc[np.tile(np.arange(k), len(want))].reset_index(drop=True) \
        if by else pd.DataFrame(index=range(len(want)))
    out.insert(0, "month", np.repeat(months.to_numpy(dtype="datetime64[ns]"), k))
    out["mrr"] = cents / 100.0
    out["customers"] = n
    return out
