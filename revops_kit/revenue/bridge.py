"""The MRR bridge (start, new, expansion, reactivation, contraction, churn, FX, end) over a period,
its lines as KPIs, bridges from a movements frame, and the period's largest movements."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._common import as_list
from ..catalog import register
from ..grid import (CATEGORIES, MRRInputError, factorize_rows, month_floor, month_start, bridge_cents,
                    period_grid)
from ..periods import Period, PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy, get_policy
from ..engines import is_sql
from ._shared import _BRIDGE_LINES, _CHURN, _CONTRACTION, _EXPANSION, _NEW, _REACTIVATION, _sql
from .movements import mrr_movements

__all__ = [
    "mrr_bridge", "mrr_bridge_series", "trailing_mrr_bridge", "bridge_from_movements",
    "bridge_table", "mrr_movement_kpi", "top_movements",
]


def mrr_bridge(subscriptions: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
               customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
               policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """MRR bridge of ``period``: one row per group.

    ``mrr_start`` = MRR of the month before the period; ``mrr_end`` = MRR of its last month;
    ``new``, ``expansion``, ``reactivation``, ``contraction``, ``churn`` = Σ over the period's
    months of the constant-currency movement amounts of that category (contraction and churn as
    positive amounts); ``fx_impact`` = Σ of the FX impact (see :func:`mrr_movements`). Identity::

        mrr_start + new + expansion + reactivation − contraction − churn + fx_impact = mrr_end

    It holds exactly in integer cents for any period and every group (values are cents ÷ 100).
    Also returns ``net_change`` (= mrr_end − mrr_start) and customer counts ``customers_start``,
    ``customers_new``, ``customers_reactivated``, ``customers_churned``, ``customers_end``.
    Reads the policy fields that :func:`mrr_movements` reads.

    Examples
    --------
    >>> import pandas as pd
    >>> subs = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "start_date": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-02-01"]),
    ...     "end_date": pd.to_datetime(["2025-03-01", "2025-04-01", "2025-03-01"]),
    ...     "mrr": [100.0, 150.0, 50.0]})
    >>> b = mrr_bridge(subs, "2025-Q1")
    >>> b[["mrr_start", "new", "expansion", "churn", "mrr_end"]].iloc[0].tolist()
    [0.0, 150.0, 50.0, 50.0, 150.0]
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().mrr_bridge(subscriptions, period, by=by, customers=customers,
                                  fx_rates=fx_rates, policy=policy)
    p = as_period(period)
    g, ents, by = period_grid(subscriptions, p, by=by, customers=customers, fx_rates=fx_rates,
                               policy=policy)
    groups, cents, counts = bridge_cents(g, ents, by, p)
    out = groups.reset_index(drop=True) if by else pd.DataFrame(index=[0])
    for key in ("mrr_start",) + _BRIDGE_LINES + ("fx_impact", "mrr_end"):
        out[key] = cents[key] / 100.0
    out["net_change"] = (cents["mrr_end"] - cents["mrr_start"]) / 100.0
    for key, v in counts.items():
        out[key] = v
    out.insert(0, "period", str(p))
    return out


