"""Accounts: customer counts of a period (start, new, reactivated, churned, end), ARPA and
new-customer ARPA."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import arpa_frame, as_list, ratio_frame
from ..catalog import register
from ..grid import month_number, bridge_cents, group_codes, group_frame, period_grid
from ..periods import PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy, get_policy
from ..engines import is_sql
from ._shared import _NEW, _sql

__all__ = ["customer_counts", "arpa", "new_customer_arpa"]


@register("customers_new", label="New customers", unit="count", good="up", family="revenue",
          aggregation="sum", value="customers_new", tables=("subscriptions",),
          formula="customers whose first active month (MRR > 0) is in the period")
@register("customers_reactivated", label="Reactivated customers", unit="count", good="up",
          family="revenue", aggregation="sum", value="customers_reactivated", tables=("subscriptions",),
          formula="customers returning in the period after at least one inactive month")
def customer_counts(subscriptions: pd.DataFrame, period: PeriodLike, *,
                    by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Customer counts of ``period`` per group (no currency conversion needed).

    ``customers_start`` (active in the month before the period), ``customers_new`` (first active
    month in the period), ``customers_reactivated`` and ``customers_churned`` (at least one such
    movement in the period; distinct customers), ``customers_end`` (active in the last month).
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().customer_counts(subscriptions, period, by=by, customers=customers,
                                       policy=policy)
    p = as_period(period)
    g, ents, by = period_grid(subscriptions, p, by=by, customers=customers, fx_rates=None,
                               policy=policy, convert=False)
    groups, _, counts = bridge_cents(g, ents, by, p)
    return group_frame(groups, by, **counts)


@register("arpa", label="ARPA", unit="currency", good="up", family="revenue", aggregation="ratio",
          sections={"revenue": 9},
          formula="MRR at period end ÷ active customers at period end (policy.arpa_basis='end'); "
                  "'average': Σ monthly MRR ÷ Σ monthly active customers",
          tables=("subscriptions",))
def arpa(subscriptions: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
         customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
         policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Average revenue per account (monthly).

    ``policy.arpa_basis == "end"`` (default)::

        ARPA = MRR in the period's last month ÷ customers active in that month

    ``"average"``: Σ monthly MRR over the period's months ÷ Σ monthly active customers (the
    average MRR per active customer-month).

    Also returns, for CAC payback and CLV: ``new_mrr`` (Σ MRR of the new movements in the
    period), ``new_customers`` and ``new_customer_arpa = new_mrr ÷ new_customers`` (the first-month
    MRR of an average new customer; NaN when there are none).

    Returns
    -------
    DataFrame
        ``[by], value, numerator (MRR), denominator (customers), new_mrr, new_customers,
        new_customer_arpa``. Zero customers gives NaN and a ZeroDenominatorWarning.
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().arpa(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates,
                            policy=policy)
    p = as_period(period)
    g, ents, by = period_grid(subscriptions, p, by=by, customers=customers, fx_rates=fx_rates,
                               policy=policy)
    gcode, groups = group_codes(ents, by)
    k = len(groups)
    rg = gcode[g.ent] if len(g.ent) else np.zeros(0, dtype=np.int64)
    last_m = int(month_number([p.last_month], ceil=False)[0])
    sel = np.ones(len(g.month), dtype=bool) if policy.arpa_basis == "average" else g.month == last_m
    num = np.rint(np.bincount(rg[sel], weights=g.mrr[sel].astype(np.float64), minlength=k)) / 100
    den = np.bincount(rg[sel & g.active], minlength=k).astype(np.float64)
    new = g.cat == _NEW
    new_mrr = np.rint(np.bincount(rg[new], weights=(g.mrr - g.prev)[new].astype(np.float64),
                                  minlength=k)) / 100
    new_n = np.bincount(rg[new], minlength=k)
    return arpa_frame(group_frame(groups, by, mrr=num, customers=den), new_mrr, new_n, by=by)


def new_customer_arpa(subscriptions: pd.DataFrame, period: PeriodLike, *,
                      by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                      fx_rates: pd.DataFrame | None = None,
                      policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """ARPA of the customers new in ``period``.

    new-customer ARPA = Σ MRR of the period's *new* movements (each new customer's MRR in its
    first active month) ÷ number of new customers. NaN + ZeroDenominatorWarning when none.
    Returns ``[by], value, numerator, denominator``.
    """
    policy = get_policy(policy)
    a = arpa(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    by = as_list(by)
    out = a[by + ["new_mrr", "new_customers"]]
    out = ratio_frame(out, "new_mrr", "new_customers", what="new-customer ARPA (no new customers)",
                      by=by)
    return out[by + ["value", "numerator", "denominator"]]
