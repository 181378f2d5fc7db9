"""Customer lifetime value (CLV): simple, contractual (survival-based) and transactional (BG/NBD).

Three estimators for three situations:

* :func:`clv_simple` — ARPA × gross margin ÷ monthly logo churn. The quick number on a board slide;
  read its caveats.
* :func:`clv_survival` — for contracts: the expected remaining (discounted) lifetime from the
  empirical survival curve of customer cohorts, × monthly revenue × gross margin.
* :class:`BetaGeoFitter` (BG/NBD, Fader, Hardie & Lee 2005) and :class:`GammaGammaFitter`
  (Fader & Hardie 2013) — for transactional revenue with no contract: probability alive, expected
  purchases and discounted CLV, fitted by maximum likelihood with scipy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import as_list, safe_divide
from .catalog import register
from .errors import RevOpsError
from .finance import margin_costs
from .periods import Period, PeriodLike, as_period
from .policies import DEFAULT_POLICY, MetricPolicy

__all__ = ["clv_simple", "monthly_rate", "clv_survival", "rfm_summary", "BetaGeoFitter", "GammaGammaFitter",
           "clv_transactional", "holdout_by_frequency"]


def _revenue_kpi(name: str):
    """``arpa`` / ``logo_churn_rate`` from the revenue or retention module (defined there, once)."""
    from . import retention, revenue

    for module in (revenue, retention):
        func = getattr(module, name, None)
        if func is not None:
            return func
    raise RevOpsError(f"clv: revops_kit has no {name}() yet (expected in revenue.py or retention.py)")


def _arpa_with_margin_source(name, subscriptions, p, by, customers, fx_rates, policy, gross_margin, invoices):
    """ARPA for a CLV formula, after checking that the margin can be had (given or from invoices)."""
    if gross_margin is None and invoices is None:
        raise RevOpsError(f"{name}: give gross_margin= (a fraction or a gross_margin() frame) or "
                          "invoices= (and optionally costs=) to compute it")
    return _revenue_kpi("arpa")(subscriptions, p, by=by or None, customers=customers,
                                fx_rates=fx_rates, policy=policy)


def monthly_rate(rate, n_months: int):
    """Convert a churn rate over ``n_months`` to the equivalent constant monthly rate.

    monthly = 1 − (1 − rate)^(1 / n_months)

    >>> round(monthly_rate(0.271, 3), 4)
    0.1
    """
    rate = np.asarray(rate, dtype="float64")
    out = 1.0 - np.power(np.clip(1.0 - rate, 0.0, None), 1.0 / n_months)
    return float(out) if out.ndim == 0 else out


def _margin_costs(data, by, policy):
    return margin_costs(data.invoices, data.costs, by)


@register("clv_simple", aggregation="ratio", bind={"costs": _margin_costs}, label="CLV (simple)", unit="currency", good="up", family="clv",
          formula="ARPA × gross margin ÷ monthly logo churn (steady state, undiscounted)",
          tables=("subscriptions", "invoices"))
def clv_simple(subscriptions: pd.DataFrame, period: PeriodLike, *, gross_margin=None,
               invoices: pd.DataFrame | None = None, costs: pd.DataFrame | None = None,
               customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
               by: str | list[str] | None = None,
               policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Simple customer lifetime value: CLV = ARPA × gross margin ÷ monthly logo churn.

    * ARPA is the monthly average revenue per account at period end (``rk.arpa``).
    * Monthly logo churn is ``rk.logo_churn_rate`` over ``period`` converted to a constant monthly
      rate: ``1 − (1 − churn)^(1 / months in period)``.
    * Gross margin is ``gross_margin`` when given (a fraction, or a frame with the ``by`` columns
      and ``value``), otherwise :func:`revops_kit.finance.gross_margin` of ``invoices`` (and
      ``costs``) over ``period``. One of the two is required.

    Reads the policy fields that ``arpa``, ``logo_churn_rate`` and ``gross_margin`` read
    (reporting currency, FX mode, churn denominator, new-and-churned rule).

    Caveats — this is a steady-state formula:

    * ``1 ÷ churn`` is the mean lifetime only if churn is constant over a customer's life; real
      churn falls with tenure, so young-cohort-heavy books understate and mature books overstate CLV;
    * it assumes today's ARPA forever: no expansion, contraction or price change, and no discounting
      (use :func:`clv_survival` for a discounted, tenure-aware figure);
    * one quarter's churn is noisy (a handful of churners in a small segment moves it a lot), and a
      period with no churn gives an infinite lifetime — reported as NaN with a warning;
    * it is an average over accounts, not the value of any single account or of a new cohort.

    Returns
    -------
    DataFrame
        One row per group: ``value``, ``numerator`` (ARPA × gross margin), ``denominator``
        (monthly churn), ``arpa``, ``gross_margin``, ``monthly_churn``, ``period_churn``,
        ``lifetime_months`` (1 ÷ monthly churn).

    Examples
    --------
    >>> clv_simple(data.subscriptions, "2025-Q4", invoices=data.invoices)  # doctest: +SKIP
    """
    p = as_period(period)
    by = as_list(by)
    arpa = _arpa_with_margin_source("clv_simple", subscriptions, p, by, customers, fx_rates, policy,
                                    gross_margin, invoices)
    churn = _revenue_kpi("logo_churn_rate")(subscriptions, p, by=by or None, customers=customers,
                                            policy=policy)
    out = arpa[by + ["value"]].rename(columns={"value": "arpa"})
    churn = churn[by + ["value"]].rename(columns={"value": "period_churn"})
    out = out.merge(churn, on=by, how="left") if by else pd.concat([out, churn], axis=1)
    if gross_margin is None:
        from .finance import gross_margin as _gm

        gm = _gm(invoices, p, costs=costs, by=by or None, customers=customers, fx_rates=fx_rates,
                 policy=policy)
        gross_margin = gm[by + ["value"]]
    if isinstance(gross_margin, pd.DataFrame):
        gmf = gross_margin[by + ["value"]].rename(columns={"value": "gross_margin"})
        out = out.merge(gmf, on=by, how="left") if by else out.assign(
            gross_margin=float(gmf["gross_margin"].iloc[0]))
    else:
        out["gross_margin"] = float(gross_margin)
    out["monthly_churn"] = monthly_rate(out["period_churn"].to_numpy(), p.n_months)
    out["numerator"] = out["arpa"] * out["gross_margin"]
    out["denominator"] = out["monthly_churn"]
    where = ""
    if by and (out["denominator"] == 0).any():
        where = "groups " + ", ".join("/".join(map(str, r)) for r in
                                      out.loc[out["denominator"] == 0, by].itertuples(index=False))
    out["value"] = safe_divide(out["numerator"], out["denominator"], what="clv_simple (no churn)",
                               where=where)
    out["lifetime_months"] = 1.0 / out["monthly_churn"].where(out["monthly_churn"] > 0)
    return out[by + ["value", "numerator", "denominator", "arpa", "gross_margin", "monthly_churn",
                     "period_churn", "lifetime_months"]]


