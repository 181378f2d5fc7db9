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
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ModelFallbackWarning, RevOpsError

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

METHODS = ("naive", "snaive", "ses", "damped", "theta", "ets", "arima", "airline", "auto")
#: Members of ``method="auto"`` (mean of their forecasts and of their interval bounds).
AUTO_MEMBERS = ("theta", "ses", "damped", "airline", "ets")
_ALIASES = {"combination": "auto", "seasonal_naive": "snaive"}
#: Fewer observations than this give the naive forecast (with a warning).
MIN_OBS = 4
#: Share of zeros from which a series is treated as intermittent (``ses`` on the raw data).
ZERO_HEAVY_SHARE = 0.5
_SEASON_BY_FREQ = {"M": 12, "Q": 4, "W": 52, "D": 7, "B": 5, "H": 24, "h": 24, "A": 1, "Y": 1}


def _infer_freq(index: pd.DatetimeIndex):
    """``pd.infer_freq`` as an offset (or None), quiet about pandas' string/offset transition."""
    if len(index) < 3:
        return None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*infer_freq.*")
        freq = pd.infer_freq(index)
    return None if freq is None else pd.tseries.frequencies.to_offset(freq)


class ForecastInputError(RevOpsError, ValueError):
    """The series given to :func:`forecast` cannot be forecast (empty, gaps, NaN, bad ``h``)."""


# =============================================================================== result
@dataclass(frozen=True)
class ForecastResult:
    """A forecast with prediction intervals (immutable).

    Attributes
    ----------
    frame : DataFrame
        ``mean``, then ``lower_<l>`` and ``upper_<l>`` for every level ``l``, indexed by the future
        dates (continuing the input's frequency) or by integer positions for an input without
        dates. A fresh copy on every access.
    method : str
        The method asked for.
    model : str
        What was actually fitted (e.g. ``"auto: theta + ses + damped + airline"``).
    members : tuple of str
        Members of a combination (one element otherwise).
    season_length : int
        Season length used (1 = non-seasonal).
    seasonal : bool
        Whether the seasonality test passed and the data were seasonally adjusted.
    n_obs : int
        Length of the history.
    levels : tuple of int
        Interval levels in percent.
    fallbacks : tuple of str
        What was replaced by a simpler model, and why (also emitted as warnings).
    history : Series
        The series the model was fitted on (a copy).
    cpu_seconds : float
        CPU time the fit took (in the process that ran it).
    """

    _frame: pd.DataFrame = field(repr=False)
    method: str
    model: str
    members: tuple[str, ...]
    season_length: int
    seasonal: bool
    n_obs: int
    levels: tuple[int, ...]
    fallbacks: tuple[str, ...] = ()
    _history: pd.Series | None = field(default=None, repr=False)
    cpu_seconds: float = field(default=float("nan"), repr=False, compare=False)

    @property
    def frame(self) -> pd.DataFrame:
        return self._frame.copy()

    @property
    def history(self) -> pd.Series | None:
        return None if self._history is None else self._history.copy()

    @property
    def mean(self) -> pd.Series:
        """The point forecast (a copy)."""
        return self._frame["mean"].copy()

    @property
    def h(self) -> int:
        return len(self._frame)

    def summary(self) -> pd.DataFrame:
        """What was fitted and the forecast at a glance, as a two-column table (item, value)."""
        f = self._frame
        rows = [
            ("method", self.method),
            ("model", self.model),
            ("members", ", ".join(self.members)),
            ("observations", self.n_obs),
            ("season length", self.season_length),
            ("seasonally adjusted", self.seasonal),
            ("horizon", len(f)),
            ("first forecast", f"{_label(f.index[0])}: {f['mean'].iloc[0]:,.2f}"),
            ("last forecast", f"{_label(f.index[-1])}: {f['mean'].iloc[-1]:,.2f}"),
            ("total of the mean forecast", f"{f['mean'].sum():,.2f}"),
        ]
        for lev in self.levels:
            rows.append((f"{lev}% interval at the last step",
                         f"{f[f'lower_{lev}'].iloc[-1]:,.2f} .. {f[f'upper_{lev}'].iloc[-1]:,.2f}"))
        rows.append(("fallbacks", "; ".join(self.fallbacks) or "none"))
        return pd.DataFrame(rows, columns=["item", "value"]).astype({"value": object})

    def __repr__(self) -> str:
        return (f"ForecastResult(method={self.method!r}, model={self.model!r}, h={len(self._frame)}, "
                f"n_obs={self.n_obs}, fallbacks={len(self.fallbacks)})")


# =============================================================================== helpers
def _label(step) -> str:
    return str(step.date()) if isinstance(step, pd.Timestamp) else str(step)


