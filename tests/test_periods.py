from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from revops_kit.errors import PeriodError
from revops_kit.periods import Period, month_spine


@pytest.mark.parametrize("label,start,end", [
    ("2025-03", "2025-03-01", "2025-04-01"),
    ("2025-12", "2025-12-01", "2026-01-01"),
    ("2025-Q1", "2025-01-01", "2025-04-01"),
    ("2025Q4", "2025-10-01", "2026-01-01"),
    ("2025", "2025-01-01", "2026-01-01"),
    ("FY2025", "2025-01-01", "2026-01-01"),
])
def test_parse_calendar(label, start, end):
    p = Period.parse(label)
    assert (p.start, p.end) == (pd.Timestamp(start), pd.Timestamp(end))


def test_fiscal_year_named_after_its_end():
    fy = Period.parse("FY2025", fiscal_year_start=4)
    assert (fy.start, fy.end) == (pd.Timestamp("2024-04-01"), pd.Timestamp("2025-04-01"))
    q3 = Period.parse("FY2025-Q3", fiscal_year_start=4)
    assert (q3.start, q3.end) == (pd.Timestamp("2024-10-01"), pd.Timestamp("2025-01-01"))
    assert str(q3) == "FY2025-Q3" and str(q3.previous()) == "FY2025-Q2"
    assert str(q3.next().next()) == "FY2026-Q1"


@pytest.mark.parametrize("bad", ["2024-13", "2024-Q5", "2024-00", "Q1-2024", "", "2024-Q0", "FY24"])
def test_unparsable_periods_name_the_label(bad):
    with pytest.raises(PeriodError, match="invalid period"):
        Period.parse(bad)


def test_previous_year_ago_months():
    p = Period.parse("2025-Q1")
    assert str(p.previous()) == "2024-Q4"
    assert str(p.year_ago()) == "2024-Q1"
    assert list(p.months().strftime("%m")) == ["01", "02", "03"]
    assert p.last_month == pd.Timestamp("2025-03-01")
    assert list(Period.parse("2025-02").trailing_months(3).strftime("%Y-%m")) == ["2024-12", "2025-01", "2025-02"]


def test_month_spine_is_half_open():
    spine = month_spine("2024-01-15", "2024-04-01")
    assert list(spine.strftime("%Y-%m")) == ["2024-01", "2024-02", "2024-03"]


kinds = st.sampled_from(["month", "quarter", "year", "fiscal_quarter", "fiscal_year"])
dates = st.dates(min_value=pd.Timestamp("1990-01-01").date(), max_value=pd.Timestamp("2090-12-31").date())


@given(date=dates, kind=kinds, fys=st.integers(1, 12))
def test_containing_round_trips_through_label(date, kind, fys):
    p = Period.containing(date, kind, fiscal_year_start=fys)
    assert p.contains(date)
    assert Period.parse(str(p), fiscal_year_start=fys) == p


@given(date=dates, kind=kinds, fys=st.integers(1, 12), n=st.integers(-30, 30))
def test_shift_is_invertible_and_contiguous(date, kind, fys, n):
    p = Period.containing(date, kind, fiscal_year_start=fys)
    assert p.shift(n).shift(-n) == p
    assert p.previous().end == p.start and p.next().start == p.end
    assert len(p.months()) == p.n_months
    assert p.year_ago().shift(12 // p.n_months) == p
