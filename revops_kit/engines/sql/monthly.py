"""Month-level results of the SQL engine: the customer × month movements, the monthly bridge
(from change points when no conversion is needed), the monthly MRR series and the period's
largest movements per customer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..._common import as_list
from ...periods import Period, PeriodLike, as_period
from ...policies import DEFAULT_POLICY, MetricPolicy, get_policy
from ._core import (_CHURN, _CONTRACTION, _EXPANSION, _LINES, _NEW, _REACTIVATION, CATEGORIES,
                    _ibis, _month_number, _months_ts)
from .grid import Prepared, customer_columns, groups_of, month_grid, prepare, split_by
from .table import SQLSubscriptions

__all__ = ["mrr_movements", "monthly_bridge", "mrr_series", "top_movements"]


def mrr_movements(ss: SQLSubscriptions, *, start=None, end=None, customers=None, fx_rates=None,
                  by=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.mrr_movements` computed in the backend; the customer × month
    rows come back (this is the one function whose result is row level)."""
    policy = get_policy(policy)
    lo, hi = _window(start, end)
    grain, cust_cols = split_by(ss.columns, by)
    g, prep = month_grid(ss, lo=lo, hi=hi, grain=grain, fx_rates=fx_rates, policy=policy)
    g = customer_columns(ss, g, customers, cust_cols)
    cols = prep.ent + cust_cols
    res = ss.fetch(g.select(*cols, "m", "mrr", "prev", "fx", "cat"))
    res = res.sort_values(prep.ent + ["m"], kind="stable").reset_index(drop=True)
    mrr_c = res["mrr"].to_numpy(dtype=np.float64)
    prev_c = res["prev"].to_numpy(dtype=np.float64)
    fx_c = res["fx"].to_numpy(dtype=np.float64)
    n = len(res)
    block = np.empty((5, n), dtype=np.float64)
    np.divide(mrr_c, 100.0, out=block[0])
    np.divide(prev_c, 100.0, out=block[1])
    np.subtract(mrr_c, prev_c, out=block[2])
    block[2] /= 100.0
    np.divide(fx_c, 100.0, out=block[3])
    np.subtract(block[2], block[3], out=block[4])
    np.rint(block[4] * 100.0, out=block[4])
    block[4] /= 100.0
    out = pd.DataFrame(block.T, columns=["mrr", "previous_mrr", "change", "fx_impact",
                                         "movement"], copy=False)
    extra = [c for c in cols if c != "customer_id"]
    out.insert(0, "customer_id", res["customer_id"].astype(object).to_numpy())
    out.insert(1, "month", _months_ts(res["m"].to_numpy()))
    for pos, col in enumerate(extra):
        out.insert(pos + 2, col, res[col].astype(object).to_numpy())
    out["category"] = pd.Categorical.from_codes(res["cat"].to_numpy(dtype=np.int8),
                                                categories=list(CATEGORIES), validate=False)
    return out


def _window(start, end) -> tuple[int | None, int | None]:
    def month(value, *, period_end=False):
        if value is None:
            return None
        if isinstance(value, Period):
            return _month_number(value.end if period_end else value.start, ceil=False)
        return _month_number(value, ceil=True)

    if isinstance(start, Period) and end is None:
        return month(start), month(start, period_end=True)
    if isinstance(end, Period):
        return month(start), month(end, period_end=True)
    return month(start), month(end)


