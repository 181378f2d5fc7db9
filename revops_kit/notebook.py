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


def show(frame: pd.DataFrame, *, caption: str | None = None, max_rows: int = 30):
    """Display a frame as an HTML table with every cell escaped (untrusted text stays text)."""
    from IPython.display import HTML

    shown = frame.head(max_rows)
    plain_index = isinstance(shown.index, pd.RangeIndex)
    table = shown.to_html(escape=True, na_rep="–", border=0, classes="rk-table", index=not plain_index)
    cap = f"<p><b>{html.escape(caption)}</b></p>" if caption else ""
    return HTML(cap + table)