# ---------------------------------------------------------------------- contractual: survival CLV
def _spells(subscriptions: pd.DataFrame, as_of) -> pd.DataFrame:
    """Every customer's subscription spells up to ``as_of``: ``customer_id, spell, start, end``
    (``end`` = Timestamp.max while running). A spell runs through overlapping or back-to-back rows."""
    t = pd.Timestamp(as_of)
    subs = subscriptions.loc[(subscriptions["start_date"] < t) & (subscriptions["mrr"] > 0),
                             ["customer_id", "start_date", "end_date"]]
    subs = subs.sort_values(["customer_id", "start_date"], kind="stable")
    end = subs["end_date"].fillna(pd.Timestamp.max.normalize())
    # running maximum of end per customer; a new spell starts where start > previous running max
    run_max = end.groupby(subs["customer_id"]).cummax()
    prev_max = run_max.groupby(subs["customer_id"]).shift(1)
    new_spell = prev_max.isna() | (subs["start_date"] > prev_max)
    spell_no = new_spell.astype(int).groupby(subs["customer_id"]).cumsum()
    g = subs.assign(_end=end, spell=spell_no).groupby(["customer_id", "spell"])
    return pd.DataFrame({"start": g["start_date"].min(), "end": g["_end"].max()}).reset_index()


