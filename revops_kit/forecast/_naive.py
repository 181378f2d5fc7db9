"""The benchmark family: naive (last value) and seasonal naive, intervals from the in-sample
(seasonal) differences."""

from __future__ import annotations

import numpy as np

from ._core import _Fit, _normal_fit


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
