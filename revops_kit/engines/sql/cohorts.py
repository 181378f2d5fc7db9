"""Cohort retention of the SQL engine: the cohort × age sums in the backend."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..._common import as_list
from ...errors import RevOpsError
from ...periods import as_period
from ...policies import DEFAULT_POLICY, MetricPolicy, get_policy
from ._core import _ibis, _month_number
from ...grid import cohort_ages, cohort_rates
from .grid import customer_columns, month_grid
from .table import SQLSubscriptions

__all__ = ["cohort_retention"]


def cohort_retention(ss: SQLSubscriptions, *, freq: str = "M", end=None, by=None,
                     customers=None, fx_rates=None, max_age: int | None = None,
                     last_cohorts: int | None = None,
                     policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.cohorts.cohort_retention`: the cohort × age sums in the backend, the
    age axis completed and the rates taken in pandas (same frame)."""
    ibis = _ibis()
    policy = get_policy(policy)
    step = {"M": 1, "Q": 3}.get(freq)
    if step is None:
        raise RevOpsError(f"cohort_retention: freq must be 'M' or 'Q', got {freq!r}")
    by = as_list(by)
    if end is None:
        end_ts = None
    else:
        try:
            end_ts = as_period(end).end
        except Exception:  # a date
            end_ts = pd.Timestamp(end)
    hi = None if end_ts is None else _month_number(end_ts, ceil=True)
    g, prep = month_grid(ss, lo=None, hi=hi, grain=[], fx_rates=fx_rates, policy=policy)
    first = prep.table.group_by("customer_id").aggregate(first=prep.table.s.min())
    first = first.mutate(coh=first["first"] - ((first["first"] % step) + step) % step)
    j = g.join(first.select("customer_id", "coh"), "customer_id")
    mod = ((j.m % step) + step) % step
    rows = j.filter((mod == step - 1) & (j.m >= j.coh) & (j.active | (j.mrr != 0)))
    rows = rows.mutate(age=((rows.m - rows.coh) / step).floor().cast("int64"))
    rows = customer_columns(ss, rows, customers, by)
    grid = ss.fetch(rows.group_by(["coh"] + by + ["age"]).aggregate(
        active=ibis.ifelse(rows.active, 1, 0).sum(), mrr_c=rows.mrr.sum()))
    sized = customer_columns(ss, first, customers, by)
    sizes = ss.fetch(sized.group_by(["coh"] + by).aggregate(customers=sized.count()))
    keys = ["cohort_m"] + by
    grid = grid.rename(columns={"coh": "cohort_m"})
    sizes = sizes.rename(columns={"coh": "cohort_m"}).sort_values(keys, kind="stable")
    last_obs = prep.hi - 1
    span = sizes.reset_index(drop=True)
    span["cohort_m"] = span["cohort_m"].astype(np.int64)
    span["customers"] = span["customers"].astype(np.int64)
    full = cohort_ages(span, keys, last_obs=last_obs, step=step, max_age=max_age)
    grid["cohort_m"] = grid["cohort_m"].astype(np.int64)
    grid["age"] = grid["age"].astype(np.int64)
    out = full.merge(grid, on=keys + ["age"], how="left")
    out["active"] = pd.to_numeric(out["active"]).fillna(0).astype(np.int64)
    out["mrr"] = pd.to_numeric(out["mrr_c"]).fillna(0).astype(np.int64) / 100
    return cohort_rates(out.drop(columns=["mrr_c"]), keys, by, last_cohorts=last_cohorts)

