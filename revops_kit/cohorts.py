"""Acquisition cohorts: logo and revenue retention matrices, and Kaplan-Meier customer survival.

A customer's **acquisition month** is its first active month (its *new* movement, see
:func:`revops_kit.revenue.mrr_movements`). Cohorts group customers by acquisition month or
quarter; age ``k`` is measured in the cohort's last month ``k`` periods later (age 0 = the end of
the acquisition month/quarter)::

    logo retention(k)    = cohort customers active at age k ÷ cohort customers
    revenue retention(k) = cohort MRR at age k ÷ cohort MRR at age 0

Age 0 is measured at the end of the acquisition period, not at acquisition: with monthly cohorts
logo retention at age 0 is 100% by construction (a customer is active in its acquisition month);
with quarterly (or yearly) cohorts a customer acquired in the period's first month and churned
before its end is not active at age 0, so age-0 logo retention can be below 100% — it shows
churn inside the acquisition quarter instead of hiding it. Revenue retention at age 0 is 100% by
construction (its denominator is the age-0 MRR).

Revenue is in the reporting currency at each month's rate (``policy.fx_mode``); use
``fx_mode="fixed"`` to remove currency movement from the matrix.

**Survival.** Duration = months from the acquisition month to the first churn month (the first
month with MRR 0 after being active; a later reactivation does not undo it), censored at the end
of observation for customers never churned. Kaplan-Meier estimates per group, with Greenwood
standard errors, are computed as ``statsmodels.duration.survfunc.SurvfuncRight`` computes them
(:func:`_kaplan_meier`, the same operations: tested equal to it; written out so that a report
kernel does not import statsmodels and scipy.stats for it); the pointwise band is the log-log
transform of the Greenwood standard errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import as_list, attach_columns
from .errors import RevOpsError
from .periods import PeriodLike, as_period
from .policies import DEFAULT_POLICY, MetricPolicy, get_policy
from .engines import is_sql
from .grid import CHURN, NEW, cohort_ages, cohort_rates, month_grid, month_start

__all__ = ["customer_lifetimes", "cohort_retention", "cohort_matrix", "survival_curves",
           "survival_summary"]


def _end_month(end) -> pd.Timestamp | None:
    if end is None:
        return None
    try:
        return as_period(end).end
    except Exception:  # a date
        return pd.Timestamp(end)


def customer_lifetimes(subscriptions: pd.DataFrame, *, end: PeriodLike | None = None,
                       by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                       policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """One row per customer: ``acquired`` (first active month), ``churned`` (first churn month or
    NaT), ``months`` (churned − acquired, or months observed up to ``end`` when censored),
    ``event`` (1 churned / 0 censored) and the ``by`` columns looked up in ``customers``.

    ``end`` (a period label, or an exclusive month date) closes observation; default: the month
    after the last change in the data.
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        _sql().unsupported("customer lifetimes (survival)")
    g = month_grid(subscriptions, end=_end_month(end), policy=policy, convert=False)
    ents = g.entities
    n = len(ents)
    acquired = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(acquired, g.ent[g.cat == NEW], g.month[g.cat == NEW].astype(np.int64))
    churned = np.full(n, np.iinfo(np.int64).max)
    churn = g.cat == CHURN
    np.minimum.at(churned, g.ent[churn], g.month[churn].astype(np.int64))
    ok = acquired < np.iinfo(np.int64).max
    event = (churned < np.iinfo(np.int64).max) & ok
    months = np.where(event, churned - acquired, g.hi - acquired)
    out = pd.DataFrame({"customer_id": ents["customer_id"].to_numpy(),
                        "acquired": month_start(np.where(ok, acquired, 0)),
                        "churned": pd.NaT, "months": months, "event": event.astype(np.int64)})
    out.loc[event, "churned"] = month_start(churned[event])
    out["churned"] = out["churned"].astype("datetime64[ns]")
    out = out[ok].reset_index(drop=True)
    return attach_columns(out, customers, as_list(by), table="subscriptions")


