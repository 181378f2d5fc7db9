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
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from ._common import as_list, attach_columns, ratio_frame, safe_divide
from .catalog import register
from .grid import (CATEGORIES, CHURN, CONTRACTION, EXPANSION, NEW, REACTIVATION, UNCHANGED,
                   MonthGrid, MRRInputError, factorize_rows, month_floor, month_grid, month_number, mrr_cents,
                   month_start, month_window, OPEN_MONTH, bridge_cents, group_codes,
                   group_frame, period_grid, split_by, check_subscriptions)
from .periods import Period, PeriodLike, as_period
from .policies import DEFAULT_POLICY, MetricPolicy, get_policy
from .engines import is_sql

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

_BRIDGE_LINES = ("new", "expansion", "reactivation", "contraction", "churn")
_UNCHANGED, _NEW, _EXPANSION, _CONTRACTION, _CHURN, _REACTIVATION = (
    UNCHANGED, NEW, EXPANSION, CONTRACTION, CHURN, REACTIVATION)


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


# ---------------------------------------------------------------------- period aggregates
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


# ---------------------------------------------------------------------- point-in-time MRR
def _month_mrr(subscriptions, month: pd.Timestamp, *, by, customers, fx_rates, policy):
    """(groups, mrr cents, active customers) for one month."""
    policy = get_policy(policy)
    m = pd.Timestamp(month)
    g, ents, by = period_grid(subscriptions, Period.containing(m), by=by, customers=customers,
                               fx_rates=fx_rates, policy=policy)
    gcode, groups = group_codes(ents, by)
    k = len(groups)
    rg = gcode[g.ent] if len(g.ent) else np.zeros(0, dtype=np.int64)
    cents = np.rint(np.bincount(rg, weights=g.mrr.astype(np.float64), minlength=k)).astype(np.int64)
    customers_n = np.bincount(rg[g.active], minlength=k)
    return groups, by, cents, customers_n


def active_subscriptions(subscriptions: pd.DataFrame, month, *, fx_rates: pd.DataFrame | None = None,
                         policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Subscription rows active in ``month`` with ``mrr_reporting`` in the reporting currency.

    Active means ``start_date <= month < end_date`` (or ``end_date`` empty) and ``mrr > 0``.
    ``mrr_reporting`` is each row converted at the month's rate and rounded to the cent (row-level;
    the KPIs convert per customer × currency, see the module docstring).
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        _sql().unsupported("the subscriptions active in a month")
    from ._common import to_reporting_currency

    m = pd.Timestamp(month).to_period("M").to_timestamp()
    active = (subscriptions["start_date"] <= m) & (
        subscriptions["end_date"].isna() | (subscriptions["end_date"] > m)
    ) & (subscriptions["mrr"] > 0)
    out = subscriptions.loc[active].copy()
    out["month"] = m
    out["mrr_reporting"] = to_reporting_currency(out, "mrr", "month", fx_rates, policy,
                                                 table="subscriptions").round(2)
    return out


@register("mrr", label="MRR", unit="currency", good="up", family="revenue", headline=True,
          aggregation="level", sections={"revenue": 1},
          formula="Σ mrr of subscription periods active in the period's last month "
                  "(start_date ≤ month < end_date), in the reporting currency",
          tables=("subscriptions",))
