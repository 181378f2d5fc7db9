"""Customer-success KPIs: NPS, support tickets, CSAT, product adoption, retention cost, portfolio
growth and accounts at risk.

Ticket KPIs count a ticket in the period it was *opened* (volume) or *closed* (time to close,
CSAT). Usage KPIs sum the ``product_usage`` customer-months inside the period. Customer counts
("active customers") are the customers with MRR > 0 in the period's last month (``rk.mrr``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import group_agg, as_list, attach_columns, ratio_frame, safe_divide
from .catalog import register
from .errors import RevOpsError
from .periods import Period, PeriodLike, as_period
from .policies import DEFAULT_POLICY, MetricPolicy
from .revenue import active_subscriptions, mrr

__all__ = [
    "nps",
    "nps_trend",
    "support_tickets",
    "tickets_per_customer",
    "ticket_time_to_close",
    "csat",
    "product_adoption_rate",
    "feature_adoption",
    "retention_cost",
    "portfolio_growth",
    "account_health",
    "accounts_at_risk",
    "top_at_risk",
    "HEALTH_RULES",
]


# ---------------------------------------------------------------------- NPS
@register("nps", label="NPS", unit="score", good="up", family="success",
          formula="100 × (promoters 9-10 − detractors 0-6) ÷ survey responses in the period "
                  "(numerator = promoters − detractors, denominator = responses)",
          tables=("nps_responses",))
def nps(nps_responses: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
        customers: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Net promoter score of the survey answers given in ``period``.

    NPS = 100 × (promoters − detractors) ÷ responses, with promoters scoring 9–10, passives 7–8 and
    detractors 0–6; every answer counts (a customer answering twice counts twice). The value is in
    NPS points (−100 … 100), so ``value = 100 × numerator ÷ denominator`` with ``numerator`` =
    promoters − detractors and ``denominator`` = responses. Also returns ``promoters``,
    ``passives``, ``detractors``, ``responses`` and ``customers`` (distinct respondents).
    A period without answers → NaN and a ``ZeroDenominatorWarning``. Reads no policy field.

    Examples
    --------
    >>> r = pd.DataFrame({"customer_id": list("abcd"), "score": [10, 9, 7, 3],
    ...                   "responded_at": pd.to_datetime(["2025-01-05"] * 4)})
    >>> nps(r, "2025-01")[["value", "promoters", "detractors", "responses"]].iloc[0].tolist()
    [25.0, 2.0, 1.0, 4.0]
    """
    p = as_period(period)
    by = as_list(by)
    sel = nps_responses.loc[p.mask(nps_responses["responded_at"])]
    sel = attach_columns(sel, customers, by, table="nps_responses")
    score = sel["score"].astype("float64")
    sel = sel.assign(promoter=(score >= 9).astype("float64"), passive=score.between(7, 8).astype("float64"),
                     detractor=(score <= 6).astype("float64"), one=1.0)
    out = group_agg(sel, by, {"promoters": ("promoter", "sum"), "passives": ("passive", "sum"),
                           "detractors": ("detractor", "sum"), "responses": ("one", "sum"),
                           "customers": ("customer_id", "nunique")})
    out["net"] = out["promoters"] - out["detractors"]
    out = ratio_frame(out, "net", "responses", what="nps (no survey responses in the period)", by=by)
    out["value"] = 100.0 * out["value"]
    return out.drop(columns="net")


