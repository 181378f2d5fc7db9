"""Revenue figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ._core import PALETTE, money_axis, plain_text

__all__ = ["mrr_and_customers"]


def mrr_and_customers(trend: pd.DataFrame, *, title: str, currency: str = "USD"):
    """MRR (bars, left axis) and active customers (line, right axis) by month.

    ``trend`` has columns ``month``, ``mrr`` and ``customers`` (see ``rk.mrr_series``).
    """
    fig, ax = plt.subplots()
    ax.bar(trend["month"], trend["mrr"], width=20, color=PALETTE[0], label="MRR")
    ax.set_ylabel(f"MRR ({currency})")
    ax.set_xlabel("Month")
    money_axis(ax)
    ax2 = ax.twinx()
    ax2.plot(trend["month"], trend["customers"], color=PALETTE[1], marker="o", markersize=3,
             label="Active customers")
    ax2.set_ylabel("Active customers (count)")
    ax2.grid(False)
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, ["MRR", "Active customers"], loc="upper left", fontsize=8)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig
