"""Forecast figures: fan charts, forecast vs actual, error by horizon, calibration, submissions."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ._core import PALETTE, money_axis, nothing_to_plot, percent_axis, plain_text

__all__ = ["fan_chart", "revenue_fan_charts", "forecast_vs_actual_chart", "year_ago_charts",
           "error_by_horizon_chart", "calibration_chart", "forecast_comparison_chart",
           "submission_accuracy_chart"]

_LABEL = {"mrr": "MRR", "arr": "ARR", "bookings": "Bookings"}

_BAND_ALPHA = {80: 0.35, 95: 0.18}


def _note(obj, title: str, columns=None, what: str = "every value"):
    """A :class:`ChartNote` when ``obj`` is a ``note`` frame (a section without its data), empty,
    or all 0 / unknown (in ``columns``, default every numeric column)."""
    return nothing_to_plot(obj, columns, title=title, what=what)


def _levels(frame: pd.DataFrame) -> list:
    levels = [c[len("lower_"):] for c in frame.columns if c.startswith("lower_")]
    return sorted(levels, key=lambda v: -float(v))  # widest band first


def _bands(ax, frame: pd.DataFrame, color: str) -> None:
    for lev in _levels(frame):
        alpha = _BAND_ALPHA.get(int(float(lev)), 0.25)
        ax.fill_between(frame.index, frame[f"lower_{lev}"], frame[f"upper_{lev}"], color=color,
                        alpha=alpha, linewidth=0, label=f"{lev}% interval")


def fan_chart(result, *, title: str, ylabel: str, history: pd.Series | None = None,
              history_points: int | None = 24, money: bool = True, ax=None):
    """History (last ``history_points``) and the forecast mean with its interval bands.

    ``result`` is a :class:`~revops_kit.forecast.ForecastResult`; ``history`` defaults to the
    series it was fitted on. ``ylabel`` should carry the unit (e.g. ``"MRR (USD)"``).
    """
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    frame = result.frame
    hist = result.history if history is None else history
    if hist is not None and history_points:
        hist = hist.iloc[-int(history_points):]
    if hist is not None:
        ax.plot(hist.index, hist.to_numpy(), color=PALETTE[0], marker="o", markersize=3, label="actual")
    _bands(ax, frame, PALETTE[1])
    mean = frame["mean"]
    if hist is not None and len(hist):
        joined = pd.concat([hist.iloc[-1:], mean])  # connect the last actual to the forecast
        ax.plot(joined.index, joined.to_numpy(), color=PALETTE[1], linestyle="--", linewidth=1.8,
                label=f"forecast ({plain_text(result.method)})")
    else:
        ax.plot(mean.index, mean.to_numpy(), color=PALETTE[1], linestyle="--", linewidth=1.8,
                label=f"forecast ({plain_text(result.method)})")
    ax.set_title(plain_text(title))
    ax.set_xlabel("Month")
    ax.set_ylabel(ylabel)
    if money:
        money_axis(ax)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def revenue_fan_charts(results, *, title: str, currency: str = "USD", history_points: int = 24):
    """Fan charts of MRR, ARR and bookings one above the other (``results`` from
    :func:`revops_kit.forecast.revenue_forecasts`)."""
    fig = _note(results, title)
    if fig is not None:
        return fig
    names = [n for n in ("mrr", "arr", "bookings") if n in results] or list(results)
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 3.4 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        label = _LABEL.get(name, name)
        unit = f"{label} per month ({currency})" if name == "bookings" else f"{label} ({currency})"
        fan_chart(results[name], title=f"{label}: actual and forecast", ylabel=unit,
                  history_points=history_points, ax=ax)
    fig.suptitle(plain_text(title), fontweight="bold")
    fig.tight_layout()
    return fig


def year_ago_charts(frames, *, title: str, history: pd.DataFrame | None = None, currency: str = "USD"):
    """The forecast made a year ago against what happened, one panel per series (``frames`` from
    ``ForecastView.year_ago``; ``history`` the monthly series frame for the months before)."""
    fig = _note(frames, title)
    if fig is not None:
        return fig
    names = list(frames)
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 3.4 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        label = _LABEL.get(name, name)
        unit = f"{label} per month ({currency})" if name == "bookings" else f"{label} ({currency})"
        hist = history[name] if history is not None and name in getattr(history, "columns", []) else None
        forecast_vs_actual_chart(frames[name], title=f"{label}: forecast made then vs actual",
                                 ylabel=unit, history=hist, ax=ax)
    fig.suptitle(plain_text(title), fontweight="bold")
    fig.tight_layout()
    return fig


def forecast_vs_actual_chart(frame: pd.DataFrame, *, title: str, ylabel: str,
                             history: pd.Series | None = None, history_points: int = 24,
                             money: bool = True, ax=None):
    """A past forecast (``mean`` and bands, e.g. from :func:`revops_kit.forecast.forecast_from`)
    against the ``actual`` column of the same frame, with the history before it."""
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    if history is not None:
        before = history[history.index < frame.index[0]].iloc[-int(history_points):]
        ax.plot(before.index, before.to_numpy(), color=PALETTE[0], marker="o", markersize=3,
                label="actual before the forecast")
    _bands(ax, frame, PALETTE[1])
    ax.plot(frame.index, frame["mean"].to_numpy(), color=PALETTE[1], linestyle="--", linewidth=1.8,
            label="forecast made then")
    if "actual" in frame.columns:
        ax.plot(frame.index, frame["actual"].to_numpy(), color=PALETTE[3], marker="o", markersize=4,
                label="what happened")
    ax.set_title(plain_text(title))
    ax.set_xlabel("Month")
    ax.set_ylabel(ylabel)
    if money:
        money_axis(ax)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def error_by_horizon_chart(by_horizon: pd.DataFrame, *, title: str, metric: str = "wape",
                           series_col: str | None = None, ax=None):
    """Forecast error by steps ahead (from :func:`revops_kit.forecast.error_by_horizon`), one line
    per method (or per ``series_col``). ``metric``: ``wape`` (fraction, shown as %),
    ``smape`` (percent), ``mase`` (multiple of the seasonal-naive error) or ``mae``."""
    fig = _note(by_horizon, title)
    if fig is not None:
        return fig
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    hue = series_col or "method"
    for i, (key, grp) in enumerate(by_horizon.groupby(hue, sort=False)):
        ax.plot(grp["step"], grp[metric], marker="o", markersize=4, color=PALETTE[i % len(PALETTE)],
                label=plain_text(key))
    labels = {"wape": "WAPE (% of actual)", "smape": "sMAPE (%)",
              "mase": "MASE (× in-sample seasonal-naive error)", "mae": "MAE (reporting currency)"}
    ax.set_ylabel(labels.get(metric, metric))
    ax.set_xlabel("Months ahead")
    if metric == "wape":
        percent_axis(ax)
    ax.set_title(plain_text(title))
    ax.legend(fontsize=8, title=plain_text(hue))
    ax.set_xticks(sorted(by_horizon["step"].unique()))
    fig.tight_layout()
    return fig


def calibration_chart(calibration: pd.DataFrame, *, title: str, ax=None):
    """Predicted win probability against the observed win rate per bin (from
    :func:`revops_kit.forecast.pipeline_calibration`); points on the diagonal are calibrated,
    marker size ∝ opportunities."""
    fig = _note(calibration, title)
    if fig is not None:
        return fig
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5))
    else:
        fig = ax.figure
    c = calibration[calibration["opportunities"] > 0]
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", label="perfect calibration")
    size = 20 + 200 * c["opportunities"] / max(float(c["opportunities"].max()), 1.0)
    ax.scatter(c["mean_predicted"], c["observed_win_rate"], s=size, color=PALETTE[0], zorder=3,
               label="probability bin (size = deals)")
    ax.plot(c["mean_predicted"], c["observed_win_rate"], color=PALETTE[0], linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Predicted P(won by period end) (%)")
    ax.set_ylabel("Observed win rate (%)")
    percent_axis(ax, "x")
    percent_axis(ax, "y")
    ax.set_title(plain_text(title))
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def forecast_comparison_chart(comparison: pd.DataFrame, *, title: str,
                              ylabel: str = "Bookings (USD)", ax=None):
    """Pipeline forecast, commit and best case on each submission date against the period's
    actual bookings (from :func:`revops_kit.forecast.forecast_comparison`)."""
    fig = _note(comparison, title)
    if fig is not None:
        return fig
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 4.5))
    else:
        fig = ax.figure
    c = comparison.sort_values("as_of")
    x = np.arange(len(c))
    series = [("actual", "actual bookings", PALETTE[3], "-"),
              ("pipeline_forecast", "pipeline forecast", PALETTE[0], "--"),
              ("commit", "submitted commit", PALETTE[2], "--"),
              ("best_case", "submitted best case", PALETTE[4], ":")]
    for col, label, color, style in series:
        if col in c.columns:
            ax.plot(x, c[col].to_numpy(), marker="o", markersize=4, linestyle=style, color=color,
                    label=label)
    ax.set_xticks(x)
    ax.set_xticklabels([f"{plain_text(p)}\n{pd.Timestamp(d):%m-%d}" for p, d in zip(c["period"], c["as_of"])],
                       fontsize=8)
    for i in range(1, len(c)):
        if c["period"].iloc[i] != c["period"].iloc[i - 1]:
            ax.axvline(i - 0.5, color="#cccccc", linewidth=1)
    ax.set_xlabel("Period and date the forecast was made")
    ax.set_ylabel(ylabel)
    money_axis(ax)
    ax.set_title(plain_text(title))
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def submission_accuracy_chart(accuracy: pd.DataFrame, *, title: str, group: str = "owner", ax=None):
    """Accuracy (bars) and bias (markers) of submitted forecasts per ``group`` (from
    :func:`revops_kit.forecast.forecast_accuracy` with ``by=group``, or
    ``ForecastView.submissions_by_owner``)."""
    fig = _note(accuracy, title)
    if fig is not None:
        return fig
    col = "value" if "value" in accuracy.columns else "accuracy"
    a = accuracy.sort_values(col, kind="mergesort")
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, max(3.0, 0.38 * len(a) + 1.2)))
    else:
        fig = ax.figure
    y = np.arange(len(a))
    ax.barh(y, a[col].to_numpy(), color=PALETTE[0], alpha=0.85, label="accuracy (1 − WAPE)")
    if "bias" in a.columns:
        ax.scatter(a["bias"].to_numpy(), y, color=PALETTE[3], zorder=3, marker="D", s=25,
                   label="bias (+ = over-forecast)")
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([plain_text(v) for v in a[group]])
    ax.set_xlabel("Accuracy and bias of submitted forecasts (% of actual bookings)")
    ax.set_ylabel(plain_text(group).replace("_", " ").capitalize())
    percent_axis(ax, "x")
    ax.set_title(plain_text(title))
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
