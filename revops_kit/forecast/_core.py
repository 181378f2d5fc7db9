"""Internals shared by the forecast modules: the method names, argument and series checks, the
future index, and a member's fit (mean and bounds) with the helpers every member uses
(private to :mod:`revops_kit.forecast`)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .result import ForecastInputError

METHODS = ("naive", "snaive", "ses", "damped", "theta", "ets", "arima", "airline", "auto")
_ALIASES = {"combination": "auto", "seasonal_naive": "snaive"}


def _infer_freq(index: pd.DatetimeIndex):
    """``pd.infer_freq`` as an offset (or None), quiet about pandas' string/offset transition."""
    if len(index) < 3:
        return None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*infer_freq.*")
        freq = pd.infer_freq(index)
    return None if freq is None else pd.tseries.frequencies.to_offset(freq)


def _prepare(y, caller: str = "forecast") -> tuple[np.ndarray, pd.Index, object, str | None]:
    """Values, index, frequency (or None) and name of ``y``; raises ForecastInputError."""
    if isinstance(y, pd.DataFrame):
        raise ForecastInputError(f"{caller}: y is a DataFrame; pass a Series, or a dict of Series "
                                 "(see series_from_long) for many series")
    if isinstance(y, pd.Series):
        s = y
    else:
        arr = np.asarray(y, dtype="float64")
        if arr.ndim != 1:
            raise ForecastInputError(f"{caller}: y must be one-dimensional, got shape {arr.shape}")
        s = pd.Series(arr)
    name = s.name if isinstance(s.name, str) else None
    if isinstance(s.index, pd.PeriodIndex):
        s = s.copy()
        s.index = s.index.to_timestamp()
    if len(s) == 0:
        raise ForecastInputError(f"{caller}: the series{' ' + name if name else ''} is empty")
    try:
        values = s.to_numpy(dtype="float64")
    except (TypeError, ValueError):
        raise ForecastInputError(f"{caller}: y must be numeric, got dtype {s.dtype}") from None
    bad = ~np.isfinite(values)
    if bad.any():
        where = [str(v.date()) if isinstance(v, pd.Timestamp) else str(v) for v in s.index[bad][:5]]
        raise ForecastInputError(
            f"{caller}: y{' ' + repr(name) if name else ''} has {int(bad.sum())} missing or infinite "
            f"value(s) at {', '.join(where)}; fill or drop them first")
    freq = None
    index = s.index
    if isinstance(index, pd.DatetimeIndex):
        if not index.is_monotonic_increasing or index.has_duplicates:
            raise ForecastInputError(f"{caller}: the dates of y must be increasing and unique")
        freq = index.freq or _infer_freq(index)
        if freq is None and len(index) >= 3:
            raise ForecastInputError(
                f"{caller}: cannot infer a regular frequency from the dates of y (gaps or irregular "
                f"spacing between {index[0].date()} and {index[-1].date()}); reindex to a regular "
                "spine (e.g. month starts) first")
        if freq is None and len(index) == 2:
            freq = pd.tseries.frequencies.to_offset(index[1] - index[0])
    return values, index, freq, name


def _future_index(index: pd.Index, freq, h: int) -> pd.Index:
    if isinstance(index, pd.DatetimeIndex) and freq is not None:
        out = pd.date_range(index[-1], periods=h + 1, freq=freq)[1:]
        return out.rename(index.name or "date")
    if isinstance(index, pd.DatetimeIndex):  # one date only: cannot know the step
        return pd.RangeIndex(1, h + 1, name="step")
    if pd.api.types.is_integer_dtype(index) and len(index):
        last = int(index[-1])
        return pd.RangeIndex(last + 1, last + 1 + h, name=index.name)
    return pd.RangeIndex(len(index), len(index) + h, name=index.name)


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 200.0))


class _Fit:
    """A member's forecast: mean and bounds per level (numpy arrays of length h)."""

    def __init__(self, mean, lower: dict, upper: dict, label: str, seasonal: bool = False):
        self.mean = np.asarray(mean, dtype="float64")
        self.lower = {k: np.asarray(v, dtype="float64") for k, v in lower.items()}
        self.upper = {k: np.asarray(v, dtype="float64") for k, v in upper.items()}
        self.label = label
        self.seasonal = seasonal

    def finite(self) -> bool:
        arrays = [self.mean] + list(self.lower.values()) + list(self.upper.values())
        return all(np.all(np.isfinite(a)) for a in arrays)


def _normal_fit(mean, sd, levels, label, seasonal=False) -> _Fit:
    mean = np.asarray(mean, dtype="float64")
    sd = np.asarray(sd, dtype="float64")
    lower = {lev: mean - _z(lev) * sd for lev in levels}
    upper = {lev: mean + _z(lev) * sd for lev in levels}
    return _Fit(mean, lower, upper, label, seasonal)


class _quiet(warnings.catch_warnings):
    """Silence statsmodels' convergence chatter inside a fit (our own warnings are raised outside)."""

    def __init__(self):
        super().__init__(record=True)

    def __enter__(self):
        log = super().__enter__()
        warnings.simplefilter("ignore")
        return log


def _single_threaded_blas():
    """One BLAS thread while fitting: statsmodels' small matrices run 10-100x slower when a
    multi-threaded BLAS competes for the cores (parallelism belongs to ``n_jobs``)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _validate_args(h, method, season_length, level, caller="forecast"):
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
        raise ForecastInputError(f"{caller}: h must be a positive integer, got {h!r}")
    method = _ALIASES.get(method, method)
    if method not in METHODS:
        raise ForecastInputError(f"{caller}: method must be one of {METHODS} (or 'combination'), "
                                 f"got {method!r}")
    if season_length is not None and (isinstance(season_length, bool)
                                      or not isinstance(season_length, (int, np.integer))
                                      or season_length < 1):
        raise ForecastInputError(f"{caller}: season_length must be a positive integer or None, "
                                 f"got {season_length!r}")
    levels = (level,) if isinstance(level, (int, float, np.number)) else tuple(level)
    if not levels or any(not 0 < float(v) < 100 for v in levels):
        raise ForecastInputError(f"{caller}: level must be percentages strictly between 0 and 100, "
                                 f"got {level!r}")
    levels = tuple(int(v) if float(v).is_integer() else float(v) for v in levels)
    return int(h), method, levels
