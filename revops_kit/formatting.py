"""Numbers as text for people: THE money formatter, percentages, points, counts, tables.

Every view, figure, scorecard and CLI table formats through here, so a number looks the same
everywhere. Rules:

* unknown (``None``, NaN) is :data:`UNKNOWN` (``"—"``), never ``0``;
* money keeps its currency code: ``USD 6.91M``, ``USD 350k``, ``USD 4,166``;
* rates are fractions in the data and percentages on screen: ``0.873`` → ``87.3%``; a change of a
  rate is in percentage points (``+1.2 pts``), a change of anything else is relative (``+3.4%``);
* counts are whole numbers: ``1467.0`` → ``1,467``;
* axis tick labels share one scale and carry as many decimals as the ticks need, so two ticks never
  read the same (``1k, 1.25k, 1.5k``), and ``-0`` never appears;
* tables for people have no index column and no scientific notation.

A leaf module: it imports nothing from the package.
"""

from __future__ import annotations

import html
import math
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = ["UNKNOWN", "is_unknown", "format_money", "format_percent", "format_points",
           "format_change", "format_count", "format_number", "format_value", "money_tick_labels",
           "count_tick_labels", "distinct_money_labels", "format_table", "table_html", "text_table", "plain_float"]

#: How an unknown value is shown.
UNKNOWN = "—"

