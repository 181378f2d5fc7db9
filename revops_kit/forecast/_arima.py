"""The ARIMA family on statsmodels' SARIMAX: the airline model and a small automatic order search."""

from __future__ import annotations

import numpy as np

from ._core import _Fit, _quiet
from .seasonality import seasonality_test


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
