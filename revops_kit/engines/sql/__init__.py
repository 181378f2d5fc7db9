"""The SQL engine: the month grid and its KPIs as Ibis expressions, computed in the backend.

The grid is the one of :mod:`revops_kit.revenue` (same month spine, integer cents, ordered
movement rule, policies, FX impact); see that module for the definitions. Here it is an Ibis
expression over a subscriptions table wherever it lives, built in four steps:

1. **Periods → month numbers.** ``s = ceil_month(start_date)``, ``e = ceil_month(end_date)``
   (open = the window end), ``cents = round_half_even(mrr × 100)``; rows with ``cents > 0`` and
   ``s < e`` are kept. An entity is ``customer_id`` (× the grain columns of ``by``); its first
   active month is ``min(s)``.
2. **Local cents per entity × currency × month**: each kept period expanded to the months of the
   window it covers (``unnest(range(s, e))``) and summed; a copy shifted by one month gives the
   previous month's cents, so the union, summed again, has one row per entity-month in which the
   entity is active or was active the month before (a churn is a row with MRR 0).
3. **Conversion** (only when a currency other than the reporting one is present): a join with the
   month's and the previous month's rate; ``round_half_even(local × rate)`` per currency, summed
   per entity-month; ``fx_impact = Σ round(L_{m-1} × r_m) − round(L_{m-1} × r_{m-1})`` for
   entities active in both months.
4. **Category** by the ordered rule (new, churn, reactivation, expansion, contraction,
   unchanged) on the constant-currency movement; ``reactivation_window_months`` turns a late
   return into *new* (gap = months since the last period ended, by a join of the few
   reactivation rows with the entity's periods).

Aggregates over that expression — per entity, then per group — give the bridge lines, customer
counts, logo churn and the cohort components of GRR/NRR for any list of periods in **one query**;
monthly MRR series and cohort matrices are one query each. Only those aggregates come back to
pandas (:attr:`SQLSubscriptions.rows_fetched` counts every row that did), and the same
post-processing as the pandas engine turns them into the same frames (cents compared exactly in
``tests/test_engine_sql.py`` on DuckDB, PostgreSQL and PySpark).

Modules: :mod:`~.table` (the :class:`SQLSubscriptions` handle), :mod:`~.loading` (connecting,
``rk.load(..., engine="sql")``, reopening a handle in another process), :mod:`~.grid` (the grid
expression), :mod:`~.kpis` (period KPIs), :mod:`~.monthly` (movements, monthly bridge and MRR
series, largest movements), :mod:`~.cohorts` (cohort retention); ``_core`` holds the shared
month arithmetic and rounding.

Rounding is half to even (numpy's ``rint``) written out in SQL, since SQL ``ROUND`` rounds half
away from zero; the products ``local × rate`` are IEEE doubles on every backend, as in numpy.
"""

from __future__ import annotations

from ._core import CATEGORIES, SQLEngineError, unsupported
from .cohorts import cohort_retention
from .kpis import (arpa, customer_counts, logo_churn_rate, mrr, mrr_bridge, mrr_bridge_series,
                   revenue_retention)
from .loading import connect, count_rows, load_with_engine, open_subscriptions
from .monthly import monthly_bridge, mrr_movements, mrr_series, top_movements
from .table import SQLSubscriptions

__all__ = [
    "SQLSubscriptions",
    "SQLEngineError",
    "CATEGORIES",
    "open_subscriptions",
    "connect",
    "count_rows",
    "load_with_engine",
    "mrr_movements",
    "mrr_bridge",
    "mrr_bridge_series",
    "monthly_bridge",
    "mrr",
    "mrr_series",
    "customer_counts",
    "arpa",
    "logo_churn_rate",
    "revenue_retention",
    "cohort_retention",
    "top_movements",
    "unsupported",
]
