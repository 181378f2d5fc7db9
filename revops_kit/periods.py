"""Reporting periods: months, quarters, years and fiscal periods, all half-open ``[start, end)``.

>>> p = Period.parse("2025-Q1")
>>> p.start.date(), p.end.date()
(datetime.date(2025, 1, 1), datetime.date(2025, 4, 1))
>>> str(p.previous()), str(p.year_ago()), str(p.next())
('2024-Q4', '2024-Q1', '2025-Q2')
>>> [m.strftime("%Y-%m") for m in p.months()]
['2025-01', '2025-02', '2025-03']
>>> fy = Period.parse("FY2025-Q1", fiscal_year_start=2)
>>> fy.start.date(), fy.end.date()
(datetime.date(2024, 2, 1), datetime.date(2024, 5, 1))

A fiscal year is named after the calendar year in which it *ends* (FY2025 with a February start
runs 2024-02-01 .. 2025-02-01), the common convention in US filings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

import pandas as pd

from .errors import PeriodError

__all__ = ["Period", "PeriodLike", "as_period", "month_spine", "period_range", "to_month"]

_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}
_PATTERNS = [
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})-?Q(\d)$", re.I), "quarter"),
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(r"^FY(\d{4})-?Q(\d)$", re.I), "fiscal_quarter"),
    (re.compile(r"^FY(\d{4})$", re.I), "fiscal_year"),
]


@dataclass(frozen=True, order=True)
class Period:
    """A half-open reporting period ``[start, end)``.

    Parameters
    ----------
    start, end : pandas.Timestamp
        First day of the period and first day after it; both are month starts.
    kind : {"month", "quarter", "year", "fiscal_quarter", "fiscal_year"}
    fiscal_year_start : int
        Month (1-12) in which the fiscal year starts; only used by fiscal periods and labels.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    kind: str = "month"
    fiscal_year_start: int = 1

    # ------------------------------------------------------------------ construction
    @classmethod
    def parse(cls, label: "PeriodLike", *, fiscal_year_start: int = 1) -> "Period":
        """Parse ``"2025-03"``, ``"2025-Q1"``, ``"2025"``, ``"FY2025"`` or ``"FY2025-Q1"``.

        Raises
        ------
        PeriodError
            If the label matches none of these forms or names month 13, quarter 5 and the like.
        """
        if isinstance(label, Period):
            return label
        if not 1 <= int(fiscal_year_start) <= 12:
            raise PeriodError(
                f"Period.parse: fiscal_year_start must be a month 1-12, got {fiscal_year_start!r}"
            )
        text = str(label).strip()
        for pattern, kind in _PATTERNS:
            match = pattern.match(text)
            if not match:
                continue
            year = int(match.group(1))
            if kind == "month":
                month = int(match.group(2))
                if not 1 <= month <= 12:
                    raise PeriodError(f"invalid period {text!r}: month {month} is not in 1-12")
                return cls._make(year, month, 1, "month", fiscal_year_start)
            if kind in ("quarter", "fiscal_quarter"):
                quarter = int(match.group(2))
                if not 1 <= quarter <= 4:
                    raise PeriodError(f"invalid period {text!r}: quarter {quarter} is not in 1-4")
                if kind == "quarter":
                    return cls._make(year, 3 * quarter - 2, 3, "quarter", fiscal_year_start)
                start = _fiscal_year_start(year, fiscal_year_start) + pd.DateOffset(
                    months=3 * (quarter - 1)
                )
                return cls._from_start(start, 3, "fiscal_quarter", fiscal_year_start)
            if kind == "year":
                return cls._make(year, 1, 12, "year", fiscal_year_start)
            start = _fiscal_year_start(year, fiscal_year_start)
            return cls._from_start(start, 12, "fiscal_year", fiscal_year_start)
        raise PeriodError(
            f"invalid period {text!r}: expected 'YYYY-MM', 'YYYY-Qn', 'YYYY', 'FYYYYY' or 'FYYYYY-Qn'"
        )

    @classmethod
    def _make(cls, year: int, month: int, length: int, kind: str, fys: int) -> "Period":
        return cls._from_start(pd.Timestamp(year=year, month=month, day=1), length, kind, fys)

    @classmethod
    def _from_start(cls, start: pd.Timestamp, length: int, kind: str, fys: int) -> "Period":
        start = pd.Timestamp(start).normalize()
        return cls(start, start + pd.DateOffset(months=length), kind, int(fys))

    @classmethod
    def containing(cls, date, kind: str = "month", *, fiscal_year_start: int = 1) -> "Period":
        """The period of the given kind that contains ``date``."""
        ts = pd.Timestamp(date)
        if kind == "month":
            return cls._make(ts.year, ts.month, 1, kind, fiscal_year_start)
        if kind == "quarter":
            return cls._make(ts.year, 3 * ((ts.month - 1) // 3) + 1, 3, kind, fiscal_year_start)
        if kind == "year":
            return cls._make(ts.year, 1, 12, kind, fiscal_year_start)
        if kind in ("fiscal_year", "fiscal_quarter"):
            offset = (ts.month - fiscal_year_start) % 12
            fy_start = pd.Timestamp(year=ts.year, month=ts.month, day=1) - pd.DateOffset(
                months=offset
            )
            if kind == "fiscal_year":
                return cls._from_start(fy_start, 12, kind, fiscal_year_start)
            q_start = fy_start + pd.DateOffset(months=3 * (offset // 3))
            return cls._from_start(q_start, 3, kind, fiscal_year_start)
        raise PeriodError(f"Period.containing: unknown kind {kind!r}")

    # ------------------------------------------------------------------ arithmetic
    @property
    def n_months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month

    def shift(self, n: int) -> "Period":
        """The period ``n`` periods of the same length later (earlier when negative)."""
        months = n * self.n_months
        return Period(
            self.start + pd.DateOffset(months=months),
            self.end + pd.DateOffset(months=months),
            self.kind,
            self.fiscal_year_start,
        )

    def previous(self) -> "Period":
        """The period of the same kind just before this one."""
        return self.shift(-1)

    def next(self) -> "Period":
        """The period of the same kind just after this one."""
        return self.shift(1)

    def year_ago(self) -> "Period":
        """The same period one year earlier."""
        return Period(
            self.start - pd.DateOffset(years=1),
            self.end - pd.DateOffset(years=1),
            self.kind,
            self.fiscal_year_start,
        )

    def trailing(self, n: int) -> list["Period"]:
        """The ``n`` periods ending with this one, oldest first."""
        return [self.shift(-k) for k in range(n - 1, -1, -1)]

    def months(self) -> pd.DatetimeIndex:
        """Month starts inside the period (the month spine)."""
        return pd.date_range(self.start, self.end, freq="MS", inclusive="left")

    def trailing_months(self, n: int) -> pd.DatetimeIndex:
        """The ``n`` month starts ending with the period's last month (a month spine)."""
        return pd.date_range(end=self.last_month, periods=n, freq="MS")

    @property
    def last_month(self) -> pd.Timestamp:
        """First day of the period's last month (the month whose MRR is the period-end MRR)."""
        return self.end - pd.DateOffset(months=1)

    def contains(self, date) -> bool:
        ts = pd.Timestamp(date)
        return bool(self.start <= ts < self.end)

    def mask(self, dates: pd.Series) -> pd.Series:
        """Boolean mask of ``dates`` inside ``[start, end)`` (missing dates are False)."""
        return (dates >= self.start) & (dates < self.end)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        offset = (self.start.month - self.fiscal_year_start) % 12
        fy_start = self.start - pd.DateOffset(months=offset)
        fy = fy_start.year + (1 if self.fiscal_year_start != 1 else 0)
        if self.kind == "fiscal_year":
            return f"FY{fy}"
        q = offset // 3 + 1
        return f"FY{fy}-Q{q}"

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"Period({self.label!r}, {self.start.date()}..{self.end.date()})"


PeriodLike = Union[Period, str]


def _fiscal_year_start(fy: int, start_month: int) -> pd.Timestamp:
    year = fy if start_month == 1 else fy - 1
    return pd.Timestamp(year=year, month=start_month, day=1)


def as_period(value: PeriodLike, *, fiscal_year_start: int = 1) -> Period:
    """Return ``value`` as a :class:`Period` (parsing strings)."""
    return Period.parse(value, fiscal_year_start=fiscal_year_start)


def to_month(dates) -> pd.Series | pd.Timestamp:
    """Truncate dates to the first day of their month (works on scalars and Series)."""
    if isinstance(dates, pd.Series):
        return dates.dt.to_period("M").dt.to_timestamp()
    return pd.Timestamp(dates).to_period("M").to_timestamp()


def month_spine(start, end) -> pd.DatetimeIndex:
    """Month starts from the month of ``start`` up to, excluding, ``end`` (half-open)."""
    first = to_month(pd.Timestamp(start))
    return pd.date_range(first, pd.Timestamp(end), freq="MS", inclusive="left")


def period_range(last: PeriodLike, n: int, *, fiscal_year_start: int = 1) -> list[Period]:
    """The ``n`` periods of ``last``'s kind ending with ``last``, oldest first."""
    return as_period(last, fiscal_year_start=fiscal_year_start).trailing(n)