_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def is_unknown(value) -> bool:
    """``None``, NaN, NaT and pandas' NA are unknown; anything else is known."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # array-likes are not one value
        return False


def _clean_zero(x: float) -> float:
    return 0.0 if x == 0 else x  # -0.0 → 0.0


def format_money(value, currency: str | None = None, *, compact: bool = True) -> str:
    """Money as text with its currency code.

    ``compact`` (default): millions and billions with two decimals, thousands from 10k as whole
    ``k``, smaller amounts in full. ``compact=False``: the whole amount with thousands separators.

    >>> format_money(6907896.32, "USD"), format_money(350_400, "EUR"), format_money(4166.4, "USD")
    ('USD 6.91M', 'EUR 350k', 'USD 4,166')
    >>> format_money(1234567.8, "USD", compact=False), format_money(float("nan"), "USD")
    ('USD 1,234,568', '—')
    """
    if is_unknown(value):
        return UNKNOWN
    v = _clean_zero(float(value))
    prefix = f"{currency} " if currency else ""
    if not compact:
        return f"{prefix}{_clean_zero(round(v)):,.0f}"
    a = abs(v)
    if a >= 1e9:
        text = f"{v / 1e9:,.2f}B"
    elif a >= 1e6:
        text = f"{v / 1e6:,.2f}M"
    elif a >= 1e4:
        text = f"{v / 1e3:,.0f}k"
    else:
        text = f"{_clean_zero(round(v)):,.0f}"
    return prefix + text


def format_percent(fraction, decimals: int = 1) -> str:
    """A fraction as a percentage: ``0.873`` → ``'87.3%'``.

    >>> format_percent(0.873), format_percent(None)
    ('87.3%', '—')
    """
    if is_unknown(fraction):
        return UNKNOWN
    return f"{_clean_zero(round(float(fraction) * 100, decimals)):.{decimals}f}%"


def format_points(delta, decimals: int = 1) -> str:
    """A change of a rate in percentage points: ``0.012`` → ``'+1.2 pts'``."""
    if is_unknown(delta):
        return UNKNOWN
    return f"{_clean_zero(round(float(delta) * 100, decimals)):+.{decimals}f} pts"


def format_change(relative, decimals: int = 1) -> str:
    """A relative change: ``0.034`` → ``'+3.4%'``."""
    if is_unknown(relative):
        return UNKNOWN
    return f"{_clean_zero(round(float(relative) * 100, decimals)):+.{decimals}f}%"


def format_count(value) -> str:
    """A count as a whole number: ``1467.0`` → ``'1,467'``.

    >>> format_count(1467.0), format_count(float("nan"))
    ('1,467', '—')
    """
    if is_unknown(value):
        return UNKNOWN
    return f"{_clean_zero(round(float(value))):,.0f}"


def format_number(value, decimals: int = 2) -> str:
    """A plain number with thousands separators; whole numbers without decimals; a value too small
    for ``decimals`` with two significant digits (``-0.0021``, not ``-0.00``).

    >>> format_number(1234.5), format_number(3.0), format_number(-0.0021), format_number(0.051)
    ('1,234.50', '3', '-0.0021', '0.05')
    """
    if is_unknown(value):
        return UNKNOWN
    v = _clean_zero(float(value))
    if math.isfinite(v) and v == round(v):
        return f"{v:,.0f}"
    if math.isfinite(v) and 0 < abs(v) < 0.5 * 10 ** -decimals:
        return f"{v:.{max(decimals, 1 - math.floor(math.log10(abs(v))))}f}"
    return f"{v:,.{decimals}f}"


def format_value(value, unit: str, currency: str | None = "USD") -> str:
    """A KPI value as text by its catalogue unit.

    ``ratio`` → ``87.3%``, ``currency`` → :func:`format_money`, ``count`` → ``1,467``,
    ``days`` → ``38.4 days``, ``months`` → ``7.2 months``, ``multiple`` → ``3.10×``, else one
    decimal. Unknown → ``—``.

    >>> format_value(0.873, "ratio"), format_value(1467.0, "count"), format_value(2.5, "multiple")
    ('87.3%', '1,467', '2.50×')
    """
    if is_unknown(value):
        return UNKNOWN
    if unit == "ratio":
        return format_percent(value)
    if unit == "currency":
        return format_money(value, currency)
    if unit == "count":
        return format_count(value)
    v = _clean_zero(float(value))
    if unit == "days":
        return f"{v:,.1f} days"
    if unit == "months":
        return f"{v:,.1f} months"
    if unit == "multiple":
        return f"{v:,.2f}×"
    return f"{v:,.1f}"


# ---------------------------------------------------------------------- axis ticks
def _decimals_needed(x: float, max_decimals: int, tol: float | None = None) -> int:
    tol = 1e-9 * max(1.0, abs(x)) if tol is None else tol
    for d in range(max_decimals + 1):
        if abs(round(x, d) - x) <= tol:
            return d
    return max_decimals


def money_tick_labels(values: Iterable[float], *, max_decimals: int = 6) -> list[str]:
    """Labels for money axis ticks: one shared scale (k, M, B) chosen from the largest tick (a
    smaller one when the ticks are close together, so ``999,998.4`` is not ``0.9999984M``), and
    for each tick the decimals it needs (trailing zeros dropped), so that distinct ticks never get
    the same label. ``-0`` reads ``0``.

    >>> money_tick_labels([1000, 1250, 1500, 1750, 2000])
    ['1k', '1.25k', '1.5k', '1.75k', '2k']
    >>> money_tick_labels([-0.0, 250_000, 500_000, 1_000_000])
    ['0', '0.25M', '0.5M', '1M']
    """
    vals = [float(v) for v in values]
    finite = sorted({v for v in vals if math.isfinite(v)})
    top = max((abs(v) for v in finite), default=0.0)
    step = min((b - a for a, b in zip(finite, finite[1:])), default=0.0)
    scales = [(t, s) for t, s in _SCALES if top >= t and (step == 0 or step / t >= 0.01)]
    div, suffix = scales[0] if scales else (1.0, "")
    cap = max_decimals
    if step > 0:
        cap = max(cap, int(math.ceil(-math.log10(step / div))) + 1)
    tol = min(1e-9 * max(1.0, top / div), 1e-3 * step / div) if step > 0 else None
    while True:
        labels = []
        for v in vals:
            if not math.isfinite(v):
                labels.append("")
                continue
            x = _clean_zero(v / div)
            d = _decimals_needed(x, cap, tol)
            text = f"{_clean_zero(round(x, d)):,.{d}f}"
            labels.append("0" if float(text.replace(",", "")) == 0 else text + suffix)
        shown = [lab for lab, v in zip(labels, vals) if math.isfinite(v)]
        if len(set(shown)) == len(set(finite)) or cap >= 15:
            return labels
        cap += 1


def distinct_money_labels(values: Iterable[float], *, max_decimals: int = 6) -> list[str]:
    """Short money labels (``4k``, ``21k``, ``1.2M``; each value its own scale) with the fewest
    decimals that keep distinct values apart, e.g. amount-band edges ``1,100 / 1,200`` read
    ``1.1k / 1.2k``, not ``1k / 1k``.

    >>> distinct_money_labels([4079.04, 20530.62, 56631.06])
    ['4k', '21k', '57k']
    >>> distinct_money_labels([1100, 1200, 1300])
    ['1.1k', '1.2k', '1.3k']
    """
    vals = [float(v) for v in values]

    def one(v: float, d: int) -> str:
        if not math.isfinite(v):
            return UNKNOWN
        for threshold, suffix in _SCALES:
            if abs(v) >= threshold:
                return f"{_clean_zero(round(v / threshold, d)):,.{d}f}{suffix}"
        return f"{_clean_zero(round(v, d)):,.{d}f}"

    wanted = len({v for v in vals if math.isfinite(v)})
    for d in range(max_decimals + 1):
        labels = [one(v, d) for v in vals]
        if len({lab for lab, v in zip(labels, vals) if math.isfinite(v)}) == wanted:
            return labels
    return labels


def count_tick_labels(values: Iterable[float]) -> list[str]:
    """Labels for a count axis: whole ticks as ``1,467``; fractional ticks (which a count axis
    should not have) get the decimals they need so that labels stay distinct."""
    out = []
    for v in values:
        v = float(v)
        if not math.isfinite(v):
            out.append("")
            continue
        d = _decimals_needed(v, 6)
        out.append(f"{_clean_zero(round(v, d)):,.{d}f}")
    return out


# ---------------------------------------------------------------------- tables
def plain_float(value, significant: int = 10) -> str:
    """A float without scientific notation, ``significant`` digits, trailing zeros dropped
    (``6907896.32``, ``0.00000012``); unknown → ``—``.

    >>> plain_float(6907896.3199999), plain_float(1.2e-7), plain_float(3e12)
    ('6907896.32', '0.00000012', '3000000000000')
    """
    if is_unknown(value):
        return UNKNOWN
    v = _clean_zero(float(value))
    if not math.isfinite(v):
        return str(v)
    return np.format_float_positional(v, precision=significant, unique=False, fractional=False,
                                      trim="-")


def _column_formatter(unit: str | None, currency: str | None):
    if unit in ("ratio", "percent"):
        return format_percent
    if unit in ("currency", "money"):
        return lambda v: format_money(v, currency)
    if unit == "count":
        return format_count
    if unit is None:
        return format_number
    return lambda v: format_value(v, unit, currency)


def format_table(frame: pd.DataFrame, units: Mapping[str, str] | None = None, *,
                 currency: str | None = "USD", unit_column: str | None = None,
                 value_columns: Iterable[str] = ("value",)) -> pd.DataFrame:
    """``frame`` as text for people, one formatter per column; the index is dropped.

    ``units`` maps a column to a unit (``currency``, ``ratio``, ``count``, ``days``, ... as in the
    catalogue); unlisted numeric columns: integer-valued ones as counts, others with two decimals.
    With ``unit_column`` (e.g. ``"unit"`` in a :func:`compute_kpis` frame) each row's
    ``value_columns`` are formatted by that row's unit. Unknown cells read ``—``. Text is kept as
    is (escape it when writing HTML: :func:`table_html` does).
    """
    units = dict(units or {})
    out = pd.DataFrame(index=range(len(frame)))
    value_columns = set(value_columns)
    for col in frame.columns:
        s = frame[col].reset_index(drop=True)
        if unit_column is not None and col in value_columns and unit_column in frame.columns:
            row_units = frame[unit_column].reset_index(drop=True)
            out[col] = [format_value(v, u, currency) for v, u in zip(s, row_units)]
        elif col in units:
            f = _column_formatter(units[col], currency)
            out[col] = [f(v) for v in s]
        elif pd.api.types.is_bool_dtype(s):
            out[col] = s.map(lambda v: UNKNOWN if is_unknown(v) else ("yes" if v else "no"))
        elif pd.api.types.is_numeric_dtype(s):
            whole = s.dropna()
            whole = bool(len(whole)) and bool(np.all(np.isclose(whole, np.round(whole), atol=1e-9)))
            f = format_count if whole else format_number
            out[col] = [f(v) for v in s]
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.map(lambda v: UNKNOWN if is_unknown(v) else
                             (f"{v:%Y-%m-%d}" if v == v.normalize() else str(v)))
        else:
            out[col] = s.map(lambda v: UNKNOWN if is_unknown(v) else str(v))
    return out


def table_html(frame: pd.DataFrame, units: Mapping[str, str] | None = None, *,
               currency: str | None = "USD", caption: str | None = None, classes: str = "rk-table",
               **kwargs) -> str:
    """:func:`format_table` as an HTML table without an index column; every cell is escaped,
    numeric columns are right-aligned. ``kwargs`` go to :func:`format_table`."""
    text = format_table(frame, units, currency=currency, **kwargs)
    numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])}
    if kwargs.get("unit_column"):
        numeric |= set(kwargs.get("value_columns", ("value",)))
    esc = html.escape
    head = "".join(f"<th>{esc(str(c))}</th>" for c in text.columns)
    rows = []
    for rec in text.itertuples(index=False):
        cells = "".join(
            f"<td style=\"text-align:{'right' if c in numeric else 'left'}\">{esc(str(v))}</td>"
            for c, v in zip(text.columns, rec))
        rows.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f"<table class=\"{esc(classes)}\">{cap}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def text_table(frame: pd.DataFrame, *, significant: int = 10) -> str:
    """``frame`` as a plain-text table for a terminal: no index, no scientific notation
    (floats by :func:`plain_float`), unknown as ``—``.

    >>> print(text_table(pd.DataFrame({"kpi": ["mrr", "nrr"], "value": [6907896.32, 1.2e-7]})))
    kpi      value
    mrr 6907896.32
    nrr 0.00000012
    """
    if not len(frame.columns):
        return ""
    shown = frame.copy()
    for col in shown.columns:
        s = shown[col]
        if pd.api.types.is_float_dtype(s):
            shown[col] = s.map(lambda v: plain_float(v, significant))
        elif pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_object_dtype(s) \
                or isinstance(s.dtype, pd.StringDtype):
            shown[col] = s.map(lambda v: UNKNOWN if is_unknown(v) else v)
    with pd.option_context("display.max_rows", None, "display.max_columns", None,
                           "display.width", 10_000, "display.max_colwidth", 60):
        return shown.to_string(index=False)