def _months_between(start: pd.Series, end: pd.Series) -> pd.Series:
    return ((end.dt.year - start.dt.year) * 12 + end.dt.month - start.dt.month).clip(lower=0).astype("int64")


def _monthly_survival(life: pd.DataFrame, curve: pd.DataFrame) -> pd.DataFrame:
    """``rk.survival_curves`` (Kaplan-Meier at event times) on a whole-month grid 0..max with the
    number of lifetimes at risk at each month (from ``rk.customer_lifetimes``)."""
    months = life["months"].to_numpy(dtype="int64")
    top = int(months.max()) if len(months) else 0
    k = np.arange(0, top + 1)
    c = curve.sort_values("months")
    idx = np.searchsorted(c["months"].to_numpy(dtype="float64"), k, side="right") - 1
    surv = np.where(idx >= 0, c["survival"].to_numpy()[np.clip(idx, 0, None)], 1.0)
    at_risk = np.array([(months >= j).sum() for j in k], dtype="float64")
    return pd.DataFrame({"month": k, "at_risk": at_risk, "survival": surv})


def _extended_survival(curve: pd.DataFrame, horizon: int, *, tail_months: int = 12,
                       min_at_risk: int = 20) -> np.ndarray:
    """S(0..horizon): the observed curve, then a constant hazard (the mean of the last
    ``tail_months`` observed hazards with at least ``min_at_risk`` customers at risk)."""
    ok = curve[curve["at_risk"] >= min_at_risk]
    s = ok["survival"].to_numpy()
    if len(s) == 0:
        return np.ones(horizon + 1)
    if len(s) >= horizon + 1:
        return s[: horizon + 1]
    tail = ok.tail(tail_months + 1)["survival"].to_numpy()
    if len(tail) > 1 and tail[0] > 0:
        h = 1 - (tail[-1] / tail[0]) ** (1 / (len(tail) - 1))
    else:
        h = 0.0
    extra = s[-1] * (1 - h) ** np.arange(1, horizon + 2 - len(s))
    return np.concatenate([s, extra])


@register("clv_survival", aggregation="ratio", bind={"costs": _margin_costs}, label="CLV (survival, discounted)", unit="currency", good="up", family="clv",
          formula="ARPA × gross margin × Σ_k S(k)·v^k: Kaplan-Meier survival of customer lifetimes, "
                  "discounted at 10 %/year over 60 months",
          tables=("subscriptions", "invoices"))
def clv_survival(subscriptions: pd.DataFrame, period: PeriodLike, *, gross_margin=None,
                 invoices: pd.DataFrame | None = None, costs: pd.DataFrame | None = None,
                 customers: pd.DataFrame | None = None, fx_rates: pd.DataFrame | None = None,
                 by: str | list[str] | None = None, discount_rate: float = 0.10,
                 horizon_months: int = 60, min_at_risk: int = 20,
                 policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """Contractual CLV from the survival curve: expected discounted lifetime × ARPA × gross margin.

    With S the Kaplan-Meier curve of customer lifetimes observed up to the period end
    (``rk.survival_curves``: months from acquisition to the first churn, on a whole-month grid,
    extended beyond the data with the recent constant hazard), monthly
    discount factor v = (1 + ``discount_rate``)^(−1/12) and horizon H:

    * expected discounted lifetime of a new customer L = Σ_{k=0..H−1} S(k) · v^k (months);
    * CLV (new customer) = ARPA × gross margin × L;
    * ``remaining_value`` (customer equity) = Σ over customers active at period end of MRR × margin ×
      Σ_{k=1..H} S(a+k)/S(a) · v^k, with a the months since their current spell began.

    The curve is used while at least ``min_at_risk`` customers are at risk; beyond that (and beyond
    the data) survival continues at the mean monthly hazard of its last twelve months.

    ARPA and gross margin are as in :func:`clv_simple` (``rk.arpa``; ``gross_margin=`` or from
    ``invoices``). Unlike the simple formula it reflects that churn falls with tenure and it
    discounts; it still assumes today's ARPA for life (no expansion) and that new customers will
    churn like past cohorts.

    Returns one row per group: ``value``, ``arpa``, ``gross_margin``,
    ``expected_lifetime_months`` (discounted L), ``undiscounted_lifetime_months``,
    ``remaining_value``, ``customers`` (lifetimes used for the curve) and ``churned``.
    """
    p = as_period(period)
    by = as_list(by)
    arpa = _arpa_with_margin_source("clv_survival", subscriptions, p, by, customers, fx_rates, policy,
                                    gross_margin, invoices)
    if gross_margin is None:
        from .finance import gross_margin as _gm

        gross_margin = _gm(invoices, p, costs=costs, by=by or None, customers=customers,
                           fx_rates=fx_rates, policy=policy)[by + ["value"]]
    from .cohorts import customer_lifetimes, survival_curves
    from .revenue import active_subscriptions

    life = customer_lifetimes(subscriptions, end=p, by=by, customers=customers, policy=policy)
    curves = survival_curves(subscriptions, by=by or None, customers=customers, end=p, policy=policy)

    act = active_subscriptions(subscriptions, p.last_month, fx_rates=fx_rates, policy=policy)
    act_mrr = act.groupby("customer_id")["mrr_reporting"].sum()
    spells = _spells(subscriptions, p.end)
    current = spells[spells["end"] > p.end].drop_duplicates("customer_id", keep="last")
    tenure = pd.Series(_months_between(current["start"], pd.Series(p.end, index=current.index)).to_numpy(),
                       index=current["customer_id"].to_numpy())
    if by:
        from ._common import attach_columns

        cur = attach_columns(pd.DataFrame({"customer_id": tenure.index}), customers, by,
                             table="subscriptions")
    else:
        cur = pd.DataFrame({"customer_id": tenure.index})
    cur["tenure"] = tenure.to_numpy()
    cur["mrr"] = act_mrr.reindex(cur["customer_id"]).fillna(0.0).to_numpy()
    v = (1 + float(discount_rate)) ** (-1 / 12)
    H = int(horizon_months)
    rows = []
    groups = life.groupby(by, observed=True, dropna=False) if by else [((), life)]
    for key, grp in groups:
        key = key if isinstance(key, tuple) else (key,)
        mine = cur
        for col, val in zip(by, key):
            mine = mine[mine[col] == val]
        longest = max(int(grp["months"].max()) if len(grp) else 0,
                      int(mine["tenure"].max()) if len(mine) else 0)
        curve = curves
        for col, val in zip(by, key):
            curve = curve[curve[col] == val]
        S = _extended_survival(_monthly_survival(grp, curve), H + longest, min_at_risk=min_at_risk)
        disc = v ** np.arange(H)
        L = float(np.sum(S[:H] * disc))
        rem = 0.0
        for a, m in zip(mine["tenure"].to_numpy(), mine["mrr"].to_numpy()):
            if m <= 0 or S[a] <= 0:
                continue
            fut = S[a + 1: a + H + 1] / S[a]
            rem += m * float(np.sum(fut * v ** np.arange(1, len(fut) + 1)))
        rows.append({**dict(zip(by, key)), "expected_lifetime_months": L,
                     "undiscounted_lifetime_months": float(np.sum(S[:H])), "remaining_revenue": rem,
                     "customers": float(len(grp)), "churned": float(grp["event"].sum())})
    out = pd.DataFrame(rows)
    a = arpa[by + ["value"]].rename(columns={"value": "arpa"})
    out = out.merge(a, on=by, how="left") if by else out.assign(arpa=float(a["arpa"].iloc[0]))
    if isinstance(gross_margin, pd.DataFrame):
        gmf = gross_margin[by + ["value"]].rename(columns={"value": "gross_margin"})
        out = out.merge(gmf, on=by, how="left") if by else out.assign(
            gross_margin=float(gmf["gross_margin"].iloc[0]))
    else:
        out["gross_margin"] = float(gross_margin)
    out["value"] = out["arpa"] * out["gross_margin"] * out["expected_lifetime_months"]
    out["remaining_value"] = out["remaining_revenue"] * out["gross_margin"]
    return out[by + ["value", "arpa", "gross_margin", "expected_lifetime_months",
                     "undiscounted_lifetime_months", "remaining_value", "customers", "churned"]]


# ---------------------------------------------------------------------- catalogue


# ---------------------------------------------------------------------- transactional: RFM summary
def rfm_summary(transactions: pd.DataFrame, *, calibration_end, observation_end=None,
                customer_col: str = "customer_id", date_col: str = "date",
                value_col: str | None = None, unit_days: float = 7.0) -> pd.DataFrame:
    """Per-customer frequency / recency / T (and spend) from a transaction log, for BG/NBD.

    Transactions on the same day are one purchase (their values are summed). With
    ``t0`` = a customer's first purchase date and time measured in units of ``unit_days`` days:

    * ``frequency`` = number of *repeat* purchase days in ``[t0, calibration_end]`` (first excluded);
    * ``recency`` = (last purchase day in the calibration period − ``t0``) ÷ unit;
    * ``T`` = (``calibration_end`` − ``t0``) ÷ unit;
    * ``monetary_value`` = mean value of the repeat purchases (0 when there are none), the input of
      the Gamma-Gamma model (when ``value_col`` is given);
    * ``frequency_holdout`` / ``monetary_holdout`` = purchase days and their total value in
      ``(calibration_end, observation_end]`` (when ``observation_end`` is given), and ``duration_holdout``.

    ``calibration_end`` is inclusive (the last day of the calibration period). Customers whose
    first purchase falls after it are not included.
    """
    cal_end = pd.Timestamp(calibration_end)
    cols = [customer_col, date_col] + ([value_col] if value_col else [])
    missing = [c for c in cols if c not in transactions.columns]
    if missing:
        raise RevOpsError(f"rfm_summary: transactions lack column(s) {missing}; "
                          f"have {list(transactions.columns)}")
    tx = transactions[cols].copy()
    tx[date_col] = pd.to_datetime(tx[date_col]).dt.normalize()
    if value_col is None:
        tx["_value"] = 0.0
        value_col = "_value"
    days = tx.groupby([customer_col, date_col], sort=True)[value_col].sum().reset_index()
    first = days.groupby(customer_col)[date_col].min().rename("first")
    days = days.join(first, on=customer_col)
    days = days[days["first"] <= cal_end]
    cal = days[days[date_col] <= cal_end]
    g = cal.groupby(customer_col)
    out = pd.DataFrame({"first_purchase": g[date_col].min(), "last": g[date_col].max(),
                        "n": g.size(), "total": g[value_col].sum()})
    first_value = cal.sort_values(date_col).groupby(customer_col)[value_col].first()
    out["frequency"] = (out["n"] - 1).astype("int64")
    out["recency"] = (out["last"] - out["first_purchase"]).dt.days / unit_days
    out["T"] = (cal_end - out["first_purchase"]).dt.days / unit_days
    if value_col != "_value":
        repeat_total = out["total"] - first_value
        out["monetary_value"] = np.where(out["frequency"] > 0,
                                         repeat_total / out["frequency"].where(out["frequency"] > 0, 1), 0.0)
    if observation_end is not None:
        obs_end = pd.Timestamp(observation_end)
        hold = days[(days[date_col] > cal_end) & (days[date_col] <= obs_end)]
        h = hold.groupby(customer_col)
        out["frequency_holdout"] = h.size().reindex(out.index, fill_value=0).astype("int64")
        if value_col != "_value":
            out["monetary_holdout"] = h[value_col].sum().reindex(out.index, fill_value=0.0)
        out["duration_holdout"] = (obs_end - cal_end).days / unit_days
    return out.drop(columns=["last", "n", "total"]).reset_index()


# ---------------------------------------------------------------------- BG/NBD
def _hessian(f, x: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    """Central finite-difference Hessian of ``f`` at ``x`` (relative steps)."""
    n = len(x)
    h = eps * np.maximum(np.abs(x), 1.0)
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * h[i], np.eye(n)[j] * h[j]
            val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h[i] * h[j])
            H[i, j] = H[j, i] = val
    return H


class _Fitter:
    _param_names: tuple[str, ...] = ()
    _start: tuple[float, ...] = ()

    def _neg_ll(self, params: np.ndarray) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def _optimise(self):
        from scipy.optimize import minimize

        def objective(logp):
            value = self._neg_ll(np.exp(logp))
            return value if np.isfinite(value) else 1e300

        res = minimize(objective, np.log(np.asarray(self._start, dtype="float64")), method="Nelder-Mead",
                       options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20000, "maxfev": 40000})
        res = minimize(objective, res.x, method="BFGS", options={"gtol": 1e-8})
        est = np.exp(res.x)
        self.params_ = dict(zip(self._param_names, est))
        self.log_likelihood_ = -float(self._neg_ll(est))
        self.converged_ = bool(np.isfinite(self.log_likelihood_))
        try:
            cov = np.linalg.inv(_hessian(self._neg_ll, est))
            self.standard_errors_ = dict(zip(self._param_names, np.sqrt(np.clip(np.diag(cov), 0, None))))
        except np.linalg.LinAlgError:  # pragma: no cover - singular Hessian
            self.standard_errors_ = dict.fromkeys(self._param_names, np.nan)
        return self

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors (inverse finite-difference Hessian) and 95 % intervals."""
        rows = []
        for name in self._param_names:
            est, se = self.params_[name], self.standard_errors_[name]
            rows.append({"parameter": name, "estimate": est, "std_error": se,
                         "ci_lower": est - 1.96 * se, "ci_upper": est + 1.96 * se})
        return pd.DataFrame(rows).set_index("parameter")

    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise RevOpsError(f"{type(self).__name__} is not fitted yet; call fit() first")


class BetaGeoFitter(_Fitter):
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

    While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each
    purchase they drop out with probability p ~ Beta(a, b). The per-customer log-likelihood is
    (FHL 2005, eq. 6)::

        ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
               + ln[ (α+T)^−(r+x) + 1{x>0} · a/(b+x−1) · (α+t_x)^−(r+x) ]

    with ``x`` = frequency, ``t_x`` = recency, ``T`` = age, all in the same time unit.

    Attributes (after :meth:`fit`): ``params_`` (r, alpha, a, b), ``log_likelihood_``,
    ``standard_errors_``; :meth:`summary` gives a table.

    Examples
    --------
    >>> bg = BetaGeoFitter().fit(summary)  # doctest: +SKIP
    >>> bg.probability_alive(summary["frequency"], summary["recency"], summary["T"])  # doctest: +SKIP
    """

    _param_names = ("r", "alpha", "a", "b")
    _start = (1.0, 1.0, 1.0, 1.0)

    def fit(self, frame: pd.DataFrame, *, frequency_col: str = "frequency", recency_col: str = "recency",
            T_col: str = "T") -> "BetaGeoFitter":
        """Fit on one row per customer; returns ``self``."""
        for c in (frequency_col, recency_col, T_col):
            if c not in frame.columns:
                raise RevOpsError(f"BetaGeoFitter.fit: column {c!r} not in the frame "
                                  f"(columns: {list(frame.columns)})")
        x = frame[frequency_col].to_numpy(dtype="float64")
        tx = frame[recency_col].to_numpy(dtype="float64")
        T = frame[T_col].to_numpy(dtype="float64")
        if np.any(x < 0) or np.any(tx < 0) or np.any(tx > T + 1e-9):
            raise RevOpsError("BetaGeoFitter.fit: need frequency ≥ 0 and 0 ≤ recency ≤ T for every row")
        self._data = (x, tx, T)
        return self._optimise()

    def _neg_ll(self, params: np.ndarray) -> float:
        from scipy.special import betaln, gammaln

        r, alpha, a, b = params
        x, tx, T = self._data
        A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        A2 = betaln(a, b + x) - betaln(a, b)
        A3 = -(r + x) * np.log(alpha + T)
        pos = x > 0
        A4 = np.full_like(x, -np.inf)
        A4[pos] = np.log(a) - np.log(b + x[pos] - 1) - (r + x[pos]) * np.log(alpha + tx[pos])
        return -float(np.sum(A1 + A2 + np.logaddexp(A3, A4)))

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(alive | x, t_x, T) = 1 / (1 + 1{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))."""
        self._check_fitted()
        r, alpha, a, b = (self.params_[k] for k in self._param_names)
        x, tx, T = (np.asarray(v, dtype="float64") for v in (frequency, recency, T))
        pos = x > 0
        ratio = np.zeros_like(x)
        ratio[pos] = a / (b + x[pos] - 1) * np.exp((r + x[pos]) * (np.log(alpha + T[pos]) - np.log(alpha + tx[pos])))
        return 1.0 / (1.0 + ratio)

    def expected_purchases(self, t) -> np.ndarray:
        """Unconditional E[X(t)] for a new customer over ``t`` time units (FHL eq. 7)."""
        from scipy.special import hyp2f1

        self._check_fitted()
        r, alpha, a, b = (self.params_[k] for k in self._param_names)
        t = np.asarray(t, dtype="float64")
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` time units (FHL eq. 10)."""
        from scipy.special import hyp2f1

        self._check_fitted()
        r, alpha, a, b = (self.params_[k] for k in self._param_names)
        x, tx, T = (np.asarray(v, dtype="float64") for v in (frequency, recency, T))
        t = np.asarray(t, dtype="float64")
        z = t / (alpha + T + t)
        term = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        num = (a + b + x - 1) / (a - 1) * term
        pos = x > 0
        ratio = np.zeros(np.broadcast(x, T).shape)
        ratio[pos] = a / (b + x[pos] - 1) * np.exp((r + x[pos]) * (np.log(alpha + T[pos]) - np.log(alpha + tx[pos])))
        return num / (1 + ratio)


class GammaGammaFitter(_Fitter):
    """Gamma-Gamma model of spend per transaction (Fader & Hardie 2013, "The Gamma-Gamma model of
    monetary value"), fitted on customers with at least one repeat purchase.

    Each transaction's value is Gamma(p, ν); ν varies across customers as Gamma(q, γ). For a
    customer with ``x`` repeat transactions of mean value ``m`` the log-likelihood is::

        ln L = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(γ + x m)

    and the expected mean spend is E[M | x, m] = p (γ + x m) / (p x + q − 1).
    The model assumes spend is independent of purchase frequency — check it
    (``corr(frequency, monetary_value)``) before trusting it.
    """

    _param_names = ("p", "q", "gamma")
    _start = (1.0, 1.0, 1.0)

    def fit(self, frame: pd.DataFrame, *, frequency_col: str = "frequency",
            monetary_col: str = "monetary_value") -> "GammaGammaFitter":
        """Fit on the rows with ``frequency > 0`` and ``monetary_value > 0``; returns ``self``."""
        for c in (frequency_col, monetary_col):
            if c not in frame.columns:
                raise RevOpsError(f"GammaGammaFitter.fit: column {c!r} not in the frame "
                                  f"(columns: {list(frame.columns)})")
        sel = (frame[frequency_col] > 0) & (frame[monetary_col] > 0)
        if not sel.any():
            raise RevOpsError("GammaGammaFitter.fit: no customer with a repeat purchase and positive spend")
        self._data = (frame.loc[sel, frequency_col].to_numpy(dtype="float64"),
                      frame.loc[sel, monetary_col].to_numpy(dtype="float64"))
        self.n_customers_ = int(sel.sum())
        return self._optimise()

    def _neg_ll(self, params: np.ndarray) -> float:
        from scipy.special import gammaln

        p, q, g = params
        x, m = self._data
        ll = (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(g)
              + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(g + x * m))
        return -float(np.sum(ll))

    def conditional_expected_spend(self, frequency, monetary_value) -> np.ndarray:
        """E[M | x, m] = p (γ + x m) / (p x + q − 1); the population mean p γ / (q − 1) when x = 0."""
        self._check_fitted()
        p, q, g = (self.params_[k] for k in self._param_names)
        x = np.asarray(frequency, dtype="float64")
        m = np.asarray(monetary_value, dtype="float64")
        return p * (g + x * m) / (p * x + q - 1)


