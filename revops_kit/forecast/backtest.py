"""Rolling-origin backtests, error by horizon, and hold-out evaluation of many series.

A **rolling-origin backtest** refits the model at several forecast origins and compares each
forecast with what happened: with ``windows=3, step=1, h=6`` the last origin leaves the final 6
points out, the one before it 7 (its forecast covers points n−7 .. n−2), and so on. Every
forecast step is scored against its actual, so error can be read **by horizon** (how much worse is
the 6-month-ahead forecast than the 1-month-ahead one) — the honest answer to "how much should we
trust this forecast".

The function is :func:`backtest` (``rk.backtest_series(y, h, ...)``); ``rk.forecast.backtest`` and
``import revops_kit.forecast.backtest`` are this module.

A **hold-out evaluation** (:func:`evaluate_holdout`, used by ``revops forecast evaluate`` and the
M3 benchmark) holds out the last ``h`` points of every series of a collection, forecasts them with
each method, and reports per method the mean sMAPE, mean MASE, pooled WAPE, interval coverage
and wall time.
"""

from __future__ import annotations

import time
import warnings
from typing import Iterable, Mapping, NamedTuple

import numpy as np
import pandas as pd

from ..errors import ModelFallbackWarning
from .accuracy import seasonal_naive_mae, smape
from ._core import _ALIASES, _prepare, _validate_args
from .models import MIN_OBS, ForecastInputError, forecast, season_length_for, series_from_long

__all__ = ["backtest", "error_by_horizon", "backtest_summary", "evaluate_holdout", "HoldoutResult"]


def _methods(method) -> list[str]:
    items = [method] if isinstance(method, str) else list(method)
    if not items:
        raise ForecastInputError("backtest: give at least one method")
    return [_ALIASES.get(m, m) for m in items]


