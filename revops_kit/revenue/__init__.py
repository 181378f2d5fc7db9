"""Revenue KPIs: MRR movements and bridge, MRR, ARR, ARPA, growth, TCV/ACV and revenue backlog.

Definitions (every function below states the formula it computes)
-----------------------------------------------------------------
* **Month spine.** Months are month starts. A subscription period is active in month ``m`` when
  ``start_date <= m < end_date`` (half-open; an empty ``end_date`` is still running). So a period
  starting mid-month counts from the next month, and one ending mid-month still counts in the month
  it ends in.
* **MRR of a customer-month** = Σ ``mrr`` of its active subscription periods, in the reporting
  currency. Money is handled in **integer cents**: each period's ``mrr`` is rounded to the cent,
  a customer's month is summed per currency exactly, and converted once per customer × month ×
  currency (``round(local_cents × rate)``, half to even). Cents are whole numbers (held in
  int64 or float64; sums below 2**53 cents are exact either way). So no summation order can
  turn "unchanged" into a tiny expansion, and the MRR bridge identity holds exactly in cents;
  the returned amounts are those cents ÷ 100.
* **Active** means local MRR > 0. A customer's **first active month** is its *new* month.
* **Movements** (``mrr_movements``) compare each customer-month with the previous month; the
  category is decided by one ordered rule (dbt mrr-playbook order)::

      new           active now, first active month ever
      churn         not active now, active the previous month
      reactivation  active now, not active the previous month, not the first month
      expansion     active both months, constant-currency change > 0
      contraction   active both months, constant-currency change < 0
      unchanged     otherwise

* **FX impact** (``policy.fx_mode == "period"``): for a customer active in both ``m-1`` and ``m``,
  ``fx_impact = Σ_currency round(L_{m-1} × r_m) − round(L_{m-1} × r_{m-1})``: last month's local
  MRR revalued at this month's rate minus as it was reported. The movement amount is
  ``change − fx_impact = MRR_m − round(L_{m-1} × r_m)``: new, expansion, contraction and churn are
  measured at constant currency. New, reactivation and churn rows have ``fx_impact = 0`` (churn is
  the MRR lost as reported the month before). With ``fx_mode == "fixed"`` every month uses one
  rate and ``fx_impact`` is 0. The ``dbt_mrr_playbook`` preset (``fx_in_movements=True``) folds
  currency movement into expansion/contraction, as the playbook, which knows no currencies, does.
* **Bridge** over a period (``mrr_bridge``): ``mrr_start`` is the MRR of the month before the
  period, ``mrr_end`` the MRR of its last month, and each movement line sums that category's
  movement amounts over the period's months:
  ``mrr_start + new + expansion + reactivation − contraction − churn + fx_impact = mrr_end``.
* **Grain.** Without ``by`` (or with customer columns such as ``segment``) a row is a customer.
  With a subscription column (``product``, ``plan``, ``currency``) the grain is customer × that
  column: a customer's first month on a product is *new* for that product.

The same vectorised core (one ``np.repeat`` to a flat customer × month array, ``np.bincount`` of
cents onto dense integer keys, a cumulative sum, a shifted array for the previous month and a
lookup table for the category) serves every KPI; ``benchmarks/bench_mrr.py`` times it against the
same definitions in DuckDB SQL.

Modules: :mod:`~revops_kit.revenue.movements` (MRR movements),
:mod:`~revops_kit.revenue.bridge` (the bridge, its lines as KPIs, top movements),
:mod:`~revops_kit.revenue.mrr_arr` (MRR, ARR, active customers, MRR series),
:mod:`~revops_kit.revenue.accounts` (customer counts, ARPA), :mod:`~revops_kit.revenue.growth`
(revenue growth rate), :mod:`~revops_kit.revenue.contracts` (TCV, ACV, revenue backlog). Every
name is importable from ``revops_kit.revenue`` itself.
"""

from __future__ import annotations

from ..grid import CATEGORIES, MRRInputError
from .movements import mrr_movements
# imported in the catalogue's registration order
from .bridge import (bridge_from_movements, bridge_table, mrr_bridge, mrr_bridge_series, mrr_movement_kpi,
                     top_movements, trailing_mrr_bridge)
from .mrr_arr import active_subscriptions, arr, customers_active, mrr, mrr_series
from .accounts import arpa, customer_counts, new_customer_arpa
from .growth import revenue_growth_rate
from .contracts import acv, contract_values, revenue_backlog, tcv

__all__ = [
    "CATEGORIES",
    "active_subscriptions",
    "mrr_movements",
    "mrr_bridge",
    "mrr_bridge_series",
    "trailing_mrr_bridge",
    "bridge_from_movements",
    "bridge_table",
    "mrr",
    "arr",
    "customers_active",
    "mrr_series",
    "mrr_movement_kpi",
    "customer_counts",
    "arpa",
    "new_customer_arpa",
    "revenue_growth_rate",
    "contract_values",
    "tcv",
    "acv",
    "revenue_backlog",
    "top_movements",
    "MRRInputError",
]
