"""The simulation calendar: month starts as integer day numbers, billing dates, quarters.

Dates inside the simulation are integer day numbers (days since 1970-01-01); window month ``m``
is 0 for the first month of data and negative for the :data:`~.constants.OFF` months of CRM
history before it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .constants import GROWTH, MONTH_IN_Q_SEASON, OFF, QUARTER_SEASON

__all__ = ["Calendar", "to_dates"]


@dataclass(frozen=True)
class Calendar:
    """Month spine of the simulated window (plus history before and 40 months after it).

    Attributes
    ----------
    first_month : pandas.Timestamp
        First month with data.
    T : int
        Number of months in the window.
    cal : pandas.DatetimeIndex
        Month starts from ``OFF`` months before the window to 40 months after it.
    cal_ms, dim, cal_month : list of int
        Day number, number of days and calendar month of each ``cal`` entry.
    W, D0 : int
        First day after the window (exclusive end) and first day of the window.
    season, acq_weight : numpy.ndarray
        Seasonal factor of new business and acquisition weight (growth x season) per ``cal`` entry.
    """

    first_month: pd.Timestamp
    T: int
    cal: pd.DatetimeIndex
    cal_ms: list
    dim: list
    cal_month: list
    W: int
    D0: int
    season: np.ndarray
    acq_weight: np.ndarray

    @classmethod
    def build(cls, start: str, end: str) -> Calendar:
        """Calendar of the window ``start``..``end`` (``"YYYY-MM"``, both inclusive)."""
        first = pd.Period(start, "M").to_timestamp()
        last = pd.Period(end, "M").to_timestamp()
        if last < first:
            raise ValueError(f"generate: end {end!r} is before start {start!r}")
        T = (last.year - first.year) * 12 + last.month - first.month + 1
        cal = pd.date_range(first - pd.DateOffset(months=OFF), periods=OFF + T + 40, freq="MS")
        cal_ms = cal.values.astype("datetime64[D]").astype(np.int64).tolist()
        cal_month = cal.month.tolist()
        m = np.arange(-OFF, T + 40)
        cm = np.array(cal_month)
        season = np.array(QUARTER_SEASON)[(cm - 1) // 3] * np.array(MONTH_IN_Q_SEASON)[(cm - 1) % 3]
        return cls(first_month=first, T=T, cal=cal, cal_ms=cal_ms, dim=cal.days_in_month.tolist(),
                   cal_month=cal_month, W=cal_ms[OFF + T], D0=cal_ms[OFF], season=season,
                   acq_weight=np.exp(GROWTH * m) * season)

    def month_start(self, m: int) -> int:
        """Day number of the first day of window month ``m``."""
        return self.cal_ms[m + OFF]

    def days_in(self, m: int) -> int:
        """Number of days of window month ``m``."""
        return self.dim[m + OFF]

    def bill(self, m: int, d: int) -> int:
        """Day number of the billing date with anchor day ``d`` in window month ``m``."""
        i = m + OFF
        return self.cal_ms[i] + min(d, self.dim[i]) - 1

    def month_of(self, day: int) -> int:
        """Window month of day number ``day``."""
        return bisect.bisect_right(self.cal_ms, day) - 1 - OFF

    def season_of(self, m: int) -> float:
        """Seasonal factor of new business in window month ``m``."""
        return float(self.season[m + OFF])

    def months_of(self, days: np.ndarray) -> np.ndarray:
        """Window months of an array of day numbers."""
        return np.searchsorted(np.array(self.cal_ms), days, side="right") - 1 - OFF

    @property
    def q_first(self) -> int:
        """Absolute quarter number (``year * 4 + quarter - 1``) of the first month."""
        return self.first_month.year * 4 + (self.first_month.month - 1) // 3

    @property
    def q_last(self) -> int:
        """Absolute quarter number of the last month of the window."""
        last = self.cal[OFF + self.T - 1]
        return last.year * 4 + (last.month - 1) // 3

    @property
    def last_year(self) -> int:
        """Calendar year of the last month of the window."""
        return self.cal[OFF + self.T - 1].year

    def quarters(self, first_q: int, last_q: int) -> list[tuple[str, int, int]]:
        """(label, first window month, end window month) for absolute quarters ``first_q..last_q``."""
        out = []
        base = self.first_month.year * 12 + self.first_month.month - 1
        for aq in range(first_q, last_q + 1):
            y, q = divmod(aq, 4)
            m = y * 12 + 3 * q - base
            out.append((f"{y}-Q{q + 1}", m, m + 3))
        return out


def to_dates(days) -> pd.Series:
    """Day numbers (float/int/None) to a datetime64 Series (missing -> NaT)."""
    arr = np.array([np.nan if v is None else v for v in days], dtype=float) if not isinstance(
        days, (np.ndarray, pd.Series)) else np.asarray(days, dtype=float)
    out = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnan(arr)
    out[ok] = arr[ok].astype(np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    return pd.Series(out)