def backtest(y, h: int, *, method: str | Iterable[str] = "auto", windows: int = 3, step: int = 1,
             season_length: int | None = None, level=(80, 95), n_jobs: int = 1,
             seed: int = 0) -> pd.DataFrame:
    """Rolling-origin backtest of one series.

    Parameters
    ----------
    y : Series or array-like
        The history (see :func:`~revops_kit.forecast.models.forecast`).
    h : int
        Forecast horizon at each origin.
    method : str or list of str
        One or several methods (each is backtested at the same origins).
    windows : int
        Number of forecast origins.
    step : int
        Points between consecutive origins. The last origin leaves out exactly the final ``h``
        points; origin ``k`` from the end leaves out ``h + k·step``.
    season_length, level, n_jobs, seed
        As in :func:`~revops_kit.forecast.models.forecast`; ``n_jobs`` runs origins in parallel.

    Returns
    -------
    DataFrame
        One row per method × origin × step: ``method, origin`` (last date used for fitting),
        ``step`` (1..h), ``date``, ``actual``, ``mean``, the interval bounds, ``error``
        (mean − actual) and ``scale`` (in-sample seasonal-naive MAE at that origin, for MASE).
        Fallback warnings are emitted once per distinct message.

    Examples
    --------
    >>> y = pd.Series(np.arange(1.0, 25.0), index=pd.date_range("2023-01-01", periods=24, freq="MS"))
    >>> bt = backtest(y, 3, method="naive", windows=2)
    >>> bt[["origin", "step", "actual", "mean"]].head(3).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [[Timestamp('2024-08-01 00:00:00'), 1, 21.0, 20.0], [Timestamp('2024-08-01 00:00:00'), 2, 22.0, 20.0],
     [Timestamp('2024-08-01 00:00:00'), 3, 23.0, 20.0]]
    """
    methods = _methods(method)
    for m in methods:
        h, _, levels = _validate_args(h, m, season_length, level, caller="backtest")
    if int(windows) < 1 or int(step) < 1:
        raise ForecastInputError(f"backtest: windows and step must be positive integers, got "
                                 f"windows={windows!r}, step={step!r}")
    values, index, freq, name = _prepare(y, caller="backtest")
    series = pd.Series(values, index=index, name=name)
    if isinstance(index, pd.DatetimeIndex) and freq is not None:
        series.index = pd.DatetimeIndex(index, freq=freq)
    m = int(season_length) if season_length is not None else season_length_for(freq)
    n = len(values)
    cuts = [n - h - k * int(step) for k in range(int(windows) - 1, -1, -1)]
    cuts = [c for c in cuts if c >= MIN_OBS]
    if not cuts:
        raise ForecastInputError(
            f"backtest: the series has {n} points; a horizon of {h} with {windows} window(s) every "
            f"{step} step(s) leaves fewer than {MIN_OBS} points to fit at every origin")
    tasks = [(meth, c) for meth in methods for c in cuts]

    def run(meth, c):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ModelFallbackWarning)
            res = forecast(series.iloc[:c], h, method=meth, season_length=m, level=levels, seed=seed)
        return meth, c, res, [str(w.message) for w in caught if issubclass(w.category, ModelFallbackWarning)]

    if n_jobs == 1 or len(tasks) == 1:
        outputs = [run(meth, c) for meth, c in tasks]
    else:
        from joblib import Parallel, delayed

        outputs = Parallel(n_jobs=n_jobs)(delayed(run)(meth, c) for meth, c in tasks)
    frames, seen = [], set()
    for meth, c, res, notes in outputs:
        for note in notes:
            if note not in seen:
                seen.add(note)
                warnings.warn(f"backtest {meth}: {note}", ModelFallbackWarning, stacklevel=2)
        f = res.frame.reset_index(drop=True)
        actual = values[c:c + h]
        f.insert(0, "actual", actual)
        f.insert(0, "date", index[c:c + h] if len(index) >= c + h else np.arange(c, c + h))
        f.insert(0, "step", np.arange(1, h + 1))
        f.insert(0, "origin", index[c - 1])
        f.insert(0, "method", meth)
        f["error"] = f["mean"] - f["actual"]
        f["scale"] = seasonal_naive_mae(values[:c], m)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def _scores(g: pd.DataFrame, levels: list[str]) -> dict:
    a, f = g["actual"].to_numpy(), g["mean"].to_numpy()
    abs_err = np.abs(a - f)
    den = np.sum(np.abs(a))
    scale = g["scale"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(scale > 0, abs_err / scale, np.nan)
    out = {
        "n": len(g),
        "mae": float(np.mean(abs_err)),
        "smape": smape(a, f),
        "wape": float(np.sum(abs_err) / den) if den > 0 else np.nan,
        "mase": float(np.nanmean(scaled)) if np.any(np.isfinite(scaled)) else np.nan,
        "bias": float(np.mean(f - a)),
    }
    for lev in levels:
        inside = (a >= g[f"lower_{lev}"].to_numpy()) & (a <= g[f"upper_{lev}"].to_numpy())
        out[f"coverage_{lev}"] = float(np.mean(inside))
    return out


def _levels(bt: pd.DataFrame) -> list[str]:
    return [c[len("lower_"):] for c in bt.columns if c.startswith("lower_")]


def error_by_horizon(bt: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of a :func:`backtest` by method and forecast step.

    Columns: ``method, step, n`` (forecasts scored), ``mae``, ``smape`` (percent), ``wape``
    (fraction, Σ|e|/Σ|y| over the origins), ``mase`` (mean of |e| / in-sample seasonal-naive MAE
    of its origin), ``bias`` (mean forecast − actual) and ``coverage_<l>`` per interval level.
    """
    levels = _levels(bt)
    rows = [{"method": meth, "step": step, **_scores(g, levels)}
            for (meth, step), g in bt.groupby(["method", "step"], sort=False)]
    return pd.DataFrame(rows)


def backtest_summary(bt: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of a :func:`backtest` by method over every origin and step (columns as
    :func:`error_by_horizon`, without ``step``)."""
    levels = _levels(bt)
    rows = [{"method": meth, **_scores(g, levels)} for meth, g in bt.groupby("method", sort=False)]
    return pd.DataFrame(rows)


class HoldoutResult(NamedTuple):
    """``summary``: one row per method; ``detail``: one row per method × series."""

    summary: pd.DataFrame
    detail: pd.DataFrame


def evaluate_holdout(series, h: int, *, methods: Iterable[str] = ("snaive", "auto"),
                     season_length: int | None = None, level=(80, 95), n_jobs: int = 1,
                     seed: int = 0) -> HoldoutResult:
    """Hold out the last ``h`` points of every series and score each method on them.

    Parameters
    ----------
    series : dict of Series, or a long DataFrame ``series_id, date, value``
    h : int
        Points held out (and forecast) per series.
    methods : iterable of str
        Methods to compare (see :data:`~revops_kit.forecast.models.METHODS`).
    season_length : int, optional
        For the models and the MASE scale; default from the dates' frequency.
    n_jobs : int
        Processes for fitting (joblib).

    Returns
    -------
    HoldoutResult
        ``summary`` columns: ``method, series, smape`` (mean over series of each series' sMAPE,
        percent), ``mase`` (mean over series; scale = in-sample seasonal-naive MAE of the
        training part), ``wape`` (pooled: Σ|y − f| / Σ|y| over every series and point),
        ``coverage_<l>``, ``fallbacks`` (series where a simpler model was used), ``seconds``
        (wall time to fit and forecast every series, including starting the worker processes)
        and ``cpu_seconds`` (CPU time of the fits summed over series: what the wall time would be
        on one idle core, without process start-up). ``detail``: ``method, series_id, n_train,
        smape, mase, abs_error, abs_actual, model``.

    Raises
    ------
    ForecastInputError
        When a series has no more than ``h`` points (naming it).
    """
    if isinstance(series, pd.DataFrame):
        series = series_from_long(series)
    methods = _methods(methods)
    for meth in methods:
        h, _, levels = _validate_args(h, meth, season_length, level, caller="evaluate_holdout")
    short = [k for k, s in series.items() if len(s) <= h + 1]
    if short:
        raise ForecastInputError(f"evaluate_holdout: {len(short)} series have no more than h + 1 = "
                                 f"{h + 1} points (e.g. {short[:3]}); nothing would be left to fit")
    train = {k: s.iloc[:-h] for k, s in series.items()}
    test = {k: s.iloc[-h:].to_numpy(dtype="float64") for k, s in series.items()}
    summary, detail = [], []
    for meth in methods:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ModelFallbackWarning)
            start = time.perf_counter()
            results = forecast(train, h, method=meth, season_length=season_length, level=levels,
                               n_jobs=n_jobs, seed=seed)
            seconds = time.perf_counter() - start
        fallback_series = sorted(k for k, res in results.items() if res.fallbacks)
        rows, inside = [], {lev: [] for lev in levels}
        for key, res in results.items():
            a = test[key]
            fr = res.frame
            f = fr["mean"].to_numpy()
            scale = seasonal_naive_mae(train[key].to_numpy(dtype="float64"), res.season_length)
            err = np.abs(a - f)
            rows.append({"method": meth, "series_id": key, "n_train": res.n_obs,
                         "smape": smape(a, f),
                         "mase": float(np.mean(err) / scale) if scale > 0 else np.nan,
                         "abs_error": float(err.sum()), "abs_actual": float(np.abs(a).sum()),
                         "model": res.model})
            for lev in levels:
                inside[lev].append((a >= fr[f"lower_{lev}"].to_numpy()) & (a <= fr[f"upper_{lev}"].to_numpy()))
        d = pd.DataFrame(rows)
        detail.append(d)
        row = {"method": meth, "series": len(d), "smape": float(d["smape"].mean()),
               "mase": float(d["mase"].mean()),
               "wape": float(d["abs_error"].sum() / d["abs_actual"].sum()) if d["abs_actual"].sum() > 0 else np.nan}
        for lev in levels:
            row[f"coverage_{lev}"] = float(np.mean(np.concatenate(inside[lev])))
        row["fallbacks"] = len(fallback_series)
        row["seconds"] = seconds
        row["cpu_seconds"] = float(sum(res.cpu_seconds for res in results.values()))
        summary.append(row)
        if fallback_series:
            warnings.warn(f"evaluate_holdout {meth}: a simpler model was used for "
                          f"{len(fallback_series)} series (e.g. {fallback_series[:3]}): "
                          f"{results[fallback_series[0]].fallbacks[0]}",
                          ModelFallbackWarning, stacklevel=2)
    return HoldoutResult(pd.DataFrame(summary), pd.concat(detail, ignore_index=True))
