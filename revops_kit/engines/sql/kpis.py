"""Period KPIs of the SQL engine: every sum a period needs (bridge lines, customer counts, cohort
components of GRR/NRR) for a list of periods in one query, and the public functions that read
them (same frames as the pandas engine)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..._common import arpa_frame, as_list, ratio_frame
from ...periods import Period, PeriodLike, as_period
from ...policies import DEFAULT_POLICY, MetricPolicy, get_policy
from ._core import _CHURN, _CONTRACTION, _EXPANSION, _LINES, _NEW, _REACTIVATION, _ibis, _month_number
from .grid import customer_columns, groups_of, month_grid, split_by
from .table import SQLSubscriptions

__all__ = ["mrr_bridge", "mrr_bridge_series", "mrr", "customer_counts", "arpa", "logo_churn_rate",
           "revenue_retention"]


_SUMMARY_SUMS = ("mrr_start", "new", "expansion", "reactivation", "contraction", "churn",
                 "fx_impact", "mrr_end", "customers_start", "customers_new",
                 "customers_reactivated", "customers_churned", "customers_end",
                 "churned_from_start", "cohort_start", "cohort_end", "cohort_retained",
                 "cohort_expanded", "cohort_customers", "mrr_months", "active_months", "new_rows")


def _summaries(ss: SQLSubscriptions, periods: list[Period], *, by, customers, fx_rates,
               policy: MetricPolicy, convert: bool = True) -> pd.DataFrame:
    """One row per period × group with every sum the period KPIs need (integer cents and
    counts), computed in one query. Cached per arguments on ``ss``."""
    ibis = _ibis()
    by = as_list(by)
    grain, cust_cols = split_by(ss.columns, by)
    labels = [str(p) for p in periods]
    key = ("summary", tuple(labels), tuple(by), id(customers), id(fx_rates), policy, convert)
    hit = ss._cache.get(key)
    if hit is not None:
        return hit.copy()
    bounds = [(_month_number(p.start, ceil=False), _month_number(p.last_month, ceil=False))
              for p in periods]
    lo = min(b[0] for b in bounds)
    hi = max(b[1] for b in bounds) + 1
    g, prep = month_grid(ss, lo=lo, hi=hi, grain=grain, fx_rates=fx_rates, policy=policy,
                    convert=convert)
    ent = prep.ent
    pm = pd.DataFrame([(i, m, first, last) for i, (first, last) in enumerate(bounds)
                       for m in range(first, last + 1)], columns=["pi", "pm", "pfirst", "plast"])
    pt = ibis.memtable(pm)
    j = g.join(pt, g.m == pt.pm)
    at_start, at_end = j.m == j.pfirst, j.m == j.plast

    def s(cond, value):
        return ibis.ifelse(cond, value, 0).sum()

    def flag(cond):
        return ibis.ifelse(cond, 1, 0).max()

    per_ent = j.group_by(ent + ["pi"]).aggregate(
        mrr_start=s(at_start, j.prev),
        new=s(j.cat == _NEW, j.move), expansion=s(j.cat == _EXPANSION, j.move),
        reactivation=s(j.cat == _REACTIVATION, j.move),
        contraction=s(j.cat == _CONTRACTION, -j.move), churn=s(j.cat == _CHURN, -j.move),
        fx_impact=j.fx.sum(), mrr_end=s(at_end, j.mrr),
        is_start=flag(at_start & j.pact), is_new=flag(j.cat == _NEW),
        is_react=flag(j.cat == _REACTIVATION), is_churn=flag(j.cat == _CHURN),
        is_end=flag(at_end & j.active),
        s_ret=s(at_start & j.pact, j.prev), e_ret=s(at_end & j.active, j.const),
        mrr_months=j.mrr.sum(), active_months=s(j.active, 1), new_rows=s(j.cat == _NEW, 1))
    per_ent = customer_columns(ss, per_ent, customers, cust_cols)
    coh = per_ent.s_ret > 0
    e_c = ibis.ifelse(coh, per_ent.e_ret, 0)
    s_c = ibis.ifelse(coh, per_ent.s_ret, 0)
    aggs = {c: per_ent[c].sum() for c in ("mrr_start",) + _LINES + ("fx_impact", "mrr_end",
                                                                    "mrr_months", "active_months",
                                                                    "new_rows")}
    aggs.update(customers_start=per_ent.is_start.sum(), customers_new=per_ent.is_new.sum(),
                customers_reactivated=per_ent.is_react.sum(),
                customers_churned=per_ent.is_churn.sum(), customers_end=per_ent.is_end.sum(),
                churned_from_start=(per_ent.is_churn * per_ent.is_start).sum(),
                cohort_start=s_c.sum(), cohort_end=e_c.sum(),
                cohort_retained=ibis.least(e_c, s_c).sum(),
                cohort_expanded=ibis.greatest(e_c - s_c, 0).sum(),
                cohort_customers=ibis.ifelse(coh, 1, 0).sum())
    res = ss.fetch(per_ent.group_by(["pi"] + by).aggregate(**aggs))
    groups = groups_of(ss, grain, cust_cols, customers, by)
    frames = []
    for i, label in enumerate(labels):
        part = res[res["pi"] == i].drop(columns="pi")
        if by:
            out = groups.merge(part, on=by, how="left")
        else:
            out = pd.DataFrame(index=[0])
            for c in _SUMMARY_SUMS:
                out[c] = part[c].to_numpy()[:1] if len(part) else [0]
        out = out.fillna({c: 0 for c in _SUMMARY_SUMS})
        for c in _SUMMARY_SUMS:
            out[c] = pd.to_numeric(out[c]).fillna(0).astype(np.int64)
        out.insert(0, "period", label)
        frames.append(out)
    result = pd.concat(frames, ignore_index=True)
    ss._cache[key] = result
    return result.copy()


def _one(ss, period, **kw) -> pd.DataFrame:
    return _summaries(ss, [as_period(period)], **kw)


def mrr_bridge(ss: SQLSubscriptions, period: PeriodLike, *, by=None, customers=None,
               fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.mrr_bridge` computed in the backend (same frame)."""
    return mrr_bridge_series(ss, [period], by=by, customers=customers, fx_rates=fx_rates,
                             policy=policy)


