"""Shared plotting helpers: house style, axis formatters, a waterfall chart.

Every figure function returns the matplotlib ``Figure`` and sets a title, axis labels and units.
Text from the data (customer names, stage labels) is drawn as plain text: matplotlib's mathtext
is switched off for it by escaping ``$``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd

__all__ = ["set_style", "money_axis", "percent_axis", "plain_text", "waterfall", "line_chart",
           "PALETTE"]

PALETTE = ["#1f5aa6", "#e07b39", "#3a9d5d", "#c0392b", "#7d5ba6", "#8c6d31", "#17becf", "#7f7f7f"]
POSITIVE, NEGATIVE, TOTAL = "#3a9d5d", "#c0392b", "#1f5aa6"

def set_style() -> None:
    """Apply the house plot style (seaborn whitegrid, readable sizes, fixed palette)."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", palette=PALETTE, rc={
        "figure.figsize": (9, 4.2), "figure.dpi": 100, "savefig.dpi": 100,
        "axes.titlesize": 12, "axes.titleweight": "bold", "axes.labelsize": 10,
        "svg.hashsalt": "revops-kit", "text.usetex": False,
    })

def plain_text(value) -> str:
    """Data text safe for matplotlib (no mathtext interpretation of ``$``)."""
    return str(value).replace("$", r"\$")

def _money_fmt(x, _pos=None) -> str:
    ax = abs(x)
    if ax >= 1e6:
        return f"{x / 1e6:,.1f}M"
    if ax >= 1e3:
        return f"{x / 1e3:,.0f}k"
    return f"{x:,.0f}"

def money_axis(ax, axis: str = "y") -> None:
    """Format an axis as money (1.2M, 350k)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(mticker.FuncFormatter(_money_fmt))

def percent_axis(ax, axis: str = "y", decimals: int = 0) -> None:
    """Format an axis holding fractions as percentages."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(mticker.PercentFormatter(xmax=1.0, decimals=decimals))

def waterfall(steps: pd.Series, *, title: str, ylabel: str, totals: tuple[str, ...] = (),
              ax=None, money: bool = True):
    """Waterfall chart of ``steps`` (index = labels, values = signed changes).

    Labels in ``totals`` are drawn as full bars from zero (e.g. start and end balances); the
    others float from the running total, green when positive and red when negative.
    """
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    running = 0.0
    for i, (label, value) in enumerate(steps.items()):
        value = float(value)
        if label in totals:
            ax.bar(i, value, color=TOTAL)
            running = value
            top = value
        else:
            bottom = running if value >= 0 else running + value
            ax.bar(i, abs(value), bottom=bottom, color=POSITIVE if value >= 0 else NEGATIVE)
            running += value
            top = max(running, running - value)
        ax.annotate(_money_fmt(value) if money else f"{value:,.0f}", (i, top),
                    ha="center", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(steps)))
    ax.set_xticklabels([plain_text(s) for s in steps.index], rotation=0)
    ax.set_title(plain_text(title))
    ax.set_ylabel(ylabel)
    if money:
        money_axis(ax)
    fig.tight_layout()
    return fig

def line_chart(frame: pd.DataFrame, *, x: str, y: str, hue: str | None = None, title: str,
               ylabel: str, xlabel: str = "Month", money: bool = False, percent: bool = False,
               ax=None):
    """A line chart of ``y`` over ``x`` (one line per ``hue``) with title and labelled axes."""
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    if hue is None:
        ax.plot(frame[x], frame[y], marker="o", markersize=3)
    else:
        for i, (key, grp) in enumerate(frame.groupby(hue, sort=True)):
            ax.plot(grp[x], grp[y], marker="o", markersize=3, label=plain_text(key),
                    color=PALETTE[i % len(PALETTE)])
        ax.legend(title=plain_text(hue), fontsize=8)
    ax.set_title(plain_text(title))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if money:
        money_axis(ax)
    if percent:
        percent_axis(ax)
    fig.tight_layout()
    return fig
