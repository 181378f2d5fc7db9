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
from .periods import Period, PeriodLike, as_period
from .policies import DEFAULT_POLICY, MetricPolicy

__all__ = ["clv_simple", "monthly_rate"]


def _revenue_kpi(name: str):
    """``arpa`` / ``logo_churn_rate`` from the revenue or retention module (defined there, once)."""
    from . import retention, revenue

    for module in (revenue, retention):
        func = getattr(module, name, None)
        if func is not None:
            return func
    raise RevOpsError(f"clv: revops_kit has no {name}() yet (expected in revenue.py or retention.py)")


def monthly_rate(rate, n_months: int):
    """Convert a churn rate over ``n_months`` to the equivalent constant monthly rate.

    monthly = 1 − (1 − rate)^(1 / n_months)

    >>> round(monthly_rate(0.271, 3), 4)
    0.1
    """
    rate = np.asarray(rate, dtype="float64")
    out = 1.0 - np.power(np.clip(1.0 - rate, 0.0, None), 1.0 / n_months)
    return float(out) if out.ndim == 0 else out


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
    if gross_margin is None and invoices is None:
        raise RevOpsError("clv_simple: give gross_margin= (a fraction or a gross_margin() frame) or "
                          "invoices= (and optionally costs=) to compute it")
    arpa = _revenue_kpi("arpa")(subscriptions, p, by=by or None, customers=customers,
                                fx_rates=fx_rates, policy=policy)
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


# ---------------------------------------------------------------------- catalogue
@register("clv_simple", label="CLV (simple)", unit="currency", good="up", family="clv",
          formula="ARPA × gross margin ÷ monthly logo churn (steady state, undiscounted)",
          tables=("subscriptions", "invoices"))
def _kpi_clv_simple(data, period: Period, *, by, policy):
    use_ledger = data.costs is not None and (not by or "cost_of_revenue" not in data.invoices.columns)
    return clv_simple(data.subscriptions, period, invoices=data.invoices,
                      costs=data.costs if use_ledger else None, customers=data.customers,
                      fx_rates=data.fx_rates, by=by, policy=policy)
