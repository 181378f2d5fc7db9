"""Shared plotting helpers: house style, axis formatters, a waterfall chart.

Every figure function returns the matplotlib ``Figure`` and sets a title, axis labels and units.
Text from the data (customer names, stage labels) is drawn as plain text: matplotlib's mathtext
is switched off for it by escaping ``$``.
"""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from ..formatting import format_count, format_money, money_tick_labels

__all__ = ["set_style", "MoneyFormatter", "money_axis", "count_axis", "percent_axis", "plain_text",
           "waterfall", "line_chart", "ChartNote", "nothing_to_plot", "headroom", "PALETTE"]

PALETTE = ["#1f5aa6", "#e07b39", "#3a9d5d", "#c0392b", "#7d5ba6", "#8c6d31", "#17becf", "#7f7f7f"]
POSITIVE, NEGATIVE, TOTAL = "#3a9d5d", "#c0392b", "#1f5aa6"

#: seaborn's ``set_theme(style="whitegrid")`` (context ``notebook``, font ``sans-serif``) as plain
#: rcParams, so that setting the style does not import seaborn (which imports scipy.stats: ~0.6 s
#: in every report kernel). ``tests/test_plotting.py`` checks it against seaborn itself. Left
#: out: seaborn's default colormap ``rocket`` (registered by importing seaborn); every house
#: figure names its colormap.
_SEABORN_WHITEGRID = {
    "axes.axisbelow": True, "axes.edgecolor": ".8", "axes.facecolor": "white", "axes.grid": True,
    "axes.labelcolor": ".15", "axes.labelsize": 12, "axes.linewidth": 1.25,
    "axes.spines.bottom": True, "axes.spines.left": True, "axes.spines.right": True,
    "axes.spines.top": True, "axes.titlesize": 12, "figure.facecolor": "white",
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "font.size": 12, "grid.color": ".8", "grid.linestyle": "-", "grid.linewidth": 1,
    "legend.fontsize": 11, "legend.title_fontsize": 12, "lines.linewidth": 1.5, "lines.markersize": 6,
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True,
    "patch.linewidth": 1, "text.color": ".15",
    "xtick.bottom": False, "xtick.color": ".15", "xtick.direction": "out", "xtick.labelsize": 11,
    "xtick.major.size": 6, "xtick.major.width": 1.25, "xtick.minor.size": 4, "xtick.minor.width": 1,
    "xtick.top": False,
    "ytick.color": ".15", "ytick.direction": "out", "ytick.labelsize": 11, "ytick.left": False,
    "ytick.major.size": 6, "ytick.major.width": 1.25, "ytick.minor.size": 4, "ytick.minor.width": 1,
    "ytick.right": False,
}

#: The house settings on top of the whitegrid theme.
HOUSE_RC = {
    "figure.figsize": (9, 4.2), "figure.dpi": 100, "savefig.dpi": 100,
    "axes.titlesize": 12, "axes.titleweight": "bold", "axes.labelsize": 10,
    "svg.hashsalt": "revops-kit", "text.usetex": False,
}


def set_style() -> None:
    """Apply the house plot style (seaborn's whitegrid theme, readable sizes, fixed palette)."""
    from cycler import cycler
    from matplotlib import rcParams
    from matplotlib.colors import to_rgb

    rcParams.update(_SEABORN_WHITEGRID)
    rcParams["axes.prop_cycle"] = cycler("color", [to_rgb(c) for c in PALETTE])
    rcParams.update(HOUSE_RC)

def plain_text(value) -> str:
    """Data text safe for matplotlib (no mathtext interpretation of ``$``)."""
    return str(value).replace("$", r"\$")

class MoneyFormatter(mticker.Formatter):
    """Money tick labels from :func:`revops_kit.formatting.money_tick_labels`: one scale for the
    axis (k, M, B) and as many decimals as the ticks need, so no two ticks read the same
    (``1k, 1.25k, 1.5k``) and ``-0`` reads ``0``."""

    def __init__(self):
        self._labels: dict[float, str] = {}

    def set_locs(self, locs):
        super().set_locs(locs)
        self._labels = dict(zip(map(float, locs), money_tick_labels(locs)))

    def __call__(self, x, pos=None):
        label = self._labels.get(float(x))
        return label if label is not None else money_tick_labels([x])[0]

    def format_ticks(self, values):
        self.set_locs(values)
        return money_tick_labels(values)


def _money_fmt(x, _pos=None) -> str:
    """One amount as a short label (bar annotations): ``1.23M``, ``350k``, ``4,166``."""
    return format_money(x)


def money_axis(ax, axis: str = "y") -> None:
    """Format an axis as money (0.5M, 1M, 1.5M; the unit belongs in the axis label)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(MoneyFormatter())

def count_axis(ax, axis: str = "y") -> None:
    """Format an axis holding counts: whole-number ticks only (``0, 2, 4``, never ``0.5``),
    with thousands separators."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(mticker.MaxNLocator(integer=True))
    target.set_major_formatter(mticker.FuncFormatter(lambda x, _pos=None: format_count(x)))


