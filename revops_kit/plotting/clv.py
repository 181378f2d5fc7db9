"""Customer-lifetime-value figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ._core import PALETTE, nothing_to_plot, plain_text

__all__ = ["holdout_purchases"]


def holdout_purchases(table: pd.DataFrame, *, title: str, time_unit: str = "weeks",
                      holdout_length: float | None = None):
    """Mean actual vs predicted holdout purchases by calibration frequency (bars side by side).

    ``table`` is :func:`revops_kit.clv.holdout_by_frequency`'s output.
    """
    empty = nothing_to_plot(table, ["actual", "predicted"], title=title, what="every holdout purchase count")
    if empty is not None:
        return empty
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
