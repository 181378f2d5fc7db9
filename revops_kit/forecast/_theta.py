"""The Theta method (SES with drift, Hyndman & Billah 2003) on seasonally adjusted data."""

from __future__ import annotations

import numpy as np

from ._core import _Fit
from ._smoothing import _adjust, _reseason, _ses_fit


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