def mrr(subscriptions: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
        customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Monthly recurring revenue at the end of ``period``.

    MRR = Σ over customers of their MRR in the period's last month (Σ mrr of subscription periods
    with ``start_date <= month < end_date``), in the reporting currency, in integer cents
    (see the module docstring). Reads ``reporting_currency``, ``fx_mode``, ``fx_fixed_month``.

    Returns one row per group with ``value`` (MRR) and ``customers`` (active customers).

    Examples
    --------
    >>> import pandas as pd
    >>> subs = pd.DataFrame({"subscription_id": ["s1", "s2"], "customer_id": ["a", "b"],
    ...     "start_date": pd.to_datetime(["2025-01-01", "2025-02-01"]),
    ...     "end_date": pd.to_datetime([None, "2025-03-01"]), "mrr": [100.0, 50.0]})
    >>> mrr(subs, "2025-02")["value"].item(), mrr(subs, "2025-03")["value"].item()
    (150.0, 100.0)
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().mrr(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates,
                           policy=policy)
    p = as_period(period)
    groups, by, cents, n = _month_mrr(subscriptions, p.last_month, by=by, customers=customers,
                                      fx_rates=fx_rates, policy=policy)
    return group_frame(groups, by, value=cents / 100.0, customers=n)


@register("arr", label="ARR", unit="currency", good="up", family="revenue", headline=True,
          aggregation="level", sections={"revenue": 2},
          formula="12 × MRR at period end", tables=("subscriptions",))
