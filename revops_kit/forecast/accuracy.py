"""Forecast accuracy metrics.

Every function takes ``actual`` and ``forecast`` (array-likes or Series of the same length; NaN
pairs are dropped, and the number dropped is not silent: a pair with exactly one NaN raises) and
returns a float. ``*_error`` style metrics are lower-is-better; :func:`coverage` is a fraction.

Zero actuals are handled explicitly, metric by metric:

* :func:`mape` leaves out points whose actual is 0 (it is undefined there) and warns how many;
  with no non-zero actual it is NaN.
* :func:`smape` scores a point where actual and forecast are both 0 as 0 (a perfect forecast),
  and a point where only one of them is 0 as 200.
* :func:`wape` and :func:`mase` are NaN (with a :class:`~revops_kit.errors.ZeroDenominatorWarning`)
  when their denominator — Σ|actual|, the in-sample seasonal-naive MAE — is 0.

>>> a, f = [100.0, 200.0, 0.0], [110.0, 180.0, 0.0]
>>> mae(a, f), round(rmse(a, f), 3), round(smape(a, f), 3), round(wape(a, f), 4), bias(a, f)
(10.0, 12.91, 6.683, 0.1, -3.3333333333333335)
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._common import safe_divide
from ..errors import RevOpsError, ZeroDenominatorWarning

__all__ = ["mae", "rmse", "mape", "smape", "wape", "mase", "bias", "relative_bias", "coverage",
           "accuracy_table", "seasonal_naive_mae"]


def _pair(actual, forecast, what: str) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(actual, dtype="float64").ravel()
    f = np.asarray(forecast, dtype="float64").ravel()
    if a.shape != f.shape:
        raise RevOpsError(f"{what}: actual and forecast must have the same length, got {len(a)} and {len(f)}")
    na_a, na_f = np.isnan(a), np.isnan(f)
    if np.any(na_a != na_f):
        raise RevOpsError(f"{what}: {int(np.sum(na_a != na_f))} point(s) have an actual or a forecast "
                          "but not both")
    keep = ~na_a
    return a[keep], f[keep]


def mae(actual, forecast) -> float:
    """Mean absolute error: MAE = mean |y − f|."""
    a, f = _pair(actual, forecast, "mae")
    return float(np.mean(np.abs(a - f))) if len(a) else np.nan


def rmse(actual, forecast) -> float:
    """Root mean squared error: RMSE = √(mean (y − f)²)."""
    a, f = _pair(actual, forecast, "rmse")
    return float(np.sqrt(np.mean((a - f) ** 2))) if len(a) else np.nan


def mape(actual, forecast) -> float:
    """Mean absolute percentage error, in percent: MAPE = mean 100·|y − f| / |y| over y ≠ 0.

    Points with ``y = 0`` are left out (the ratio is undefined) and a
    :class:`~revops_kit.errors.ZeroDenominatorWarning` says how many; NaN when every actual is 0.
    """
    a, f = _pair(actual, forecast, "mape")
    zero = a == 0
    if zero.any():
        warnings.warn(f"mape: {int(zero.sum())} of {len(a)} actual(s) are 0 and were left out",
                      ZeroDenominatorWarning, stacklevel=2)
    if zero.all():
        return np.nan
    return float(np.mean(100 * np.abs(a[~zero] - f[~zero]) / np.abs(a[~zero])))


def smape(actual, forecast) -> float:
    """Symmetric MAPE in percent (M3/M4 definition): sMAPE = mean 200·|y − f| / (|y| + |f|).

    Ranges 0..200. A point with ``y = f = 0`` scores 0 (exact); ``y = 0 ≠ f`` scores 200.

    >>> smape([100.0], [50.0])
    66.66666666666667
    """
    a, f = _pair(actual, forecast, "smape")
    if not len(a):
        return np.nan
    den = np.abs(a) + np.abs(f)
    both_zero = den == 0
    terms = np.where(both_zero, 0.0, 200 * np.abs(a - f) / np.where(both_zero, 1.0, den))
    return float(np.mean(terms))


def wape(actual, forecast) -> float:
    """Weighted absolute percentage error (a fraction): WAPE = Σ|y − f| / Σ|y|.

    Pooled over many series it weights each by its size. Σ|y| = 0 gives NaN and a warning.
    """
    a, f = _pair(actual, forecast, "wape")
    return safe_divide(np.sum(np.abs(a - f)), np.sum(np.abs(a)), what="wape")


def seasonal_naive_mae(insample, season_length: int = 1) -> float:
    """In-sample MAE of the seasonal naive forecast: mean |y_t − y_{t−m}| (m = 1: naive)."""
    x = np.asarray(insample, dtype="float64")
    m = max(int(season_length), 1)
    if len(x) <= m:
        m = 1
    if len(x) <= m:
        return np.nan
    return float(np.mean(np.abs(x[m:] - x[:-m])))


def mase(actual, forecast, *, insample, season_length: int = 1) -> float:
    """Mean absolute scaled error: MASE = MAE / (in-sample seasonal-naive MAE).

    The scale is mean |y_t − y_{t−m}| over the training data (Hyndman & Koehler 2006); with
    fewer than ``m + 1`` training points the non-seasonal naive scale is used. A flat training
    series (scale 0) gives NaN and a warning. MASE < 1 beats the in-sample seasonal naive.

    >>> mase([12.0, 14.0], [11.0, 15.0], insample=[10.0, 12.0, 11.0, 13.0], season_length=1)
    0.6
    """
    scale = seasonal_naive_mae(insample, season_length)
    return safe_divide(mae(actual, forecast), scale, what="mase (in-sample seasonal-naive MAE)")


def bias(actual, forecast) -> float:
    """Mean error, forecast minus actual: bias = mean (f − y). Positive = over-forecast."""
    a, f = _pair(actual, forecast, "bias")
    return float(np.mean(f - a)) if len(a) else np.nan


def relative_bias(actual, forecast) -> float:
    """Bias relative to the actuals: Σ(f − y) / Σy (a fraction; positive = over-forecast)."""
    a, f = _pair(actual, forecast, "relative_bias")
    return safe_divide(np.sum(f - a), np.sum(a), what="relative_bias")


def coverage(actual, lower, upper) -> float:
    """Interval coverage: share of actuals inside ``[lower, upper]`` (compare with the level).

    >>> coverage([1.0, 5.0, 9.0], [0.0, 0.0, 0.0], [4.0, 6.0, 8.0])
    0.6666666666666666
    """
    a = np.asarray(actual, dtype="float64").ravel()
    lo = np.asarray(lower, dtype="float64").ravel()
    hi = np.asarray(upper, dtype="float64").ravel()
    if not (a.shape == lo.shape == hi.shape):
        raise RevOpsError(f"coverage: actual, lower and upper must have the same length, got "
                          f"{len(a)}, {len(lo)}, {len(hi)}")
    keep = ~(np.isnan(a) | np.isnan(lo) | np.isnan(hi))
    if not keep.any():
        return np.nan
    return float(np.mean((a[keep] >= lo[keep]) & (a[keep] <= hi[keep])))


def accuracy_table(actual, forecast, *, insample=None, season_length: int = 1,
                   intervals: dict | None = None) -> pd.Series:
    """Every metric at once: ``mae, rmse, mape, smape, wape, mase, bias, relative_bias`` and
    ``coverage_<l>`` for each ``intervals = {level: (lower, upper)}``.

    ``mase`` needs ``insample`` (NaN without it); zero-actual warnings of ``mape``/``wape`` are
    not repeated here (the value is NaN or computed as documented).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZeroDenominatorWarning)
        out = {
            "mae": mae(actual, forecast), "rmse": rmse(actual, forecast),
            "mape": mape(actual, forecast), "smape": smape(actual, forecast),
            "wape": wape(actual, forecast),
            "mase": mase(actual, forecast, insample=insample, season_length=season_length)
            if insample is not None else np.nan,
            "bias": bias(actual, forecast), "relative_bias": relative_bias(actual, forecast),
        }
    for lev, (lo, hi) in (intervals or {}).items():
        out[f"coverage_{lev}"] = coverage(actual, lo, hi)
    return pd.Series(out, dtype="float64")