def mrr_bridge_series(subscriptions: pd.DataFrame, periods, *, by=None, customers=None,
                      fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`mrr_bridge` for each period of ``periods`` (labels or Periods), stacked."""
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().mrr_bridge_series(subscriptions, periods, by=by, customers=customers,
                                         fx_rates=fx_rates, policy=policy)
    frames = [mrr_bridge(subscriptions, p, by=by, customers=customers, fx_rates=fx_rates,
                         policy=policy) for p in periods]
    return pd.concat(frames, ignore_index=True)


def trailing_mrr_bridge(subscriptions: pd.DataFrame, period: PeriodLike, *, months: int = 12,
                        by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                        fx_rates: pd.DataFrame | None = None,
                        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`mrr_bridge` over the ``months`` months ending with ``period`` (e.g. the trailing
    twelve months); the ``period`` column reads ``"12 months to 2025-Q4"``."""
    policy = get_policy(policy)
    p = as_period(period)
    window = Period(p.end - pd.DateOffset(months=months), p.end, "month", p.fiscal_year_start)
    out = mrr_bridge(subscriptions, window, by=by, customers=customers, fx_rates=fx_rates,
                     policy=policy)
    out["period"] = f"{months} months to {p}"
    return out


def bridge_table(bridge: pd.DataFrame, *, by: str | list[str] | None = None) -> pd.DataFrame:
    """A :func:`mrr_bridge` frame laid out for reading: one row per bridge line (start, + new,
    + expansion, + reactivation, − contraction, − churn, ± FX, end, then the customer counts),
    one column per period (× group). Contraction and churn are shown negative, so each column
    adds up from start to end."""
    by = as_list(by)
    lines = [("mrr_start", "MRR at start", 1), ("new", "+ new", 1), ("expansion", "+ expansion", 1),
             ("reactivation", "+ reactivation", 1), ("contraction", "− contraction", -1),
             ("churn", "− churn", -1), ("fx_impact", "± FX impact", 1), ("mrr_end", "MRR at end", 1),
             ("customers_start", "customers at start", 1), ("customers_new", "new customers", 1),
             ("customers_reactivated", "reactivated customers", 1),
             ("customers_churned", "churned customers", 1), ("customers_end", "customers at end", 1)]
    cols = {}
    for _, row in bridge.iterrows():
        label = " | ".join([str(row["period"])] + [str(row[c]) for c in by]) if "period" in row \
            else " | ".join(str(row[c]) for c in by) or "all"
        cols[label] = [sign * row[key] for key, _, sign in lines]
    out = pd.DataFrame(cols, index=[name for _, name, _ in lines])
    out.index.name = "line"
    return out.reset_index()


def bridge_from_movements(movements: pd.DataFrame, *, by: str | list[str] | None = None,
                          freq: str = "M") -> pd.DataFrame:
    """Monthly (``freq="M"``), quarterly (``"Q"``) or yearly (``"Y"``) MRR bridge of a
    :func:`mrr_movements` frame, one row per period (× ``by`` columns of the frame).

    Same lines and identity as :func:`mrr_bridge`; ``mrr_start`` of a period is Σ previous_mrr of
    its first month's rows and ``mrr_end`` Σ mrr of its last month's rows, so the frame must
    cover whole periods (as ``mrr_movements(start=..., end=...)`` with period bounds does).
    Sums are done in integer cents. Columns: ``period_start, [by], mrr_start, new, expansion,
    reactivation, contraction, churn, fx_impact, mrr_end``.
    """
    by = as_list(by)
    step = {"M": 1, "Q": 3, "Y": 12}.get(freq)
    if step is None:
        raise MRRInputError(f"bridge_from_movements: freq must be 'M', 'Q' or 'Y', got {freq!r}")
    month = month_floor(movements["month"].to_numpy())
    if len(month) == 0:
        return pd.DataFrame(columns=["period_start"] + by + ["mrr_start", *_BRIDGE_LINES,
                                                             "fx_impact", "mrr_end"])
    if step == 1:
        pstart = month
        m0 = int(month.min())
        pidx = month - m0
    else:
        pstart = month - month % step  # month 0 is 1970-01, so quarters and years align
        m0 = int(pstart.min())
        pidx = (pstart - m0) // step
    n_p = int(pidx.max()) + 1
    if by:
        gcode, groups = factorize_rows(movements[by])
        k = len(groups)
        key = pidx * k + gcode
    else:
        groups, k, key = pd.DataFrame(index=[0]), 1, pidx
    size = n_p * k
    category = movements["category"]
    if isinstance(category.dtype, pd.CategoricalDtype) and \
            list(category.cat.categories) == list(CATEGORIES):
        cat = category.cat.codes.to_numpy()
    else:
        cat = np.asarray(pd.Categorical(category, categories=list(CATEGORIES)).codes)
    if (cat < 0).any():
        raise MRRInputError(f"bridge_from_movements: column 'category' must hold {CATEGORIES}")

    def cents(col, mask=None):
        values = movements[col].to_numpy(dtype="float64")
        values = values if mask is None else values[mask]
        out = values * 100.0
        return np.rint(out, out=out)

    if step == 1:
        first = last = slice(None)
    else:
        first = np.flatnonzero(month == pstart)
        last = np.flatnonzero(month == pstart + (step - 1))
    cols = {"mrr_start": np.bincount(key[first], weights=cents("previous_mrr", first),
                                     minlength=size)}
    key6 = key * 6
    key6 += cat
    sums = np.bincount(key6, weights=cents("movement"),
                       minlength=size * 6).reshape(size, 6)
    cols["new"] = sums[:, _NEW]
    cols["expansion"] = sums[:, _EXPANSION]
    cols["reactivation"] = sums[:, _REACTIVATION]
    cols["contraction"] = -sums[:, _CONTRACTION]
    cols["churn"] = -sums[:, _CHURN]
    fx = movements["fx_impact"].to_numpy(dtype="float64")
    nz = np.flatnonzero(fx)
    cols["fx_impact"] = np.bincount(key[nz], weights=np.rint(fx[nz] * 100.0), minlength=size)
    cols["mrr_end"] = np.bincount(key[last], weights=cents("mrr", last), minlength=size)
    out = groups.reset_index(drop=True).loc[np.tile(np.arange(k), n_p)].reset_index(drop=True) \
        if by else pd.DataFrame(index=range(n_p))
    out.insert(0, "period_start", month_start(m0 + np.repeat(np.arange(n_p), k) * step))
    for name, v in cols.items():
        out[name] = np.rint(v) / 100
    return out


@register('mrr_new', label='New MRR', unit="currency", good='up', family="revenue",
          aggregation="sum", params={"line": 'new'}, tables=("subscriptions",),
          formula="Σ over the period's months of MRR of customers in their first active month")
@register('mrr_expansion', label='Expansion MRR', unit="currency", good='up', family="revenue",
          aggregation="sum", params={"line": 'expansion'}, tables=("subscriptions",),
          formula="Σ over the period's months of constant-currency MRR increases of customers active in both the month and the month before")
@register('mrr_reactivation', label='Reactivation MRR', unit="currency", good='up', family="revenue",
          aggregation="sum", params={"line": 'reactivation'}, tables=("subscriptions",),
          formula="Σ over the period's months of MRR of returning customers (active now, inactive the month before, not their first month)")
@register('mrr_contraction', label='Contraction MRR', unit="currency", good='down', family="revenue",
          aggregation="sum", params={"line": 'contraction'}, tables=("subscriptions",),
          formula="Σ over the period's months of constant-currency MRR decreases of customers still active (positive amount)")
@register('mrr_churned', label='Churned MRR', unit="currency", good='down', family="revenue",
          aggregation="sum", params={"line": 'churn'}, tables=("subscriptions",),
          formula="Σ over the period's months of the previous month's MRR of customers who became inactive (positive amount)")
@register('mrr_net_change', label='Net MRR change', unit="currency", good='up', family="revenue",
          aggregation="sum", params={"line": 'net_change'}, sections={"revenue": 3}, tables=("subscriptions",),
          formula='MRR_end − MRR_start = new + expansion + reactivation − contraction − churn + fx_impact')
def mrr_movement_kpi(subscriptions: pd.DataFrame, period: PeriodLike, line: str, *,
                     by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                     fx_rates: pd.DataFrame | None = None,
                     policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """One line of :func:`mrr_bridge` as a KPI frame (``value`` + ``customers`` where it applies).

    ``line`` is one of ``new, expansion, reactivation, contraction, churn, fx_impact,
    net_change``. Contraction and churn are positive amounts of MRR lost.
    """
    policy = get_policy(policy)
    allowed = _BRIDGE_LINES + ("fx_impact", "net_change")
    if line not in allowed:
        raise MRRInputError(f"mrr_movement_kpi: line must be one of {allowed}, got {line!r}")
    b = mrr_bridge(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates,
                   policy=policy)
    by = as_list(by)
    out = b[by + [line]].rename(columns={line: "value"})
    count = {"new": "customers_new", "reactivation": "customers_reactivated",
             "churn": "customers_churned"}.get(line)
    if count:
        out["customers"] = b[count]
    return out


def top_movements(subscriptions: pd.DataFrame, period: PeriodLike, *, n: int = 10,
                  customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                  policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """The ``n`` largest expansions, contractions and churns of ``period`` per customer.

    Movements of the period's months are summed per customer and category; rows are ranked by
    the absolute constant-currency amount. Adds ``name`` and ``segment`` from ``customers`` when
    present. Columns: ``category, customer_id, [name, segment], amount, mrr_start, mrr_end``.
    """
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().top_movements(subscriptions, period, n=n, customers=customers,
                                    fx_rates=fx_rates, policy=policy)
    policy = get_policy(policy)
    p = as_period(period)
    mv = mrr_movements(subscriptions, start=p.start, end=p.end, fx_rates=fx_rates, policy=policy)
    mv = mv[mv["category"].isin(["expansion", "contraction", "churn"])]
    agg = (mv.groupby(["category", "customer_id"], observed=True)["movement"].sum()
           .reset_index(name="amount"))
    agg = agg[agg["amount"] != 0]
    agg["abs"] = agg["amount"].abs()
    agg = (agg.sort_values(["category", "abs", "customer_id"], ascending=[True, False, True])
           .groupby("category", observed=True).head(n).drop(columns="abs"))
    ends = mrr_movements(subscriptions, start=p.last_month, end=p.end, fx_rates=fx_rates,
                         policy=policy).set_index("customer_id")["mrr"]
    starts = mrr_movements(subscriptions, start=p.start, end=p.start + pd.DateOffset(months=1),
                           fx_rates=fx_rates, policy=policy).set_index("customer_id")["previous_mrr"]
    agg["mrr_start"] = agg["customer_id"].map(starts).fillna(0.0).to_numpy()
    agg["mrr_end"] = agg["customer_id"].map(ends).fillna(0.0).to_numpy()
    if customers is not None:
        extra = [c for c in ("name", "segment") if c in customers.columns]
        if extra:
            look = customers.drop_duplicates("customer_id").set_index("customer_id")[extra]
            for c in extra:
                agg[c] = agg["customer_id"].map(look[c]).to_numpy()
    agg["category"] = agg["category"].astype(str)
    cols = ["category", "customer_id"] + [c for c in ("name", "segment") if c in agg.columns] + \
        ["amount", "mrr_start", "mrr_end"]
    return agg[cols].reset_index(drop=True)
