"""Point-in-time churn features and labels.

``build_training_set(data, as_of, horizon_months=3)`` describes every customer active at
``as_of`` with features computed **only from what was known before** ``as_of`` and labels whether
the customer churned within the following ``horizon_months``.

What "known before ``as_of``" means, table by table
----------------------------------------------------
A row is used only when its own date (the table's main date) is strictly before ``as_of``. Some
rows carry a second, later date that is filled in when something happens afterwards; such a date
is used only when it, too, is before ``as_of`` — otherwise the row is read as it stood on the day
before ``as_of``:

==================  ===================  =========================================================
table               row known when       later fields (used only when dated before ``as_of``)
==================  ===================  =========================================================
subscriptions       start_date < as_of   end_date (a later or empty end_date = still running);
                                         mrr, quantity, product, plan and committed_end_date are
                                         known at signing
invoices            issued_at < as_of    paid_at (a later or empty paid_at = unpaid on as_of)
support_tickets     opened_at < as_of    closed_at and csat (a later close = still open; csat is
                                         used only for tickets closed before as_of)
nps_responses       responded_at < as_of
product_usage       month + 1 month      (only complete months are used)
                    <= as_of
opportunities       created_at < as_of   is_closed / is_won / close_date: an opportunity is closed
                                         on as_of only when is_closed and close_date < as_of;
                                         otherwise it counts as open and its outcome is not used
customers           created_at < as_of   (segment, region, industry, acquisition_channel are
                    (or empty)           static attributes)
fx_rates            month < as_of        money is converted at the rates of the last month
                                         before as_of (constant-currency trends)
==================  ===================  =========================================================

Changing or deleting any row dated on or after ``as_of`` — or moving a later field that is on or
after ``as_of`` to another date on or after ``as_of`` — leaves the features unchanged
(``tests/test_churn_features.py`` proves it by systematic perturbation of every table).

Population and label
--------------------
``mrr_on(d)`` is a customer's MRR on day ``d``: the sum of ``mrr`` over subscriptions with
``start_date <= d < end_date`` (empty ``end_date`` = running). For ``d < as_of`` this is known
at ``as_of``. The **population** at ``as_of`` is every customer with ``mrr_on(as_of - 1 day) > 0``
computed from the subscriptions known at ``as_of``; a subscription whose ``end_date`` equals
``as_of`` therefore still counts (its end is not yet known), and one starting on ``as_of`` does not.

The **label** ``churned`` is 1 when the customer's true MRR on the first day after the horizon is
zero, ``mrr_on(as_of + horizon_months) == 0`` — with month-start dates this is the revenue
module's "no active subscription in month ``as_of + horizon``": every subscription ended inside
``[as_of, as_of + horizon)`` (or at its end) and none started or restarted before the horizon's
end. A customer who leaves and comes back inside the window is not churned; a customer whose MRR
only drops (contraction) is not churned.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .._common import kept_if_quiet, to_reporting_currency
from ..errors import MissingTableError, PeriodError
from ..policies import DEFAULT_POLICY, MetricPolicy

__all__ = [
    "default_train_dates",
    "build_training_set",
    "build_features",
    "feature_columns",
    "NUMERIC_FEATURES",
    "CATEGORICAL_FEATURES",
    "ID_COLUMNS",
    "LABEL",
    "observed_until",
]

#: Columns identifying a row of a training set (not features).
ID_COLUMNS = ("customer_id", "as_of")
#: The label column of a training set.
LABEL = "churned"
#: Context columns carried for scoring (not features).
CONTEXT_COLUMNS = ("renewal_date",)

#: Numeric features, in output order, with the table each one needs.
NUMERIC_FEATURES: dict[str, str] = {
    "tenure_months": "subscriptions",
    "mrr": "subscriptions",
    "mrr_change_3m": "subscriptions",
    "mrr_change_12m": "subscriptions",
    "expansions_12m": "subscriptions",
    "contractions_12m": "subscriptions",
    "active_products": "subscriptions",
    "seats": "subscriptions",
    "contract_term_months": "subscriptions",
    "months_to_renewal": "subscriptions",
    "active_users": "product_usage",
    "seat_utilisation": "product_usage",
    "seat_utilisation_change_3m": "product_usage",
    "active_users_change_3m": "product_usage",
    "feature_events_change_3m": "product_usage",
    "months_since_usage": "product_usage",
    "tickets_90d": "support_tickets",
    "tickets_365d": "support_tickets",
    "urgent_tickets_90d": "support_tickets",
    "open_tickets": "support_tickets",
    "csat_mean_365d": "support_tickets",
    "days_to_close_mean_365d": "support_tickets",
    "nps_last": "nps_responses",
    "nps_change": "nps_responses",
    "days_since_nps": "nps_responses",
    "late_invoices_365d": "invoices",
    "days_late_mean_365d": "invoices",
    "overdue_invoices": "invoices",
    "max_days_overdue": "invoices",
    "open_opportunities": "opportunities",
    "won_expansions_365d": "opportunities",
}
#: Categorical features with the table each one needs.
CATEGORICAL_FEATURES: dict[str, str] = {
    "segment": "customers",
    "region": "customers",
    "industry": "customers",
    "acquisition_channel": "customers",
    "product": "subscriptions",
    "plan": "subscriptions",
}

_DAY = pd.Timedelta(days=1)
_MONTH_DAYS = 365.25 / 12


def observed_until(data) -> pd.Timestamp:
    """First day after the data's last observed month (labels are known up to this day)."""
    _, last = data.date_range()
    return pd.Timestamp(last).to_period("M").to_timestamp() + pd.DateOffset(months=1)


def _in(column: pd.Series, ids: pd.Index) -> np.ndarray:
    """``column.isin(ids)`` by hash lookup (pandas' Arrow-string ``isin`` is slow)."""
    return pd.Index(ids).get_indexer(column) >= 0


def _as_date(value, what: str = "as_of") -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise PeriodError(f"build_training_set: {what} must be a date, got {value!r}") from exc
    if pd.isna(ts):
        raise PeriodError(f"build_training_set: {what} must be a date, got {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(None)
    return ts.normalize()


def _as_dates(as_of) -> list[pd.Timestamp]:
    if isinstance(as_of, (str, pd.Timestamp)) or not isinstance(as_of, Iterable):
        return [_as_date(as_of)]
    dates = [_as_date(v) for v in as_of]
    if not dates:
        raise PeriodError("build_training_set: as_of is an empty list; give at least one date")
    return sorted(set(dates))


def feature_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The (numeric, categorical) feature columns present in a training set or feature frame."""
    num = [c for c in NUMERIC_FEATURES if c in frame.columns]
    cat = [c for c in CATEGORICAL_FEATURES if c in frame.columns]
    return num, cat


# ---------------------------------------------------------------------------- subscriptions
def _mrr_on(subs: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """MRR per customer on ``day`` (``start <= day < end``) from the given subscription rows."""
    on = (subs["start_date"] <= day) & (subs["end_date"].isna() | (subs["end_date"] > day))
    return subs.loc[on].groupby("customer_id")["mrr_r"].sum()


def _known_subscriptions(data, as_of: pd.Timestamp, policy: MetricPolicy) -> pd.DataFrame:
    subs = data.subscriptions
    known = subs.loc[subs["start_date"] < as_of].copy()
    known["end_date"] = known["end_date"].where(known["end_date"] < as_of)
    known["mrr_r"] = _convert(known, "mrr", data.fx_rates, as_of, policy, "subscriptions")
    return known


def _convert(frame: pd.DataFrame, column: str, fx: pd.DataFrame | None, as_of: pd.Timestamp,
             policy: MetricPolicy, table: str) -> pd.Series:
    """``frame[column]`` in the reporting currency at the rates of the last month before as_of."""
    if "currency" not in frame.columns or len(frame) == 0:
        return frame[column].astype("float64")
    month = (as_of - _DAY).to_period("M").to_timestamp()
    fixed = policy.replace(fx_mode="fixed", fx_fixed_month=month.strftime("%Y-%m"))
    known_fx = fx.loc[fx["month"] < as_of] if fx is not None else None
    return to_reporting_currency(frame, column, "start_date" if "start_date" in frame.columns else
                                 frame.columns[0], known_fx, fixed, table=table)


def _subscription_features(data, as_of: pd.Timestamp, policy: MetricPolicy) -> pd.DataFrame:
    known = _known_subscriptions(data, as_of, policy)
    last = as_of - _DAY
    now = _mrr_on(known, last)
    now = now[now > 0]
    ids = now.index
    out = pd.DataFrame(index=ids)
    out.index.name = "customer_id"
    mine = known.loc[_in(known["customer_id"], ids)]
    first_start = mine.groupby("customer_id")["start_date"].min()
    out["tenure_months"] = (as_of - first_start.reindex(ids)).dt.days / _MONTH_DAYS
    out["mrr"] = now

    def change(months: int) -> pd.Series:
        then = _mrr_on(mine, as_of - pd.DateOffset(months=months) - _DAY).reindex(ids).fillna(0.0)
        return (now - then) / np.maximum(now, then)

    out["mrr_change_3m"] = change(3)
    out["mrr_change_12m"] = change(12)
    # monthly MRR points over the last 12 months: count increases and decreases
    points = [_mrr_on(mine, as_of - pd.DateOffset(months=k) - _DAY).reindex(ids).fillna(0.0)
              for k in range(12, -1, -1)]
    grid = np.column_stack([p.to_numpy() for p in points])
    steps = np.diff(grid, axis=1)
    prev = grid[:, :-1]
    out["expansions_12m"] = ((steps > 0.005) & (prev > 0)).sum(axis=1).astype("float64")
    out["contractions_12m"] = ((steps < -0.005) & (grid[:, 1:] > 0)).sum(axis=1).astype("float64")

    active = mine.loc[(mine["start_date"] <= last) & (mine["end_date"].isna() | (mine["end_date"] > last))
                      & (mine["mrr"] > 0)].copy()
    g = active.groupby("customer_id")
    if "product" in active.columns:
        out["active_products"] = g["product"].nunique().reindex(ids).astype("float64")
    else:
        out["active_products"] = g.size().reindex(ids).astype("float64")
    if "quantity" in active.columns:
        out["seats"] = g["quantity"].sum(min_count=1).reindex(ids)
    out = out.join(_contract_features(data, active, ids, as_of))
    # main product / plan: the active subscription with the largest MRR (ties: earliest id)
    main = active.sort_values(["customer_id", "mrr_r", "subscription_id"],
                              ascending=[True, False, True]).drop_duplicates("customer_id")
    main = main.set_index("customer_id")
    for col in ("product", "plan"):
        if col in main.columns:
            out[col] = main[col].reindex(ids)
    return out


def _invoice_periods(data) -> pd.DataFrame | None:
    inv = data.invoices
    if inv is None or not {"service_start", "service_end"} <= set(inv.columns):
        return None
    inv = inv.loc[inv["service_start"].notna() & inv["service_end"].notna()]
    if "kind" in inv.columns:
        inv = inv.loc[inv["kind"].isna() | (inv["kind"] == "recurring")]
    return inv if len(inv) else None


def _contract_features(data, active: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp) -> pd.DataFrame:
    """Contract term, months to renewal and renewal date, point in time.

    Preferred source: recurring invoices issued before ``as_of`` (their service period is fixed
    when they are issued): term = the longest service period billed in the last 13 months, in
    whole months; renewal date = the latest ``service_end`` (the paid-through date) when it is on
    or after ``as_of``. Without invoice service periods: the active subscriptions'
    ``committed_end_date`` (term = committed end − start; renewal = earliest committed end on or
    after ``as_of``), which assumes that column was fixed at signing.
    """
    out = pd.DataFrame(index=ids)
    inv = _invoice_periods(data)
    if inv is not None:
        inv = inv.loc[(inv["issued_at"] < as_of) & _in(inv["customer_id"], ids)]
        length = ((inv["service_end"] - inv["service_start"]).dt.days / _MONTH_DAYS).round()
        recent = (as_of - inv["issued_at"]).dt.days <= 400
        out["contract_term_months"] = length[recent].groupby(inv.loc[recent, "customer_id"]).max() \
            .reindex(ids).astype("float64")
        through = inv.groupby("customer_id")["service_end"].max().reindex(ids)
        renewal = through.where(through >= as_of)
    elif "committed_end_date" in active.columns:
        term = ((active["committed_end_date"] - active["start_date"]).dt.days / _MONTH_DAYS).round()
        out["contract_term_months"] = term.groupby(active["customer_id"]).max().reindex(ids)
        upcoming = active.loc[active["committed_end_date"] >= as_of]
        renewal = upcoming.groupby("customer_id")["committed_end_date"].min().reindex(ids)
    else:
        return out
    out["months_to_renewal"] = (renewal - as_of).dt.days / _MONTH_DAYS
    out["renewal_date"] = renewal
    return out


# ---------------------------------------------------------------------------- other tables
def _customer_features(data, ids: pd.Index, as_of: pd.Timestamp) -> pd.DataFrame:
    cust = data.customers
    if "created_at" in cust.columns:
        cust = cust.loc[~(cust["created_at"] >= as_of)]
    cust = cust.drop_duplicates("customer_id").set_index("customer_id")
    cols = [c for c in CATEGORICAL_FEATURES if CATEGORICAL_FEATURES[c] == "customers" and c in cust.columns]
    return cust[cols].reindex(ids)


def _usage_features(data, ids: pd.Index, as_of: pd.Timestamp) -> pd.DataFrame:
    use = data.product_usage
    month = use["month"].dt.to_period("M").dt.to_timestamp()
    use = use.loc[(month + pd.DateOffset(months=1) <= as_of) & _in(use["customer_id"], ids)].copy()
    use["month"] = use["month"].dt.to_period("M").dt.to_timestamp()
    last_month = as_of.to_period("M").to_timestamp() - pd.DateOffset(months=1)  # last complete
    # months back from the last complete month (0 = last complete month)
    use["back"] = ((last_month.year - use["month"].dt.year) * 12
                   + last_month.month - use["month"].dt.month)
    for col in ("active_users", "licensed_seats", "feature_events"):
        if col not in use.columns:
            use[col] = np.nan
    seats = use["licensed_seats"].where(use["licensed_seats"] > 0)
    use["util"] = use["active_users"] / seats
    out = pd.DataFrame(index=ids)
    recent = use.loc[use["back"] == 0].drop_duplicates("customer_id").set_index("customer_id")
    out["active_users"] = recent["active_users"].reindex(ids)
    out["seat_utilisation"] = recent["util"].reindex(ids)
    w1 = use.loc[use["back"].between(0, 2)].groupby("customer_id")
    w0 = use.loc[use["back"].between(3, 5)].groupby("customer_id")
    out["seat_utilisation_change_3m"] = (w1["util"].mean() - w0["util"].mean()).reindex(ids)
    au1, au0 = w1["active_users"].mean(), w0["active_users"].mean()
    out["active_users_change_3m"] = ((au1 - au0) / np.maximum(au1, au0)).reindex(ids)
    fe1, fe0 = w1["feature_events"].mean(), w0["feature_events"].mean()
    out["feature_events_change_3m"] = (np.log1p(fe1) - np.log1p(fe0)).reindex(ids)
    used = use.loc[use["active_users"] > 0].groupby("customer_id")["back"].min()
    out["months_since_usage"] = used.reindex(ids).astype("float64")
    return out


def _ticket_features(data, ids: pd.Index, as_of: pd.Timestamp) -> pd.DataFrame:
    t = data.support_tickets
    t = t.loc[(t["opened_at"] < as_of) & _in(t["customer_id"], ids)].copy()
    closed = t["closed_at"].where(t["closed_at"] < as_of) if "closed_at" in t.columns \
        else pd.Series(pd.NaT, index=t.index)
    age = (as_of - t["opened_at"]).dt.days
    out = pd.DataFrame(index=ids)
    g90, g365 = t.loc[age <= 90], t.loc[age <= 365]
    out["tickets_90d"] = g90.groupby("customer_id").size().reindex(ids, fill_value=0).astype("float64")
    out["tickets_365d"] = g365.groupby("customer_id").size().reindex(ids, fill_value=0).astype("float64")
    if "priority" in t.columns:
        urgent = g90.loc[g90["priority"].isin(["high", "urgent"])]
        out["urgent_tickets_90d"] = urgent.groupby("customer_id").size().reindex(ids, fill_value=0) \
            .astype("float64")
    out["open_tickets"] = t.loc[closed.isna()].groupby("customer_id").size() \
        .reindex(ids, fill_value=0).astype("float64")
    done = t.loc[closed.notna() & (age <= 365)].copy()
    if "csat" in done.columns:
        out["csat_mean_365d"] = done.groupby("customer_id")["csat"].mean().reindex(ids)
    done["days"] = (closed[done.index] - done["opened_at"]).dt.days
    out["days_to_close_mean_365d"] = done.groupby("customer_id")["days"].mean().reindex(ids)
    return out


def _nps_features(data, ids: pd.Index, as_of: pd.Timestamp) -> pd.DataFrame:
    n = data.nps_responses
    n = n.loc[(n["responded_at"] < as_of) & _in(n["customer_id"], ids)]
    n = n.sort_values(["customer_id", "responded_at", "score"], kind="mergesort")
    g = n.groupby("customer_id")
    last = g.nth(-1).set_index("customer_id")
    prev = g.nth(-2).set_index("customer_id")
    out = pd.DataFrame(index=ids)
    out["nps_last"] = last["score"].reindex(ids).astype("float64")
    out["nps_change"] = (last["score"] - prev["score"]).reindex(ids).astype("float64")
    out["days_since_nps"] = (as_of - last["responded_at"]).dt.days.reindex(ids).astype("float64")
    return out


def _invoice_features(data, ids: pd.Index, as_of: pd.Timestamp) -> pd.DataFrame:
    inv = data.invoices
    inv = inv.loc[(inv["issued_at"] < as_of) & _in(inv["customer_id"], ids)].copy()
    out = pd.DataFrame(index=ids)
    if "due_at" not in inv.columns:
        return out
    paid = inv["paid_at"].where(inv["paid_at"] < as_of) if "paid_at" in inv.columns \
        else pd.Series(pd.NaT, index=inv.index)
    recent = (as_of - inv["issued_at"]).dt.days <= 365
    late_days = (paid - inv["due_at"]).dt.days
    settled = inv.loc[paid.notna() & recent].assign(late=late_days.clip(lower=0))
    out["late_invoices_365d"] = settled.loc[settled["late"] > 0].groupby("customer_id").size() \
        .reindex(ids, fill_value=0).astype("float64")
    out["days_late_mean_365d"] = settled.groupby("customer_id")["late"].mean().reindex(ids)
    overdue = inv.loc[paid.isna() & (inv["due_at"] < as_of)].copy()
    overdue["days"] = (as_of - overdue["due_at"]).dt.days
    g = overdue.groupby("customer_id")
    out["overdue_invoices"] = g.size().reindex(ids, fill_value=0).astype("float64")
    out["max_days_overdue"] = g["days"].max().reindex(ids, fill_value=0).astype("float64")
    return out


def _opportunity_features(data, ids: pd.Index, as_of: pd.Timestamp) -> pd.DataFrame:
    o = data.opportunities
    out = pd.DataFrame(index=ids)
    if "customer_id" not in o.columns:
        return out
    o = o.loc[(o["created_at"] < as_of) & _in(o["customer_id"], ids)]
    is_closed = o["is_closed"].astype("boolean").fillna(False).astype(bool) \
        if "is_closed" in o.columns else pd.Series(False, index=o.index)
    close = o["close_date"] if "close_date" in o.columns else pd.Series(pd.NaT, index=o.index)
    closed_before = is_closed & (close < as_of).fillna(False).astype(bool)
    out["open_opportunities"] = o.loc[~closed_before].groupby("customer_id").size() \
        .reindex(ids, fill_value=0).astype("float64")
    if "is_won" in o.columns and "type" in o.columns:
        won = o["is_won"].astype("boolean").fillna(False).astype(bool)
        recent = ((as_of - close).dt.days <= 365).fillna(False).astype(bool)
        sel = o.loc[closed_before & won & recent & (o["type"] == "expansion")]
        out["won_expansions_365d"] = sel.groupby("customer_id").size().reindex(ids, fill_value=0) \
            .astype("float64")
    return out


_GROUPS = (
    ("customers", _customer_features),
    ("product_usage", _usage_features),
    ("support_tickets", _ticket_features),
    ("nps_responses", _nps_features),
    ("invoices", _invoice_features),
    ("opportunities", _opportunity_features),
)


def _features_one(data, as_of: pd.Timestamp, policy: MetricPolicy) -> pd.DataFrame:
    base = _subscription_features(data, as_of, policy)
    ids = base.index
    parts = [base]
    for table, func in _GROUPS:
        if getattr(data, table, None) is not None:
            parts.append(func(data, ids, as_of))
    frame = pd.concat(parts, axis=1)
    num, cat = feature_columns(frame)
    context = [c for c in CONTEXT_COLUMNS if c in frame.columns]
    frame = frame[num + cat + context].reset_index()
    for c in num:
        frame[c] = frame[c].astype("float64")
    for c in cat:
        frame[c] = frame[c].astype(object).where(frame[c].notna(), np.nan)
    frame.insert(1, "as_of", as_of)
    return frame.sort_values("customer_id", kind="mergesort").reset_index(drop=True)


def build_features(data, as_of, *, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Point-in-time features of every customer active at ``as_of`` (no label).

    Use this to score the present; see :func:`build_training_set` for what is known when and
    for the population. ``as_of`` may be one date or several (rows stacked, sorted by date).

    Returns
    -------
    DataFrame
        ``customer_id``, ``as_of``, the numeric features of :data:`NUMERIC_FEATURES` and the
        categorical ones of :data:`CATEGORICAL_FEATURES` whose tables are present, and
        ``renewal_date`` (earliest contract end on or after ``as_of``; context, not a feature).
    """
    if data.subscriptions is None:
        data.require("subscriptions", what="churn features")
    frames = [_features_at(data, d, policy) for d in _as_dates(as_of)]
    return pd.concat(frames, ignore_index=True)


def _features_at(data, as_of: pd.Timestamp, policy: MetricPolicy) -> pd.DataFrame:
    """The features of one cut-off, built once per dataset, date and policy (a backtest, its refit
    and the accounts-at-risk model of a report build the same cut-offs), unless they warned."""
    if not hasattr(data, "derived"):
        return _features_one(data, as_of, policy)
    key, frames = ("churn_features", as_of, policy), tuple(data.tables().values())
    return kept_if_quiet(lambda b: data.derived(key, frames, b), lambda: _features_one(data, as_of, policy))


def _labels(data, frame: pd.DataFrame, horizon_months: int, policy: MetricPolicy) -> pd.Series:
    subs = data.subscriptions
    out = pd.Series(0, index=frame.index, dtype="int64")
    for as_of, idx in frame.groupby("as_of").groups.items():
        end = pd.Timestamp(as_of) + pd.DateOffset(months=horizon_months)
        on = (subs["start_date"] <= end) & (subs["end_date"].isna() | (subs["end_date"] > end)) \
            & (subs["mrr"] > 0)
        alive = set(subs.loc[on, "customer_id"])
        out.loc[idx] = (~frame.loc[idx, "customer_id"].isin(alive)).astype("int64")
    return out


def build_training_set(data, as_of, horizon_months: int = 3, *,
                       policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Features known before ``as_of`` and the label "churned within ``horizon_months``".

    Parameters
    ----------
    data : RevOpsData
        Needs ``subscriptions``; ``customers``, ``product_usage``, ``support_tickets``,
        ``nps_responses``, ``invoices`` and ``opportunities`` add features when present.
    as_of : date or list of dates
        Cut-off date(s). Several dates give one stacked training set (one row per customer and
        date). Month starts are the natural choice (``"2025-01-01"``).
    horizon_months : int
        Label window length: ``[as_of, as_of + horizon_months)``.
    policy : MetricPolicy
        Reads ``reporting_currency`` (money features are converted at the fx rates of the last
        month before ``as_of``).

    Returns
    -------
    DataFrame
        One row per customer active at ``as_of`` (MRR > 0 on the day before ``as_of``, from the
        subscriptions known then): ``customer_id``, ``as_of``, the features (see
        :func:`build_features` and the module docstring), ``renewal_date`` and
        ``churned`` (1 when the customer's MRR on day ``as_of + horizon_months`` is 0, i.e. no
        subscription with ``start_date <= as_of + horizon < end_date`` and ``mrr > 0``; the label
        reads the full subscriptions table — it is the future by design).

    Raises
    ------
    PeriodError
        If ``as_of + horizon_months`` lies beyond the data's last observed month (the label
        would be unknown), naming the date and the data's end.
    """
    if data.subscriptions is None:
        data.require("subscriptions", what="churn training set")
    if int(horizon_months) < 1:
        raise PeriodError(f"build_training_set: horizon_months must be >= 1, got {horizon_months!r}")
    dates = _as_dates(as_of)
    until = observed_until(data)
    late = [d for d in dates if d + pd.DateOffset(months=int(horizon_months)) > until]
    if late:
        raise PeriodError(
            f"build_training_set: as_of {late[0].date()} + {horizon_months} months ends after the "
            f"data's last observed day ({(until - _DAY).date()}), so the label is unknown; use an "
            f"as_of on or before {(until - pd.DateOffset(months=int(horizon_months))).date()}"
        )
    frame = build_features(data, dates, policy=policy)
    frame[LABEL] = _labels(data, frame, int(horizon_months), policy)
    return frame


def default_train_dates(test_as_of, *, horizon_months: int = 3, n_dates: int = 8,
                        step_months: int = 3) -> list[pd.Timestamp]:
    """Training cut-offs for a test date: the latest whose label window ends by ``test_as_of``.

    ``test_as_of − horizon_months − k·step_months`` for ``k = 0 .. n_dates−1``, oldest first, so
    no training label looks past the test cut-off.

    >>> [d.strftime("%Y-%m-%d") for d in default_train_dates("2025-10-01", n_dates=3)]
    ['2025-01-01', '2025-04-01', '2025-07-01']
    """
    t = pd.Timestamp(test_as_of).normalize()
    last = t - pd.DateOffset(months=int(horizon_months))
    return sorted(last - pd.DateOffset(months=int(step_months) * k) for k in range(int(n_dates)))
