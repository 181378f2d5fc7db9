"""Data-quality figures: scorecard heatmap, trend over periods, cost of failures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..formatting import format_money

from ._core import PALETTE, money_axis, nothing_to_plot, percent_axis, plain_text

__all__ = ["dq_scorecard_heatmap", "dq_trend_chart", "dq_cost_chart"]

_DIMENSIONS = ("completeness", "validity", "consistency", "uniqueness", "integrity", "timeliness")


def _no_ticks_above(ax, top: float) -> None:
    """A pass rate cannot exceed 100 %: keep the axis room above it (labels) but no tick there."""
    lo, hi = ax.get_ylim()
    ax.set_yticks([t for t in ax.get_yticks() if lo - 1e-9 <= t <= top + 1e-9])
    ax.set_ylim(lo, hi)


def dq_scorecard_heatmap(scorecard: pd.DataFrame, *, title: str = "Data quality by table and dimension"):
    """Heatmap of pass rates (``rk.dq_scorecard``): tables down, dimensions across, in %.

    Cells without a check are grey and read "n/a". The colour scale starts at the lowest pass rate
    (at most 90 %) so that small differences near 100 % stay visible.
    """
    dims = [d for d in _DIMENSIONS if d in getattr(scorecard, "columns", [])]
    if scorecard is None or "note" in scorecard.columns or scorecard.empty or not dims:
        return nothing_to_plot(scorecard if scorecard is not None and "note" in scorecard.columns
                               else None, title=title)
    values = scorecard[dims].astype("float64").to_numpy()
    tables = [plain_text(t) for t in scorecard["table"]]
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(tables) + 1.6))
    low = float(np.nanmin(values)) if np.isfinite(values).any() else 0.9
    vmin = min(0.9, low)
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#e6e6e6")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=vmin, vmax=1.0, aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            text = "n/a" if np.isnan(v) else f"{v * 100:.1f}%"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="#6b7785" if np.isnan(v) else "black")
    ax.set_xticks(range(len(dims)))
    ax.set_xticklabels(dims, rotation=0, fontsize=9)
    ax.set_yticks(range(len(tables)))
    ax.set_yticklabels(tables, fontsize=9)
    ax.grid(False)
    ax.set_xlabel("Dimension")
    ax.set_ylabel("Table")
    ax.set_title(plain_text(title))
    bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02)
    bar.set_label("Pass rate (%)")
    bar.ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v * 100:.0f}%"))
    fig.tight_layout()
    return fig


def dq_trend_chart(trend: pd.DataFrame, *, title: str = "Data quality over time"):
    """Two panels from ``rk.dq_trend``: each dimension's pass rate (%), and the CRM quality score
    (0–100) per period."""
    empty = nothing_to_plot(trend, ["value"], title=title, what="every data-quality pass rate")
    if empty is not None:
        return empty
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [2, 1]})
    periods = list(dict.fromkeys(trend["period"]))
    x = np.arange(len(periods))
    dims = [d for d in _DIMENSIONS if d in set(trend["dimension"])]
    for i, d in enumerate(dims):
        sub = trend[trend["dimension"] == d].set_index("period").reindex(periods)
        left.plot(x, sub["value"], marker="o", markersize=3, label=d, color=PALETTE[i % len(PALETTE)])
    left.set_xticks(x)
    left.set_xticklabels([plain_text(p) for p in periods], rotation=45, ha="right", fontsize=8)
    left.set_xlabel("Period")
    left.set_ylabel("Pass rate (%)")
    left.set_title("Pass rate by dimension")
    percent_axis(left, decimals=1)
    left.legend(fontsize=8, ncol=2)
    _no_ticks_above(left, 1.0)
    score = trend[trend["dimension"] == "crm_quality_score"].set_index("period").reindex(periods)
    right.bar(x, score["value"] * 100, color=PALETTE[0])
    for xi, v in zip(x, score["value"] * 100):
        if np.isfinite(v):
            right.annotate(f"{v:.1f}", (xi, v), ha="center", va="bottom", fontsize=8, xytext=(0, 2),
                           textcoords="offset points")
    finite = (score["value"] * 100).dropna()
    if len(finite):  # room above 100 for the value labels, clear of the panel title
        right.set_ylim(max(0.0, finite.min() - 5), 100 + max(2.0, 0.12 * (100 - max(0.0, finite.min() - 5))))
    _no_ticks_above(right, 100.0)
    right.set_xticks(x)
    right.set_xticklabels([plain_text(p) for p in periods], rotation=45, ha="right", fontsize=8)
    right.set_xlabel("Period")
    right.set_ylabel("Score (0–100)")
    right.set_title("CRM quality score")
    fig.suptitle(plain_text(title), fontweight="bold")
    fig.tight_layout()
    return fig


def dq_cost_chart(costs: pd.DataFrame, *, currency: str = "USD",
                  title: str = "What data-quality failures put at stake"):
    """Horizontal bars of the money behind failing checks (``rk.dq_costs`` rows with unit
    ``currency``); record counts are left to the table. No money at stake gives a
    :class:`~revops_kit.plotting.ChartNote`."""
    if costs is None or "note" in costs.columns:
        return nothing_to_plot(costs, title=title)
    money = costs[costs["unit"] == "currency"].sort_values("cost")
    empty = nothing_to_plot(money, ["cost"], title=title, what="the money at stake")
    if empty is not None:
        return empty
    fig, ax = plt.subplots(figsize=(9, 0.5 * max(len(money), 1) + 1.6))
    labels = [plain_text(f"{w} ({n:,} rows)") for w, n in zip(money["what"], money["failed"])]
    ax.barh(range(len(money)), money["cost"], color=PALETTE[3])
    ax.set_yticks(range(len(money)))
    ax.set_yticklabels(labels, fontsize=8)
    for i, v in enumerate(money["cost"]):
        ax.annotate(format_money(v), (v, i), va="center", ha="left", fontsize=8, xytext=(3, 0),
                    textcoords="offset points")
    ax.set_xlabel(f"Amount ({plain_text(currency)})")
    ax.set_ylabel("Failing check")
    ax.set_title(plain_text(title))
    money_axis(ax, "x")
    ax.margins(x=0.15)
    fig.tight_layout()
    return fig