def headroom(ax, fraction: float = 0.12) -> None:
    """Extend the y axis above the data by ``fraction`` of its span, so value labels drawn above
    the bars stay clear of the title."""
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + (hi - lo) * fraction)


class ChartNote:
    """What a figure function returns instead of an empty or all-zero chart: one sentence saying
    why there is nothing to draw. Displays as a paragraph in notebooks and reports (text escaped);
    ``str()`` is the sentence."""

    def __init__(self, text: str, *, title: str | None = None):
        self.text = str(text)
        self.title = None if title is None else str(title)

    def __str__(self) -> str:
        return f"{self.title}: {self.text}" if self.title else self.text

    def __repr__(self) -> str:
        return f"ChartNote({str(self)!r})"

    def _repr_html_(self) -> str:
        head = f"<b>{html.escape(self.title)}</b> — " if self.title else ""
        return f'<p class="rk-chart-note" style="color:#4a5866">{head}{html.escape(self.text)}</p>'

    def _repr_markdown_(self) -> str:  # plain-text front ends
        return str(self)


def _sentence(text: str) -> str:
    text = str(text).strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def nothing_to_plot(data, columns=None, *, title: str | None = None, what: str = "every value"):
    """A :class:`ChartNote` when ``data`` gives nothing to draw, else ``None``.

    Nothing to draw: ``None``; a section's ``note`` frame (its sentence is shown); an empty frame,
    series, dict or array; or every value in ``columns`` (default: every numeric column) unknown
    (NaN) or exactly 0. ``what`` names the values in the sentence (``"open pipeline amount"``).

    >>> nothing_to_plot(pd.DataFrame({"stage": ["A"], "amount": [0.0]}), ["amount"], what="amount")
    ChartNote('Nothing to plot: amount is 0 throughout.')
    >>> nothing_to_plot(pd.DataFrame({"amount": [1.0]})) is None
    True
    """
    def note(text):
        return ChartNote(_sentence(text), title=title)

    if data is None:
        return note("No data for this chart")
    if isinstance(data, pd.DataFrame) and "note" in data.columns and set(data.columns) <= {"note", "section"}:
        # a section's one-sentence note (the view had no data for it)
        return note(data["note"].iloc[0] if len(data) else "No data for this chart")
    if isinstance(data, dict):
        return note("Nothing to show for this period") if not data else None
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(np.asarray(data, dtype="float64").reshape(-1, 1))
    if data.empty:
        return note("Nothing to show for this period: no rows")
    cols = list(columns) if columns is not None else [
        c for c in data.columns if pd.api.types.is_numeric_dtype(data[c])
        and not pd.api.types.is_bool_dtype(data[c])]
    cols = [c for c in cols if c in data.columns]
    if not cols:
        return None
    values = data[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
    known = values[np.isfinite(values)]
    if not known.size:
        return note(f"Nothing to plot: {what} is unknown throughout")
    if not np.any(known != 0):
        return note(f"Nothing to plot: {what} is 0 throughout")
    return None


def percent_axis(ax, axis: str = "y", decimals: int = 0) -> None:
    """Format an axis holding fractions as percentages."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(mticker.PercentFormatter(xmax=1.0, decimals=decimals))

def waterfall(steps: pd.Series, *, title: str, ylabel: str, totals: tuple[str, ...] = (),
              ax=None, money: bool = True, xlabel: str = "Movement"):
    """Waterfall chart of ``steps`` (index = labels, values = signed changes).

    Labels in ``totals`` are drawn as full bars from zero (e.g. start and end balances); the
    others float from the running total, green when positive and red when negative. An unknown
    (NaN) step has no bar and is labelled "unknown"; the running total goes on without it. Every
    value 0 or unknown gives a :class:`ChartNote` instead.
    """
    empty = nothing_to_plot(steps, title=title, what="every step")
    if empty is not None:
        return empty
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    running = 0.0
    for i, (label, value) in enumerate(steps.items()):
        value = float(value)
        if not np.isfinite(value):  # unknown: no bar, not 0
            ax.annotate("unknown", (i, running if label not in totals else 0.0), ha="center",
                        va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
            continue
        if label in totals:
            ax.bar(i, value, color=TOTAL)
            running = value
            top = value
        else:
            bottom = running if value >= 0 else running + value
            ax.bar(i, abs(value), bottom=bottom, color=POSITIVE if value >= 0 else NEGATIVE)
            running += value
            top = max(running, running - value)
        ax.annotate(_money_fmt(value) if money else format_count(value), (i, top),
                    ha="center", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(steps)))
    ax.set_xticklabels([plain_text(s) for s in steps.index], rotation=0)
    _rotate_if_crowded(ax)
    ax.set_title(plain_text(title))
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    if money:
        money_axis(ax)
    headroom(ax)
    fig.tight_layout()
    return fig

def _rotate_if_crowded(ax) -> None:
    """Rotate the x tick labels when neighbours would overlap (long movement names on a narrow
    figure): every label stays readable."""
    fig = ax.figure
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()]
    if any(a.x1 > b.x0 for a, b in zip(boxes, boxes[1:])):
        for t in ax.get_xticklabels():
            t.set_rotation(30)
            t.set_horizontalalignment("right")


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
