"""Seasons: the season length a date frequency implies, the M4-benchmark seasonality test and
classical seasonal indices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._core import _infer_freq

__all__ = ["season_length_for", "seasonality_test", "seasonal_indices"]


_SEASON_BY_FREQ = {"M": 12, "Q": 4, "W": 52, "D": 7, "B": 5, "H": 24, "h": 24, "A": 1, "Y": 1}


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
