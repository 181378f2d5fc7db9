"""Customer-lifetime-value figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ._core import PALETTE, plain_text

__all__ = ["holdout_purchases", "survival_curves"]


def holdout_purchases(table: pd.DataFrame, *, title: str, time_unit: str = "weeks",
                      holdout_length: float | None = None):
    """Mean actual vs predicted holdout purchases by calibration frequency (bars side by side).

    ``table`` is :func:`revops_kit.clv.holdout_by_frequency`'s output.
    """
    fig, ax = plt.subplots()
    pos = np.arange(len(table))
    ax.bar(pos - 0.2, table["actual"], width=0.4, color=PALETTE[0], label="Actual")
    ax.bar(pos + 0.2, table["predicted"], width=0.4, color=PALETTE[1], label="Predicted (BG/NBD)")
    ax.set_xticks(pos)
    ax.set_xticklabels([plain_text(f) for f in table["frequency"]])
    ax.set_xlabel("Repeat purchases in the calibration period (count)")
    ax.set_ylabel("Mean holdout purchases per customer (count)", fontsize=9)
    span = f" ({holdout_length:g}-{time_unit[:-1]} holdout)" if holdout_length else ""
    ax.set_title(plain_text(title) + span)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def survival_curves(curves: dict, *, title: str):
    """Kaplan-Meier survival by tenure month, one step line per entry of ``curves``
    (label → :func:`revops_kit.clv.survival_curve` frame)."""
    from ._core import percent_axis

    fig, ax = plt.subplots()
    for i, (label, curve) in enumerate(curves.items()):
        ax.step(curve["month"], curve["survival"], where="post", color=PALETTE[i % len(PALETTE)],
                label=plain_text(label))
    ax.set_xlabel("Months since the customer's first subscription (months)")
    ax.set_ylabel("Customers still subscribed (%)")
    percent_axis(ax)
    ax.set_ylim(0, 1.02)
    if len(curves) > 1:
        ax.legend(fontsize=8)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig
