"""Acquisition costs of a period by category and channel, the period's new customers and their
first-month MRR, and acquisition spend per month."""

from __future__ import annotations

import warnings
from typing import Iterable

import pandas as pd

from .._common import to_reporting_currency
from ..catalog import NotGroupableError
from ..errors import ZeroDenominatorWarning
from ..periods import PeriodLike, as_period, to_month
from ..policies import DEFAULT_POLICY, MetricPolicy
from ._shared import MISSING, _costs_frame

__all__ = [
    "CAC_CATEGORIES", "MARKETING_CATEGORIES", "acquisition_costs", "new_customers", "spend_by_month",
]


#: Cost categories of fully loaded CAC.
CAC_CATEGORIES = ("marketing_programs", "marketing_payroll", "sales_payroll", "tools_infrastructure",
                  "external_services")
#: Cost categories of marketing spend (for marketing ROI).
MARKETING_CATEGORIES = ("marketing_programs", "marketing_payroll")


def acquisition_costs(costs: pd.DataFrame, period: PeriodLike, *, fx_rates: pd.DataFrame | None = None,
                      policy: MetricPolicy = DEFAULT_POLICY,
                      categories: Iterable[str] = CAC_CATEGORIES) -> pd.DataFrame:
    """Acquisition costs of ``period`` by category and channel (reporting currency).

    Returns ``category``, ``channel`` (``None`` for shared costs), ``amount``; one row per pair.
    """
    p = as_period(period)
    c = _costs_frame(costs, p, fx_rates, policy, categories)
    c["channel"] = c["channel"].astype(object).where(c["channel"].notna(), None)
    out = c.groupby(["category", "channel"], dropna=False, sort=True)["amount_rep"].sum().reset_index()
    return out.rename(columns={"amount_rep": "amount"})


def new_customers(subscriptions: pd.DataFrame, period: PeriodLike, *, by_channel: bool = False,
                  customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                  policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """New customers of ``period`` and their first-month MRR, from ``rk.arpa``.

    Returns ``new_customers``, ``new_mrr`` and ``new_customer_arpa`` (monthly), per ``channel``
    (``customers.acquisition_channel``) when ``by_channel``.
    """
    from ..revenue import arpa as _arpa

    def arpa(*args, **kwargs):  # only the new-customer columns are used: an ARPA of a group
        with warnings.catch_warnings():  # without active customers at the end is no concern here
            warnings.simplefilter("ignore", ZeroDenominatorWarning)
            return _arpa(*args, **kwargs)

    if by_channel:
        if customers is None or "acquisition_channel" not in customers.columns:
            raise NotGroupableError("new customers by channel need customers.acquisition_channel")
        a = arpa(subscriptions, period, by="acquisition_channel", customers=customers,
                 fx_rates=fx_rates, policy=policy).rename(columns={"acquisition_channel": "channel"})
        a["channel"] = a["channel"].astype(object).where(a["channel"].notna(), MISSING)
        cols = ["channel"]
    else:
        a = arpa(subscriptions, period, customers=customers, fx_rates=fx_rates, policy=policy)
        cols = []
    return a[cols + ["new_customers", "new_mrr", "new_customer_arpa"]].reset_index(drop=True)


def spend_by_month(costs: pd.DataFrame, months, *, fx_rates: pd.DataFrame | None = None,
                   policy: MetricPolicy = DEFAULT_POLICY,
                   categories: Iterable[str] = CAC_CATEGORIES) -> pd.DataFrame:
    """Acquisition spend per month and category (wide: one column per category), reporting currency.

    ``months`` is a month spine (e.g. ``period.trailing_months(12)``).
    """
    months = pd.DatetimeIndex(months)
    c = costs[costs["category"].isin(list(categories))].copy()
    c["month"] = to_month(c["month"])
    c = c[c["month"].isin(months)]
    c["amount_rep"] = to_reporting_currency(c, "amount", "month", fx_rates, policy, table="costs")
    wide = c.pivot_table(index="month", columns="category", values="amount_rep", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(index=months, columns=[k for k in categories], fill_value=0.0)
    wide.index.name = "month"
    wide.columns.name = None
    return wide.reset_index()