def season_length_for(index_or_freq) -> int:
    """Season length implied by a date index's (or an offset's) frequency: monthly 12, quarterly 4,
    weekly 52, daily 7, business-daily 5, hourly 24, yearly or unknown 1.

    >>> season_length_for(pd.date_range("2024-01-01", periods=6, freq="MS"))
    12
    >>> season_length_for("QS-JAN"), season_length_for(None)
    (4, 1)
    """
    freq = index_or_freq
    if isinstance(freq, pd.Index):
        if not isinstance(freq, pd.DatetimeIndex):
            return 1
        freq = freq.freq or _infer_freq(freq)
    if freq is None:
        return 1
    code = freq if isinstance(freq, str) else freq.freqstr
    code = code.split("-")[0].lstrip("0123456789")
    for prefix in ("QS", "Q", "MS", "ME", "M", "W", "D", "B", "h", "H", "YS", "YE", "Y", "AS", "A"):
        if code.startswith(prefix):
            return _SEASON_BY_FREQ[prefix[0]]
    return 1


def seasonality_test(x, m: int, *, z: float = 1.645) -> bool:
    """M4-benchmark seasonality test: is the lag-``m`` autocorrelation significant (90 %)?

    ``|r_m| > z·√((1 + 2 Σ_{k=1}^{m−1} r_k²) / n)``; False when ``m <= 1`` or ``n < 3m``.

    >>> seasonality_test(np.tile([1.0, 5.0, 3.0, 2.0], 6), 4)
    True
    >>> seasonality_test(np.arange(24.0), 4)
    False
    """
    x = np.asarray(x, dtype="float64")
    n = len(x)
    if m <= 1 or n < 3 * m:
        return False
    d = x - x.mean()
    denom = float(np.dot(d, d))
    if denom == 0:
        return False
    r = np.array([np.dot(d[k:], d[:n - k]) / denom for k in range(1, m + 1)])
    limit = z * np.sqrt((1 + 2 * np.sum(r[:-1] ** 2)) / n)
    return bool(abs(r[-1]) > limit)


def seasonal_indices(x, m: int, *, multiplicative: bool = True) -> np.ndarray:
    """Classical seasonal indices of positions ``0..m-1`` (position ``i`` = ``x[i], x[i+m], ...``).

    Trend = centred moving average (2×m for even m); the index of a position is the median of
    ``x / trend`` (``x − trend`` when additive) at that position, normalised to mean 1 (sum 0).

    >>> np.round(seasonal_indices(np.tile([10.0, 20.0], 4), 2), 3).tolist()
    [0.667, 1.333]
    """
    x = np.asarray(x, dtype="float64")
    n = len(x)
    if m % 2 == 0:
        w = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        w = np.ones(m) / m
    half = len(w) // 2
    trend = np.full(n, np.nan)
    trend[half:n - half] = np.convolve(x, w, mode="valid")
    ratio = x / trend if multiplicative else x - trend
    idx = np.array([np.nanmedian(ratio[i::m]) for i in range(m)])
    if multiplicative:
        return idx / idx.mean()
    return idx - idx.mean()


def series_from_long(frame: pd.DataFrame, *, id_col: str = "series_id", date_col: str = "date",
                     value_col: str = "value") -> dict[str, pd.Series]:
    """Split a long table (``series_id, date, value``) into a dict of date-indexed Series.

    Dates are parsed; each series is sorted by date and given the frequency its dates imply.
    Raises :class:`ForecastInputError` naming a missing column or a duplicated (series, date).
    """
    missing = [c for c in (id_col, date_col, value_col) if c not in frame.columns]
    if missing:
        raise ForecastInputError(f"series table: missing column(s) {missing}; expected "
                                 f"{id_col}, {date_col}, {value_col} (got {list(frame.columns)})")
    dates = pd.to_datetime(frame[date_col])
    values = pd.to_numeric(frame[value_col], errors="coerce").astype("float64")
    tmp = pd.DataFrame({"id": frame[id_col].astype(str), "date": dates, "value": values})
    dup = tmp.duplicated(["id", "date"])
    if dup.any():
        first = tmp[dup].iloc[0]
        raise ForecastInputError(f"series table: {int(dup.sum())} duplicated ({id_col}, {date_col}) "
                                 f"row(s), e.g. {first['id']} {first['date'].date()}")
    out = {}
    for key, g in tmp.groupby("id", sort=False):
        s = g.set_index("date")["value"].sort_index()
        s.index.name = date_col
        s.name = key
        freq = _infer_freq(s.index)
        if freq is not None:
            s = s.asfreq(freq)
        out[key] = s
    return out


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


# =============================================================================== members
def _naive(x, h, m, levels) -> _Fit:
    n = len(x)
    d = np.diff(x)
    sd = float(np.sqrt(np.mean(d ** 2))) if len(d) else np.nan
    return _normal_fit(np.repeat(x[-1], h), sd * np.sqrt(np.arange(1, h + 1)), levels, "naive")


def _snaive(x, h, m, levels) -> _Fit:
    n = len(x)
    if m <= 1 or n < m:
        return _naive(x, h, m, levels)
    mean = np.array([x[n - m + (i % m)] for i in range(h)])
    d = x[m:] - x[:-m]
    sd = float(np.sqrt(np.mean(d ** 2))) if len(d) else np.nan
    k = np.arange(h) // m + 1
    return _normal_fit(mean, sd * np.sqrt(k), levels, "snaive")


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


def _theta(x, h, m, levels, cache) -> _Fit:
    """Standard Theta (Hyndman & Billah 2003): SES plus half the slope of a linear trend,
    ŷ_{n+k} = SES_{n+k} + (b/2)·(k − 1 + (1 − (1 − α)^n)/α), on the seasonally adjusted data.

    Its prediction variance is that of SES (ARIMA(0,1,1) with a deterministic drift), so the
    bounds are the SES bounds shifted by the drift term. (statsmodels' ``ThetaModel`` is not used:
    its intervals take σ² from a fit on the unadjusted data and grow with (1 + (α−1)²) instead of
    α², which makes them several times too wide on seasonal data.)
    """
    z, future, seasonal, mult = _adjust(x, h, m, cache)
    n = len(z)
    fit, alpha = _ses_fit(z, h, levels, cache)
    slope = float(np.polyfit(np.arange(n, dtype="float64"), z, 1)[0])
    growth = float(n) if alpha < 1e-8 else (1 - (1 - alpha) ** n) / alpha
    drift = slope / 2 * (np.arange(h) + growth)
    fit = _Fit(fit.mean + drift, {k: v + drift for k, v in fit.lower.items()},
               {k: v + drift for k, v in fit.upper.items()}, "theta")
    return _reseason(fit, future, mult) if seasonal else fit


def _sarimax_fit(x, h, levels, order, seasonal_order, log: bool):
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    data = np.log(x) if log else x
    with _quiet():
        # concentrating the scale out of the likelihood fits 2-3x faster, same forecasts
        res = SARIMAX(data, order=order, seasonal_order=seasonal_order,
                      concentrate_scale=True).fit(disp=False)
        fc = res.get_forecast(h)
        mean = np.asarray(fc.predicted_mean, dtype="float64")
        lower, upper = {}, {}
        for lev in levels:
            ci = np.asarray(fc.conf_int(alpha=1 - lev / 100), dtype="float64")
            lower[lev], upper[lev] = ci[:, 0], ci[:, 1]
    if log:
        mean = np.exp(mean)
        lower = {k: np.exp(v) for k, v in lower.items()}
        upper = {k: np.exp(v) for k, v in upper.items()}
    return res, mean, lower, upper


def _airline(x, h, m, levels, cache) -> _Fit:
    log = bool(np.all(x > 0))
    seasonal = m > 1 and len(x) >= 3 * m  # three seasons, as for the seasonality test
    sorder = (0, 1, 1, m) if seasonal else (0, 0, 0, 0)
    _, mean, lower, upper = _sarimax_fit(x, h, levels, (0, 1, 1), sorder, log)
    return _Fit(mean, lower, upper, "airline" if seasonal else "arima(0,1,1)", seasonal)


def _arima(x, h, m, levels, cache) -> _Fit:
    log = bool(np.all(x > 0))
    data = np.log(x) if log else x
    seasonal = seasonality_test(data, m) and len(x) >= 3 * m
    orders = [(0, 1, 1), (1, 1, 0), (1, 1, 1)]
    sorders = [(0, 1, 1, m), (1, 1, 0, m)] if seasonal else [(0, 0, 0, 0)]
    best = None
    for order in orders:
        for sorder in sorders:
            try:
                res, mean, lower, upper = _sarimax_fit(x, h, levels, order, sorder, log)
            except Exception:  # noqa: BLE001 - a candidate that cannot be fitted is skipped
                continue
            aicc = getattr(res, "aicc", np.inf)
            if not np.isfinite(aicc) or not np.all(np.isfinite(mean)):
                continue
            if best is None or aicc < best[0]:
                best = (aicc, order, sorder, mean, lower, upper)
    if best is None:
        raise RuntimeError("no ARIMA candidate could be fitted")
    _, order, sorder, mean, lower, upper = best
    label = f"arima{order}" + (f"({sorder[0]},{sorder[1]},{sorder[2]}){m}" if seasonal else "")
    return _Fit(mean, lower, upper, label, seasonal)


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
