"""Sales figures: pipeline by stage, evolution waterfall, win rate / cycle / velocity trends, quota
attainment, time in stage.

Every function takes a frame returned by the package (see each docstring) and returns a Figure
with a title and axis labels with units. A frame holding only a ``note`` column (a section whose
data is absent, see ``rk.sales_view``), an empty frame or one whose values are all 0 or unknown
gives a :class:`~revops_kit.plotting.ChartNote` (one sentence) instead.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ._core import PALETTE, ChartNote, headroom, money_axis, nothing_to_plot, percent_axis, plain_text, waterfall

__all__ = ["note_figure", "pipeline_by_stage", "pipeline_waterfall", "win_rate_and_cycle",
           "velocity_trend", "quota_attainment_by_owner", "time_in_stage_chart"]

_STEP_LABELS = {"starting": "Start", "created": "Created", "reopened": "Reopened", "increased": "Increased",
                "decreased": "Decreased", "pulled_in": "Pulled in", "slipped_out": "Slipped out",
                "won": "Won", "lost": "Lost", "ending": "End"}


def note_figure(note: str, *, title: str):
    """A small figure that says why there is nothing to plot."""
    fig, ax = plt.subplots(figsize=(9, 1.6))
    ax.axis("off")
    ax.text(0.5, 0.5, plain_text(note), ha="center", va="center", fontsize=10, wrap=True)
    ax.set_title(plain_text(title))
    return fig


def _note(frame: pd.DataFrame, title: str, columns=None, what: str = "every value"):
    """A :class:`ChartNote` for a note frame, an empty frame or all-zero/unknown ``columns``."""
    return nothing_to_plot(frame, columns, title=title, what=what)


def pipeline_by_stage(by_stage: pd.DataFrame, *, title: str, currency: str = "USD"):
    """Open pipeline amount by stage (bars), with the number of deals on each bar.

    ``by_stage``: ``rk.opportunities_by_stage`` (columns ``stage``, ``value`` = count, ``amount``,
    optional ``n_missing_amount``). Bars are the known amounts; a stage's deals without an amount
    are counted in its label ("12 deals, 3 without amount").
    """
    if by_stage is not None and {"amount", "value", "n_missing_amount"} <= set(by_stage.columns):
        # a stage whose every deal lacks an amount has an unknown amount, not 0
        none_known = (by_stage["n_missing_amount"] >= by_stage["value"]) & (by_stage["value"] > 0)
        by_stage = by_stage.assign(amount=by_stage["amount"].astype("float64").mask(none_known))
        if none_known.all():
            n = int(by_stage["value"].sum())
            return ChartNote(f"Nothing to plot: none of the {n:,} open deals has an amount.", title=title)
    fig = _note(by_stage, title, ["amount"], what="the open pipeline amount")
    if fig is not None:
        return fig
    fig, ax = plt.subplots()
    x = range(len(by_stage))
    amounts = by_stage["amount"].astype("float64")
    ax.bar(x, amounts.fillna(0.0), color=PALETTE[0])
    missing = by_stage["n_missing_amount"] if "n_missing_amount" in by_stage.columns else [0] * len(by_stage)
    for i, (amt, n, k) in enumerate(zip(amounts.fillna(0.0), by_stage["value"], missing)):
        label = f"{int(n):,} deal{'s' if int(n) != 1 else ''}"
        if k and k > 0:
            label += f", {int(k):,} without amount"
        ax.annotate(label, (i, amt), ha="center", va="bottom", fontsize=8,
                    xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(list(x))
    ax.set_xticklabels([plain_text(s) for s in by_stage["stage"]])
    ax.set_xlabel("Stage")
    ax.set_ylabel(f"Open pipeline ({currency}, known amounts)" if any(k and k > 0 for k in missing)
                  else f"Open pipeline ({currency})")
    money_axis(ax)
    headroom(ax)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig


def pipeline_waterfall(evolution: pd.DataFrame, *, title: str, currency: str = "USD"):
    """Waterfall of ``rk.pipeline_evolution`` (ungrouped): start, movements, end."""
    fig = _note(evolution, title, ["value"], what="every pipeline movement")
    if fig is not None:
        return fig
    steps = pd.Series(evolution["value"].to_numpy(), index=[_STEP_LABELS.get(s, s) for s in evolution["step"]])
    fig, ax = plt.subplots(figsize=(10, 4.6))
    waterfall(steps, title=title, ylabel=f"Pipeline ({currency})", totals=("Start", "End"), ax=ax)
    ax.set_xticklabels([plain_text(s) for s in steps.index], rotation=30, ha="right")
    ax.set_xlabel("Movement")
    fig.tight_layout()
    return fig


def win_rate_and_cycle(trend: pd.DataFrame, *, title: str):
    """Win rate (left axis, %) and median sales cycle (right axis, days) per period.

    ``trend``: ``rk.sales_trend`` (columns ``period``, ``win_rate``, ``cycle_days_median``).
    """
    fig = _note(trend, title, ["win_rate", "cycle_days_median"], what="each of win rate and sales cycle")
    if fig is not None:
        return fig
    fig, ax = plt.subplots()
    x = range(len(trend))
    ax.plot(x, trend["win_rate"], marker="o", color=PALETTE[0], label="Win rate")
    ax.set_ylabel("Win rate (% of closed deals, by count)")
    percent_axis(ax)
    ax.set_ylim(bottom=0)
    ax2 = ax.twinx()
    ax2.plot(x, trend["cycle_days_median"], marker="s", color=PALETTE[1], label="Median sales cycle")
    ax2.set_ylabel("Median sales cycle (days)")
    ax2.set_ylim(bottom=0)
    ax2.grid(False)
    ax.set_xticks(list(x))
    ax.set_xticklabels([plain_text(p) for p in trend["period"]])
    ax.set_xlabel("Period")
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, ["Win rate", "Median sales cycle"], loc="lower left", fontsize=8)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig


def velocity_trend(trend: pd.DataFrame, *, title: str, currency: str = "USD"):
    """Pipeline velocity per day (bars) and bookings (line) per period, from ``rk.sales_trend``."""
    fig = _note(trend, title, ["velocity_per_day", "bookings"], what="each of velocity and bookings")
    if fig is not None:
        return fig
    fig, ax = plt.subplots()
    x = range(len(trend))
    ax.bar(x, trend["velocity_per_day"], color=PALETTE[2], label="Velocity per day")
    ax.set_ylabel(f"Pipeline velocity ({currency} per day)")
    money_axis(ax)
    ax2 = ax.twinx()
    ax2.plot(x, trend["bookings"], marker="o", color=PALETTE[0], label="Bookings")
    ax2.set_ylabel(f"Bookings ({currency} per period)")
    money_axis(ax2)
    ax2.set_ylim(bottom=0)
    ax2.grid(False)
    ax.set_xticks(list(x))
    ax.set_xticklabels([plain_text(p) for p in trend["period"]])
    ax.set_xlabel("Period")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, ["Velocity per day", "Bookings"], loc="upper left", fontsize=8)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig


def quota_attainment_by_owner(attainment: pd.DataFrame, *, title: str):
    """Quota attainment per owner (horizontal bars, %) with the 100% line.

    ``attainment``: ``rk.quota_attainment(..., by="owner")`` (columns ``owner``, ``value``) or
    ``rk.sales_view(...).quota`` (``owner``, ``attainment``).
    """
    col = "attainment" if attainment is not None and "attainment" in attainment.columns else "value"
    fig = _note(attainment, title, [col], what="every quota attainment")
    if fig is not None:
        return fig
    col = "attainment" if "attainment" in attainment.columns else "value"
    frame = attainment.assign(value=attainment[col]).sort_values("value", na_position="first")
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(frame) + 1.5))
    colors = [PALETTE[2] if v >= 1 else PALETTE[3] for v in frame["value"].fillna(0)]
    ax.barh([plain_text(o) for o in frame["owner"]], frame["value"].fillna(0), color=colors)
    ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
    ax.set_xlabel("Quota attainment (% of quota)")
    ax.set_ylabel("Owner")
    percent_axis(ax, axis="x")
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig


def time_in_stage_chart(stages: pd.DataFrame, *, title: str):
    """Median days in each stage (bars) and the stage's conversion rate (line, right axis).

    ``stages``: columns ``stage``, ``median_days`` and ``conversion_rate`` (see ``rk.sales_view``).
    """
    fig = _note(stages, title, ["median_days", "conversion_rate"], what="time in stage")
    if fig is not None:
        return fig
    fig, ax = plt.subplots()
    x = range(len(stages))
    ax.bar(x, stages["median_days"], color=PALETTE[4], label="Median days in stage")
    ax.set_ylabel("Median time in stage (days)")
    ax2 = ax.twinx()
    ax2.plot(x, stages["conversion_rate"], marker="o", color=PALETTE[1], label="Moved forward")
    ax2.set_ylabel("Stage conversion (% of exits moving forward)")
    ax2.set_ylim(0, 1.05)
    percent_axis(ax2)
    ax2.grid(False)
    ax.set_xticks(list(x))
    ax.set_xticklabels([plain_text(s) for s in stages["stage"]])
    ax.set_xlabel("Stage")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, ["Median days in stage", "Moved forward"], loc="upper right", fontsize=8)
    ax.set_title(plain_text(title))
    fig.tight_layout()
    return fig
