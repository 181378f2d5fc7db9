"""Marketing figures: funnel by channel, CAC and payback by channel, ROI, spend mix.

Every function takes a frame returned by the package and returns a Figure with a title and axis
labels with units; a frame holding only a ``note`` column, an empty frame or all-zero values give
a :class:`~revops_kit.plotting.ChartNote` (one sentence) instead.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ._core import PALETTE, money_axis, percent_axis, plain_text
from .sales import _note

__all__ = ["funnel_by_channel", "cac_and_payback_by_channel", "roi_by_channel", "spend_mix"]

_STEP = {"lead": "Lead", "mql": "MQL", "sql": "SQL", "opportunity": "Opportunity", "won": "Won"}
_CATEGORY = {"marketing_programs": "Marketing programs", "marketing_payroll": "Marketing payroll",
             "sales_payroll": "Sales payroll", "tools_infrastructure": "Tools & infrastructure",
             "external_services": "External services"}


def funnel_by_channel(funnel: pd.DataFrame, *, title: str):
    """Share of leads reaching each funnel step, one line per channel (log-free, in %).

    ``funnel``: ``rk.lead_funnel(..., by="channel")`` (columns ``channel``, ``step``,
    ``rate_from_lead``).
    """
    fig = _note(funnel, title, ["rate_from_lead"], what="every funnel rate")
    if fig is not None:
        return fig
    fig, ax = plt.subplots()
    steps = list(dict.fromkeys(funnel["step"]))
    for i, (channel, grp) in enumerate(funnel.groupby("channel", sort=True)):
        g = grp.set_index("step").reindex(steps)
        ax.plot(range(len(steps)), g["rate_from_lead"], marker="o", color=PALETTE[i % len(PALETTE)],
                label=f"{plain_text(channel)} ({int(g['count'].iloc[0]):,} leads)")
    ax.set_xticks(range(len(steps)))
    ax.set_xticklabels([_STEP.get(s, plain_text(s)) for s in steps])
    ax.set_xlabel("Funnel step")
    ax.set_ylabel("Reached the step (% of the period's leads)")
    percent_axis(ax)
    ax.set_ylim(bottom=0)
    ax.legend(title="Channel", fontsize=8)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig


def cac_and_payback_by_channel(table: pd.DataFrame, *, title: str, currency: str = "USD"):
    """Two panels per channel: fully loaded CAC and CAC payback in months.

    ``table``: ``rk.acquisition_by_channel`` (columns ``channel``, ``cac``, ``cac_payback_months``);
    the ``total`` row is drawn as a reference line.
    """
    fig = _note(table, title, ["cac", "cac_payback_months"], what="CAC")
    if fig is not None:
        return fig
    rows = table[table["channel"] != "total"].dropna(subset=["cac"])
    total = table[table["channel"] == "total"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    labels = [plain_text(c) for c in rows["channel"]]
    ax1.bar(labels, rows["cac"], color=PALETTE[0])
    ax2.bar(labels, rows["cac_payback_months"], color=PALETTE[1])
    if len(total):
        ax1.axhline(float(total["cac"].iloc[0]), color="black", linestyle="--", linewidth=1, label="All channels")
        ax2.axhline(float(total["cac_payback_months"].iloc[0]), color="black", linestyle="--", linewidth=1,
                    label="All channels")
        ax1.legend(fontsize=8)
        ax2.legend(fontsize=8)
    ax1.set_title("CAC (fully loaded)")
    ax1.set_ylabel(f"CAC ({currency} per new customer)")
    money_axis(ax1)
    ax2.set_title("CAC payback")
    ax2.set_ylabel("Payback (months)")
    for ax in (ax1, ax2):
        ax.set_xlabel("Acquisition channel")
    fig.suptitle(plain_text(title), fontweight="bold")
    fig.tight_layout()
    return fig


def roi_by_channel(table: pd.DataFrame, *, title: str):
    """First-year marketing ROI per channel (bars, %), from ``rk.acquisition_by_channel``."""
    fig = _note(table, title, ["marketing_roi"], what="marketing ROI")
    if fig is not None:
        return fig
    rows = table.dropna(subset=["marketing_roi"])
    fig, ax = plt.subplots()
    colors = [PALETTE[2] if v >= 0 else PALETTE[3] for v in rows["marketing_roi"]]
    ax.bar([plain_text(c) for c in rows["channel"]], rows["marketing_roi"], color=colors)
    ax.axhline(0, color="black", linewidth=1)
    ax.set_xlabel("Acquisition channel")
    ax.set_ylabel("Marketing ROI (% of marketing spend)")
    percent_axis(ax)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig


def spend_mix(spend: pd.DataFrame, *, title: str, currency: str = "USD"):
    """Acquisition spend per month, stacked by category (``rk.spend_by_month``)."""
    fig = _note(spend, title, [c for c in spend.columns if c != "month"] if spend is not None else None,
                what="acquisition spend")
    if fig is not None:
        return fig
    fig, ax = plt.subplots()
    cats = [c for c in spend.columns if c != "month"]
    bottom = np.zeros(len(spend))
    labels = spend["month"].dt.strftime("%Y-%m")
    for i, cat in enumerate(cats):
        ax.bar(labels, spend[cat], bottom=bottom, color=PALETTE[i % len(PALETTE)],
               label=_CATEGORY.get(cat, plain_text(cat)))
        bottom = bottom + spend[cat].to_numpy(dtype=float)
    ax.set_xlabel("Month")
    ax.set_ylabel(f"Acquisition spend ({currency} per month)")
    money_axis(ax)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig
