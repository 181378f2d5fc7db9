"""Series forecasting models with prediction intervals, on statsmodels.

One entry point, :func:`forecast`, fits one of :data:`METHODS` to a series (or to many series in
parallel) and returns a frozen :class:`ForecastResult` whose ``frame`` holds ``mean``,
``lower_80``, ``upper_80``, ``lower_95``, ``upper_95`` on the series' future dates.

Methods
-------
``naive``
    Last value; intervals from the one-step differences (σ√k).
``snaive``
    Seasonal naive: the value one season earlier; intervals σ√(⌊(k−1)/m⌋+1) from the in-sample
    seasonal differences.
``ses``
    Simple exponential smoothing (ETS(A,N,N), statsmodels ``ETSModel``) on seasonally adjusted data.
``damped``
    Damped-trend exponential smoothing (ETS(A,Ad,N)) on the logarithm of the seasonally adjusted
    data (on the data itself when it is not strictly positive).
``theta``
    The standard Theta method (Assimakopoulos & Nikolopoulos 2000, in the SES-with-drift form of
    Hyndman & Billah 2003, as in the M4 benchmarks) on seasonally adjusted data.
``ets``
    Holt-Winters ETS with a damped trend; the season is additive (A,Ad,A) or multiplicative
    (M,Ad,M), or absent (A,Ad,N), whichever has the lowest AICc (seasonal candidates need three
    seasons of data).
``arima``
    SARIMAX on logs (levels when not strictly positive) with a small automatic order search:
    one regular difference, one seasonal difference when the seasonality test passes,
    (p, q) ∈ {(0,1), (1,0), (1,1)} × (P, Q) ∈ {(0,1), (1,0)}, lowest AICc.
``airline``
    The "airline" model ARIMA(0,1,1)(0,1,1)m on logs (Box & Jenkins); ARIMA(0,1,1) on logs when
    the series is shorter than three seasons.
``auto`` (alias ``combination``)
    The plain mean of ``theta``, ``ses``, ``damped``, ``airline`` and ``ets`` — diverse members
    (deterministic vs stochastic seasonality, levels vs logs, flat vs drifting vs damped trends),
    so their errors partly cancel. Its interval bounds are the means of the members' bounds
    (quantile averaging). This is the default and what ``benchmarks/bench_forecast.py`` measures
    on the M3 monthly micro series (see ``benchmarks/README.md``). The members were chosen on a
    validation origin (each series' 12 months *before* the test year), not per series.

Seasonal adjustment (``theta``, ``ses``, ``damped``): seasonality is tested first as in the M4 competition
benchmarks — the lag-m autocorrelation must exceed 1.645·√((1 + 2 Σ_{k<m} r_k²)/n) (90 %), which needs
n ≥ 3m. A seasonal series is divided by classical multiplicative seasonal indices (centred 2×m
moving average; the index of a month is the **median** of its ratios to the trend, normalised
to mean 1 — the median resists one-off spikes). Non-positive series use additive indices.

Fallbacks (each emits a :class:`~revops_kit.errors.ModelFallbackWarning` saying what was used):
a constant series gets the naive forecast with zero-width intervals; fewer than
:data:`MIN_OBS` points give the naive forecast; a series with at least half zeros gets ``ses``
without seasonal adjustment; values ≤ 0 make the log-scale members run on the original scale;
a series shorter than 3 seasons is not seasonally adjusted; a member that fails to fit is
dropped from the combination (and a single method that fails falls back to ``naive``).
A history with no negative value never gets negative forecasts or bounds (they are clipped at 0).

Intervals assume the model is right: they ignore parameter uncertainty and, for seasonally
adjusted members, the uncertainty of the seasonal indices. Measure their coverage with
:func:`revops_kit.forecast.accuracy.coverage` in a backtest before trusting them.

Modules: one per model family (``_naive``, ``_smoothing``: ses, damped and ETS, ``_theta``,
``_arima``: airline and arima), the combination and the fallbacks here; :mod:`.result`
(:class:`ForecastResult`, :class:`ForecastInputError`), :mod:`.seasonality` (season length,
seasonality test, seasonal indices) and :mod:`.series` (:func:`series_from_long`). Every public
name is importable from ``revops_kit.forecast.models``.
"""

from __future__ import annotations

import time
import warnings
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import ModelFallbackWarning
from ._arima import _airline, _arima
from ._core import METHODS, _Fit, _future_index, _prepare, _single_threaded_blas, _validate_args
from ._naive import _naive, _snaive
from ._smoothing import _damped, _ets, _ets_fit, _ses
from ._theta import _theta
from .result import ForecastInputError, ForecastResult
from .seasonality import season_length_for, seasonal_indices, seasonality_test
from .series import series_from_long

