"""Revenue and retention figures: MRR trends, bridge waterfalls, retention trends, cohort
heatmaps and survival curves. Every function returns the matplotlib ``Figure``, or a
:class:`~revops_kit.plotting.ChartNote` (one sentence) when there is nothing to draw."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ._core import PALETTE, count_axis, money_axis, nothing_to_plot, percent_axis, plain_text, waterfall

__all__ = ["mrr_and_customers", "mrr_by_group", "mrr_bridge_waterfall", "retention_trends",
           "cohort_heatmap", "survival_plot"]


def mrr_and_customers(trend: pd.DataFrame, *, title: str, currency: str = "USD"):
    """MRR (bars, left axis) and active customers (line, right axis) by month.

    ``trend`` has columns ``month``, ``mrr`` and ``customers`` (see ``rk.mrr_series``).
    """
    empty = nothing_to_plot(trend, ["mrr", "customers"], title=title, what="MRR")
    if empty is not None:
        return empty
    fig, ax = plt.subplots()
    ax.bar(trend["month"], trend["mrr"], width=20, color=PALETTE[0], label="MRR")
    ax.set_ylabel(f"MRR ({currency})")
    ax.set_xlabel("Month")
    money_axis(ax)
    ax2 = ax.twinx()
    ax2.plot(trend["month"], trend["customers"], color=PALETTE[1], marker="o", markersize=3,
             label="Active customers")
    ax2.set_ylabel("Active customers (count)")
    count_axis(ax2)
    ax2.set_ylim(bottom=0)
    ax2.grid(False)
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, ["MRR", "Active customers"], loc="upper left", fontsize=8)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig


def mrr_by_group(trend: pd.DataFrame, group: str, *, title: str, currency: str = "USD",
                 arr: bool = False):
    """Stacked area of MRR (or ARR = 12 × MRR) by ``group`` over months.

    ``trend`` is ``rk.mrr_series(..., by=group)`` (columns ``month``, ``group``, ``mrr``).
    """
    empty = nothing_to_plot(trend, ["mrr"], title=title, what="MRR")
    if empty is not None:
        return empty
    wide = trend.pivot_table(index="month", columns=group, values="mrr", aggfunc="sum",
                             fill_value=0.0).sort_index()
    if arr:
        wide = wide * 12
    fig, ax = plt.subplots()
    ax.stackplot(wide.index, [wide[c].to_numpy() for c in wide.columns],
                 labels=[plain_text(c) for c in wide.columns],
                 colors=PALETTE[: len(wide.columns)] if len(wide.columns) <= len(PALETTE) else None,
                 alpha=0.9)
    ax.set_xlabel("Month")
    ax.set_ylabel(f"{'ARR' if arr else 'MRR'} ({currency})")
    money_axis(ax)
    ax.legend(title=plain_text(group), loc="upper left", fontsize=8)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig


_STEPS = [("mrr_start", "Start"), ("new", "New"), ("expansion", "Expansion"),
          ("reactivation", "Reactivation"), ("contraction", "Contraction"), ("churn", "Churn"),
          ("fx_impact", "FX"), ("mrr_end", "End")]


def mrr_bridge_waterfall(bridge: pd.DataFrame | pd.Series, *, title: str, currency: str = "USD",
                         ax=None):
    """Waterfall of one ``rk.mrr_bridge`` row: start, new, expansion, reactivation, −contraction,
    −churn, FX impact, end. The FX bar is omitted when it is exactly 0."""
    row = bridge.iloc[0] if isinstance(bridge, pd.DataFrame) else bridge
    steps = {}
    for key, label in _STEPS:
        value = float(row[key])
        if key in ("contraction", "churn"):
            value = -value
        if key == "fx_impact" and value == 0:
            continue
        steps[label] = value
    return waterfall(pd.Series(steps), title=title, ylabel=f"MRR ({currency})",
                     totals=("Start", "End"), ax=ax)


_LABELS = {"nrr": "NRR", "grr": "GRR", "logo_churn_rate": "Logo churn",
           "gross_revenue_churn_rate": "Gross revenue churn"}


def retention_trends(trend: pd.DataFrame, *, title: str):
    """Two panels from ``rk.retention_trend``: NRR and GRR (left), logo and gross revenue churn
    (right), by period, as percentages."""
    empty = nothing_to_plot(trend, ["value"], title=title, what="every retention value")
    if empty is not None:
        return empty
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, kpis, ylabel in ((axes[0], ("nrr", "grr"), "Revenue retention (%)"),
                             (axes[1], ("logo_churn_rate", "gross_revenue_churn_rate"),
                              "Churn rate (% of period start)")):
        for i, kpi in enumerate(kpis):
            part = trend[trend["kpi"] == kpi]
            ax.plot(part["period"].astype(str), part["value"], marker="o", markersize=4,
                    color=PALETTE[i], label=_LABELS[kpi])
        ax.set_xlabel("Period")
        ax.set_ylabel(ylabel)
        percent_axis(ax)
        ax.legend(fontsize=8)
        ax.tick_params(axis="x", labelrotation=45)
    fig.suptitle(plain_text(title), fontweight="bold")
    fig.tight_layout()
    return fig


def cohort_heatmap(matrix: pd.DataFrame, *, title: str, xlabel: str = "Age (quarters)",
                   ylabel: str = "Acquisition cohort", value_label: str = "Retention (%)",
                   ax=None):
    """Heatmap of a cohort × age matrix of fractions (``rk.cohort_matrix``), annotated in %."""
    import seaborn as sns

    empty = nothing_to_plot(matrix, title=title, what="every retention value")
    if empty is not None:
        return empty
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, max(3.0, 0.35 * len(matrix) + 1.5)))
    else:
        fig = ax.figure
    annot = matrix.map(lambda v: "" if pd.isna(v) else f"{v:.0%}")
    vmax = max(1.0, float(np.nanmax(matrix.to_numpy()))) if matrix.size else 1.0
    sns.heatmap(matrix, ax=ax, annot=annot, fmt="", cmap="Blues", vmin=0, vmax=vmax,
                cbar_kws={"label": value_label},
                annot_kws={"fontsize": 7})
    cbar = ax.collections[0].colorbar
    cbar.ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _p: f"{v:.0%}"))
    ax.set_yticklabels([plain_text(t.get_text()) for t in ax.get_yticklabels()], rotation=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig


def survival_plot(curves: pd.DataFrame, *, by: str | None = "segment", title: str):
    """Kaplan-Meier survival step curves with their confidence bands (``rk.survival_curves``)."""
    empty = nothing_to_plot(curves, ["survival"], title=title, what="survival")
    if empty is not None:
        return empty
    fig, ax = plt.subplots()
    groups = [("All customers", curves)] if not by else curves.groupby(by, sort=True)
    for i, (key, part) in enumerate(groups):
        part = part.sort_values("months")
        color = PALETTE[i % len(PALETTE)]
        ax.step(part["months"], part["survival"], where="post", color=color,
                label=plain_text(key))
        ax.fill_between(part["months"], part["ci_lower"], part["ci_upper"], step="post",
                        color=color, alpha=0.15)
    ax.set_xlabel("Months since acquisition")
    ax.set_ylabel("Customers still active (%)")
    ax.set_ylim(0, 1.02)
    percent_axis(ax)
    ax.legend(title=plain_text(by) if by else None, fontsize=8)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig
