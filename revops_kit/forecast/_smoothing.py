"""The exponential-smoothing family: SES and the damped trend on seasonally adjusted data, and
Holt-Winters ETS with a damped trend chosen by AICc; with the seasonal adjustment (and its
undoing) that ``ses``, ``damped`` and ``theta`` share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._core import _Fit, _quiet
from .seasonality import seasonal_indices, seasonality_test


def _adjust(x, h, m, cache: dict) -> tuple[np.ndarray, np.ndarray, bool, bool]:
    """Seasonally adjusted series, future indices, whether seasonal, whether multiplicative
    (computed once per series: ``cache`` is shared by the members of a combination)."""
    if "adjust" not in cache:
        cache["adjust"] = _adjust_uncached(x, h, m)
    return cache["adjust"]


def _adjust_uncached(x, h, m):
    n = len(x)
    if not seasonality_test(x, m):
        return x, np.ones(h), False, True
    mult = bool(np.all(x > 0))
    idx = seasonal_indices(x, m, multiplicative=mult)
    past = idx[np.arange(n) % m]
    future = idx[(n + np.arange(h)) % m]
    if mult:
        return x / past, future, True, True
    return x - past, future, True, False


def _reseason(fit: _Fit, future, mult: bool) -> _Fit:
    if mult:
        return _Fit(fit.mean * future, {k: v * future for k, v in fit.lower.items()},
                    {k: v * future for k, v in fit.upper.items()}, fit.label, True)
    return _Fit(fit.mean + future, {k: v + future for k, v in fit.lower.items()},
                {k: v + future for k, v in fit.upper.items()}, fit.label, True)


def _ets_fit(z, h, levels, *, trend=None, damped=False, label="ets", with_alpha=False):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    series = pd.Series(z)
    with _quiet():
        res = ETSModel(series, error="add", trend=trend, damped_trend=damped).fit(disp=False)
        pred = res.get_prediction(start=len(z), end=len(z) + h - 1)
        mean = np.asarray(pred.predicted_mean, dtype="float64")
        lower, upper = {}, {}
        for lev in levels:
            sf = pred.summary_frame(alpha=1 - lev / 100)
            lower[lev] = sf["pi_lower"].to_numpy(dtype="float64")
            upper[lev] = sf["pi_upper"].to_numpy(dtype="float64")
        alpha = float(np.asarray(res.params)[0])  # smoothing_level comes first
    fit = _Fit(mean, lower, upper, label)
    return (fit, alpha) if with_alpha else fit


def _ses(x, h, m, levels, cache) -> _Fit:
    z, future, seasonal, mult = _adjust(x, h, m, cache)
    fit, _ = _ses_fit(z, h, levels, cache)
    return _reseason(fit, future, mult) if seasonal else fit


def _ses_fit(z, h, levels, cache: dict):
    """ETS(A,N,N) on the adjusted data and its α (shared by ``ses`` and ``theta``)."""
    if "ses" not in cache:
        cache["ses"] = _ets_fit(z, h, levels, label="ses", with_alpha=True)
    return cache["ses"]


def _damped(x, h, m, levels, cache) -> _Fit:
    z, future, seasonal, mult = _adjust(x, h, m, cache)
    if np.all(z > 0):
        f = _ets_fit(np.log(z), h, levels, trend="add", damped=True, label="damped")
        fit = _Fit(np.exp(f.mean), {k: np.exp(v) for k, v in f.lower.items()},
                   {k: np.exp(v) for k, v in f.upper.items()}, "damped")
    else:
        fit = _ets_fit(z, h, levels, trend="add", damped=True, label="damped")
    return _reseason(fit, future, mult) if seasonal else fit


def _ets(x, h, m, levels, cache, seed: int = 0) -> _Fit:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    series = pd.Series(x)
    candidates = [dict(error="add", trend="add", damped_trend=True)]
    if m > 1 and len(x) >= 3 * m:  # three seasons, as for the seasonality test
        candidates.append(dict(error="add", trend="add", damped_trend=True, seasonal="add",
                               seasonal_periods=m))
        if np.all(x > 0):
            candidates.append(dict(error="mul", trend="add", damped_trend=True, seasonal="mul",
                                   seasonal_periods=m))
    best = None
    with _quiet():
        for kw in candidates:
            # parameters only: ETSResults would compute a numerical Hessian we do not need for
            # every candidate; AICc = −2·llf + 2k + 2k(k+1)/(n−k−1), k = free parameters + 1
            # (statsmodels' definition)
            try:
                model = ETSModel(series, **kw)
                params = model.fit(disp=False, return_params=True)
                llf = float(model.loglike(params))
            except Exception:  # noqa: BLE001 - a candidate that cannot be fitted is skipped
                continue
            k = len(params) - len(getattr(model, "_fixed_params", {}) or {}) + 1
            n = len(x)
            aicc = -2 * llf + 2 * k + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else np.inf)
            if np.isfinite(aicc) and (best is None or aicc < best[0]):
                best = (aicc, kw, model, params)
        if best is None:
            raise RuntimeError("no ETS candidate could be fitted")
        _, kw, model, params = best
        res = model.smooth(params)
        mean = np.asarray(res.forecast(h), dtype="float64")
        lower, upper = {}, {}
        if kw["error"] == "add":
            pred = res.get_prediction(start=len(x), end=len(x) + h - 1)
            for lev in levels:
                sf = pred.summary_frame(alpha=1 - lev / 100)
                lower[lev] = sf["pi_lower"].to_numpy(dtype="float64")
                upper[lev] = sf["pi_upper"].to_numpy(dtype="float64")
        else:  # multiplicative errors: simulated intervals with a fixed seed (reproducible)
            sims = np.asarray(_ets_simulate(res, h, 1000, seed), dtype="float64")
            for lev in levels:
                a = (1 - lev / 100) / 2
                lower[lev] = np.quantile(sims, a, axis=1)
                upper[lev] = np.quantile(sims, 1 - a, axis=1)
    season = kw.get("seasonal")
    label = f"ets({kw['error'][0].upper()},Ad,{season[0].upper() if season else 'N'})"
    return _Fit(mean, lower, upper, label, bool(season))


def _ets_simulate(res, h, reps, seed):
    import inspect

    params = inspect.signature(res.simulate).parameters
    if "rng" in params:
        return res.simulate(h, anchor="end", repetitions=reps, rng=np.random.default_rng(seed))
    return res.simulate(h, anchor="end", repetitions=reps, random_state=seed)  # statsmodels < 0.15