def clv_transactional(bgnbd: BetaGeoFitter, gamma_gamma: GammaGammaFitter, frame: pd.DataFrame, *,
                      horizon: int = 12, period_units: float = 52 / 12, discount_rate: float = 0.01,
                      margin: float = 1.0, frequency_col: str = "frequency", recency_col: str = "recency",
                      T_col: str = "T", monetary_col: str = "monetary_value") -> pd.DataFrame:
    """Discounted CLV per customer from a fitted BG/NBD and Gamma-Gamma model.

    CLV = margin × E[spend] × Σ_{k=1..horizon} (E[Y(k·u)] − E[Y((k−1)·u)]) ÷ (1 + d)^k

    where ``u`` = ``period_units`` model time units per discounting period (default: a month of
    weeks, 52/12), ``d`` = ``discount_rate`` per period and E[Y] the conditional expected
    purchases. Returns the input columns plus ``probability_alive``, ``expected_purchases``
    (over the horizon), ``expected_spend`` and ``clv``.
    """
    x, tx, T = (frame[c].to_numpy(dtype="float64") for c in (frequency_col, recency_col, T_col))
    spend = gamma_gamma.conditional_expected_spend(x, frame[monetary_col].to_numpy(dtype="float64"))
    value = np.zeros(len(frame))
    prev = np.zeros(len(frame))
    for k in range(1, int(horizon) + 1):
        cum = bgnbd.conditional_expected_purchases(k * period_units, x, tx, T)
        value += (cum - prev) / (1 + discount_rate) ** k
        prev = cum
    out = frame.copy()
    out["probability_alive"] = bgnbd.probability_alive(x, tx, T)
    out["expected_purchases"] = prev
    out["expected_spend"] = spend
    out["clv"] = margin * spend * value
    return out