def mrr_bridge_series(ss: SQLSubscriptions, periods, *, by=None, customers=None, fx_rates=None,
                      policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.mrr_bridge_series` in one query (same frame)."""
    policy = get_policy(policy)
    ps = [as_period(p) for p in periods]
    s = _summaries(ss, ps, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    by = as_list(by)
    out = s[["period"] + by].copy()
    for key in ("mrr_start",) + _LINES + ("fx_impact", "mrr_end"):
        out[key] = s[key] / 100.0
    out["net_change"] = (s["mrr_end"] - s["mrr_start"]) / 100.0
    for key in ("customers_start", "customers_new", "customers_reactivated",
                "customers_churned", "customers_end"):
        out[key] = s[key].to_numpy()
    return out.reset_index(drop=True)


def mrr(ss: SQLSubscriptions, period: PeriodLike, *, by=None, customers=None, fx_rates=None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.mrr` (MRR and active customers of the period's last month)."""
    policy = get_policy(policy)
    p = as_period(period)
    s = _summaries(ss, [Period.containing(p.last_month)], by=by, customers=customers,
                   fx_rates=fx_rates, policy=policy)
    by = as_list(by)
    out = s[by].reset_index(drop=True).copy() if by else pd.DataFrame(index=[0])
    out["value"] = s["mrr_end"].to_numpy() / 100.0
    out["customers"] = s["customers_end"].to_numpy()
    return out


def customer_counts(ss: SQLSubscriptions, period: PeriodLike, *, by=None, customers=None,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.customer_counts` (no conversion needed)."""
    policy = get_policy(policy)
    s = _one(ss, period, by=by, customers=customers, fx_rates=None, policy=policy, convert=False)
    by = as_list(by)
    out = s[by].reset_index(drop=True).copy() if by else pd.DataFrame(index=[0])
    for key in ("customers_start", "customers_new", "customers_reactivated",
                "customers_churned", "customers_end"):
        out[key] = s[key].to_numpy()
    return out


def arpa(ss: SQLSubscriptions, period: PeriodLike, *, by=None, customers=None, fx_rates=None,
         policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.arpa` (same frame)."""
    policy = get_policy(policy)
    s = _one(ss, period, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    by = as_list(by)
    out = s[by].reset_index(drop=True).copy() if by else pd.DataFrame(index=[0])
    if policy.arpa_basis == "average":
        num, den = s["mrr_months"], s["active_months"]
    else:
        num, den = s["mrr_end"], s["customers_end"]
    out["mrr"] = num.to_numpy() / 100
    out["customers"] = den.to_numpy().astype(np.float64)
    return arpa_frame(out, s["new"].to_numpy() / 100, s["new_rows"].to_numpy(), by=by)


def logo_churn_rate(ss: SQLSubscriptions, period: PeriodLike, *, by=None, customers=None,
                    fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.retention.logo_churn_rate` (same frame)."""
    policy = get_policy(policy)
    s = _one(ss, period, by=by, customers=customers, fx_rates=None, policy=policy, convert=False)
    by = as_list(by)
    out = s[by].reset_index(drop=True).copy() if by else pd.DataFrame(index=[0])
    n_start = s["customers_start"].to_numpy()
    n_end = s["customers_end"].to_numpy()
    n_churn = (s["churned_from_start"] if policy.churn_exclude_new_in_period
               else s["customers_churned"]).to_numpy()
    den = n_start.astype(float) if policy.churn_denominator == "start" else (n_start + n_end) / 2.0
    out["customers_churned"] = n_churn
    out["churn_base"] = den
    out["customers_start"] = n_start
    out["customers_end"] = n_end
    out = ratio_frame(out, "customers_churned", "churn_base",
                      what="logo churn rate (no customers at period start)", by=by)
    return out[by + ["value", "numerator", "denominator", "customers_start", "customers_end",
                     "customers_churned"]]


def revenue_retention(ss: SQLSubscriptions, period: PeriodLike, *, by=None, customers=None,
                      fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.retention.revenue_retention`, cohort basis (the movements basis reads
    :func:`mrr_bridge`, which dispatches here by itself)."""
    policy = get_policy(policy)
    s = _one(ss, period, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    by = as_list(by)
    out = s[by].reset_index(drop=True).copy() if by else pd.DataFrame(index=[0])
    start, end = s["cohort_start"].to_numpy(), s["cohort_end"].to_numpy()
    retained, expanded = s["cohort_retained"].to_numpy(), s["cohort_expanded"].to_numpy()
    out["mrr_start"] = start / 100
    out["retained"] = retained / 100
    out["expanded"] = expanded / 100
    out["mrr_end_cohort"] = end / 100
    out["lost_gross"] = (start - retained) / 100
    out["lost_net"] = (start - end) / 100
    out["customers_start"] = s["cohort_customers"].to_numpy()
    return out

