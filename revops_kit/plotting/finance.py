"""Finance figures: billings vs revenue vs cash, margins and DSO (a
:class:`~revops_kit.plotting.ChartNote` when there is nothing to draw)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ._core import PALETTE, money_axis, nothing_to_plot, percent_axis, plain_text

__all__ = ["finance_flows", "finance_margins"]


def finance_flows(series: pd.DataFrame, *, title: str, currency: str = "USD"):
    """Billings, revenue recognised and cash collected per period (``rk.finance_series`` output)."""
    empty = nothing_to_plot(series, [c for c in ("billings", "revenue_recognised", "cash_collected")
                                     if c in getattr(series, "columns", [])], title=title,
                            what="each of billings, revenue and cash")
    if empty is not None:
        return empty
    fig, ax = plt.subplots()
    x = series["start"]
    for i, (col, label) in enumerate([("billings", "Billings"), ("revenue_recognised", "Revenue recognised"),
                                      ("cash_collected", "Cash collected")]):
        ax.plot(x, series[col], marker="o", markersize=3, color=PALETTE[i], label=label)
    if "total_costs" in series:
        ax.plot(x, series["total_costs"], linestyle="--", color=PALETTE[3], label="Costs (all)")
    ax.set_xlabel("Period start")
    ax.set_ylabel(f"Amount ({currency})")
    money_axis(ax)
    ax.legend(fontsize=8)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig


def finance_margins(series: pd.DataFrame, *, title: str):
    """Gross and operating profit margin (left, %) and DSO (right, days) per period."""
    empty = nothing_to_plot(series, [c for c in ("gross_margin", "profit_margin", "dso")
                                     if c in getattr(series, "columns", [])], title=title,
                            what="each of the margins and DSO")
    if empty is not None:
        return empty
    fig, ax = plt.subplots()
    x = series["start"]
    ax.set_xlabel("Period start")
    margins = [c for c in ("gross_margin", "profit_margin") if c in series and series[c].notna().any()]
    if margins:
        for col, label, color in (("gross_margin", "Gross margin", PALETTE[0]),
                                  ("profit_margin", "Operating profit margin", PALETTE[2])):
            if col in margins:
                ax.plot(x, series[col], marker="o", markersize=3, color=color, label=label)
        ax.axhline(0, color="#999999", linewidth=0.8)
        ax.set_ylabel("Margin (% of revenue recognised)")
        percent_axis(ax)
        dso_ax = ax.twinx()
        dso_ax.grid(False)
    else:  # no cost data: DSO alone, on one axis, and the title says why
        dso_ax = ax
        title = f"{title} (DSO only: no cost data for the margins)"
    dso_ax.plot(x, series["dso"], color=PALETTE[1], marker="s", markersize=3, label="DSO")
    dso_ax.set_ylabel("DSO (days)")
    if margins:
        handles, labels = (a + b for a, b in zip(ax.get_legend_handles_labels(),
                                                 dso_ax.get_legend_handles_labels()))
        ax.legend(handles, labels, fontsize=8, loc="lower left")
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig
    for col, label, color in (("gross_margin", "Gross margin", PALETTE[0]),
                              ("profit_margin", "Operating profit margin", PALETTE[2])):
        if col in margins:
            ax.plot(x, series[col], marker="o", markersize=3, color=color, label=label)
    ax.axhline(0, color="#999999", linewidth=0.8)
    ax.set_xlabel("Period start")
    ax.set_ylabel("Margin (% of revenue recognised)")
    percent_axis(ax)
    ax2 = ax.twinx()
    ax2.plot(x, series["dso"], color=PALETTE[1], marker="s", markersize=3, label="DSO")
    ax2.set_ylabel("DSO (days)")
    ax2.grid(False)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
    ax.legend(handles, labels, fontsize=8, loc="lower left")
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig
