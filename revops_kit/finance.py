"""Finance KPIs: revenue recognised, billings, cash collected, DSO, gross margin, cash flow, profit.

Three views of the same invoices, which differ in *when* money counts:

* **billings** — when an invoice is issued (``issued_at``);
* **revenue recognised** — when the service is delivered: a recurring (or services) invoice with a
  service window ``[service_start, service_end)`` is spread over the months of that window, each
  month weighted by the fraction of it the window covers (a window of whole months gives equal
  monthly amounts; a window from the 15th to the 15th gives half months at both ends). A
  ``one_time`` invoice is recognised in full at delivery (``service_start`` when given, else
  ``issued_at``). An invoice without a usable service window is recognised when issued;
* **cash collected** — when it is paid (``paid_at``).

Money is converted to ``policy.reporting_currency`` at the rate of the month in which it counts
(recognition month, issue month, payment month), per ``policy.fx_mode``. The ``costs`` table is the
cost ledger: a month's costs are taken to be paid in that month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import (as_list, attach_columns, frame_cache, group_agg, ratio_frame, safe_divide,
                      to_reporting_currency)
from .catalog import register
from .errors import RevOpsError
from .grid import month_number, month_start
from .periods import Period, PeriodLike, as_period
from .policies import DEFAULT_POLICY, MetricPolicy

__all__ = [
    "margin_costs",
    "recognition_schedule",
    "revenue_recognised",
    "billings",
    "cash_collected",
    "receivables",
    "dso",
    "gross_margin",
    "operating_cash_flow",
    "profit_margin",
    "finance_series",
    "FINANCE_COLUMNS",
]

#: The columns of :func:`finance_series` worth showing in a table (the rest are components).
FINANCE_COLUMNS = ["period", "billings", "revenue_recognised", "cash_collected", "dso", "gross_margin",
                   "operating_cash_flow", "profit_margin"]

_POINT_KINDS = ("one_time",)


# ---------------------------------------------------------------------- helpers
def _fx_through(fx_rates: pd.DataFrame | None, last_month) -> pd.DataFrame | None:
    """``fx_rates`` extended to ``last_month``: months after its last month repeat each currency's
    latest rate (revenue recognised in the future is valued at the latest known rate)."""
    if fx_rates is None or not len(fx_rates):
        return fx_rates
    last_known = fx_rates["month"].max()
    if pd.Timestamp(last_month) <= last_known:
        return fx_rates
    latest = fx_rates.sort_values("month", kind="stable").groupby("currency").tail(1)
    future = pd.date_range(last_known + pd.DateOffset(months=1), last_month, freq="MS")
    extra = pd.DataFrame([{"month": m, "currency": c, "rate": r} for m in future
                          for c, r in zip(latest["currency"], latest["rate"])])
    return pd.concat([fx_rates[["month", "currency", "rate"]], extra], ignore_index=True)


def _costs_in(costs: pd.DataFrame, period: Period, fx_rates, policy, *,
              categories: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Cost rows of ``period``'s months with ``amount_reporting``."""
    sel = period.mask(costs["month"])
    if categories is not None:
        sel &= costs["category"].isin(categories)
    out = costs.loc[sel].copy()
    out["amount_reporting"] = to_reporting_currency(out, "amount", "month", fx_rates, policy,
                                                    table="costs")
    return out


def _require_columns(frame: pd.DataFrame, table: str, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RevOpsError(f"{what} needs column(s) {', '.join(missing)} of table {table}; "
                          f"it has {', '.join(map(str, frame.columns))}")


# ---------------------------------------------------------------------- recognition
def recognition_schedule(invoices: pd.DataFrame, *, months=None, fx_rates: pd.DataFrame | None = None,
                         policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Recognised revenue (and cost of revenue) of every invoice by month.

    A non-``one_time`` invoice with ``service_start < service_end`` is spread over the months its
    service window touches: month *m* gets the weight ``days of the window in m ÷ days in m``, and
    ``revenue_m = amount × weight_m ÷ Σ weights``. Everything else is recognised in one month: a
    ``one_time`` invoice at ``service_start`` (its delivery) when given, otherwise ``issued_at``.
    ``cost_of_revenue`` (when the column exists) follows its invoice's schedule. Months after the
    last month of ``fx_rates`` are converted at each currency's latest rate.

    Parameters
    ----------
    invoices : DataFrame
        The ``invoices`` table.
    months : sequence of dates, optional
        Keep only these months (the weights are computed over the whole window first).
    fx_rates, policy
        Conversion to ``policy.reporting_currency`` at the recognition month's rate
        (``policy.fx_mode``, ``policy.reporting_currency``).

    Returns
    -------
    DataFrame
        ``invoice_id, customer_id, kind, month, revenue, cost_of_revenue`` (reporting currency).

    Examples
    --------
    >>> inv = pd.DataFrame({"invoice_id": ["i1"], "customer_id": ["a"],
    ...     "issued_at": pd.to_datetime(["2025-01-01"]), "amount": [1200.0], "kind": ["recurring"],
    ...     "service_start": pd.to_datetime(["2025-01-01"]),
    ...     "service_end": pd.to_datetime(["2026-01-01"])})
    >>> recognition_schedule(inv)["revenue"].tolist() == [100.0] * 12
    True
    """
    inv = invoices
    n = len(inv)
    kind = inv["kind"].astype(object).to_numpy() if "kind" in inv.columns else np.full(n, None, object)
    ss = inv["service_start"] if "service_start" in inv.columns else pd.Series(pd.NaT, index=inv.index)
    se = inv["service_end"] if "service_end" in inv.columns else pd.Series(pd.NaT, index=inv.index)
    ss = pd.to_datetime(ss).astype("datetime64[ns]")
    se = pd.to_datetime(se).astype("datetime64[ns]")
    point_kind = np.isin(kind, _POINT_KINDS)
    spread = (~point_kind) & ss.notna().to_numpy() & se.notna().to_numpy() & (se > ss).fillna(False).to_numpy()
    point_date = np.where(point_kind & ss.notna().to_numpy(), ss.to_numpy(), inv["issued_at"].to_numpy())
    relevant = np.ones(n, dtype=bool)
    if months is not None:  # skip invoices that cannot touch the requested months
        wanted = pd.DatetimeIndex(months).to_period("M").to_timestamp()
        if len(wanted):
            lo_m, hi_m = wanted.min().to_datetime64(), (wanted.max() + pd.DateOffset(months=1)).to_datetime64()
            relevant = np.where(spread, (ss.to_numpy() < hi_m) & (se.to_numpy() > lo_m),
                                (point_date >= lo_m) & (point_date < hi_m))
        else:
            relevant = np.zeros(n, dtype=bool)
    cor = inv["cost_of_revenue"].astype("float64").fillna(0.0).to_numpy() if "cost_of_revenue" in inv.columns \
        else np.zeros(n)
    amount = inv["amount"].astype("float64").to_numpy()
    currency = inv["currency"].to_numpy() if "currency" in inv.columns else np.full(n, None, object)

    # single-month rows
    pt = ~spread & relevant
    point = pd.DataFrame({
        "row": np.flatnonzero(pt),
        "month_idx": month_number(point_date[pt]),
        "share": 1.0,
    })
    # spread rows: one per touched month
    sp = spread & relevant
    rows = np.flatnonzero(sp)
    first = month_number(ss[sp].to_numpy())
    last = month_number((se[sp] - pd.Timedelta(days=1)).to_numpy())
    counts = last - first + 1
    rep = np.repeat(np.arange(len(rows)), counts)
    offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    midx = first[rep] + offs
    mstart = month_start(midx)
    mend = month_start(midx + 1)
    lo = np.maximum(ss[sp].to_numpy()[rep], mstart)
    hi = np.minimum(se[sp].to_numpy()[rep], mend)
    weight = (hi - lo) / (mend - mstart)
    total = np.bincount(rep, weights=weight, minlength=len(rows))
    spread_rows = pd.DataFrame({"row": rows[rep], "month_idx": midx, "share": weight / total[rep]})

    sched = pd.concat([point, spread_rows], ignore_index=True)
    sched["month"] = month_start(sched["month_idx"].to_numpy())
    if months is not None:
        wanted = pd.DatetimeIndex(months).to_period("M").to_timestamp()
        sched = sched[sched["month"].isin(wanted)]
    r = sched["row"].to_numpy()
    out = pd.DataFrame({
        "invoice_id": inv["invoice_id"].to_numpy()[r],
        "customer_id": inv["customer_id"].to_numpy()[r],
        "kind": kind[r],
        "month": sched["month"].to_numpy(),
        "revenue": amount[r] * sched["share"].to_numpy(),
        "cost_of_revenue": cor[r] * sched["share"].to_numpy(),
        "currency": currency[r],
    })
    out["month"] = out["month"].astype("datetime64[ns]")
    fx = _fx_through(fx_rates, out["month"].max()) if len(out) else fx_rates
    factor = to_reporting_currency(out.assign(one=1.0), "one", "month", fx, policy, table="invoices")
    out["revenue"] = out["revenue"] * factor.to_numpy()
    out["cost_of_revenue"] = out["cost_of_revenue"] * factor.to_numpy()
    return out.drop(columns="currency").sort_values(["month", "invoice_id"], kind="stable") \
        .reset_index(drop=True)


def _months_of_schedule(invoices, months, fx_rates, policy) -> pd.DataFrame:
    """The rows of ``months`` of the whole :func:`recognition_schedule` (equal to passing ``months``:
    the weights are over each invoice's whole window either way), built once per dataset and
    policy: a report asks for the revenue of many periods (scorecard trend, KPI export)."""
    full = frame_cache("recognition_schedule", (invoices, fx_rates), (policy,),
                       lambda: recognition_schedule(invoices, fx_rates=fx_rates, policy=policy))
    return full.loc[full["month"].isin(pd.DatetimeIndex(months))].reset_index(drop=True)


@register("revenue_recognised", aggregation="sum", label="Revenue recognised", unit="currency", good="up", family="finance",
          formula="Σ invoice amounts recognised in the period: recurring/services spread over their "
                  "service months (weighted by days covered), one-time at delivery",
          tables=("invoices",))
def revenue_recognised(invoices: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
                       customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                       policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Revenue recognised in ``period`` (accrual view).

    revenue recognised = Σ over the period's months of :func:`recognition_schedule` (recurring and
    services invoices spread over their service months, one-time invoices at delivery), in the
    reporting currency. Reads ``policy.reporting_currency``, ``policy.fx_mode``.

    Returns ``value`` plus ``recurring`` (kind ``recurring`` or missing), ``non_recurring`` and
    ``cost_of_revenue`` (the invoices' own cost, recognised alongside) per ``by`` group.
    """
    p = as_period(period)
    by = as_list(by)
    sched = _months_of_schedule(invoices, p.months(), fx_rates, policy)
    sched = attach_columns(sched, customers, by, table="invoices")
    rec = sched["kind"].isna() | (sched["kind"] == "recurring")
    sched = sched.assign(recurring=np.where(rec, sched["revenue"], 0.0),
                         non_recurring=np.where(rec, 0.0, sched["revenue"]))
    return group_agg(sched, by, {"value": ("revenue", "sum"), "recurring": ("recurring", "sum"),
                              "non_recurring": ("non_recurring", "sum"),
                              "cost_of_revenue": ("cost_of_revenue", "sum"),
                              "invoices": ("invoice_id", "nunique")})


@register("billings", aggregation="sum", label="Billings", unit="currency", good="up", family="finance",
          formula="Σ amount of invoices issued in the period", tables=("invoices",))
def billings(invoices: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
             customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
             policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Billings: Σ amount of invoices issued in ``period`` (``period.start ≤ issued_at < period.end``).

    Converted at the issue month's rate (``policy.fx_mode``, ``policy.reporting_currency``).
    Returns ``value`` and ``invoices`` (count) per group.
    """
    p = as_period(period)
    by = as_list(by)
    sel = invoices.loc[p.mask(invoices["issued_at"])].copy()
    sel["amount_reporting"] = to_reporting_currency(sel, "amount", "issued_at", fx_rates, policy,
                                                    table="invoices")
    sel = attach_columns(sel, customers, by, table="invoices")
    return group_agg(sel, by, {"value": ("amount_reporting", "sum"), "invoices": ("invoice_id", "nunique")})


@register("cash_collected", aggregation="sum", label="Cash collected", unit="currency", good="up", family="finance",
          formula="Σ amount of invoices paid in the period (paid_at in period)", tables=("invoices",))
def cash_collected(invoices: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
                   customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                   policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Cash collected: Σ amount of invoices paid in ``period`` (``start ≤ paid_at < end``).

    Converted at the payment month's rate. Invoices without ``paid_at`` are unpaid. Returns
    ``value`` and ``invoices`` per group.
    """
    p = as_period(period)
    by = as_list(by)
    _require_columns(invoices, "invoices", ("paid_at",), "cash_collected")
    sel = invoices.loc[p.mask(invoices["paid_at"])].copy()
    sel["amount_reporting"] = to_reporting_currency(sel, "amount", "paid_at", fx_rates, policy,
                                                    table="invoices")
    sel = attach_columns(sel, customers, by, table="invoices")
    return group_agg(sel, by, {"value": ("amount_reporting", "sum"), "invoices": ("invoice_id", "nunique")})


def receivables(invoices: pd.DataFrame, as_of, *, by: str | list[str] | None = None,
                customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Accounts receivable at ``as_of`` (exclusive): invoices issued before it and not paid before it.

    AR = Σ amount where ``issued_at < as_of`` and (``paid_at`` missing or ``paid_at ≥ as_of``),
    converted at each invoice's issue-month rate. Returns ``value`` and ``invoices``.
    """
    by = as_list(by)
    _require_columns(invoices, "invoices", ("paid_at",), "receivables")
    t = pd.Timestamp(as_of)
    open_ = (invoices["issued_at"] < t) & (invoices["paid_at"].isna() | (invoices["paid_at"] >= t))
    sel = invoices.loc[open_].copy()
    sel["amount_reporting"] = to_reporting_currency(sel, "amount", "issued_at", fx_rates, policy,
                                                    table="invoices")
    sel = attach_columns(sel, customers, by, table="invoices")
    return group_agg(sel, by, {"value": ("amount_reporting", "sum"), "invoices": ("invoice_id", "nunique")})


@register("dso", label="DSO", unit="days", good="down", family="finance",
          formula="AR at period end ÷ billings over the period × days in the period "
                  "(AR = issued before period end, unpaid at period end)",
          tables=("invoices",))
def dso(invoices: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
        customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Days sales outstanding (the count-back-free "period" method).

    DSO = AR at period end ÷ billings over the period × days in the period, where AR at period end
    is :func:`receivables` at ``period.end`` and billings is :func:`billings` over ``period``.
    Returned as ``value`` with ``numerator`` = AR and ``denominator`` = average daily billings
    (billings ÷ days), plus ``receivables``, ``billings`` and ``days``. No billings → NaN and a
    ``ZeroDenominatorWarning``.

    This is the standard finance definition; note it is not the average days-to-pay of paid
    invoices (a collection-speed measure), which ignores what is still open.
    """
    p = as_period(period)
    by = as_list(by)
    days = float((p.end - p.start).days)
    ar = receivables(invoices, p.end, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    bl = billings(invoices, p, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    ar = ar.rename(columns={"value": "receivables", "invoices": "open_invoices"})
    bl = bl.rename(columns={"value": "billings"})
    out = ar.merge(bl, on=by, how="outer") if by else pd.concat([ar, bl], axis=1)
    out[["receivables", "billings"]] = out[["receivables", "billings"]].fillna(0.0)
    out["days"] = days
    out["daily_billings"] = out["billings"] / days
    return ratio_frame(out, "receivables", "daily_billings", what="dso", by=by)


def margin_costs(invoices: pd.DataFrame | None, costs: pd.DataFrame | None,
                 by: list[str] | None) -> pd.DataFrame | None:
    """The cost ledger a dataset's gross margin uses: ``costs`` unless the margin is grouped and the
    invoices carry their own ``cost_of_revenue`` (the ledger cannot be split by customer groups)."""
    if costs is None or (by and invoices is not None and "cost_of_revenue" in invoices.columns):
        return None
    return costs


def _margin_costs(data, by, policy):
    return margin_costs(data.invoices, data.costs, by)


@register("gross_margin", bind={"costs": _margin_costs}, label="Gross margin", unit="ratio", good="up", family="finance",
          formula="(revenue recognised − cost of revenue) ÷ revenue recognised; cost of revenue from "
                  "the costs ledger (category cost_of_revenue) when present, else invoices.cost_of_revenue",
          tables=("invoices",))
def gross_margin(invoices: pd.DataFrame, period: PeriodLike, *, costs: pd.DataFrame | None = None,
                 by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                 fx_rates: pd.DataFrame | None = None,
                 policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Gross margin over ``period``.

    gross margin = (revenue recognised − cost of revenue) ÷ revenue recognised.

    Revenue is :func:`revenue_recognised`. Cost of revenue comes from

    * the cost ledger when ``costs`` is given: rows of category ``cost_of_revenue`` in the period's
      months (converted with ``fx_rates``). With ``by=`` the ledger amount is allocated to the
      groups in proportion to their revenue, so every group shows the overall margin — pass
      ``costs=None`` for per-group margins from invoice-level costs;
    * otherwise the invoices' ``cost_of_revenue`` column, recognised on the same schedule as the
      invoice's revenue.

    Reads ``policy.reporting_currency`` and ``policy.fx_mode``. Returns ``value`` (a fraction),
    ``numerator`` (gross profit), ``denominator`` (revenue), ``revenue`` and ``cost_of_revenue``.
    No revenue → NaN and a ``ZeroDenominatorWarning``.

    Examples
    --------
    >>> inv = pd.DataFrame({"invoice_id": ["i1"], "customer_id": ["a"],
    ...     "issued_at": pd.to_datetime(["2025-01-10"]), "amount": [1000.0], "kind": ["one_time"],
    ...     "cost_of_revenue": [250.0]})
    >>> gross_margin(inv, "2025-01")["value"].item()
    0.75
    """
    p = as_period(period)
    by = as_list(by)
    if costs is None and "cost_of_revenue" not in invoices.columns:
        raise RevOpsError("gross_margin: the invoices table has no cost_of_revenue column and no "
                          "costs table was given; pass costs= (category cost_of_revenue)")
    rev = revenue_recognised(invoices, p, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    rev = rev.rename(columns={"value": "revenue"})
    if costs is not None:
        ledger = _costs_in(costs, p, fx_rates, policy, categories=("cost_of_revenue",))
        total_cost = float(ledger["amount_reporting"].sum())
        total_rev = float(rev["revenue"].sum())
        share = rev["revenue"] / total_rev if total_rev else 1.0 / max(len(rev), 1)
        rev["cost_of_revenue"] = total_cost * share
        rev["cost_source"] = "costs"
    else:
        rev["cost_source"] = "invoices"
    rev["gross_profit"] = rev["revenue"] - rev["cost_of_revenue"]
    out = ratio_frame(rev, "gross_profit", "revenue", what="gross_margin", by=by)
    cols = by + ["value", "numerator", "denominator", "revenue", "cost_of_revenue", "cost_source"]
    return out[cols]


@register("operating_cash_flow", aggregation="sum", label="Operating cash flow", unit="currency", good="up",
          family="finance", formula="cash collected − costs paid (all cost categories) in the period",
          tables=("invoices", "costs"), groupable=False)
def operating_cash_flow(invoices: pd.DataFrame, costs: pd.DataFrame, period: PeriodLike, *,
                        fx_rates: pd.DataFrame | None = None,
                        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Operating cash flow = cash collected − costs paid in ``period``.

    Costs paid = Σ every ``costs`` row in the period's months (all categories; the ledger's month is
    taken as the payment month). Returns ``value``, ``cash_collected`` and ``costs_paid``.
    Not groupable (costs are not attributed to customers).
    """
    p = as_period(period)
    cash = cash_collected(invoices, p, fx_rates=fx_rates, policy=policy)["value"].item()
    paid = float(_costs_in(costs, p, fx_rates, policy)["amount_reporting"].sum())
    return pd.DataFrame({"value": [cash - paid], "cash_collected": [cash], "costs_paid": [paid]})


@register("profit_margin", label="Operating profit margin", unit="ratio", good="up", family="finance",
          formula="(revenue recognised − all costs) ÷ revenue recognised", tables=("invoices", "costs"),
          groupable=False)
def profit_margin(invoices: pd.DataFrame, costs: pd.DataFrame, period: PeriodLike, *,
                  fx_rates: pd.DataFrame | None = None,
                  policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Operating profit margin = (revenue recognised − total costs) ÷ revenue recognised.

    Total costs = Σ every ``costs`` row in the period's months (cost of revenue, sales, marketing,
    success, R&D, G&A). Returns ``value``, ``numerator`` (operating profit), ``denominator``
    (revenue), ``revenue`` and ``costs``. Not groupable.
    """
    p = as_period(period)
    rev = revenue_recognised(invoices, p, fx_rates=fx_rates, policy=policy)["value"].item()
    cost = float(_costs_in(costs, p, fx_rates, policy)["amount_reporting"].sum())
    frame = pd.DataFrame({"revenue": [rev], "costs": [cost], "profit": [rev - cost]})
    out = ratio_frame(frame, "profit", "revenue", what="profit_margin")
    return out[["value", "numerator", "denominator", "revenue", "costs"]]


def finance_series(invoices: pd.DataFrame, period: PeriodLike, *, costs: pd.DataFrame | None = None,
                   freq: str = "month", n: int = 12, fx_rates: pd.DataFrame | None = None,
                   policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """The finance KPIs for the ``n`` periods of kind ``freq`` ending with ``period``'s last month.

    ``freq`` is ``"month"``, ``"quarter"`` or ``"year"``. One row per period (oldest first) with
    ``period, start, billings, revenue_recognised, cash_collected, receivables, dso`` and, when
    ``costs`` is given, ``cost_of_revenue, gross_margin, total_costs, operating_cash_flow,
    profit_margin`` (each computed by the function of the same name).
    """
    if freq not in ("month", "quarter", "year"):
        raise RevOpsError(f"finance_series: freq must be 'month', 'quarter' or 'year', got {freq!r}")
    last = Period.containing(as_period(period).last_month, freq)
    periods = last.trailing(int(n))
    kw = {"fx_rates": fx_rates, "policy": policy}
    # one recognition schedule for the whole span (the same numbers as revenue_recognised per period)
    sched = recognition_schedule(invoices, months=pd.date_range(periods[0].start, last.end, freq="MS",
                                                                inclusive="left"), **kw)
    ledger = None
    if costs is not None:
        ledger = costs.loc[(costs["month"] >= periods[0].start) & (costs["month"] < last.end)].copy()
        ledger["amount_reporting"] = to_reporting_currency(ledger, "amount", "month", fx_rates, policy,
                                                           table="costs")
    rows = []
    for q in periods:
        d = dso(invoices, q, **kw)
        rev = float(sched.loc[q.mask(sched["month"]), "revenue"].sum())
        row = {"period": str(q), "start": q.start,
               "billings": billings(invoices, q, **kw)["value"].item(),
               "revenue_recognised": rev,
               "cash_collected": cash_collected(invoices, q, **kw)["value"].item(),
               "receivables": d["receivables"].item(), "dso": d["value"].item()}
        if ledger is not None:
            inq = ledger.loc[q.mask(ledger["month"])]
            cor = float(inq.loc[inq["category"] == "cost_of_revenue", "amount_reporting"].sum())
            total = float(inq["amount_reporting"].sum())
            gm = safe_divide(rev - cor, rev, what="gross_margin", where=str(q))
            row.update(cost_of_revenue=cor, gross_margin=gm, total_costs=total,
                       operating_cash_flow=row["cash_collected"] - total,
                       profit_margin=safe_divide(rev - total, rev, what="profit_margin", where=str(q)))
        rows.append(row)
    return pd.DataFrame(rows)