def cohort_retention(subscriptions: pd.DataFrame, *, freq: str = "M", end: PeriodLike | None = None,
                     by: str | list[str] | None = None, customers: pd.DataFrame | None = None,
                     fx_rates: pd.DataFrame | None = None, max_age: int | None = None,
                     last_cohorts: int | None = None,
                     policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Logo and revenue retention by acquisition cohort, tidy.

    Parameters
    ----------
    freq : {"M", "Q"}
        Cohorts and ages by month or by quarter.
    end : period label or date, optional
        Observation ends before this (exclusive); only ages whose measurement month lies before
        it appear. Default: the data's last month.
    by : str or list, optional
        Customer columns (from ``customers``) to split cohorts by.
    max_age : int, optional
        Keep ages ``0 .. max_age``.
    last_cohorts : int, optional
        Keep only the most recent ``last_cohorts`` cohort periods.

    Returns
    -------
    DataFrame
        ``cohort`` (first month of the cohort period), ``[by]``, ``age``, ``customers`` (cohort
        size), ``active``, ``logo_retention``, ``mrr``, ``mrr_initial``, ``revenue_retention``.
    """
    policy = get_policy(policy)
    if is_sql(subscriptions):  # engine='sql': computed in the database
        return _sql().cohort_retention(subscriptions, freq=freq, end=end, by=by,
                                        customers=customers, fx_rates=fx_rates, max_age=max_age,
                                        last_cohorts=last_cohorts, policy=policy)
    step = {"M": 1, "Q": 3}.get(freq)
    if step is None:
        raise RevOpsError(f"cohort_retention: freq must be 'M' or 'Q', got {freq!r}")
    by = as_list(by)
    end_ts = _end_month(end)
    g = month_grid(subscriptions, end=end_ts, fx_rates=fx_rates, policy=policy)
    n = len(g.entities)
    acquired = np.full(n, np.iinfo(np.int64).max)
    new = g.cat == NEW
    np.minimum.at(acquired, g.ent[new], g.month[new].astype(np.int64))
    ok_ent = acquired < np.iinfo(np.int64).max
    coh = np.where(ok_ent, acquired - acquired % step, 0)     # month 0 = 1970-01
    last_obs = g.hi - 1
    # rows measured at period-end months at or after the cohort's first period end
    month = g.month.astype(np.int64)
    ent = g.ent
    c_row = coh[ent]
    age_row = (month - c_row) // step
    at_end = (month % step == step - 1) & ok_ent[ent] & (month >= c_row)
    frame = pd.DataFrame({"ent": ent[at_end], "cohort_m": c_row[at_end], "age": age_row[at_end],
                          "mrr": g.mrr[at_end] / 100.0, "active": g.active[at_end]})
    ents = g.entities.assign(cohort_m=coh, ok=ok_ent)
    ents = ents[ents["ok"]]
    if by:
        ents = attach_columns(ents, customers, by, table="subscriptions")
        frame = frame.join(ents[by], on="ent")
    keys = ["cohort_m"] + by
    sizes = ents.groupby(keys, observed=True, dropna=False).size().rename("customers")
    frame = frame[frame["active"] | (frame["mrr"] != 0)]
    grid = frame.groupby(keys + ["age"], observed=True, dropna=False).agg(
        active=("active", "sum"), mrr=("mrr", "sum")).reset_index()
    # complete the age axis: every cohort gets every observed age up to the last observed month
    full = cohort_ages(sizes.reset_index(), keys, last_obs=last_obs, step=step, max_age=max_age)
    out = full.merge(grid, on=keys + ["age"], how="left")
    out["active"] = out["active"].fillna(0).astype(np.int64)
    out["mrr"] = np.rint(out["mrr"].fillna(0.0) * 100) / 100
    return cohort_rates(out, keys, by, last_cohorts=last_cohorts)


def cohort_matrix(tidy: pd.DataFrame, value: str = "logo_retention", *,
                  freq: str = "M") -> pd.DataFrame:
    """Pivot :func:`cohort_retention` output to a cohort × age matrix (rows labelled
    ``YYYY-MM`` or ``YYYY-Qn``). Cells after the observation window are NaN."""
    if tidy.empty:
        return pd.DataFrame()
    labels = tidy["cohort"].dt.to_period("Q" if freq == "Q" else "M").astype(str)
    wide = tidy.assign(cohort=labels).pivot_table(index="cohort", columns="age", values=value,
                                                  aggfunc="first")
    wide.columns.name = "age"
    return wide


def survival_curves(subscriptions: pd.DataFrame, *, by: str | list[str] | None = "segment",
                    customers: pd.DataFrame | None = None, end: PeriodLike | None = None,
                    alpha: float = 0.05, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Kaplan-Meier customer survival per group (computed as statsmodels' ``SurvfuncRight`` does).

    Returns a tidy frame: ``[by], months, survival, ci_lower, ci_upper, at_risk, events``, with a
    first row at ``months = 0`` (survival 1) per group. ``end`` closes observation
    (see :func:`customer_lifetimes`). Groups without any customer are absent.
    """
    policy = get_policy(policy)
    by = as_list(by)
    if by and customers is None:
        raise RevOpsError(f"survival_curves: grouping by {by} needs the customers table")
    life = customer_lifetimes(subscriptions, end=end, by=by, customers=customers, policy=policy)
    if life.empty:
        raise RevOpsError("survival_curves: no customer's first subscription starts before the end "
                          f"of {'the data' if end is None else as_period(end)}, so there is no lifetime "
                          "to build a survival curve from")
    groups = [((), life)] if not by else life.groupby(by, observed=True, dropna=False, sort=True)
    frames = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        times, surv, se, n_risk, n_events = _kaplan_meier(part["months"].to_numpy(dtype=float),
                                                         part["event"].to_numpy(dtype=float))
        lower, upper = _loglog_band(surv, se, alpha)
        f = pd.DataFrame({"months": np.r_[0.0, times],
                          "survival": np.r_[1.0, surv],
                          "ci_lower": np.r_[1.0, lower], "ci_upper": np.r_[1.0, upper],
                          "at_risk": np.r_[len(part), n_risk],
                          "events": np.r_[0.0, n_events]})
        for col, value in zip(by, key):
            f.insert(by.index(col), col, value)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def _kaplan_meier(time: np.ndarray, status: np.ndarray):
    """Kaplan-Meier estimate of right-censored durations, with Greenwood standard errors.

    ``time`` are the durations, ``status`` 1 for an event and 0 for censoring. Returns
    ``(times, survival, se, at_risk, events)`` at the distinct times with at least one event:
    S(t) = Π_{t_i ≤ t} (1 − d_i ÷ n_i) and se(t) = S(t) · √(Σ_{t_i ≤ t} d_i ÷ (n_i (n_i − d_i)))
    (NaN once n_i = d_i). These are the operations of statsmodels' ``SurvfuncRight`` (unweighted,
    no left truncation), in the same order, so the results are identical to it.

    >>> times, surv, se, n, d = _kaplan_meier(np.array([1.0, 2, 2, 3]), np.array([1.0, 1, 0, 1]))
    >>> times.tolist(), surv.round(4).tolist(), n.tolist(), d.tolist()
    ([1.0, 2.0, 3.0], [0.75, 0.5, 0.0], [4, 3, 1], [1.0, 1.0, 1.0])
    """
    utime, rtime = np.unique(time, return_inverse=True)
    ml = len(utime)
    d = np.bincount(rtime, weights=status, minlength=ml)
    n = np.bincount(rtime, minlength=ml)
    n = np.cumsum(n[::-1])[::-1]  # at risk just before each time
    keep = np.flatnonzero(d > 0)
    d, n, utime = d[keep], n[keep], utime[keep]
    sp = 1 - d / n.astype(np.float64)
    zero = sp < 1e-16
    sp[zero] = 1e-16
    sp = np.exp(np.cumsum(np.log(sp)))
    sp[zero] = 0
    denom = np.clip(n * (n - d), 1e-12, np.inf)
    se = d / denom.astype(np.float64)
    se[(n == d) | (n == 0)] = np.nan
    se = np.sqrt(np.cumsum(se))
    locs = np.isfinite(se) | (sp != 0)
    se[locs] *= sp[locs]
    se[~locs] = np.nan
    return utime, sp, se, n, d


def _loglog_band(surv: np.ndarray, se: np.ndarray, alpha: float):
    """Pointwise log-log confidence band from Greenwood standard errors:
    S^exp(±z·se/(S·|log S|)); 1 where S = 1 and 0 where S = 0."""
    from scipy.special import ndtri  # the normal quantile (what scipy.stats.norm.ppf computes)

    z = ndtri(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta_se = se / (surv * np.abs(np.log(surv)))
        lower = surv ** np.exp(z * theta_se)
        upper = surv ** np.exp(-z * theta_se)
    edge = (surv >= 1) | (surv <= 0) | ~np.isfinite(theta_se)
    return np.where(edge, surv, lower), np.where(edge, surv, upper)


def survival_summary(curves: pd.DataFrame, *, by: str | list[str] | None = "segment",
                     at: tuple[int, ...] = (12, 24, 36)) -> pd.DataFrame:
    """Per group: customers, churn events, median survival (months; NaN when survival never
    falls to 0.5) and survival at ``at`` months (step function; NaN beyond the data)."""
    by = as_list(by)
    rows = []
    groups = [((), curves)] if not by else curves.groupby(by, observed=True, sort=True)
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        part = part.sort_values("months")
        row = dict(zip(by, key))
        row["customers"] = int(part["at_risk"].iloc[0])
        row["churn_events"] = int(part["events"].sum())
        below = part[part["survival"] <= 0.5]
        row["median_months"] = float(below["months"].iloc[0]) if len(below) else np.nan
        horizon = part["months"].max()
        for t in at:
            prior = part[part["months"] <= t]
            row[f"survival_{t}m"] = float(prior["survival"].iloc[-1]) if t <= horizon else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _sql():
    """The SQL engine (imported on first use: it needs Ibis, the [sql] extra)."""
    from .engines import sql

    return sql