def holdout_by_frequency(bgnbd: BetaGeoFitter, frame: pd.DataFrame, *, max_frequency: int = 7,
                         frequency_col: str = "frequency", recency_col: str = "recency", T_col: str = "T",
                         holdout_col: str = "frequency_holdout",
                         duration_col: str = "duration_holdout") -> pd.DataFrame:
    """Mean predicted vs actual holdout purchases by calibration frequency (FHL 2005, fig. 4).

    Customers with frequency ≥ ``max_frequency`` are pooled into one group labelled
    ``"{max_frequency}+"``. Returns ``frequency, customers, actual, predicted`` (means per customer).
    """
    x, tx, T = (frame[c].to_numpy(dtype="float64") for c in (frequency_col, recency_col, T_col))
    pred = bgnbd.conditional_expected_purchases(frame[duration_col].to_numpy(dtype="float64"), x, tx, T)
    bucket = np.minimum(frame[frequency_col].to_numpy(dtype="int64"), max_frequency)
    tab = pd.DataFrame({"bucket": bucket, "actual": frame[holdout_col].to_numpy(dtype="float64"),
                        "predicted": pred})
    out = tab.groupby("bucket").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                    predicted=("predicted", "mean")).reset_index()
    out["frequency"] = [f"{b}+" if b == max_frequency else str(b) for b in out["bucket"]]
    return out[["frequency", "customers", "actual", "predicted"]]