def nps_trend(nps_responses: pd.DataFrame, period: PeriodLike, *, n: int = 8, freq: str = "quarter",
              by: str | list[str] | None = None, customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`nps` for the ``n`` periods of kind ``freq`` ending with ``period``'s last month.

    Periods without answers are kept with zero counts and NaN NPS, without a warning (surveys run
    in waves). Returns ``period`` and :func:`nps`'s columns, oldest first.
    """
    import warnings

    from .errors import ZeroDenominatorWarning

    last = Period.containing(as_period(period).last_month, freq)
    frames = []
    for q in last.trailing(int(n)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ZeroDenominatorWarning)
            f = nps(nps_responses, q, by=by, customers=customers)
        f.insert(0, "period", str(q))
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------- tickets
@register("support_tickets", aggregation="sum", label="Support tickets", unit="count", good="down", family="success",
          formula="tickets opened in the period", tables=("support_tickets",))
def support_tickets(tickets: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
                    customers: pd.DataFrame | None = None,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Support tickets opened in ``period`` (``start ≤ opened_at < end``).

    Returns ``value`` (tickets), ``high_priority`` (priority high or urgent) and ``customers``
    (distinct customers who opened one). Reads no policy field.
    """
    p = as_period(period)
    by = as_list(by)
    sel = tickets.loc[p.mask(tickets["opened_at"])]
    sel = attach_columns(sel, customers, by, table="support_tickets")
    pri = sel["priority"] if "priority" in sel.columns else pd.Series(None, index=sel.index, dtype=object)
    sel = sel.assign(one=1.0, high=pri.isin(["high", "urgent"]).astype("float64"))
    return group_agg(sel, by, {"value": ("one", "sum"), "high_priority": ("high", "sum"),
                            "customers": ("customer_id", "nunique")})


@register("tickets_per_customer", label="Tickets per customer", unit="multiple", good="down",
          family="success", formula="tickets opened in the period ÷ customers active at period end",
          tables=("support_tickets", "subscriptions"))
def tickets_per_customer(tickets: pd.DataFrame, subscriptions: pd.DataFrame, period: PeriodLike, *,
                         by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                         fx_rates: pd.DataFrame | None = None,
                         policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Tickets opened in ``period`` ÷ customers active at period end (MRR > 0 in its last month).

    Tickets from customers no longer active still count in the numerator (they were opened).
    Returns ``value``, ``numerator`` (tickets), ``denominator`` (active customers).
    """
    p = as_period(period)
    by = as_list(by)
    t = support_tickets(tickets, p, by=by, customers=customers, policy=policy)
    t = t.rename(columns={"value": "tickets"})[by + ["tickets"]]
    act = mrr(subscriptions, p, by=by or None, customers=customers, fx_rates=fx_rates, policy=policy)
    act = act.rename(columns={"customers": "active_customers"})[by + ["active_customers"]]
    out = t.merge(act, on=by, how="outer") if by else pd.concat([t, act], axis=1)
    out = out.fillna({"tickets": 0.0, "active_customers": 0.0})
    return ratio_frame(out, "tickets", "active_customers", what="tickets_per_customer", by=by)


@register("ticket_time_to_close_days", label="Ticket time to close (median)", unit="days", good="down",
          family="success", formula="median(closed_at − opened_at) over tickets closed in the period",
          tables=("support_tickets",))
def ticket_time_to_close(tickets: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
                         customers: pd.DataFrame | None = None,
                         policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Median days from ``opened_at`` to ``closed_at`` of the tickets closed in ``period``.

    Returns ``value`` (median days), ``mean_days``, ``p90_days`` and ``closed`` (count); NaN when
    no ticket closed in the period. Reads no policy field.
    """
    p = as_period(period)
    by = as_list(by)
    if "closed_at" not in tickets.columns:
        raise RevOpsError("ticket_time_to_close needs column closed_at of table support_tickets")
    sel = tickets.loc[p.mask(tickets["closed_at"])]
    sel = attach_columns(sel, customers, by, table="support_tickets")
    sel = sel.assign(days=(sel["closed_at"] - sel["opened_at"]).dt.days.astype("float64"))
    out = group_agg(sel, by, {"value": ("days", "median"), "mean_days": ("days", "mean"),
                           "p90_days": ("days", lambda s: s.quantile(0.9)),
                           "closed": ("days", "count")})
    return out


@register("csat", label="CSAT", unit="ratio", good="up", family="success",
          formula="ratings of 4-5 ÷ ratings (1-5) of tickets closed in the period",
          tables=("support_tickets",))
def csat(tickets: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
         customers: pd.DataFrame | None = None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Customer satisfaction: share of rated tickets closed in ``period`` scoring 4 or 5 (of 1–5).

    CSAT = satisfied ratings (4–5) ÷ ratings. A ticket without ``closed_at`` counts in the period
    it was opened. Returns ``value``, ``numerator``, ``denominator`` and ``mean_score``.
    """
    p = as_period(period)
    by = as_list(by)
    when = tickets["closed_at"].fillna(tickets["opened_at"]) if "closed_at" in tickets.columns \
        else tickets["opened_at"]
    sel = tickets.loc[p.mask(when) & tickets["csat"].notna()]
    sel = attach_columns(sel, customers, by, table="support_tickets")
    sel = sel.assign(satisfied=(sel["csat"] >= 4).astype("float64"), one=1.0)
    out = group_agg(sel, by, {"satisfied": ("satisfied", "sum"), "ratings": ("one", "sum"),
                           "mean_score": ("csat", "mean")})
    return ratio_frame(out, "satisfied", "ratings", what="csat (no rated tickets)", by=by)


# ---------------------------------------------------------------------- usage
@register("product_adoption_rate", label="Product adoption (seat utilisation)", unit="ratio", good="up",
          family="success", formula="Σ active_users ÷ Σ licensed_seats over the period's customer-months",
          tables=("product_usage",))
def product_adoption_rate(product_usage: pd.DataFrame, period: PeriodLike, *,
                          by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                          policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Seat utilisation: Σ active_users ÷ Σ licensed_seats over the customer-months of ``period``.

    Returns ``value``, ``numerator`` (active user-months), ``denominator`` (seat-months),
    ``customers``. Can exceed 1 where customers use more seats than they license.
    """
    p = as_period(period)
    by = as_list(by)
    sel = product_usage.loc[p.mask(product_usage["month"])]
    sel = attach_columns(sel, customers, by, table="product_usage")
    out = group_agg(sel, by, {"active_users": ("active_users", "sum"), "seats": ("licensed_seats", "sum"),
                           "customers": ("customer_id", "nunique")})
    return ratio_frame(out, "active_users", "seats", what="product_adoption_rate", by=by)


@register("feature_adoption", label="Feature events per active user", unit="multiple", good="up",
          family="success", formula="Σ feature_events ÷ Σ active_users over the period's customer-months",
          tables=("product_usage",))
def feature_adoption(product_usage: pd.DataFrame, period: PeriodLike, *, by: str | list[str] | None = None,
                     customers: pd.DataFrame | None = None,
                     policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Depth of feature use: feature events per active user per month in ``period``.

    feature adoption = Σ feature_events ÷ Σ active_users over the period's customer-months. (The
    canonical ``product_usage`` table counts events, not which features, so "share of users using
    feature X" cannot be computed; this measures how intensively active users use the product.)
    Returns ``value``, ``numerator``, ``denominator``, plus ``customers_using`` (customers with any
    feature event) and ``customers``.
    """
    p = as_period(period)
    by = as_list(by)
    sel = product_usage.loc[p.mask(product_usage["month"])]
    sel = attach_columns(sel, customers, by, table="product_usage")
    using = sel.loc[sel["feature_events"] > 0, ["customer_id"] + by].drop_duplicates()
    out = group_agg(sel, by, {"events": ("feature_events", "sum"), "active_users": ("active_users", "sum"),
                           "customers": ("customer_id", "nunique")})
    users = group_agg(using.assign(one=1.0), by, {"customers_using": ("one", "sum")})
    out = out.merge(users, on=by, how="left") if by else out.assign(customers_using=users["customers_using"].iloc[0])
    out["customers_using"] = out["customers_using"].fillna(0.0)
    return ratio_frame(out, "events", "active_users", what="feature_adoption", by=by)


# ---------------------------------------------------------------------- retention cost & growth
def _retained(subscriptions, p: Period, fx_rates, policy) -> pd.DataFrame:
    """Customers with MRR > 0 both in the month before ``p`` and in its last month, with end MRR."""
    start = active_subscriptions(subscriptions, p.start - pd.DateOffset(months=1), fx_rates=fx_rates,
                                 policy=policy)
    end = active_subscriptions(subscriptions, p.last_month, fx_rates=fx_rates, policy=policy)
    end_mrr = end.groupby("customer_id")["mrr_reporting"].sum()
    kept = end_mrr[end_mrr.index.isin(start["customer_id"].unique())]
    return kept.rename("mrr").reset_index()


@register("retention_cost", aggregation="ratio", label="Retention cost per retained customer", unit="currency", good="down",
          family="success", groupable=False,
          formula="customer_success costs in the period ÷ customers active before and at the end "
                  "of the period (also ÷ their ARR: per_retained_arr)",
          tables=("costs", "subscriptions"))
def retention_cost(costs: pd.DataFrame, subscriptions: pd.DataFrame, period: PeriodLike, *,
                   fx_rates: pd.DataFrame | None = None,
                   policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Customer-success cost per retained customer, and per unit of retained ARR.

    retention cost = Σ ``costs`` of category ``customer_success`` in the period ÷ retained customers,
    where retained customers had MRR > 0 in the month before the period and in its last month.
    ``per_retained_arr`` = the same cost ÷ the retained customers' period-end ARR (cost per dollar
    of ARR kept). Returns ``value``, ``numerator`` (cost), ``denominator`` (retained customers),
    ``retained_arr``, ``per_retained_arr``. Not groupable (costs are not attributed to customers).
    """
    from ._common import to_reporting_currency

    p = as_period(period)
    sel = costs.loc[p.mask(costs["month"]) & (costs["category"] == "customer_success")]
    cost = float(to_reporting_currency(sel, "amount", "month", fx_rates, policy, table="costs").sum())
    kept = _retained(subscriptions, p, fx_rates, policy)
    frame = pd.DataFrame({"cost": [cost], "retained": [float(len(kept))],
                          "retained_arr": [12.0 * float(kept["mrr"].sum())]})
    out = ratio_frame(frame, "cost", "retained", what="retention_cost (no retained customers)")
    out["per_retained_arr"] = safe_divide(out["cost"], out["retained_arr"], what="retention_cost per ARR")
    return out[["value", "numerator", "denominator", "retained_arr", "per_retained_arr"]]


@register("portfolio_growth", label="Portfolio growth (NRR by owner)", unit="ratio", good="up",
          family="success", dims=("owner",),
          formula="NRR of each account owner's book of customers (customers.owner)",
          tables=("subscriptions", "customers"))
def portfolio_growth(subscriptions: pd.DataFrame, customers: pd.DataFrame, period: PeriodLike, *,
                     by: str | list[str] | None = None, owner_col: str = "owner",
                     fx_rates: pd.DataFrame | None = None,
                     policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Net revenue retention of each account owner's book (``customers.owner``).

    portfolio growth (owner) = NRR over the owner's customers, computed by ``rk.nrr`` grouped by
    ``owner_col`` (and ``by``); customers without an owner form the group ``"(missing)"``. Reads
    the policy fields ``rk.nrr`` reads. Returns ``rk.nrr``'s columns with ``owner``.
    """
    if owner_col not in customers.columns:
        raise RevOpsError(f"portfolio_growth needs column {owner_col} of table customers "
                          f"(it has {', '.join(map(str, customers.columns))})")
    from . import retention, revenue

    nrr_func = getattr(retention, "nrr", None) or getattr(retention, "net_revenue_retention", None) \
        or getattr(revenue, "nrr", None)
    if nrr_func is None:
        raise RevOpsError("portfolio_growth: revops_kit has no nrr() yet (expected in retention.py)")
    groups = list(dict.fromkeys(as_list(by) + [owner_col]))
    return nrr_func(subscriptions, period, by=groups, customers=customers, fx_rates=fx_rates, policy=policy)


# ---------------------------------------------------------------------- health / accounts at risk
#: The rule-based health score: (signal, points, definition). An account is at risk when its points
#: reach ``min_score`` (default 40): usage decline alone, or two of the weaker signals.
HEALTH_RULES = (
    ("usage_decline", 40, "active users in the last 3 months < 80% of the 3 months before"),
    ("detractor", 25, "latest NPS answer in the last 12 months scored 0-6"),
    ("ticket_surge", 20, "tickets opened in the last 90 days ≥ 3 and ≥ twice the 90 days before"),
    ("renewal_soon", 15, "a term contract's committed_end_date within the next 90 days "
                         "(month-to-month contracts excluded)"),
)


def account_health(subscriptions: pd.DataFrame, as_of, *, product_usage: pd.DataFrame | None = None,
                   support_tickets: pd.DataFrame | None = None, invoices: pd.DataFrame | None = None,
                   nps_responses: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
                   fx_rates: pd.DataFrame | None = None, scores: pd.DataFrame | None = None,
                   min_score: float = 40, min_probability: float = 0.3,
                   policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Per-account health at ``as_of`` (exclusive) for the customers active in the month before it.

    Rule-based score (:data:`HEALTH_RULES`), using only data dated before ``as_of``:

    * **usage decline** (40 points): Σ active_users over the 3 months before ``as_of`` < 80 % of the
      3 months before those (needs ``product_usage``);
    * **detractor** (25): the latest NPS answer of the last 365 days scored 0–6 (``nps_responses``);
    * **ticket surge** (20): tickets opened in the last 90 days ≥ 3 and ≥ 2 × those of the 90 days
      before (``support_tickets``);
    * **renewal soon** (15): a running subscription's ``committed_end_date`` falls in
      ``[as_of, as_of + 90 days)``. When ``invoices`` is given, month-to-month customers (whose
      latest recurring invoice before ``as_of`` covers ≤ 31 days) are excluded: for them every month
      is a renewal, so the date carries no warning.

    ``at_risk`` = score ≥ ``min_score``. A signal whose table is absent scores 0. When ``scores``
    (the churn model's ``customer_id, probability``) is given it replaces the rules:
    ``at_risk`` = probability ≥ ``min_probability`` and ``source`` = ``"model"``; accounts the model
    did not score keep the rule result.

    Returns one row per active account: ``customer_id, mrr, arr``, the signal columns, ``score``,
    ``probability`` (model, else NaN), ``at_risk``, ``source`` and ``reasons`` (plain words).
    """
    t = pd.Timestamp(as_of).normalize()
    last_month = (t - pd.Timedelta(days=1)).to_period("M").to_timestamp()
    active = active_subscriptions(subscriptions, last_month, fx_rates=fx_rates, policy=policy)
    acc = active.groupby("customer_id")["mrr_reporting"].sum().rename("mrr").reset_index()
    acc["arr"] = 12 * acc["mrr"]
    ids = acc["customer_id"]
    flags = pd.DataFrame({"customer_id": ids})

    if product_usage is not None:
        u = product_usage[product_usage["month"] < t]
        m0 = last_month
        recent = u[u["month"] > m0 - pd.DateOffset(months=3)].groupby("customer_id")["active_users"].sum()
        prior = u[(u["month"] <= m0 - pd.DateOffset(months=3)) & (u["month"] > m0 - pd.DateOffset(months=6))] \
            .groupby("customer_id")["active_users"].sum()
        flags["usage_recent"] = recent.reindex(ids.to_numpy()).to_numpy()
        flags["usage_prior"] = prior.reindex(ids.to_numpy()).to_numpy()
        flags["usage_decline"] = (flags["usage_prior"] > 0) & (flags["usage_recent"].fillna(0) < 0.8 * flags["usage_prior"])
    else:
        flags["usage_decline"] = False
    if nps_responses is not None:
        n = nps_responses[(nps_responses["responded_at"] < t)
                          & (nps_responses["responded_at"] >= t - pd.Timedelta(days=365))]
        latest = n.sort_values("responded_at", kind="stable").groupby("customer_id")["score"].last()
        flags["last_nps"] = latest.reindex(ids.to_numpy()).astype("float64").to_numpy()
        flags["detractor"] = flags["last_nps"] <= 6
    else:
        flags["detractor"] = False
    if support_tickets is not None:
        o = support_tickets["opened_at"]
        recent = support_tickets[(o < t) & (o >= t - pd.Timedelta(days=90))].groupby("customer_id").size()
        prior = support_tickets[(o < t - pd.Timedelta(days=90)) & (o >= t - pd.Timedelta(days=180))] \
            .groupby("customer_id").size()
        flags["tickets_recent"] = recent.reindex(ids.to_numpy()).fillna(0).astype("int64").to_numpy()
        flags["tickets_prior"] = prior.reindex(ids.to_numpy()).fillna(0).astype("int64").to_numpy()
        flags["ticket_surge"] = (flags["tickets_recent"] >= 3) & (flags["tickets_recent"] >= 2 * flags["tickets_prior"])
    else:
        flags["ticket_surge"] = False
    if "committed_end_date" in active.columns:
        ce = active["committed_end_date"]
        soon = active[(ce >= t) & (ce < t + pd.Timedelta(days=90))].groupby("customer_id")["committed_end_date"].min()
        if invoices is not None and {"service_start", "service_end"} <= set(invoices.columns):
            rec = invoices[(invoices["issued_at"] < t) & invoices["service_start"].notna()]
            if "kind" in rec.columns:
                rec = rec[rec["kind"].isna() | (rec["kind"] == "recurring")]
            latest = rec.sort_values("issued_at", kind="stable").groupby("customer_id").last()
            monthly = latest.index[(latest["service_end"] - latest["service_start"]).dt.days <= 31]
            soon = soon[~soon.index.isin(monthly)]
        flags["renewal_date"] = soon.reindex(ids.to_numpy()).to_numpy()
        flags["renewal_soon"] = flags["renewal_date"].notna()
    else:
        flags["renewal_soon"] = False

    out = acc.merge(flags, on="customer_id")
    out["score"] = 0.0
    words = {"usage_decline": "usage down", "detractor": "NPS detractor", "ticket_surge": "ticket surge",
             "renewal_soon": "renewal within 90 days"}
    reasons = pd.Series("", index=out.index)
    for name, points, _ in HEALTH_RULES:
        hit = out[name].fillna(False).astype(bool)
        out[name] = hit
        out["score"] += points * hit
        reasons = reasons.where(~hit, reasons + np.where(reasons == "", "", ", ") + words[name])
    out["reasons"] = reasons
    out["at_risk"] = out["score"] >= min_score
    out["source"] = "rules"
    out["probability"] = np.nan
    if scores is not None:
        if not {"customer_id", "probability"} <= set(scores.columns):
            raise RevOpsError("account_health: scores= needs columns customer_id and probability "
                              f"(got {', '.join(map(str, scores.columns))})")
        prob = ids.map(scores.drop_duplicates("customer_id").set_index("customer_id")["probability"])
        has = prob.notna().to_numpy()
        out.loc[has, "probability"] = prob[has].astype("float64").to_numpy()
        out.loc[has, "at_risk"] = out.loc[has, "probability"] >= min_probability
        out.loc[has, "source"] = "model"
        out.loc[has, "reasons"] = ["churn model p=" + f"{v:.2f}" + (f" ({r})" if r else "")
                                   for v, r in zip(out.loc[has, "probability"], out.loc[has, "reasons"])]
    if customers is not None:
        extra = [c for c in ("name", "segment", "owner") if c in customers.columns]
        out = out.merge(customers.drop_duplicates("customer_id")[["customer_id"] + extra],
                        on="customer_id", how="left")
    order = ["at_risk", "probability", "score", "arr"] if scores is not None else ["at_risk", "score", "arr"]
    return out.sort_values(order, ascending=False, kind="stable", na_position="last").reset_index(drop=True)


def top_at_risk(health: pd.DataFrame, *, n: int = 15) -> pd.DataFrame:
    """The ``n`` accounts at risk with the largest ARR, in display columns (from
    :func:`account_health` or ``rk.account_risk``)."""
    cols = [c for c in ("customer_id", "name", "segment", "owner", "arr", "score", "probability",
                        "reasons") if c in health.columns]
    risky = health[health["at_risk"]].sort_values("arr", ascending=False, kind="stable")
    return risky[cols].head(int(n)).reset_index(drop=True)


@register("accounts_at_risk", aggregation="level", label="Accounts at risk", unit="count", good="down", family="success",
          formula="active accounts whose health score (usage decline 40, NPS detractor 25, ticket "
                  "surge 20, term renewal within 90 days 15) is ≥ 40 at period end",
          tables=("subscriptions",))
def accounts_at_risk(subscriptions: pd.DataFrame, period: PeriodLike, *,
                     product_usage: pd.DataFrame | None = None,
                     support_tickets: pd.DataFrame | None = None, invoices: pd.DataFrame | None = None,
                     nps_responses: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
                     fx_rates: pd.DataFrame | None = None, scores: pd.DataFrame | None = None,
                     by: str | list[str] | None = None, min_score: float = 40,
                     min_probability: float = 0.3,
                     policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Active accounts at risk at the end of ``period`` (see :func:`account_health`).

    Returns ``value`` (accounts at risk), ``numerator`` (same), ``denominator`` (active accounts),
    ``share`` (at risk ÷ active), ``arr_at_risk`` and ``source`` (rules / model) per group.
    """
    p = as_period(period)
    by = as_list(by)
    h = account_health(subscriptions, p.end, product_usage=product_usage, support_tickets=support_tickets,
                       nps_responses=nps_responses, invoices=invoices, customers=None, fx_rates=fx_rates, scores=scores,
                       min_score=min_score, min_probability=min_probability, policy=policy)
    h = attach_columns(h, customers, by, table="subscriptions")
    h = h.assign(risk=h["at_risk"].astype("float64"), one=1.0,
                 arr_risk=np.where(h["at_risk"], h["arr"], 0.0))
    out = group_agg(h, by, {"at_risk": ("risk", "sum"), "accounts": ("one", "sum"),
                         "arr_at_risk": ("arr_risk", "sum")})
    out = ratio_frame(out, "at_risk", "accounts", what="accounts_at_risk", by=by)
    out["share"] = out["value"]
    out["value"] = out["numerator"]
    out["source"] = "model" if scores is not None else "rules"
    return out