__all__ = [
    "forecast",
    "ForecastResult",
    "ForecastInputError",
    "METHODS",
    "AUTO_MEMBERS",
    "MIN_OBS",
    "seasonality_test",
    "seasonal_indices",
    "season_length_for",
    "series_from_long",
]

#: Members of ``method="auto"`` (mean of their forecasts and of their interval bounds).
AUTO_MEMBERS = ("theta", "ses", "damped", "airline", "ets")
#: Fewer observations than this give the naive forecast (with a warning).
MIN_OBS = 4
#: Share of zeros from which a series is treated as intermittent (``ses`` on the raw data).
ZERO_HEAVY_SHARE = 0.5


_MEMBER_FUNCS = {"naive": _naive, "snaive": _snaive}
_MODEL_FUNCS = {"ses": _ses, "damped": _damped, "theta": _theta, "airline": _airline,
                "arima": _arima, "ets": _ets}


# =============================================================================== dispatcher
def _combine(fits: list[_Fit], levels) -> _Fit:
    mean = np.mean([f.mean for f in fits], axis=0)
    lower = {lev: np.mean([f.lower[lev] for f in fits], axis=0) for lev in levels}
    upper = {lev: np.mean([f.upper[lev] for f in fits], axis=0) for lev in levels}
    return _Fit(mean, lower, upper, " + ".join(f.label for f in fits),
                any(f.seasonal for f in fits))


def _run(name: str, x, h, m, levels, cache: dict, seed) -> _Fit:
    if name in _MEMBER_FUNCS:
        return _MEMBER_FUNCS[name](x, h, m, levels)
    if name == "ets":
        return _ets(x, h, m, levels, cache, seed)
    return _MODEL_FUNCS[name](x, h, m, levels, cache)


def _fit_one(x: np.ndarray, h: int, m: int, method: str, levels, seed: int) -> tuple[_Fit, list[str], tuple]:
    """Fit ``method`` with the documented fallbacks; returns fit, fallback notes, members."""
    notes: list[str] = []
    n = len(x)
    if method in ("naive", "snaive"):
        if method == "snaive" and (m <= 1 or n < m):
            if m > 1:
                notes.append(f"{n} observation(s) is less than one season ({m}): seasonal naive "
                             "replaced by naive")
            return _naive(x, h, m, levels), notes, ("naive",)
        return _run(method, x, h, m, levels, {}, seed), notes, (method,)
    if n < MIN_OBS:
        notes.append(f"only {n} observation(s) (fewer than {MIN_OBS}): {method} replaced by naive"
                     + (" (no interval from a single point)" if n == 1 else ""))
        return _naive(x, h, m, levels), notes, ("naive",)
    if np.ptp(x) == 0:
        notes.append(f"the series is constant ({x[0]:g}): {method} replaced by naive "
                     "(flat forecast, zero-width intervals)")
        return _naive(x, h, m, levels), notes, ("naive",)
    zero_share = float(np.mean(x == 0))
    if zero_share >= ZERO_HEAVY_SHARE:
        notes.append(f"{zero_share:.0%} of the values are zero (intermittent): {method} replaced by "
                     "simple exponential smoothing without seasonal adjustment")
        try:
            return _ets_fit(x, h, levels, label="ses"), notes, ("ses",)
        except Exception as exc:  # noqa: BLE001
            notes.append(f"ses failed ({type(exc).__name__}): naive used")
            return _naive(x, h, m, levels), notes, ("naive",)
    if m > 1 and n < 3 * m:
        notes.append(f"{n} observations are fewer than 3 seasons of {m}: seasonality cannot be tested, "
                     "so the series is not seasonally adjusted")
    if np.any(x <= 0) and method in ("auto", "damped", "airline", "arima"):
        notes.append(f"the series has values <= 0 (min {x.min():g}): log-scale models fitted on the "
                     "original scale instead")
    members = AUTO_MEMBERS if method == "auto" else (method,)
    fits, failed, cache = [], [], {}
    for name in members:
        try:
            fit = _run(name, x, h, m, levels, cache, seed)
        except Exception as exc:  # noqa: BLE001 - any statsmodels failure means "use something simpler"
            failed.append(f"{name} ({type(exc).__name__}: {str(exc)[:80]})")
            continue
        if not fit.finite():
            failed.append(f"{name} (non-finite forecast)")
            continue
        fits.append(fit)
    if failed:
        what = "dropped from the combination" if method == "auto" and fits else "replaced by naive"
        notes.append(f"could not fit {', '.join(failed)}: {what}")
    if not fits:
        return _naive(x, h, m, levels), notes, ("naive",)
    used = tuple(f.label.split("(")[0] if f.label.startswith(("ets", "arima")) else f.label for f in fits)
    fit = fits[0] if len(fits) == 1 else _combine(fits, levels)
    return fit, notes, used


