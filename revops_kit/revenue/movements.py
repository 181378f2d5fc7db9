"""MRR movements: one row per customer × month, classified by one ordered rule (see
:mod:`revops_kit.revenue` for the definitions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import attach_columns
from ..grid import CATEGORIES, MonthGrid, month_grid, month_start, split_by
from ..policies import DEFAULT_POLICY, MetricPolicy, get_policy
from ..engines import is_sql
from ._shared import _sql

__all__ = ["mrr_movements"]


def mrr_movements(subscriptions: pd.DataFrame, *, start=None, end=None,
                  customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                  by: str | list[str] | None = None,
                  policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """MRR movements: one row per customer × month, classified by one ordered rule.

    For each customer and month ``m`` in ``[start, end)``::

        mrr          = Σ mrr of its subscription periods with start_date <= m < end_date,
                       in the reporting currency (integer cents, see the module docstring)
        previous_mrr = the same for m − 1 month
        change       = mrr − previous_mrr
        fx_impact    = round(L_{m-1} × r_m) − round(L_{m-1} × r_{m-1}) summed over currencies,
                       for customers active in both months (0 otherwise)
        category     = new | churn | reactivation | expansion | contraction | unchanged,
                       decided in that order on the constant-currency movement change − fx_impact

    The category of a month depends on the customer's whole history, so ``start`` only limits
    the rows returned (history before it is still read). Rows where the customer is neither
    active nor was active the month before are omitted (they carry no movement); so a customer's
    churn shows as one row with ``mrr`` 0 in the month after its last active month.

    Parameters
    ----------
    subscriptions : DataFrame
        ``customer_id, start_date, end_date, mrr`` (+ ``currency``; missing = reporting currency).
    start, end : month-like or Period, optional
        Output months ``[start, end)``. Default: from the first active month to the month after
        the last change (the churn row of the last ending period included).
    customers : DataFrame, optional
        Looked up for ``by`` columns that are not subscription columns.
    fx_rates : DataFrame, optional
        ``month, currency, rate`` (reporting-currency units per unit); required when a currency
        other than ``policy.reporting_currency`` is present.
    by : str or list of str, optional
        Columns added to each row. Subscription columns (``product``, ``plan``, ``currency``)
        change the grain to customer × column; customer columns are looked up.
    policy : MetricPolicy
        Reads ``reporting_currency``, ``fx_mode``, ``fx_fixed_month``, ``fx_in_movements``,
        ``reactivation_window_months`` (a return after more inactive months than this is *new*).

    Returns
    -------
    DataFrame
        ``customer_id, month, [by], mrr, previous_mrr, change, fx_impact, movement, category``
        where ``movement = change − fx_impact`` (the constant-currency amount), sorted by
        customer and month. ``category`` is a categorical with :data:`CATEGORIES`.

    Examples
    --------
    >>> import pandas as pd
    >>> subs = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "start_date": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-02-01"]),
    ...     "end_date": pd.to_datetime(["2025-03-01", "2025-04-01", "2025-03-01"]),
    ...     "mrr": [100.0, 150.0, 50.0]})
    >>> m = mrr_movements(subs)
    >>> m[["customer_id", "mrr", "previous_mrr", "category"]].assign(
    ...     month=m["month"].dt.strftime("%Y-%m")).to_string(index=False)  # doctest: +NORMALIZE_WHITESPACE
    'customer_id   mrr  previous_mrr    category   month\\n          a 100.0           0.0         new 2025-01\\n          a 100.0         100.0   unchanged 2025-02\\n          a 150.0         100.0   expansion 2025-03\\n          a   0.0         150.0       churn 2025-04\\n          b  50.0           0.0         new 2025-02\\n          b   0.0          50.0       churn 2025-03'
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().mrr_movements(subscriptions, start=start, end=end,
                                     customers=customers, fx_rates=fx_rates, by=by,
                                     policy=policy)
    grain, cust_cols = split_by(subscriptions, by)
    g = month_grid(subscriptions, start=start, end=end, grain=grain, fx_rates=fx_rates, policy=policy)
    return _movements_frame(g, customers, cust_cols)


def _movements_frame(g: MonthGrid, customers, cust_cols: list[str]) -> pd.DataFrame:
    ents = g.entities
    if cust_cols:
        ents = attach_columns(ents, customers, cust_cols, table="subscriptions")
    n = len(g.month)
    # one float block built in place (a dict of arrays would be copied into a block by pandas)
    block = np.empty((5, n), dtype=np.float64)
    np.divide(g.mrr, 100.0, out=block[0])
    np.divide(g.prev, 100.0, out=block[1])
    np.subtract(g.mrr, g.prev, out=block[2])
    block[2] /= 100.0
    np.divide(g.fx, 100.0, out=block[3])
    np.subtract(block[2], block[3], out=block[4])
    np.rint(block[4] * 100.0, out=block[4])
    block[4] /= 100.0
    out = pd.DataFrame(block.T, columns=["mrr", "previous_mrr", "change", "fx_impact",
                                         "movement"], copy=False)
    extra = [c for c in ents.columns if c != "customer_id"]
    for pos, col in enumerate(["customer_id"] + extra):
        values = ents[col].array
        taken = values.take(g.ent) if len(values) else values[:0]
        out.insert(pos if pos == 0 else pos + 1, col, taken)
        if pos == 0:
            out.insert(1, "month", month_start(g.month))
    out["category"] = pd.Categorical.from_codes(g.cat.astype(np.int8),
                                                categories=list(CATEGORIES), validate=False)
    return out
