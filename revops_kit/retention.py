"""Retention and churn KPIs: logo churn, revenue churn, GRR, NRR, quick ratio, expansion and
renewal rates.

All of them read the MRR movements of :mod:`revops_kit.revenue` (same month spine, same integer
cents, same categories). A period's **start** is the month before it (the previous period's last
month): "customers active at period start" are the customers with MRR > 0 in that month.

Revenue retention (``policy.revenue_retention_basis``)
------------------------------------------------------
``"cohort"`` (default). The cohort is the customers active at period start. For each of them
``s`` = MRR at period start, ``e`` = MRR in the period's last month valued at the period-start
rates (constant currency: its local MRR × the start month's rate; with one currency or
``fx_mode="fixed"`` simply its MRR), 0 if inactive then::

    NRR                     = Σ e ÷ Σ s
    GRR                     = Σ min(e, s) ÷ Σ s
    gross revenue churn     = Σ max(s − e, 0) ÷ Σ s   = 1 − GRR
    net revenue churn       = (Σ s − Σ e) ÷ Σ s        = 1 − NRR
    expansion rate          = Σ max(e − s, 0) ÷ Σ s    = NRR − GRR

``"movements"`` sums the period's bridge movements of every customer (including customers new
in the period), as ChartMogul's MRR churn rates do::

    gross revenue churn = (contraction + churn) ÷ MRR_start
    net revenue churn   = (contraction + churn − expansion − reactivation) ÷ MRR_start
    GRR = 1 − gross revenue churn;  NRR = 1 − net revenue churn;  expansion rate = expansion ÷ MRR_start
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import as_list, ratio_frame
from .catalog import NotGroupableError, register
from .errors import RevOpsError
from .periods import Period, PeriodLike, as_period
from .policies import DEFAULT_POLICY, MetricPolicy, get_policy
from .engines import SQLEngineUnsupported, is_sql
from .grid import (CHURN, OPEN_MONTH, bridge_cents, group_codes, group_frame, month_grid,
                   month_number, period_grid, split_by)
from .revenue import contract_values, mrr_bridge, revenue_backlog

__all__ = [
    "contract_kpis",
    "logo_churn_rate",
    "revenue_retention",
    "grr",
    "nrr",
    "gross_revenue_churn_rate",
    "net_revenue_churn_rate",
    "expansion_rate",
    "quick_ratio",
    "renewal_rate",
    "renewals",
    "retention_trend",
]


def _first_last(period: Period) -> tuple[int, int]:
    return (int(month_number([period.start], ceil=False)[0]),
            int(month_number([period.last_month], ceil=False)[0]))


def _distinct_by_group(ent: np.ndarray, gcode: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(gcode[np.unique(ent)], minlength=k)


# ---------------------------------------------------------------------- logo churn
@register("customers_churned", aggregation="sum", value="customers_churned", label="Churned customers", unit="count", good="down",
          family="retention",
          formula="customers with a churn movement (MRR > 0 → 0) in the period; "
                  "policy.churn_exclude_new_in_period keeps only those active at period start",
          tables=("subscriptions",))
@register("logo_churn_rate", sections={"revenue": 7}, label="Logo churn rate", unit="ratio", good="down", family="retention",
          formula="customers churned in the period ÷ customers active at period start "
                  "(policy: churn_denominator start|average, churn_exclude_new_in_period)",
          tables=("subscriptions",))
def logo_churn_rate(subscriptions: pd.DataFrame, period: PeriodLike, *,
                    by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                    fx_rates: pd.DataFrame | None = None,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Logo (customer) churn rate of ``period``.

    Default policy::

        logo churn = customers with a churn movement in the period
                     ÷ customers active at period start (MRR > 0 in the month before it)

    A customer counts once however often it churns. Policy fields read:

    * ``churn_exclude_new_in_period=True`` (ChartMogul): only customers active at period start
      count in the numerator, i.e. customers who joined (new or reactivated) and churned inside
      the period are left out; the rate is then within [0, 1].
    * ``churn_denominator="average"``: divide by (customers at start + customers at end) ÷ 2.

    With a subscription column in ``by`` (e.g. ``product``) a "customer" is a customer × value.
    Needs no currency conversion (``fx_rates`` is accepted and ignored). Zero customers at start
    gives NaN and a ZeroDenominatorWarning.

    Returns
    -------
    DataFrame
        ``[by], value, numerator (churned), denominator, customers_start, customers_end,
        customers_churned``.

    Examples
    --------
    >>> import pandas as pd
    >>> subs = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
    ...     "start_date": pd.to_datetime(["2024-01-01"] * 3 + ["2025-01-01"]),
    ...     "end_date": pd.to_datetime(["2025-02-01", None, None, "2025-03-01"]),
    ...     "mrr": [10.0, 10.0, 10.0, 10.0]})
    >>> logo_churn_rate(subs, "2025-Q1")[["numerator", "denominator", "value"]].iloc[0].tolist()
    [2.0, 3.0, 0.6666666666666666]
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().logo_churn_rate(subscriptions, period, by=by, customers=customers,
                                       fx_rates=fx_rates, policy=policy)
    p = as_period(period)
    g, ents, by = period_grid(subscriptions, p, by=by, customers=customers, fx_rates=None,
                               policy=policy, convert=False)
    gcode, groups = group_codes(ents, by)
    k = len(groups)
    first_m, last_m = _first_last(p)
    start_ents = g.ent[(g.month == first_m) & g.prev_active]
    churn_rows = g.cat == CHURN
    churned = g.ent[churn_rows]
    if policy.churn_exclude_new_in_period:
        churned = np.intersect1d(churned, start_ents)
    n_start = _distinct_by_group(start_ents, gcode, k)
    n_end = _distinct_by_group(g.ent[(g.month == last_m) & g.active], gcode, k)
    n_churn = _distinct_by_group(churned, gcode, k)
    den = n_start.astype(float) if policy.churn_denominator == "start" else (n_start + n_end) / 2.0
    out = group_frame(groups, by, customers_churned=n_churn, churn_base=den,
                     customers_start=n_start, customers_end=n_end)
    out = ratio_frame(out, "customers_churned", "churn_base",
                      what="logo churn rate (no customers at period start)", by=by)
    return out[by + ["value", "numerator", "denominator", "customers_start", "customers_end",
                     "customers_churned"]]


# ---------------------------------------------------------------------- revenue retention
def revenue_retention(subscriptions: pd.DataFrame, period: PeriodLike, *,
                      by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                      fx_rates: pd.DataFrame | None = None,
                      policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Components of revenue retention for ``period`` (see the module docstring for formulas).

    Returns one row per group with ``mrr_start`` (Σ s), ``retained`` (Σ min(e, s), or
    start − contraction − churn), ``expanded`` (Σ max(e − s, 0), or expansion), ``mrr_end_cohort``
    (Σ e, or start + expansion + reactivation − contraction − churn), ``lost_gross`` and
    ``lost_net``, and ``customers_start``. All amounts in the reporting currency.
    """
    policy = get_policy(policy)
    if is_sql(subscriptions) and policy.revenue_retention_basis == "cohort":
        return _sql().revenue_retention(subscriptions, period, by=by, customers=customers,
                                         fx_rates=fx_rates, policy=policy)
    p = as_period(period)
    by_list = as_list(by)
    if policy.revenue_retention_basis == "movements":
        b = mrr_bridge(subscriptions, p, by=by, customers=customers, fx_rates=fx_rates,
                       policy=policy)
        out = b[by_list].copy() if by_list else pd.DataFrame(index=b.index)
        out["mrr_start"] = b["mrr_start"]
        lost = b["contraction"] + b["churn"]
        out["retained"] = b["mrr_start"] - lost
        out["expanded"] = b["expansion"]
        out["mrr_end_cohort"] = b["mrr_start"] + b["expansion"] + b["reactivation"] - lost
        out["lost_gross"] = lost
        out["lost_net"] = lost - b["expansion"] - b["reactivation"]
        out["customers_start"] = b["customers_start"]
        return out.reset_index(drop=True)
    g, ents, by_list = period_grid(subscriptions, p, by=by, customers=customers,
                                    fx_rates=fx_rates, policy=policy)
    gcode, groups = group_codes(ents, by_list)
    k = len(groups)
    first_m, last_m = _first_last(p)
    n_ent = len(ents)
    srow = (g.month == first_m) & g.prev_active
    s = np.zeros(n_ent, dtype=np.int64)
    s[g.ent[srow]] = g.prev[srow]
    erow = (g.month == last_m) & g.active
    e = np.zeros(n_ent, dtype=np.int64)
    if g.local is None:
        e[g.ent[erow]] = g.mrr[erow]
    else:  # end MRR revalued at the period-start rates (constant currency)
        e[g.ent[erow]] = np.rint(g.local[erow] * np.nan_to_num(g.start_rates)).sum(axis=1)
    cohort = s > 0
    e = np.where(cohort, e, 0)

    def gsum(values):
        return np.rint(np.bincount(gcode[cohort], weights=values[cohort].astype(float),
                                   minlength=k)).astype(np.int64)

    start, end = gsum(s), gsum(e)
    retained, expanded = gsum(np.minimum(e, s)), gsum(np.maximum(e - s, 0))
    out = group_frame(groups, by_list, mrr_start=start / 100, retained=retained / 100,
                     expanded=expanded / 100, mrr_end_cohort=end / 100,
                     lost_gross=(start - retained) / 100, lost_net=(start - end) / 100,
                     customers_start=np.bincount(gcode[cohort], minlength=k))
    return out


def _retention_kpi(column: str, what: str):
    def compute(subscriptions, period, *, by=None, customers=None, fx_rates=None,
                policy=DEFAULT_POLICY):
        r = revenue_retention(subscriptions, period, by=by, customers=customers,
                              fx_rates=fx_rates, policy=policy)
        out = ratio_frame(r, column, "mrr_start", what=f"{what} (no MRR at period start)",
                          by=as_list(by))
        return out[as_list(by) + ["value", "numerator", "denominator", "customers_start"]]

    return compute


_nrr = _retention_kpi("mrr_end_cohort", "NRR")
_grr = _retention_kpi("retained", "GRR")
_gross_churn = _retention_kpi("lost_gross", "gross revenue churn rate")
_net_churn = _retention_kpi("lost_net", "net revenue churn rate")
_expansion = _retention_kpi("expanded", "expansion rate")


@register("nrr", sections={"revenue": 5}, label="Net revenue retention", unit="ratio", good="up", family="retention",
          headline=True,
          formula="MRR_end of customers active at period start (constant currency) ÷ their "
                  "MRR_start = (MRR_start + expansion + reactivation − contraction − churn) ÷ "
                  "MRR_start over that cohort",
          tables=("subscriptions",))
def nrr(subscriptions: pd.DataFrame, period: PeriodLike, *, by=None, customers=None,
        fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Net revenue retention of ``period``.

    Cohort basis (default): NRR = Σ_cohort e ÷ Σ_cohort s (end MRR at constant currency of the
    customers active at period start ÷ their start MRR). Movements basis:
    (MRR_start + expansion + reactivation − contraction − churn) ÷ MRR_start over all customers.
    Reads ``revenue_retention_basis`` and the FX fields. Returns ``value, numerator,
    denominator, customers_start``.
    """
    policy = get_policy(policy)
    return _nrr(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates, policy=policy)


@register("grr", sections={"revenue": 6}, label="Gross revenue retention", unit="ratio", good="up", family="retention",
          headline=True,
          formula="Σ over customers active at period start of min(MRR_end, MRR_start) ÷ Σ "
                  "MRR_start, at constant currency; movements basis: (MRR_start − contraction − "
                  "churn) ÷ MRR_start",
          tables=("subscriptions",))
def grr(subscriptions: pd.DataFrame, period: PeriodLike, *, by=None, customers=None,
        fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Gross revenue retention: Σ_cohort min(e, s) ÷ Σ_cohort s (cohort basis, default), or
    (MRR_start − contraction − churn) ÷ MRR_start (movements basis). Within [0, 1] on the cohort
    basis."""
    policy = get_policy(policy)
    return _grr(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates, policy=policy)


@register("gross_revenue_churn_rate", label="Gross revenue churn rate", unit="ratio", good="down",
          family="retention",
          formula="Σ over customers active at period start of max(MRR_start − MRR_end, 0) ÷ "
                  "MRR_start (= 1 − GRR); movements basis: (contraction + churn) ÷ MRR_start",
          tables=("subscriptions",))
def gross_revenue_churn_rate(subscriptions: pd.DataFrame, period: PeriodLike, *, by=None,
                             customers=None, fx_rates=None,
                             policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Gross revenue churn rate = 1 − GRR: Σ_cohort max(s − e, 0) ÷ Σ s (cohort basis), or
    (contraction + churn) ÷ MRR_start (movements basis)."""
    policy = get_policy(policy)
    return _gross_churn(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates,
                        policy=policy)


@register("net_revenue_churn_rate", label="Net revenue churn rate", unit="ratio", good="down",
          family="retention",
          formula="(MRR_start − MRR_end of customers active at period start) ÷ MRR_start "
                  "(= 1 − NRR); movements basis: (contraction + churn − expansion − "
                  "reactivation) ÷ MRR_start",
          tables=("subscriptions",))
def net_revenue_churn_rate(subscriptions: pd.DataFrame, period: PeriodLike, *, by=None,
                           customers=None, fx_rates=None,
                           policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Net revenue churn rate = 1 − NRR: (Σ s − Σ e) ÷ Σ s (cohort basis), or (contraction +
    churn − expansion − reactivation) ÷ MRR_start (movements basis). Negative when expansion
    outweighs losses."""
    policy = get_policy(policy)
    return _net_churn(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates,
                      policy=policy)


@register("expansion_rate", label="Expansion rate", unit="ratio", good="up", family="retention",
          formula="Σ over customers active at period start of max(MRR_end − MRR_start, 0) ÷ "
                  "MRR_start (= NRR − GRR); movements basis: expansion ÷ MRR_start",
          tables=("subscriptions",))
def expansion_rate(subscriptions: pd.DataFrame, period: PeriodLike, *, by=None, customers=None,
                   fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Expansion rate = Σ_cohort max(e − s, 0) ÷ Σ s = NRR − GRR (cohort basis), or
    expansion ÷ MRR_start (movements basis)."""
    policy = get_policy(policy)
    return _expansion(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates,
                      policy=policy)


@register("quick_ratio", sections={"revenue": 8}, label="SaaS quick ratio", unit="multiple", good="up", family="retention",
          formula="(new + expansion + reactivation MRR) ÷ (contraction + churned MRR) in the period",
          tables=("subscriptions",))
def quick_ratio(subscriptions: pd.DataFrame, period: PeriodLike, *, by=None, customers=None,
                fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """SaaS quick ratio = (new + expansion + reactivation) ÷ (contraction + churn), from the
    period's MRR bridge (FX impact excluded). NaN + warning when nothing was lost."""
    policy = get_policy(policy)
    b = mrr_bridge(subscriptions, period, by=by, customers=customers, fx_rates=fx_rates,
                   policy=policy)
    by = as_list(by)
    b["gained"] = b["new"] + b["expansion"] + b["reactivation"]
    b["lost"] = b["contraction"] + b["churn"]
    out = ratio_frame(b, "gained", "lost", what="quick ratio (no contraction or churn)", by=by)
    return out[by + ["value", "numerator", "denominator"]]


# ---------------------------------------------------------------------- renewals
def renewals(subscriptions: pd.DataFrame, period: PeriodLike, *,
             opportunities: pd.DataFrame | None = None, by: str | list[str] | None = None,
             customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
             policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Renewal events of ``period``, one row per customer and contract term.

    ``policy.renewal_basis == "contracts"`` (default) uses subscription contract terms
    (``committed_end_date``): a term of a customer ends in month ``T`` = the first month after
    ``committed_end_date`` (``ceil`` to a month start, like ``end_date``) and lasted
    ``T − min(start month of the customer's rows with that committed end) ≥
    policy.renewal_min_term_months`` months (default 12: monthly terms are not renewals). It is
    *due* in the period when ``T`` is in the period and the customer was active in ``T − 1``;
    *renewed* when the customer is active in ``T``. Amounts: ``due_mrr`` = MRR in ``T − 1``,
    ``renewed_mrr`` = min(MRR in ``T``, due_mrr) (gross: uplift not counted).

    ``"opportunities"`` uses closed renewal opportunities (``type == "renewal"``, ``is_closed``,
    ``close_date`` in the period): due = closed, renewed = won; amounts are the opportunity
    ``amount`` converted at the close month's rate (due = all closed, renewed = won).
    """
    policy = get_policy(policy)
    p = as_period(period)
    by_list = as_list(by)
    if policy.renewal_basis == "opportunities":
        return _renewals_from_opportunities(opportunities, p, by_list, customers, fx_rates, policy)
    subs = subscriptions
    if "committed_end_date" not in subs.columns:
        raise RevOpsError("renewal_rate (policy.renewal_basis='contracts'): subscriptions has no "
                          "column 'committed_end_date'")
    first_m, last_m = _first_last(p)
    c = month_number(subs["committed_end_date"].to_numpy(), ceil=True)
    s = month_number(subs["start_date"].to_numpy(), ceil=True)
    terms = pd.DataFrame({"customer_id": subs["customer_id"].to_numpy(), "T": c, "s": s})
    terms = terms[terms["T"] != OPEN_MONTH]
    terms = terms.groupby(["customer_id", "T"], sort=True)["s"].min().reset_index()
    terms = terms[(terms["T"] >= first_m) & (terms["T"] <= last_m)
                  & (terms["T"] - terms["s"] >= policy.renewal_min_term_months)]
    grain, cust_cols = split_by(subs, by_list)
    if grain:
        raise NotGroupableError(f"renewal_rate (contracts) is per customer; cannot group by "
                                f"subscription column(s) {grain}")
    g = month_grid(subs, start=p.start - pd.DateOffset(months=1), end=p.end, fx_rates=fx_rates,
              policy=policy)
    ids = g.entities["customer_id"].to_numpy()
    mv = pd.DataFrame({"customer_id": ids[g.ent], "month": g.month, "mrr": g.mrr})
    mv = mv.set_index(["customer_id", "month"])["mrr"]
    before = mv.reindex(pd.MultiIndex.from_arrays([terms["customer_id"], terms["T"] - 1]))
    after = mv.reindex(pd.MultiIndex.from_arrays([terms["customer_id"], terms["T"]]))
    terms["due_mrr"] = before.fillna(0).to_numpy() / 100
    terms["after_mrr"] = after.fillna(0).to_numpy() / 100
    terms = terms[terms["due_mrr"] > 0].copy()
    terms["renewed"] = terms["after_mrr"] > 0
    terms["renewed_mrr"] = np.minimum(terms["after_mrr"], terms["due_mrr"])
    terms["month"] = pd.to_datetime(terms["T"].astype("int64").to_numpy().astype("datetime64[M]"))
    out = terms.drop(columns=["T", "s"]).reset_index(drop=True)
    from ._common import attach_columns

    out = attach_columns(out, customers, cust_cols, table="subscriptions")
    return out


def _renewals_from_opportunities(opp, p, by, customers, fx_rates, policy):
    from ._common import attach_columns, to_reporting_currency

    if opp is None:
        raise RevOpsError("renewal_rate (policy.renewal_basis='opportunities') needs the "
                          "opportunities table")
    closed = opp["is_closed"].fillna(False).astype(bool) if "is_closed" in opp.columns else \
        opp["is_won"].notna()
    sel = (opp["type"] == "renewal") & closed & p.mask(opp["close_date"])
    frame = opp.loc[sel].copy()
    frame["month"] = frame["close_date"].dt.to_period("M").dt.to_timestamp()
    amount = to_reporting_currency(frame.assign(amount=frame["amount"].fillna(0.0)), "amount",
                                   "month", fx_rates, policy, table="opportunities")
    frame["renewed"] = frame["is_won"].fillna(False).astype(bool)
    frame["due_mrr"] = amount.to_numpy() / 12
    frame["renewed_mrr"] = np.where(frame["renewed"], frame["due_mrr"], 0.0)
    frame = attach_columns(frame, customers, by, table="opportunities")
    return frame[["customer_id", "month"] + by + ["due_mrr", "renewed", "renewed_mrr"]] \
        .reset_index(drop=True)


def _renewal_tables(policy: MetricPolicy) -> tuple[str, ...]:
    return ("opportunities",) if policy.renewal_basis == "opportunities" else ()


def _renewal_columns(policy: MetricPolicy) -> dict[str, tuple[str, ...]]:
    return {} if policy.renewal_basis == "opportunities" else {"subscriptions": ("committed_end_date",)}


@register("renewal_rate", policy_tables=_renewal_tables, columns=_renewal_columns, label="Renewal rate", unit="ratio", good="up", family="retention",
          formula="contract terms (committed_end_date, ≥ 12 months) ending in the period whose "
                  "customer is still active the month after ÷ terms ending; "
                  "policy.renewal_basis='opportunities': won ÷ closed renewal opportunities",
          tables=("subscriptions",))
@register("renewal_rate_amount", params={"amount": True}, policy_tables=_renewal_tables, columns=_renewal_columns, label="Renewal rate (amount)", unit="ratio", good="up",
          family="retention",
          formula="Σ min(MRR after, MRR before) ÷ Σ MRR before the term end, over contract terms "
                  "ending in the period; opportunities basis: won ÷ closed renewal amount",
          tables=("subscriptions",))
def renewal_rate(subscriptions: pd.DataFrame, period: PeriodLike, *, amount: bool = False,
                 opportunities: pd.DataFrame | None = None, by: str | list[str] | None = None,
                 customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                 policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Renewal rate of ``period`` by count (default) or by amount.

    count:  renewed terms ÷ terms due;  amount: Σ renewed_mrr ÷ Σ due_mrr — see :func:`renewals`
    for what is due and renewed under ``policy.renewal_basis`` (contracts: ``committed_end_date``
    terms of at least ``renewal_min_term_months``; opportunities: closed renewal opportunities).
    """
    policy = get_policy(policy)
    r = renewals(subscriptions, period, opportunities=opportunities, by=by, customers=customers,
                 fx_rates=fx_rates, policy=policy)
    by = as_list(by)
    r = r.assign(n=1, won=r["renewed"].astype(int))
    if by:
        agg = r.groupby(by, observed=True, dropna=False)[["n", "won", "due_mrr", "renewed_mrr"]] \
            .sum().reset_index()
    else:
        agg = pd.DataFrame({"n": [len(r)], "won": [int(r["won"].sum())],
                            "due_mrr": [float(r["due_mrr"].sum())],
                            "renewed_mrr": [float(r["renewed_mrr"].sum())]})
    for col in ("due_mrr", "renewed_mrr"):  # sums of cent amounts, back to whole cents
        agg[col] = np.rint(agg[col].to_numpy(dtype="float64") * 100) / 100
    num, den = ("renewed_mrr", "due_mrr") if amount else ("won", "n")
    out = ratio_frame(agg, num, den, what="renewal rate (nothing due for renewal)", by=by)
    out = out.rename(columns={"n": "renewals_due", "won": "renewed"})
    return out[by + ["value", "numerator", "denominator", "renewals_due", "renewed"]]


# ---------------------------------------------------------------------- trends
def retention_trend(subscriptions: pd.DataFrame, periods, *, by=None, customers=None,
                    fx_rates=None, wide: bool = False,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """NRR, GRR, logo churn and gross revenue churn for each period of ``periods`` (tidy:
    ``period, period_end, [by], kpi, value``; ``wide=True``: one column per KPI)."""
    policy = get_policy(policy)
    frames = []
    kw = dict(by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    for period in periods:
        p = as_period(period)
        for name, func in (("nrr", nrr), ("grr", grr), ("logo_churn_rate", logo_churn_rate),
                           ("gross_revenue_churn_rate", gross_revenue_churn_rate)):
            f = func(subscriptions, p, **kw)
            f = f[as_list(by) + ["value"]].assign(period=str(p), period_end=p.last_month, kpi=name)
            frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out = out[["period", "period_end"] + as_list(by) + ["kpi", "value"]]
    if wide:
        out = out.pivot_table(index=["period", "period_end"] + as_list(by), columns="kpi",
                              values="value", sort=False).reset_index()
        out.columns.name = None
        out = out.sort_values("period_end", kind="stable").reset_index(drop=True)
    return out


# ---------------------------------------------------------------------- contracts bundle
def contract_kpis(data, period: PeriodLike, *, policy: MetricPolicy = DEFAULT_POLICY
                  ) -> pd.DataFrame:
    """Renewal rates (by count and amount, from contract terms and, when the dataset has them,
    from renewal opportunities), TCV, ACV and revenue backlog of ``period`` as one table.

    ``data`` is a :class:`~revops_kit.io.RevOpsData`. Rows whose table is absent, or that need
    the subscription rows in memory while they stay in a database (``engine="sql"``), say so in
    ``note`` instead of failing. Columns: ``kpi, basis, value, numerator, denominator, note``.
    """

    policy = get_policy(policy)
    p = as_period(period)
    subs, opps = data.subscriptions, data.opportunities
    kw = {"customers": data.customers, "fx_rates": data.fx_rates}
    rows = []

    def add(kpi, basis, frame=None, note=""):
        if frame is None:
            rows.append({"kpi": kpi, "basis": basis, "value": np.nan, "numerator": np.nan,
                         "denominator": np.nan, "note": note})
            return
        r = frame.iloc[0]
        rows.append({"kpi": kpi, "basis": basis, "value": float(r["value"]),
                     "numerator": float(r.get("numerator", np.nan)),
                     "denominator": float(r.get("denominator", np.nan)), "note": note})

    in_db = "needs the subscription rows in memory (engine=sql)"

    def computed(kpi, basis, build, note=""):
        try:  # engine="sql": rows that read the subscription rows say so; the others are computed
            frame = build()
        except SQLEngineUnsupported:
            add(kpi, basis, note=in_db)
            return
        add(kpi, basis, frame, note)

    for basis in ("contracts", "opportunities"):
        pol = policy.replace(renewal_basis=basis)
        if basis == "opportunities" and opps is None:
            for kpi in ("renewal_rate", "renewal_rate_amount"):
                add(kpi, basis, note="needs the opportunities table")
            continue
        for kpi, amount in (("renewal_rate", False), ("renewal_rate_amount", True)):
            computed(kpi, basis, lambda: renewal_rate(subs, p, amount=amount, opportunities=opps,
                                                      policy=pol, **kw))
    for source in ("opportunities", "subscriptions"):
        pol = policy.replace(contract_value_source=source)
        if source == "opportunities" and opps is None:
            add("tcv", source, note="needs the opportunities table")
            add("acv", source, note="needs the opportunities table")
            continue
        try:
            cv = contract_values(opps, p, subscriptions=subs, policy=pol, **kw).iloc[0]
        except SQLEngineUnsupported:
            add("tcv", source, note=in_db)
            add("acv", source, note=in_db)
            continue
        note = f"{int(cv['contracts'])} contracts"
        add("tcv", source, pd.DataFrame({"value": [cv["tcv"]]}), note)
        add("acv", source, pd.DataFrame({"value": [cv["acv"]]}), note)
    computed("revenue_backlog", "contracts", lambda: revenue_backlog(subs, p, policy=policy, **kw))
    return pd.DataFrame(rows)


def _sql():
    """The SQL engine (imported on first use: it needs Ibis, the [sql] extra)."""
    from .engines import sql

    return sql