def arr(subscriptions: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
        customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Annual recurring revenue: ARR = 12 × period-end MRR (same arguments as :func:`mrr`)."""
    out = mrr(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    out["mrr"] = out["value"]
    out["value"] = out["value"] * 12
    return out


@register("customers_active", label="Active customers", unit="count", good="up", family="revenue",
          headline=True, aggregation="level", sections={"revenue": 4},
          formula="customers with MRR > 0 in the period's last month",
          tables=("subscriptions",))
def customers_active(subscriptions: pd.DataFrame, period: PeriodLike, *,
                     by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                     fx_rates: pd.DataFrame | None = None,
                     policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Customers with MRR > 0 in the period's last month (same arguments as :func:`mrr`)."""
    out = mrr(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    out["mrr"] = out["value"]
    out["value"] = out["customers"].astype("float64")
    return out


def mrr_series(subscriptions: pd.DataFrame, months, *, by: str | list[str] | None = None,
               customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
               policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """MRR and active customers for each month in ``months`` (a month spine).

    Returns columns ``month``, the ``by`` columns, ``mrr`` and ``customers``; every month × group
    seen in the window appears (0 where nothing is active).
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().mrr_series(subscriptions, months, by=by, customers=customers,
                                  fx_rates=fx_rates, policy=policy)
    months = pd.DatetimeIndex(months)
    if len(months) == 0:
        return pd.DataFrame(columns=["month"] + as_list(by) + ["mrr", "customers"])
    grain, cust_cols = split_by(subscriptions, by)
    g = month_grid(subscriptions, start=months.min(), end=months.max() + pd.DateOffset(months=1),
              grain=grain, fx_rates=fx_rates, policy=policy)
    ents = attach_columns(g.entities, customers, cust_cols, table="subscriptions") if cust_cols \
        else g.entities
    by = as_list(by)
    gcode, groups = group_codes(ents, by)
    k = len(groups)
    want = month_number(months.to_numpy(), ceil=False)
    mi = np.searchsorted(want, g.month)
    ok = (mi < len(want)) & (want[np.minimum(mi, len(want) - 1)] == g.month)
    rg = gcode[g.ent] if len(g.ent) else np.zeros(0, dtype=np.int64)
    key = mi[ok] * k + rg[ok]
    cents = np.rint(np.bincount(key, weights=g.mrr[ok].astype(np.float64),
                                minlength=len(want) * k)).astype(np.int64)
    n = np.bincount(key[g.active[ok]], minlength=len(want) * k)
    out = groups.reset_index(drop=True).loc[np.tile(np.arange(k), len(want))].reset_index(drop=True) \
        if by else pd.DataFrame(index=range(len(want)))
    out.insert(0, "month", np.repeat(months.to_numpy(dtype="datetime64[ns]"), k))
    out["mrr"] = cents / 100.0
    out["customers"] = n
    return out


# ---------------------------------------------------------------------- counts and ARPA
@register("customers_new", label="New customers", unit="count", good="up", family="revenue",
          aggregation="sum", value="customers_new", tables=("subscriptions",),
          formula="customers whose first active month (MRR > 0) is in the period")
@register("customers_reactivated", label="Reactivated customers", unit="count", good="up",
          family="revenue", aggregation="sum", value="customers_reactivated", tables=("subscriptions",),
          formula="customers returning in the period after at least one inactive month")
def customer_counts(subscriptions: pd.DataFrame, period: PeriodLike, *,
                    by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Customer counts of ``period`` per group (no currency conversion needed).

    ``customers_start`` (active in the month before the period), ``customers_new`` (first active
    month in the period), ``customers_reactivated`` and ``customers_churned`` (at least one such
    movement in the period; distinct customers), ``customers_end`` (active in the last month).
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().customer_counts(subscriptions, period, by=by, customers=customers,
                                       policy=policy)
    p = as_period(period)
    g, ents, by = period_grid(subscriptions, p, by=by, customers=customers, fx_rates=None,
                               policy=policy, convert=False)
    groups, _, counts = bridge_cents(g, ents, by, p)
    return group_frame(groups, by, **counts)


@register("arpa", label="ARPA", unit="currency", good="up", family="revenue", aggregation="ratio",
          sections={"revenue": 9},
          formula="MRR at period end ÷ active customers at period end (policy.arpa_basis='end'); "
                  "'average': Σ monthly MRR ÷ Σ monthly active customers",
          tables=("subscriptions",))
def arpa(subscriptions: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
         customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
         policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Average revenue per account (monthly).

    ``policy.arpa_basis == "end"`` (default)::

        ARPA = MRR in the period's last month ÷ customers active in that month

    ``"average"``: Σ monthly MRR over the period's months ÷ Σ monthly active customers (the
    average MRR per active customer-month).

    Also returns, for CAC payback and CLV: ``new_mrr`` (Σ MRR of the new movements in the
    period), ``new_customers`` and ``new_customer_arpa = new_mrr ÷ new_customers`` (the first-month
    MRR of an average new customer; NaN when there are none).

    Returns
    -------
    DataFrame
        ``[by], value, numerator (MRR), denominator (customers), new_mrr, new_customers,
        new_customer_arpa``. Zero customers gives NaN and a ZeroDenominatorWarning.
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().arpa(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates,
                            policy=policy)
    p = as_period(period)
    g, ents, by = period_grid(subscriptions, p, by=by, customers=customers, fx_rates=fx_rates,
                               policy=policy)
    gcode, groups = group_codes(ents, by)
    k = len(groups)
    rg = gcode[g.ent] if len(g.ent) else np.zeros(0, dtype=np.int64)
    last_m = int(month_number([p.last_month], ceil=False)[0])
    sel = np.ones(len(g.month), dtype=bool) if policy.arpa_basis == "average" else g.month == last_m
    num = np.rint(np.bincount(rg[sel], weights=g.mrr[sel].astype(np.float64), minlength=k)) / 100
    den = np.bincount(rg[sel & g.active], minlength=k).astype(np.float64)
    new = g.cat == _NEW
    new_mrr = np.rint(np.bincount(rg[new], weights=(g.mrr - g.prev)[new].astype(np.float64),
                                  minlength=k)) / 100
    new_n = np.bincount(rg[new], minlength=k)
    out = group_frame(groups, by, mrr=num, customers=den)
    out = ratio_frame(out, "mrr", "customers", what="ARPA (no active customers)", by=by)
    out["new_mrr"] = new_mrr
    out["new_customers"] = new_n
    with np.errstate(invalid="ignore", divide="ignore"):
        out["new_customer_arpa"] = np.where(new_n > 0, new_mrr / np.maximum(new_n, 1), np.nan)
    return out[by + ["value", "numerator", "denominator", "new_mrr", "new_customers",
                     "new_customer_arpa"]]


def new_customer_arpa(subscriptions: pd.DataFrame, period: PeriodLike, *,
                      by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                      fx_rates: pd.DataFrame | None = None,
                      policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """ARPA of the customers new in ``period``.

    new-customer ARPA = Σ MRR of the period's *new* movements (each new customer's MRR in its
    first active month) ÷ number of new customers. NaN + ZeroDenominatorWarning when none.
    Returns ``[by], value, numerator, denominator``.
    """
    policy = get_policy(policy)
    a = arpa(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    by = as_list(by)
    out = a[by + ["new_mrr", "new_customers"]]
    out = ratio_frame(out, "new_mrr", "new_customers", what="new-customer ARPA (no new customers)",
                      by=by)
    return out[by + ["value", "numerator", "denominator"]]


@register("revenue_growth_rate", label="Recurring revenue growth", unit="ratio", good="up",
          family="revenue",
          formula="(MRR_end − MRR_end of previous period) ÷ MRR_end of previous period",
          tables=("subscriptions",))
def revenue_growth_rate(subscriptions: pd.DataFrame, period: PeriodLike, *,
                        by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                        fx_rates: pd.DataFrame | None = None, compare: str = "previous",
                        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Recurring-revenue growth rate: (MRR_end − MRR_ref) ÷ MRR_ref.

    ``compare="previous"`` (default): MRR_ref is the MRR at the end of the previous period (the
    month before this one starts), i.e. MoM for a month, QoQ for a quarter, YoY for a year.
    ``compare="year_ago"``: MRR_ref is the MRR at the end of the same period a year earlier.
    Returns ``value, numerator (MRR_end − MRR_ref), denominator (MRR_ref), mrr_end``.
    """
    policy = get_policy(policy)
    p = as_period(period)
    if compare not in ("previous", "year_ago"):
        raise MRRInputError(f"revenue_growth_rate: compare must be 'previous' or 'year_ago', "
                            f"got {compare!r}")
    ref = p.previous() if compare == "previous" else p.year_ago()
    kw = dict(by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    end = mrr(subscriptions, p, **kw)
    before = mrr(subscriptions, ref, **kw)
    by = as_list(by)
    if by:
        frame = end[by + ["value"]].merge(before[by + ["value"]], on=by, how="outer",
                                          suffixes=("_end", "_ref")).fillna(
            {"value_end": 0.0, "value_ref": 0.0})
    else:
        frame = pd.DataFrame({"value_end": end["value"], "value_ref": before["value"]})
    frame["mrr_end"] = frame["value_end"]
    frame["growth"] = (np.rint(frame["value_end"] * 100) - np.rint(frame["value_ref"] * 100)) / 100
    out = ratio_frame(frame, "growth", "value_ref", what="revenue growth rate (no MRR before)",
                      by=by)
    return out[by + ["value", "numerator", "denominator", "mrr_end"]]


# ---------------------------------------------------------------------- top movements
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


# ---------------------------------------------------------------------- contracts
def contract_values(opportunities: pd.DataFrame | None, period: PeriodLike, *,
                    subscriptions: pd.DataFrame | None = None, by: str | list[str] | None = None,
                    customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Total and annual contract value of the contracts signed in ``period``.

    ``policy.contract_value_source == "opportunities"`` (default): contracts are won
    opportunities of every type (new business, expansion, renewal) with ``close_date`` in the
    period; ``term_months`` missing or 0 counts as 12. With ``policy.opportunity_amount ==
    "annual"`` (default; ``amount`` is the annual value, as in the sample)::

        TCV = Σ amount × term_months ÷ 12
        ACV = Σ amount × min(term_months, 12) ÷ 12      (a contract under a year: ACV = TCV)

    and with ``"total"`` (``amount`` is the whole contract)::

        TCV = Σ amount;   ACV = Σ amount × 12 ÷ max(term_months, 12)

    ``"subscriptions"``: contracts are subscription periods starting in the period with a
    ``committed_end_date``; TCV = Σ mrr × committed months (``committed_end − start`` in months),
    ACV = Σ mrr × min(committed months, 12).

    Amounts are converted at the rate of the close (start) month per ``policy.fx_mode``.
    Returns ``[by], tcv, acv, contracts``.
    """
    policy = get_policy(policy)
    from ._common import to_reporting_currency

    p = as_period(period)
    by = as_list(by)
    if policy.contract_value_source == "subscriptions":
        if subscriptions is None:
            raise MRRInputError("contract values from subscriptions need the subscriptions table")
        subs = subscriptions
        if "committed_end_date" not in subs.columns:
            raise MRRInputError("subscriptions: no column 'committed_end_date' for contract values")
        s = month_number(subs["start_date"].to_numpy(), ceil=True)
        c = month_number(subs["committed_end_date"].to_numpy(), ceil=True)
        lo, hi = month_window(p, None)
        sel = (s >= lo) & (s < hi) & (c != OPEN_MONTH) & (c > s)
        frame = subs.loc[sel].copy()
        frame["month"] = month_start(s[sel])
        value = to_reporting_currency(frame, "mrr", "month", fx_rates, policy,
                                      table="subscriptions").to_numpy()
        months = (c - s)[sel]
        frame["tcv"] = np.rint(value * months * 100) / 100
        frame["acv"] = np.rint(value * np.minimum(months, 12) * 100) / 100
    else:
        if opportunities is None:
            raise MRRInputError("contract values from opportunities need the opportunities table")
        opp = opportunities
        won = opp["is_won"].fillna(False).astype(bool) if "is_won" in opp.columns else \
            opp["stage"].astype(str).str.lower().str.contains("won")
        cd = opp["close_date"] if "close_date" in opp.columns else opp["created_at"]
        sel = won & p.mask(cd) & opp["amount"].notna()
        frame = opp.loc[sel].copy()
        frame["month"] = cd[sel].dt.to_period("M").dt.to_timestamp()
        value = to_reporting_currency(frame, "amount", "month", fx_rates, policy,
                                      table="opportunities").to_numpy()
        term = frame["term_months"].to_numpy(dtype="float64", na_value=np.nan) \
            if "term_months" in frame.columns else np.full(len(frame), np.nan)
        term = np.where(np.isnan(term) | (term <= 0), 12.0, term)
        if policy.opportunity_amount == "annual":
            total = value * term / 12.0
        else:
            total = value
        frame["tcv"] = np.rint(total * 100) / 100
        frame["acv"] = np.rint(total * 12.0 / np.maximum(term, 12.0) * 100) / 100
    frame = attach_columns(frame, customers, by, table="opportunities")
    frame["contracts"] = 1
    frame["tcv"] = np.rint(frame["tcv"].to_numpy(dtype="float64") * 100)   # whole cents
    frame["acv"] = np.rint(frame["acv"].to_numpy(dtype="float64") * 100)
    if not by:
        out = pd.DataFrame({"tcv": [float(frame["tcv"].sum())], "acv": [float(frame["acv"].sum())],
                            "contracts": [len(frame)]})
    else:
        out = frame.groupby(by, observed=True, dropna=False)[["tcv", "acv", "contracts"]].sum() \
            .reset_index()
    out["tcv"] = out["tcv"] / 100
    out["acv"] = out["acv"] / 100
    return out


@register("tcv", label="TCV (signed)", unit="currency", good="up", family="revenue",
          aggregation="sum", policy_tables=lambda pol: ("opportunities",) if pol.contract_value_source == "opportunities" else (),
          formula="Σ annual amount × term_months ÷ 12 of won opportunities closed in the period "
                  "(policy.opportunity_amount='total': Σ amount); "
                  "policy.contract_value_source='subscriptions': Σ mrr × committed months of "
                  "subscription periods starting in the period",
          tables=("subscriptions",))
def tcv(opportunities: pd.DataFrame | None, period: PeriodLike, *,
        subscriptions: pd.DataFrame | None = None, by: str | list[str] | None = None,
        customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Total contract value signed in ``period`` (see :func:`contract_values`); ``value`` = TCV."""
    out = contract_values(opportunities, period, subscriptions=subscriptions, by=by,
                          customers=customers, fx_rates=fx_rates, policy=policy)
    return out.assign(value=out["tcv"])


@register("acv", label="ACV (signed)", unit="currency", good="up", family="revenue",
          aggregation="sum", policy_tables=lambda pol: ("opportunities",) if pol.contract_value_source == "opportunities" else (),
          formula="TCV × 12 ÷ max(term_months, 12) of won opportunities closed in the period "
                  "(the first year's value); 'subscriptions': Σ mrr × min(committed months, 12)",
          tables=("subscriptions",))
def acv(opportunities: pd.DataFrame | None, period: PeriodLike, *,
        subscriptions: pd.DataFrame | None = None, by: str | list[str] | None = None,
        customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Annual contract value signed in ``period`` (see :func:`contract_values`); ``value`` = ACV."""
    out = contract_values(opportunities, period, subscriptions=subscriptions, by=by,
                          customers=customers, fx_rates=fx_rates, policy=policy)
    return out.assign(value=out["acv"])


@register("revenue_backlog", label="Revenue backlog", unit="currency", good="up", family="revenue",
          aggregation="level", columns={"subscriptions": ("committed_end_date",)},
          formula="Σ over periods active at period end of mrr × committed months remaining after "
                  "the period (min(committed_end_date, end_date) − period end)",
          tables=("subscriptions",))
def revenue_backlog(subscriptions: pd.DataFrame, period: PeriodLike, *,
                    by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                    fx_rates: pd.DataFrame | None = None,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Contracted recurring revenue not yet recognised at the end of ``period``.

    For each subscription period active in the period's last month::

        remaining months = max(0, min(ceil_month(committed_end_date), ceil_month(end_date))
                                  − first month after the period)
        backlog = Σ mrr (converted at the period's last month's rate) × remaining months

    Periods without a ``committed_end_date`` (month-to-month) add nothing. Returns
    ``[by], value, subscriptions`` (periods contributing).
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        _sql().unsupported("revenue backlog")
    from ._common import to_reporting_currency

    p = as_period(period)
    by = as_list(by)
    subs = subscriptions
    check_subscriptions(subs, [])
    if "committed_end_date" not in subs.columns:
        raise MRRInputError("subscriptions: no column 'committed_end_date' for revenue backlog")
    last = int(month_number([p.last_month], ceil=False)[0])
    s = month_number(subs["start_date"].to_numpy(), ceil=True)
    e = month_number(subs["end_date"].to_numpy(), ceil=True)
    c = month_number(subs["committed_end_date"].to_numpy(), ceil=True)
    remaining = np.minimum(c, e) - (last + 1)
    sel = (s <= last) & (e > last) & (c != OPEN_MONTH) & (remaining > 0) & (mrr_cents(subs) > 0)
    frame = subs.loc[sel].copy()
    frame["month"] = p.last_month
    value = to_reporting_currency(frame, "mrr", "month", fx_rates, policy,
                                  table="subscriptions").to_numpy()
    frame["backlog"] = np.rint(value * 100) * remaining[sel]      # whole cents
    frame = attach_columns(frame, customers, by, table="subscriptions")
    if not by:
        return pd.DataFrame({"value": [float(frame["backlog"].sum()) / 100],
                             "subscriptions": [len(frame)]})
    out = frame.groupby(by, observed=True, dropna=False).agg(
        value=("backlog", "sum"), subscriptions=("backlog", "size")).reset_index()
    out["value"] = out["value"] / 100
    return out



# ---------------------------------------------------------------------- catalogue


def _sql():
    """The SQL engine (imported on first use: it needs Ibis, the [sql] extra)."""
    from .engines import sql

    return sql
