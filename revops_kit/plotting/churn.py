"""Churn figures: calibration (reliability) plot, lift and capture chart, global drivers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ._core import PALETTE, nothing_to_plot, percent_axis, plain_text

__all__ = ["churn_calibration", "churn_lift", "churn_drivers"]

_BASELINE = "baseline"


def _colors(names) -> dict:
    return {n: ("#7f7f7f" if n == _BASELINE else PALETTE[i % len(PALETTE)]) for i, n in enumerate(names)}


def churn_calibration(calibration: pd.DataFrame, *, title: str = "Calibration: predicted vs observed churn",
                      ax=None):
    """Reliability diagram from ``BacktestResult.calibration()`` (stacked, ``model`` column).

    Each point is a bin of customers: mean predicted probability (x) against the share that
    churned (y). Points on the diagonal are well calibrated.
    """
    empty = nothing_to_plot(calibration, ["mean_predicted", "observed_rate"], title=title,
                            what="every calibration point")
    if empty is not None:
        return empty
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 5.2))
    else:
        fig = ax.figure
    names = list(dict.fromkeys(calibration["model"]))
    colors = _colors(names)
    top = float(max(calibration["mean_predicted"].max(), calibration["observed_rate"].max(), 0.01)) * 1.05
    ax.plot([0, top], [0, top], color="#bbbbbb", linestyle="--", linewidth=1, label="perfect calibration")
    for name in names:
        grp = calibration.loc[calibration["model"] == name]
        style = dict(marker="s", markersize=8, linestyle="none") if name == _BASELINE else \
            dict(marker="o", markersize=4)
        ax.plot(grp["mean_predicted"], grp["observed_rate"], color=colors[name], label=plain_text(name),
                **style)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_title(plain_text(title))
    ax.set_xlabel("Mean predicted churn probability (%)")
    ax.set_ylabel("Observed churn rate (%)")
    percent_axis(ax, "x")
    percent_axis(ax, "y")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def churn_lift(lifts: pd.DataFrame, *, title: str = "Lift and capture by risk decile"):
    """Lift by decile (left) and cumulative share of churners captured (right).

    ``lifts`` is ``BacktestResult.lifts()`` (stacked, ``model`` column); decile 1 = highest
    predicted risk. The dashed line on the right is random targeting.
    """
    empty = nothing_to_plot(lifts, ["lift"], title=title, what="every lift")
    if empty is not None:
        return empty
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    names = list(dict.fromkeys(lifts["model"]))
    colors = _colors(names)
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        grp = lifts.loc[lifts["model"] == name]
        left.bar(grp["decile"] + (i - (len(names) - 1) / 2) * width, grp["lift"], width=width,
                 color=colors[name], label=plain_text(name))
        right.plot(np.r_[0, grp["baseline_capture"]], np.r_[0, grp["capture"]], marker="o", markersize=3,
                   color=colors[name], label=plain_text(name))
    left.axhline(1.0, color="#7f7f7f", linestyle="--", linewidth=1, label="random (lift 1)")
    left.set_xticks(sorted(lifts["decile"].unique()))
    left.set_xlabel("Risk decile (1 = highest predicted risk)")
    left.set_ylabel("Lift (churn rate ÷ overall rate, ×)")
    left.set_title("Lift by decile")
    left.legend(fontsize=8)
    right.plot([0, 1], [0, 1], color="#7f7f7f", linestyle="--", linewidth=1, label="random targeting")
    right.set_xlabel("Customers contacted, highest risk first (%)")
    right.set_ylabel("Churners captured (%)")
    right.set_title("Cumulative capture")
    percent_axis(right, "x")
    percent_axis(right, "y")
    right.legend(fontsize=8, loc="lower right")
    fig.suptitle(plain_text(title), fontweight="bold")
    fig.tight_layout()
    return fig


def churn_drivers(drivers: pd.DataFrame, *, top: int = 12, title: str = "What drives churn risk"):
    """Horizontal bars of the ``top`` global drivers (``global_drivers`` output).

    Bar length = mean absolute contribution to the log-odds of churn over the scored accounts;
    the label says in which direction the feature raises risk.
    """
    empty = nothing_to_plot(drivers, ["mean_abs_contribution"], title=title, what="every driver")
    if empty is not None:
        return empty
    shown = drivers.head(int(top)).iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(shown) + 1.4))
    y = np.arange(len(shown))
    ax.barh(y, shown["mean_abs_contribution"], color=PALETTE[0])
    ax.set_yticks(y)
    ax.set_yticklabels([plain_text(f) for f in shown["feature"]])
    for yi, (v, d) in enumerate(zip(shown["mean_abs_contribution"], shown["direction"])):
        ax.annotate(plain_text(d), (v, yi), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_xlim(0, float(shown["mean_abs_contribution"].max()) * 1.6 if len(shown) else 1)
    ax.set_xlabel("Mean |contribution| to churn log-odds (log-odds units)")
    ax.set_ylabel("Feature")
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig
