"""Notebook conveniences: ``rk.setup_notebook()`` and safe table display."""

from __future__ import annotations

import html
import random
import warnings

import numpy as np
import pandas as pd

from .errors import RevOpsWarning
from .formatting import format_money, format_percent

__all__ = ["setup_notebook", "show", "fmt_money", "fmt_pct"]


def setup_notebook(*, seed: int = 0, quiet_warnings: bool = True) -> None:
    """Plot style, pandas display options, a fixed seed and a warnings filter for notebooks.

    Our own :class:`RevOpsWarning` warnings stay visible; library deprecation noise is hidden.
    """
    from .plotting import set_style

    set_style()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_colwidth", 60)
    pd.set_option("display.float_format", lambda v: f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}")
    random.seed(seed)
    np.random.seed(seed)  # only for third-party code that reads the global state
    if quiet_warnings:
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("always", category=RevOpsWarning)
    try:  # inline figures at a fixed size when running inside IPython
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None:
            ip.run_line_magic("matplotlib", "inline")
            _show_figures_once(ip)
    except ImportError:  # pragma: no cover - IPython ships with jupyterlab
        pass


def _show_figures_once(ip) -> None:
    """Plotting functions return their Figure and leave it open, so the inline backend would show
    it twice: as the cell's result and again when it flushes open figures after the cell. Replace
    that flush with one that shows only the figures not already displayed, then closes them all."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if getattr(ip, "_rk_flush_installed", False):
        return
    try:
        from matplotlib_inline.backend_inline import flush_figures

        ip.events.unregister("post_execute", flush_figures)
    except (ImportError, ValueError):  # pragma: no cover - other backends
        pass
    png = ip.display_formatter.formatters["image/png"]
    default_png = png.lookup_by_type(Figure)

    def _png(fig):
        fig._rk_shown = True
        return default_png(fig)

    def _flush():
        from IPython.display import display

        for num in plt.get_fignums():
            fig = plt.figure(num)
            if not getattr(fig, "_rk_shown", False):
                display(fig)
        plt.close("all")

    png.for_type(Figure, _png)
    ip.events.register("post_execute", _flush)
    ip._rk_flush_installed = True


def fmt_money(value: float, currency: str = "USD") -> str:
    """``1234567.8`` → ``'USD 1,234,568'`` (unknown → ``'—'``); see :mod:`revops_kit.formatting`."""
    return format_money(value, currency, compact=False)


def fmt_pct(value: float, decimals: int = 1) -> str:
    """A fraction as a percentage: ``0.873`` → ``'87.3%'`` (unknown → ``'—'``)."""
    return format_percent(value, decimals)


_MONEY_WORDS = ("mrr", "arr", "amount", "pipeline", "booked", "bookings", "quota", "revenue", "billings",
                "cash", "cost", "spend", "cac", "clv", "ltv", "acv", "tcv", "backlog", "deal_size", "velocity",
                "forecast", "actual", "at_risk", "profit")
_RATE_WORDS = ("_rate", "rate_", "share", "attainment", "accuracy", "bias", "margin", "retention",
               "conversion", "churn_", "nrr", "grr", "roi", "inside_80", "wape", "coverage_pct")


def _guess_units(frame: pd.DataFrame, units) -> dict:
    """Units of the numeric columns whose names say it (money, rates); caller's ``units`` win."""
    out = {}
    for col in frame.columns:
        name = str(col).lower()
        if not pd.api.types.is_float_dtype(frame[col]):
            continue
        if name.startswith(("n_", "count", "customers", "deals", "opportunities", "open_opportunities")):
            continue
        if name == "dso" or name.endswith("_days") or "_days_" in name:
            out[col] = "days"  # 38.4 days: one decimal in every row (44 and 39.50 in one column read badly)
        elif any(w in name for w in _RATE_WORDS) or name in ("rate", "share", "attainment", "conversion_rate"):
            out[col] = "ratio"
        elif any(w in name for w in _MONEY_WORDS) and not name.endswith(("_days", "_months", "_count")):
            out[col] = "currency"
    out.update(units or {})
    return out


class Shown:
    """A displayed table: formatted HTML for the page (``_repr_html_``) and the exact values as
    plain text (``repr``, what the notebook regression tests compare)."""

    def __init__(self, html_text: str, plain: str):
        self._html = html_text
        self._plain = plain

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return self._plain


def _plain(frame: pd.DataFrame) -> str:
    def num(v):
        return f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}"
    return frame.to_string(index=False, float_format=num, na_rep="—")


def show(frame: pd.DataFrame, *, caption: str | None = None, max_rows: int = 30,
         units: dict | None = None, currency: str | None = "USD") -> Shown:
    """Display a frame as an HTML table: every cell escaped (untrusted text stays text), no index
    column, whole numbers as integers, fractions as percentages, money with its currency, unknown
    as ``—``. A note frame (one ``note`` column) is shown as its sentence. ``units`` maps columns
    to catalogue units where the column name does not say it; a KPI frame (``unit`` column) is
    formatted row by row."""
    from .formatting import table_html

    cap = f"<p><b>{html.escape(caption)}</b></p>" if caption else ""
    if isinstance(frame, pd.DataFrame) and list(frame.columns) == ["note"]:
        text = str(frame["note"].iloc[0]) if len(frame) else ""
        return Shown(cap + f"<p class=\"rk-note\"><i>{html.escape(text)}</i></p>", text)
    shown = frame.head(max_rows)
    if not isinstance(shown.index, pd.RangeIndex):
        shown = shown.reset_index()
    if shown.empty:
        return Shown(cap + "<p class=\"rk-note\"><i>Nothing to show for this period.</i></p>",
                     "Nothing to show for this period.")
    kw = {}
    if "unit" in shown.columns and "value" in shown.columns:
        kw = dict(unit_column="unit", value_columns=[c for c in ("value", "previous", "target")
                                                          if c in shown.columns])
        guessed = dict(units or {})
    else:
        guessed = _guess_units(shown, units)
    return Shown(cap + table_html(shown, guessed, currency=currency, **kw), _plain(shown))