def _forecast_series(y, h: int, method: str, season_length, levels, seed: int,
                     name: str | None = None) -> tuple[ForecastResult, list[str]]:
    values, index, freq, sname = _prepare(y)
    started = time.process_time()
    m = int(season_length) if season_length is not None else season_length_for(freq)
    with _single_threaded_blas():
        fit, notes, members = _fit_one(values, h, m, method, levels, seed)
    mean, lower, upper = fit.mean, fit.lower, fit.upper
    if np.all(values >= 0):  # a non-negative history: no negative forecasts or bounds
        mean = np.maximum(mean, 0)
        lower = {k: np.maximum(v, 0) for k, v in lower.items()}
        upper = {k: np.maximum(v, 0) for k, v in upper.items()}
    cols = {"mean": mean}
    for lev in levels:
        cols[f"lower_{lev}"] = np.minimum(lower[lev], mean)
        cols[f"upper_{lev}"] = np.maximum(upper[lev], mean)
    frame = pd.DataFrame(cols, index=_future_index(index, freq, h))
    history = pd.Series(values, index=index, name=sname)
    model = f"{method}: {fit.label}" if method == "auto" else fit.label
    result = ForecastResult(frame, method, model, members, m, bool(fit.seasonal), len(values),
                            levels, tuple(notes), history, time.process_time() - started)
    label = name if name is not None else sname
    prefix = f"series {label!r}: " if label is not None else ""
    return result, [prefix + note for note in notes]


def _worker(key, y, h, method, season_length, levels, seed):
    result, notes = _forecast_series(y, h, method, season_length, levels, seed, name=key)
    return key, result, notes


def forecast(y, h: int, *, method: str = "auto", season_length: int | None = None,
             level: Iterable[float] | float = (80, 95), n_jobs: int = 1, seed: int = 0):
    """Forecast a series ``h`` steps ahead with prediction intervals.

    Parameters
    ----------
    y : Series, array-like, or a dict / wide DataFrame of series
        A Series with a regular DatetimeIndex (or PeriodIndex) gives forecasts on the following
        dates; an array gives integer positions. A ``dict`` of Series (see
        :func:`series_from_long`) or a DataFrame with one column per series forecasts each of them.
    h : int
        Number of steps ahead.
    method : str
        One of :data:`METHODS` (see the module docstring); ``"auto"`` (= ``"combination"``) is
        the mean of Theta, seasonally adjusted SES, damped trend, the airline model and ETS.
    season_length : int, optional
        Default: from the date frequency (12 for months, 4 for quarters, 1 without dates).
    level : sequence of float
        Interval levels in percent; columns ``lower_<l>``/``upper_<l>``.
    n_jobs : int
        Processes used for many series (joblib); 1 runs in this process. ``-1`` = every core.
    seed : int
        Seed of the simulated intervals of multiplicative ETS models (the only random step).

    Returns
    -------
    ForecastResult, or dict of ForecastResult keyed like the input for many series.

    Warns
    -----
    ModelFallbackWarning
        When a simpler model replaced the one asked for (constant, very short, intermittent or
        non-positive series; a model that failed to fit), naming the series and the reason.

    Examples
    --------
    >>> y = pd.Series(np.linspace(100, 160, 36) * np.tile([0.9, 1.0, 1.1], 12),
    ...               index=pd.date_range("2022-01-01", periods=36, freq="MS"))
    >>> res = forecast(y, 6, method="snaive")
    >>> res.frame.columns.tolist()
    ['mean', 'lower_80', 'upper_80', 'lower_95', 'upper_95']
    >>> str(res.frame.index[0].date()), res.season_length
    ('2025-01-01', 12)
    """
    h, method, levels = _validate_args(h, method, season_length, level)
    many = isinstance(y, Mapping) or isinstance(y, pd.DataFrame)
    if not many:
        result, notes = _forecast_series(y, h, method, season_length, levels, seed)
        for note in notes:
            warnings.warn(note, ModelFallbackWarning, stacklevel=2)
        return result
    items = list(y.items())
    if n_jobs == 1 or len(items) <= 1:
        outputs = [_worker(k, s, h, method, season_length, levels, seed) for k, s in items]
    else:
        from joblib import Parallel, delayed

        outputs = Parallel(n_jobs=n_jobs)(
            delayed(_worker)(k, s, h, method, season_length, levels, seed) for k, s in items)
    out = {}
    for key, result, notes in outputs:
        for note in notes:
            warnings.warn(note, ModelFallbackWarning, stacklevel=2)
        out[key] = result
    return out
