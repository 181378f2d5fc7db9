"""Customer-success figures: KPI trends, NPS mix and account-health signals.

Each returns a Figure, or a :class:`~revops_kit.plotting.ChartNote` when there is nothing to draw."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ._core import (PALETTE, NEGATIVE, POSITIVE, count_axis, money_axis, nothing_to_plot, percent_axis,
                    plain_text)

__all__ = ["kpi_trends", "nps_mix", "health_signals"]

_UNIT_LABEL = {"ratio": "%", "count": "count", "days": "days", "months": "months",
               "multiple": "×", "score": "points"}


def kpi_trends(history: pd.DataFrame, *, title: str, ncols: int = 3, currency: str = "USD"):
    """Small multiples: one panel per KPI of ``history`` (``rk.kpi_history`` output, group ``all``),
    with the KPI's label and unit from the catalogue on its axis (money in ``currency``). A KPI
    with no known value gets no panel; none at all gives a :class:`ChartNote`."""
    from ..catalog import get_kpi

    h = history[history["group"] == "all"]
    empty = nothing_to_plot(h, ["value"], title=title, what="every KPI")
    if empty is not None:
        return empty
    h = h[h.groupby("kpi")["value"].transform(lambda v: v.notna().any())]
    kpis = list(dict.fromkeys(h["kpi"]))
    nrows = int(np.ceil(len(kpis) / ncols)) or 1
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 2.5 * nrows), squeeze=False)
    for ax, k in zip(axes.flat, kpis):
        kpi = get_kpi(k)
        s = h[h["kpi"] == k]
        ax.plot(range(len(s)), s["value"], marker="o", markersize=3, color=PALETTE[0])
        ax.set_xticks(range(len(s)))
        ax.set_xticklabels([plain_text(p) for p in s["period"]], rotation=90, fontsize=7)
        ax.set_title(plain_text(kpi.label), fontsize=9)
        unit = currency if kpi.unit == "currency" else _UNIT_LABEL.get(kpi.unit, kpi.unit)
        ax.set_ylabel(f"{kpi.label} ({unit})", fontsize=7)
        ax.set_xlabel("Period", fontsize=7)
        if kpi.unit == "ratio":
            percent_axis(ax, decimals=1)
        elif kpi.unit == "currency":
            money_axis(ax)
        elif kpi.unit == "count":
            count_axis(ax)
    for ax in list(axes.flat)[len(kpis):]:
        ax.set_visible(False)
    fig.suptitle(plain_text(title), fontweight="bold")
    fig.tight_layout()
    return fig


def nps_mix(frame: pd.DataFrame, *, title: str):
    """Promoters / passives / detractors as shares of responses per period (bars), NPS on top.

    ``frame`` has ``period, promoters, passives, detractors, responses, value`` (``rk.nps`` rows
    stacked over periods); periods without responses are left empty.
    """
    empty = nothing_to_plot(frame, ["responses"], title=title, what="the number of NPS responses")
    if empty is not None:
        return empty
    fig, ax = plt.subplots()
    f = frame.reset_index(drop=True)
    x = np.arange(len(f))
    resp = f["responses"].replace(0, np.nan)
    bottom = np.zeros(len(f))
    for col, color, label in [("detractors", NEGATIVE, "Detractors (0-6)"),
                              ("passives", "#bbbbbb", "Passives (7-8)"),
                              ("promoters", POSITIVE, "Promoters (9-10)")]:
        share = (f[col] / resp).fillna(0).to_numpy()
        ax.bar(x, share, bottom=bottom, color=color, label=label)
        bottom += share
    for i, (v, n) in enumerate(zip(f["value"], f["responses"])):
        if n > 0:
            ax.annotate(f"NPS {v:.0f}\n(n={n:.0f})", (i, 1.0), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x)
    ax.set_xticklabels([plain_text(p) for p in f["period"]])
    ax.set_xlabel("Period")
    ax.set_ylabel("Share of responses (%)")
    percent_axis(ax)
    ax.set_ylim(0, 1.25)
    ax.legend(fontsize=8, loc="upper left", ncol=3)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig


def health_signals(health: pd.DataFrame, *, title: str, currency: str = "USD"):
    """Accounts and ARR flagged by each health signal (``rk.account_health`` output)."""
    empty = nothing_to_plot(health, title=title, what="every health signal")
    if empty is not None:
        return empty
    model = "source" in health.columns and (health["source"] == "model").any()
    at_risk = "At risk (churn model)" if model else "At risk (score ≥ 40)"
    signals = [("usage_decline", "Usage decline"), ("detractor", "NPS detractor"),
               ("ticket_surge", "Ticket surge"), ("renewal_soon", "Term renewal ≤ 90 days"),
               ("at_risk", at_risk)]
    signals = [(c, lbl) for c, lbl in signals if c in health.columns]
    counts = [int(health[c].sum()) for c, _ in signals]
    arr = [float(health.loc[health[c], "arr"].sum()) for c, _ in signals]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    y = np.arange(len(signals))
    ax1.barh(y, counts, color=PALETTE[0])
    ax1.set_yticks(y)
    ax1.set_yticklabels([lbl for _, lbl in signals])
    ax1.set_xlabel("Accounts (count)")
    count_axis(ax1, axis="x")
    ax1.invert_yaxis()
    ax2.barh(y, arr, color=PALETTE[3])
    ax2.set_yticks(y)
    ax2.set_yticklabels([])
    ax2.set_xlabel(f"ARR of those accounts ({plain_text(currency)})")
    money_axis(ax2, axis="x")
    ax2.invert_yaxis()
    fig.suptitle(plain_text(title), fontweight="bold")
    fig.tight_layout()
    return fig