def monthly_bridge(ss: SQLSubscriptions, *, start=None, end=None, by=None, customers=None,
                   fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """The frame of ``rk.bridge_from_movements(rk.mrr_movements(subs, start=, end=), by=)``
    (``freq="M"``), aggregated in the backend: ``period_start, [by], mrr_start, new, expansion,
    reactivation, contraction, churn, fx_impact, mrr_end``, one row per month × group of the
    span of months that have movements."""
    ibis = _ibis()
    policy = get_policy(policy)
    by = as_list(by)
    lo, hi = _window(start, end)
    grain, cust_cols = split_by(ss.columns, by)
    cols = ["mrr_start", *_LINES, "fx_impact", "mrr_end"]
    prep = prepare(ss, lo=lo, hi=hi, grain=grain, policy=policy, convert=True)
    if not prep.needs_fx:
        res = _monthly_from_events(ss, prep, by, cust_cols, customers, policy)
    else:
        g, prep = month_grid(ss, lo=lo, hi=hi, grain=grain, fx_rates=fx_rates, policy=policy)
        g = customer_columns(ss, g, customers, cust_cols)

        def s(cat, sign=1):
            return ibis.ifelse(g.cat == cat, sign * g.move, 0).sum()

        res = ss.fetch(g.group_by(["m"] + by).aggregate(
            mrr_start=g.prev.sum(), new=s(_NEW), expansion=s(_EXPANSION),
            reactivation=s(_REACTIVATION), contraction=s(_CONTRACTION, -1), churn=s(_CHURN, -1),
            fx_impact=g.fx.sum(), mrr_end=g.mrr.sum()))
    if res.empty:
        return pd.DataFrame(columns=["period_start"] + by + cols)
    m0, m1 = int(res["m"].min()), int(res["m"].max())
    months = np.arange(m0, m1 + 1)
    if by:
        groups = res[by].drop_duplicates().sort_values(by, kind="stable")
        spine = groups.merge(pd.DataFrame({"m": months}), how="cross")
        spine = spine.sort_values(["m"] + by, kind="stable")
    else:
        spine = pd.DataFrame({"m": months})
    out = spine.merge(res, on=["m"] + by, how="left").fillna({c: 0 for c in cols})
    out.insert(0, "period_start", _months_ts(out.pop("m").to_numpy()))
    for c in cols:
        out[c] = pd.to_numeric(out[c]).astype(np.int64) / 100
    return out.reset_index(drop=True)


def _monthly_from_events(ss, prep: Prepared, by, cust_cols, customers, policy) -> pd.DataFrame:
    """The monthly bridge without expanding periods to months (no currency conversion needed).

    A customer's MRR only changes in the months where one of its periods starts or ends, so the
    bridge lines come from those **change points** alone: ``d`` = Σ cents starting − Σ cents
    ending per entity × month, its running sum per entity (one window, ordered by month) is the
    MRR from that month on (``N``; before it ``P = N − d``), and each change point is classified
    by the same ordered rule (first change point = new; N = 0 < P churn; P = 0 < N
    reactivation, or new after more than ``reactivation_window_months`` inactive months; else
    the sign of N − P). Unchanged months carry no movement; MRR at start and end of each month
    are running sums of ``d`` over months, taken in pandas from the per-month sums (change
    points before the window are summed into its first month's opening MRR). Rows fetched: one
    per month × group. Same frame as the expanded grid gives (checked in the tests).
    """
    ibis = _ibis()
    lo, hi, ent = prep.lo, prep.hi, prep.ent
    kept = prep.table
    starts = kept.select(*ent, m=kept.s, d=kept.cents)
    ends = kept.filter(kept.e < hi).select(*ent, m=kept.e, d=-kept.cents)
    ev = starts.union(ends)
    ev = ev.group_by(ent + ["m"]).aggregate(d=ev.d.sum())
    w = ibis.window(group_by=[ev[c] for c in ent], order_by=ev.m, rows=(None, 0))
    ev = ev.mutate(n=ev.d.sum().over(w), pm=ev.m.lag().over(ibis.window(
        group_by=[ev[c] for c in ent], order_by=ev.m)))
    ev = ev.mutate(p=ev.n - ev.d)
    window = policy.reactivation_window_months
    react = (ev.n > 0) & (ev.p == 0) & ev.pm.notnull()
    new = ev.pm.isnull()
    if window is not None:
        new = new | (react & ((ev.m - ev.pm) > window))
        react = react & ((ev.m - ev.pm) <= window)
    ev = ev.mutate(
        bucket=ibis.greatest(ev.m, lo - 1),
        l_new=ibis.ifelse(new, ev.n, 0), l_react=ibis.ifelse(react, ev.n, 0),
        l_churn=ibis.ifelse((ev.n == 0) & (ev.p > 0), ev.p, 0),
        l_exp=ibis.ifelse(~new & (ev.p > 0) & (ev.n > ev.p), ev.n - ev.p, 0),
        l_con=ibis.ifelse((ev.n > 0) & (ev.n < ev.p), ev.p - ev.n, 0))
    ev = customer_columns(ss, ev, customers, cust_cols)
    inwin = ev.m >= lo
    res = ss.fetch(ev.group_by(["bucket"] + by).aggregate(
        d=ev.d.sum(), new=ibis.ifelse(inwin, ev.l_new, 0).sum(),
        expansion=ibis.ifelse(inwin, ev.l_exp, 0).sum(),
        reactivation=ibis.ifelse(inwin, ev.l_react, 0).sum(),
        contraction=ibis.ifelse(inwin, ev.l_con, 0).sum(),
        churn=ibis.ifelse(inwin, ev.l_churn, 0).sum()))
    lines = list(_LINES)
    months = np.arange(lo - 1, hi)
    if by:
        groups = res[by].drop_duplicates()
        spine = groups.merge(pd.DataFrame({"bucket": months}), how="cross")
    else:
        spine = pd.DataFrame({"bucket": months})
    full = spine.merge(res, on=["bucket"] + by, how="left").fillna({c: 0 for c in ["d"] + lines})
    for c in ["d"] + lines:
        full[c] = pd.to_numeric(full[c]).astype(np.int64)
    full = full.sort_values(by + ["bucket"], kind="stable").reset_index(drop=True)
    level = full.groupby(by, sort=False)["d"].cumsum() if by else full["d"].cumsum()
    full["mrr_end"] = level.to_numpy()
    full["mrr_start"] = full["mrr_end"] - full["d"]
    full = full[full["bucket"] >= lo].rename(columns={"bucket": "m"})
    full["fx_impact"] = 0
    values = full[["mrr_start", *lines, "mrr_end"]]
    nonzero = (values != 0).any(axis=1).to_numpy()
    months_nz = full["m"].to_numpy()[nonzero]
    if months_nz.size == 0:
        return full.iloc[:0][["m"] + by + ["mrr_start", *lines, "fx_impact", "mrr_end"]]
    keep = (full["m"] >= months_nz.min()) & (full["m"] <= months_nz.max())
    return full.loc[keep, ["m"] + by + ["mrr_start", *lines, "fx_impact", "mrr_end"]]


def mrr_series(ss: SQLSubscriptions, months, *, by=None, customers=None, fx_rates=None,
               policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.mrr_series` (MRR and active customers per month) in one query."""
    ibis = _ibis()
    policy = get_policy(policy)
    months = pd.DatetimeIndex(months)
    by = as_list(by)
    if len(months) == 0:
        return pd.DataFrame(columns=["month"] + by + ["mrr", "customers"])
    want = np.array([_month_number(m, ceil=False) for m in months], dtype=np.int64)
    lo = _month_number(months.min(), ceil=True)
    hi = _month_number(months.max() + pd.DateOffset(months=1), ceil=True)
    grain, cust_cols = split_by(ss.columns, by)
    g, _ = month_grid(ss, lo=lo, hi=hi, grain=grain, fx_rates=fx_rates, policy=policy)
    g = customer_columns(ss, g, customers, cust_cols)
    res = ss.fetch(g.group_by(["m"] + by).aggregate(
        mrr=g.mrr.sum(), customers=ibis.ifelse(g.active, 1, 0).sum()))
    groups = groups_of(ss, grain, cust_cols, customers, by)
    k = len(groups)
    spine = groups.reset_index(drop=True).loc[np.tile(np.arange(k), len(want))] \
        .reset_index(drop=True) if by else pd.DataFrame(index=range(len(want)))
    spine["m"] = np.repeat(want, k)
    out = spine.merge(res, on=["m"] + by, how="left")
    out.insert(0, "month", np.repeat(months.to_numpy(dtype="datetime64[ns]"), k))
    out = out.drop(columns="m")
    out["mrr"] = pd.to_numeric(out["mrr"]).fillna(0).astype(np.int64) / 100.0
    out["customers"] = pd.to_numeric(out["customers"]).fillna(0).astype(np.int64)
    return out



def top_movements(ss: SQLSubscriptions, period: PeriodLike, *, n: int = 10, customers=None,
                  fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.top_movements`: the movements of the period's months summed per
    customer and category, ranked and cut in the backend (with ties at the cut), so at most a
    few times ``n`` rows come back; the final order and cut as the pandas engine (amounts are
    the same in cents)."""
    ibis = _ibis()
    policy = get_policy(policy)
    p = as_period(period)
    lo, hi = _month_number(p.start, ceil=True), _month_number(p.end, ceil=True)
    g, _ = month_grid(ss, lo=lo, hi=hi, grain=[], fx_rates=fx_rates, policy=policy)
    mv = g.filter(g.cat.isin([_EXPANSION, _CONTRACTION, _CHURN]))
    agg = mv.group_by(["cat", "customer_id"]).aggregate(amount=mv.move.sum())
    agg = agg.filter(agg.amount != 0)
    agg = agg.mutate(rank=ibis.rank().over(ibis.window(group_by=agg.cat,
                                                       order_by=ibis.desc(agg.amount.abs()))))
    top = agg.filter(agg.rank < n)
    first = g.filter(g.m == lo)
    first = first.select(s_id=first.customer_id, mrr_start=first.prev)
    last = g.filter(g.m == hi - 1)
    last = last.select(e_id=last.customer_id, mrr_end=last.mrr)
    top = top.left_join(first, top.customer_id == first.s_id)
    top = top.left_join(last, top.customer_id == last.e_id)
    res = ss.fetch(top.select("cat", "customer_id", "amount", "mrr_start", "mrr_end"))
    out = pd.DataFrame({
        "category": pd.Categorical.from_codes(res["cat"].to_numpy(dtype=np.int8),
                                              categories=list(CATEGORIES), validate=False),
        "customer_id": res["customer_id"].astype(object).to_numpy(),
        "amount": pd.to_numeric(res["amount"]).to_numpy(dtype=np.int64) / 100})
    for col in ("mrr_start", "mrr_end"):
        out[col] = pd.to_numeric(res[col]).fillna(0).to_numpy(dtype=np.int64) / 100
    out["abs"] = out["amount"].abs()
    out = (out.sort_values(["category", "abs", "customer_id"], ascending=[True, False, True])
           .groupby("category", observed=True).head(n).drop(columns="abs"))
    if customers is not None:
        extra = [c for c in ("name", "segment") if c in customers.columns]
        if extra:
            look = customers.drop_duplicates("customer_id").copy()
            look = look.set_index(look["customer_id"].astype(str))[extra]
            for c in extra:
                out[c] = out["customer_id"].map(look[c]).to_numpy()
    out["category"] = out["category"].astype(str)
    cols = ["category", "customer_id"] + [c for c in ("name", "segment") if c in out.columns] + \
        ["amount", "mrr_start", "mrr_end"]
    return out[cols].reset_index(drop=True)
