"""Revenue KPIs: MRR, ARR and active customers.

A month's MRR is the sum over a customer's subscription periods with
``start_date <= month < end_date`` (half-open; an empty ``end_date`` is still running), converted
to the reporting currency. A period's MRR is the MRR of its last month (period-end MRR).
"""

from __future__ import annotations

import pandas as pd

from ._common import as_list, attach_columns, to_reporting_currency
from .catalog import register
from .periods import Period, PeriodLike, as_period
from .policies import DEFAULT_POLICY, MetricPolicy

__all__ = ["active_subscriptions", "mrr", "arr", "customers_active", "mrr_series"]


def active_subscriptions(subscriptions: pd.DataFrame, month, *, fx_rates: pd.DataFrame | None = None,
                         policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Subscription rows active in ``month`` with ``mrr_reporting`` in the reporting currency.

    Active means ``start_date <= month < end_date`` (or ``end_date`` empty) and ``mrr > 0``.
    """
    m = pd.Timestamp(month).to_period("M").to_timestamp()
    active = (subscriptions["start_date"] <= m) & (
        subscriptions["end_date"].isna() | (subscriptions["end_date"] > m)
    ) & (subscriptions["mrr"] > 0)
    out = subscriptions.loc[active].copy()
    out["month"] = m
    out["mrr_reporting"] = to_reporting_currency(out, "mrr", "month", fx_rates, policy,
                                                 table="subscriptions").round(2)
    return out


def mrr(subscriptions: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
        customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Monthly recurring revenue at the end of ``period``.

    MRR = Σ mrr of subscription periods active in the period's last month, in the reporting
    currency (``policy.reporting_currency``, converted with ``fx_rates`` per ``policy.fx_mode``).

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
    p = as_period(period)
    by = as_list(by)
    active = active_subscriptions(subscriptions, p.last_month, fx_rates=fx_rates, policy=policy)
    active = attach_columns(active, customers, by, table="subscriptions")
    if not by:
        return pd.DataFrame({"value": [float(active["mrr_reporting"].sum())],
                             "customers": [active["customer_id"].nunique()]})
    out = active.groupby(by, observed=True, dropna=False).agg(
        value=("mrr_reporting", "sum"), customers=("customer_id", "nunique")
    )
    return out.reset_index()


def arr(subscriptions: pd.DataFrame, period: PeriodLike, **kwargs) -> pd.DataFrame:
    """Annual recurring revenue: ARR = 12 × period-end MRR (same arguments as :func:`mrr`)."""
    out = mrr(subscriptions, period, **kwargs)
    out["value"] = out["value"] * 12
    return out


def customers_active(subscriptions: pd.DataFrame, period: PeriodLike, **kwargs) -> pd.DataFrame:
    """Customers with MRR > 0 in the period's last month (same arguments as :func:`mrr`)."""
    out = mrr(subscriptions, period, **kwargs)
    out["mrr"] = out["value"]
    out["value"] = out["customers"].astype("float64")
    return out


def mrr_series(subscriptions: pd.DataFrame, months, *, by: str | list[str] | None = None,
               customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
               policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """MRR and active customers for each month in ``months`` (a month spine).

    Returns columns ``month``, the ``by`` columns, ``mrr`` and ``customers``.
    """
    by = as_list(by)
    frames = []
    for month in pd.DatetimeIndex(months):
        active = active_subscriptions(subscriptions, month, fx_rates=fx_rates, policy=policy)
        active = attach_columns(active, customers, by, table="subscriptions")
        if by:
            g = active.groupby(by, observed=True, dropna=False).agg(
                mrr=("mrr_reporting", "sum"), customers=("customer_id", "nunique")).reset_index()
        else:
            g = pd.DataFrame({"mrr": [active["mrr_reporting"].sum()],
                              "customers": [active["customer_id"].nunique()]})
        g.insert(0, "month", month)
        frames.append(g)
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------- catalogue
def _kw(data, by, policy):
    return {"by": by, "customers": data.customers, "fx_rates": data.fx_rates, "policy": policy}


@register("mrr", label="MRR", unit="currency", good="up", family="revenue", headline=True,
          formula="Σ mrr of subscription periods active in the period's last month "
                  "(start_date ≤ month < end_date), in the reporting currency",
          tables=("subscriptions",))
def _kpi_mrr(data, period: Period, *, by, policy):
    return mrr(data.subscriptions, period, **_kw(data, by, policy))


@register("arr", label="ARR", unit="currency", good="up", family="revenue", headline=True,
          formula="12 × MRR at period end", tables=("subscriptions",))
def _kpi_arr(data, period: Period, *, by, policy):
    return arr(data.subscriptions, period, **_kw(data, by, policy))


@register("customers_active", label="Active customers", unit="count", good="up", family="revenue",
          headline=True, formula="customers with MRR > 0 in the period's last month",
          tables=("subscriptions",))
def _kpi_customers_active(data, period: Period, *, by, policy):
    return customers_active(data.subscriptions, period, **_kw(data, by, policy))
