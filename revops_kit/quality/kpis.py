"""Catalogue entries of the data-quality KPIs (``dq_<dimension>`` and ``crm_quality_score``).

They keep the ``func(data, period, *, by, policy)`` adapter form of :func:`revops_kit.catalog.register`:
every check reads the whole dataset (whatever tables it holds), not a fixed set of table arguments.
The data-quality section's headline is derived from them: ``catalog.section_kpis("quality")``.
"""

from __future__ import annotations

import pandas as pd

from .._common import safe_divide
from ..catalog import register
from ..periods import Period
from .api import crm_quality_score, dq_checks
from .config import DIMENSIONS
from .scoring import aggregate_checks

__all__ = []


def _catalog_frame(dimension: str):
    def func(data, period: Period, *, by, policy):
        checks = dq_checks(data, period, dimensions=[dimension], policy=policy)
        tables = aggregate_checks(checks, "table")
        num, den = float(checks["passed"].sum()), float(checks["checked"].sum())
        value = safe_divide(num, den, what=f"dq_{dimension}", where=f"no {dimension} check applies in {period}")
        total = pd.DataFrame({"table": ["all"], "checks": [len(checks)], "numerator": [num],
                              "denominator": [den], "failed": [den - num], "value": [value]})
        return pd.concat([tables, total], ignore_index=True) if len(tables) else total

    return func


_FORMULAS = {
    "completeness": "Σ filled ÷ Σ expected cells over the expected columns of each table in scope "
                    "(customers: industry, domain, owner ...; opportunities: amount, close_date ...; leads: channel)",
    "validity": "Σ valid ÷ Σ checked values: schema allowed values and bounds, ISO codes, period labels, "
                "date order, web-domain format, won amount > 0",
    "consistency": "Σ consistent ÷ Σ checked rows: stage vs won/closed, probability and forecast category vs "
                   "outcome, history vs current stage, no overlapping subscription periods, won new-business "
                   "deal has a subscription starting within 30 days with 12 × first MRR within 10 % of the "
                   "amount, every paying customer has an account and an opportunity",
    "uniqueness": "Σ unique ÷ Σ checked rows: duplicated keys and likely-duplicate accounts "
                  "(same normalised name or web domain)",
    "integrity": "Σ resolved ÷ Σ checked references: orphan ids, won deal without account, opportunity "
                 "without history, converted lead without customer",
    "timeliness": "Σ timely ÷ Σ checked: open opportunities at period end not past their close date and "
                  "changed within 90 days; tables whose newest row is ≤ 45 days old at period end",
}


_TABLES_FOR = {d: () for d in DIMENSIONS}


# the data-quality section's headline: the score first, then the dimensions in DIMENSIONS order
for _i, _d in enumerate(DIMENSIONS):
    register(f"dq_{_d}", label=f"Data {_d}", unit="ratio", good="up", family="quality",
             formula=_FORMULAS[_d] + "; one row per table and table=all", tables=_TABLES_FOR[_d],
             dims=("table",), groupable=False, aggregation="ratio",
             sections={"quality": _i + 2})(_catalog_frame(_d))
del _i, _d


@register("crm_quality_score", label="CRM quality score", unit="score", good="up", family="quality",
          headline=True, groupable=False, tables=(), aggregation="ratio", sections={"quality": 1},
          formula="100 × Σ_d w_d·S_d ÷ Σ_d w_d over the six dimensions' CRM checks (customers, "
                  "opportunities, opportunity_history, leads and CRM ↔ billing), weights completeness "
                  "0.25, consistency 0.25, validity 0.15, uniqueness 0.15, integrity 0.10, timeliness 0.10")
def _kpi_crm_quality_score(data, period: Period, *, by, policy):
    out = crm_quality_score(data, period, policy=policy)
    if pd.isna(out["value"].iloc[0]):
        safe_divide(0.0, 0.0, what="crm_quality_score", where=f"no CRM check applies in {period}")
    return out
