"""The month grid as an Ibis expression (steps 1-4 of :mod:`revops_kit.engines.sql`): periods to
month numbers, local cents per entity-month, conversion with FX impact, and the ordered
movement category; plus the customer-column lookup and the list of groups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._common import as_list
from ...grid import missing_rate_message
from ...policies import MetricPolicy
from ._core import (_CHURN, _CONTRACTION, _EXPANSION, _M1970, _NEW, _OPEN, _REACTIVATION,
                    _UNCHANGED, SQLEngineError, _ibis, _month_expr, _month_number, _month_of,
                    _rint)
from .table import SQLSubscriptions

__all__ = ["Prepared", "prepare", "month_grid", "customer_columns", "groups_of", "split_by"]


def split_by(columns, by) -> tuple[list[str], list[str]]:
    by = as_list(by)
    grain = [c for c in by if c in columns and c != "customer_id"]
    return grain, [c for c in by if c not in grain]


@dataclass
class Prepared:
    table: object        # ent cols, cur, s, e, cents (kept rows only)
    ent: list[str]       # customer_id + grain
    currencies: list[str]
    needs_fx: bool
    hi: int
    lo: int


def _base(ss: SQLSubscriptions, grain: list[str], policy: MetricPolicy):
    ibis = _ibis()
    t = ss.table
    cols = {"customer_id": t["customer_id"]}
    for g in grain:
        cols[g] = t[g].cast("string").fill_null("(missing)")
    if "currency" in t.columns:
        cols["cur"] = t["currency"].cast("string").fill_null(policy.reporting_currency)
    else:
        cols["cur"] = ibis.literal(policy.reporting_currency)
    cols["s"] = _month_expr(t["start_date"], ceil=True)
    cols["e"] = _month_expr(t["end_date"], ceil=True).fill_null(_OPEN)
    cols["cents"] = _rint(t["mrr"] * 100.0)
    return t.select(**cols)


def prepare(ss: SQLSubscriptions, *, lo: int | None, hi: int | None, grain: list[str],
             policy: MetricPolicy, convert: bool) -> Prepared:
    """Kept periods, the currencies among them and the window (one small query, cached)."""
    ibis = _ibis()
    key = ("prep", lo, hi, tuple(grain), policy.reporting_currency, convert)
    base = _base(ss, grain, policy)
    info = ss._cache.get(("info", policy.reporting_currency))
    if info is None:
        pos = base.filter(base.cents > 0)
        stats = ss.fetch(pos.aggregate(
            smax=pos.s.max(), emax=ibis.ifelse(pos.e < _OPEN, pos.e, None).max(),
            smin_kept=ibis.ifelse(pos.s < pos.e, pos.s, None).min()))
        curs = ss.fetch(pos.filter(pos.s < pos.e).select("cur").distinct())
        info = ss._cache[("info", policy.reporting_currency)] = (
            stats.iloc[0].to_dict(), sorted(str(c) for c in curs["cur"]))
    stats, currencies = info
    if hi is None:
        cand = [int(stats["smax"]) + 1 if pd.notna(stats["smax"]) else 0]
        if pd.notna(stats["emax"]):
            cand.append(int(stats["emax"]) + 1)
        hi = max(cand)
    kept = base.filter((base.cents > 0) & (base.s < base.e) & (base.s < hi))
    kept = kept.mutate(e=ibis.least(kept.e, hi))
    if lo is None:
        lo = int(stats["smin_kept"]) if pd.notna(stats["smin_kept"]) else hi
    needs_fx = convert and bool(currencies) and (
        len(currencies) > 1 or currencies[0] != policy.reporting_currency)
    del key
    return Prepared(kept, ["customer_id"] + grain, currencies, needs_fx, hi, lo)


def _rates_frame(fx_rates: pd.DataFrame | None, currencies: list[str], m0: int, m1: int,
                 policy: MetricPolicy) -> pd.DataFrame:
    """Rates of months ``m0 .. m1-1`` per currency (NaN where unknown), as the pandas engine
    reads them (``policy.fx_mode``, ``fx_fixed_month``)."""
    months = np.arange(m0, m1, dtype=np.int64)
    out = {c: np.full(len(months), np.nan) for c in currencies}
    if policy.reporting_currency in out:
        out[policy.reporting_currency][:] = 1.0
    foreign = [c for c in currencies if c != policy.reporting_currency]
    if foreign and fx_rates is not None and len(fx_rates):
        fm = pd.to_datetime(fx_rates["month"])
        fmn = ((fm.dt.year * 12 + fm.dt.month - 1) - _M1970).to_numpy(dtype=np.int64)
        cur = fx_rates["currency"].astype(str).to_numpy()
        rate = pd.to_numeric(fx_rates["rate"], errors="coerce").to_numpy(dtype="float64")
        if policy.fx_mode == "fixed":
            fixed = _month_number(policy.fx_fixed_month, ceil=True) if policy.fx_fixed_month \
                else int(fmn.min())
            for c in foreign:
                hit = (fmn == fixed) & (cur == c)
                if hit.any():
                    out[c][:] = rate[hit][-1]
        else:
            for c in foreign:
                hit = (cur == c) & (fmn >= m0) & (fmn < m1)
                out[c][fmn[hit] - m0] = rate[hit]
    rows = [pd.DataFrame({"cur": c, "m": months, "rate": v}) for c, v in out.items()]
    return pd.concat(rows, ignore_index=True) if rows else \
        pd.DataFrame({"cur": pd.Series(dtype=str), "m": pd.Series(dtype="int64"),
                      "rate": pd.Series(dtype="float64")})


def _check_rates(ss, prep: Prepared, rates: pd.DataFrame, fx_rates, policy, m0: int) -> None:
    """Raise when a currency lacks a rate in a month where it has MRR (like the pandas engine)."""
    ibis = _ibis()
    gaps = rates[rates["rate"].isna()]
    if gaps.empty:
        return
    kept = prep.table
    gap_t = ibis.memtable(gaps[["cur", "m"]].rename(columns={"cur": "gcur", "m": "gm"}))
    hits = kept.join(gap_t, (kept.cur == gap_t.gcur) & (kept.s <= gap_t.gm) & (kept.e > gap_t.gm))
    found = ss.fetch(hits.select("gcur", "gm").distinct())
    if found.empty:
        return
    # as the pandas engine: the months of the window first, then the month before it
    now = found[found["gm"] >= m0 + 1]
    found = now if len(now) else found
    curs = sorted(found["gcur"].astype(str).unique())
    mons = sorted({_month_of(m).strftime("%Y-%m") for m in found["gm"]})
    raise SQLEngineError(missing_rate_message(curs, mons, policy, fx_rates))


def month_grid(ss: SQLSubscriptions, *, lo: int | None, hi: int | None, grain: list[str],
          fx_rates, policy: MetricPolicy, convert: bool = True):
    """(grid expression, prepared) — one row per entity-month of ``[lo, hi)`` with ``m, mrr,
    prev, fx, move, cat, active, pact, const`` (``const``: local MRR at the rates of month
    ``lo − 1``, for constant-currency retention) and the entity columns."""
    ibis = _ibis()
    prep = prepare(ss, lo=lo, hi=hi, grain=grain, policy=policy, convert=convert)
    lo, hi, ent = prep.lo, prep.hi, prep.ent
    kept = prep.table
    first = kept.group_by(ent).aggregate(first=kept.s.min())
    a = ibis.greatest(kept.s, lo - 1)
    span = kept.filter(a < kept.e)
    by_cur = prep.needs_fx or not convert
    keys = ent + (["cur"] if by_cur else [])
    x = span.select(*keys, cents=span.cents,
                    m=ibis.range(ibis.greatest(span.s, lo - 1), span.e).unnest())
    local = x.group_by(keys + ["m"]).aggregate(L=x.cents.sum())
    zero = ibis.literal(0, type="int64")
    now = local.select(*keys, m=local.m, L=local.L, P=zero)
    prev = local.select(*keys, m=local.m + 1, L=zero, P=local.L)
    u = now.union(prev)
    u = u.group_by(keys + ["m"]).aggregate(L=u.L.sum(), P=u.P.sum())
    u = u.filter((u.m >= lo) & (u.m < hi))
    if prep.needs_fx:
        rates = _rates_frame(fx_rates, prep.currencies, lo - 1, hi, policy)
        _check_rates(ss, prep, rates, fx_rates, policy, lo - 1)
        r = rates.set_index(["cur", "m"])["rate"]
        start = r.xs(lo - 1, level="m") if len(r) else pd.Series(dtype=float)
        tab = pd.DataFrame({"rcur": rates["cur"], "rm": rates["m"] + 1,
                            "r_prev": rates["rate"].to_numpy()})
        tab = tab[tab["rm"] < hi].merge(
            rates.rename(columns={"cur": "rcur", "m": "rm", "rate": "r_now"}),
            on=["rcur", "rm"], how="left")
        tab["r_start"] = tab["rcur"].map(start)
        tab = tab.fillna({"r_prev": 0.0, "r_now": 0.0, "r_start": 0.0})
        rt = ibis.memtable(tab[["rcur", "rm", "r_now", "r_prev", "r_start"]])
        j = u.join(rt, (u.cur == rt.rcur) & (u.m == rt.rm), how="left")
        r_now, r_prev, r_start = (j.r_now.fill_null(0.0), j.r_prev.fill_null(0.0),
                                  j.r_start.fill_null(0.0))
        j = j.mutate(now_c=_rint(j.L.cast("float64") * r_now),
                     prev_c=_rint(j.P.cast("float64") * r_prev),
                     pan_c=_rint(j.P.cast("float64") * r_now),
                     const_c=_rint(j.L.cast("float64") * r_start))
        g = j.group_by(ent + ["m"]).aggregate(
            mrr=j.now_c.sum(), prev=j.prev_c.sum(), pan=j.pan_c.sum(), tl=j.L.sum(),
            tp=j.P.sum(), const=j.const_c.sum())
    else:
        if by_cur:
            u = u.group_by(ent + ["m"]).aggregate(L=u.L.sum(), P=u.P.sum())
        g = u.select(*ent, m=u.m, mrr=u.L, prev=u.P, pan=u.P, tl=u.L, tp=u.P, const=u.L)
    g = g.join(first, ent)
    active, pact = g.tl > 0, g.tp > 0
    if prep.needs_fx and not policy.fx_in_movements:
        fx = ibis.ifelse(active & pact, g.pan - g.prev, 0)
    else:
        fx = zero
    g = g.mutate(active=active, pact=pact, fx=fx.cast("int64"))
    g = g.mutate(move=g.mrr - g.prev - g.fx)
    cat = ibis.cases((g.active & (g.m == g.first), _NEW), (~g.active & g.pact, _CHURN),
                     (g.active & ~g.pact, _REACTIVATION), (g.move > 0, _EXPANSION),
                     (g.move < 0, _CONTRACTION), else_=_UNCHANGED)
    g = g.mutate(cat=cat.cast("int8"))
    window = policy.reactivation_window_months
    if window is not None:
        react = g.filter(g.cat == _REACTIVATION).select(*[g[c].name(f"r_{c}") for c in ent],
                                                         rm=g.m)
        cond = [react[f"r_{c}"] == kept[c] for c in ent] + [kept.s < react.rm]
        last = react.join(kept, cond).group_by([f"r_{c}" for c in ent] + ["rm"]) \
            .aggregate(last_e=kept.e.max())
        g = g.left_join(last, [g[c] == last[f"r_{c}"] for c in ent] + [g.m == last.rm])
        late = (g.cat == _REACTIVATION) & ((g.m - g.last_e) > window)
        g = g.mutate(cat=ibis.ifelse(late, _NEW, g.cat).cast("int8"))
    g = g.select(*ent, "m", "mrr", "prev", "fx", "move", "cat", "active", "pact", "const")
    return g, prep


def customer_columns(ss, expr, customers, cust_cols: list[str]):
    """``expr`` with the customer columns ``cust_cols`` looked up in ``customers`` (missing →
    ``"(missing)"``), as the pandas engine's ``attach_columns``."""
    if not cust_cols:
        return expr
    ibis = _ibis()
    from ..._common import GroupingError

    if customers is None or any(c not in customers.columns for c in cust_cols):
        avail = sorted(set(ss.columns) | set(customers.columns if customers is not None else []))
        raise GroupingError(f"cannot group subscriptions by {cust_cols}: not a column of "
                            f"subscriptions or customers (available: {', '.join(avail)})")
    look = customers.drop_duplicates("customer_id")[["customer_id"] + cust_cols].copy()
    look["customer_id"] = look["customer_id"].astype(str)
    for c in cust_cols:
        look[c] = look[c].astype(object).where(look[c].notna(), "(missing)").astype(str)
    look = look.rename(columns={"customer_id": "lk_customer_id",
                                **{c: f"lk_{c}" for c in cust_cols}})
    lt = ibis.memtable(look)
    j = expr.left_join(lt, expr.customer_id == lt.lk_customer_id)
    return j.mutate(**{c: j[f"lk_{c}"].fill_null("(missing)") for c in cust_cols}) \
        .drop("lk_customer_id", *[f"lk_{c}" for c in cust_cols])


def groups_of(ss, grain, cust_cols, customers, by) -> pd.DataFrame:
    """Every group of ``by`` among the entities of the table (the pandas engine lists groups of
    every entity, active in the period or not), sorted."""
    if not by:
        return pd.DataFrame(index=[0])
    key = ("groups", tuple(grain), tuple(cust_cols), id(customers), tuple(by))
    hit = ss._cache.get(key)
    if hit is None:
        t = ss.table
        ents = t.select(customer_id=t.customer_id,
                        **{g: t[g].cast("string").fill_null("(missing)") for g in grain}).distinct()
        ents = customer_columns(ss, ents, customers, cust_cols)
        hit = ss.fetch(ents.select(*by).distinct())
        hit = hit.sort_values(by, kind="stable").reset_index(drop=True)
        ss._cache[key] = hit
    return hit.copy()

