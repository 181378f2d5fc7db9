"""Unknown is not zero at the source (issue 14 item 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import revops_kit as rk
from revops_kit._common import group_agg

OPPS = pd.DataFrame({
    "opportunity_id": list("abcde"),
    "stage": ["Demo", "Demo", "Closed Won", "Closed Lost", "Closed Lost"],
    "created_at": pd.to_datetime(["2025-01-05"] * 5),
    "close_date": pd.to_datetime(["2025-05-01", "2025-05-01", "2025-02-01", "2025-02-10", "2025-03-01"]),
    "amount": [np.nan, 40.0, 300.0, 100.0, np.nan],
})


def test_pipeline_value_is_the_known_part_with_its_share():
    out = rk.pipeline_value(OPPS, "2025-Q1")
    assert out["value"].item() == 40.0
    assert out["n_missing_amount"].item() == 1 and out["known_share"].item() == 0.5


def test_pipeline_value_without_any_known_amount_is_nan_not_zero():
    none_known = OPPS.assign(amount=np.nan)
    out = rk.pipeline_value(none_known, "2025-Q1")
    assert np.isnan(out["value"].item()) and out["known_share"].item() == 0.0
    created = rk.pipeline_created(none_known, "2025-Q1")
    assert np.isnan(created["value"].item())
    booked = rk.bookings(none_known.assign(type="new_business"), "2025-Q1")
    assert np.isnan(booked["value"].item())


def test_amount_win_rate_with_a_loss_of_unknown_amount_is_nan_with_a_warning():
    pol = rk.DEFAULT_POLICY.replace(win_rate_basis="amount")
    with pytest.warns(rk.RevOpsWarning, match="1 lost deal"):
        out = rk.win_rate(OPPS, "2025-Q1", policy=pol)
    assert np.isnan(out["value"].item()) and out["n_lost_missing_amount"].item() == 1
    # by count nothing is unknown
    assert rk.win_rate(OPPS, "2025-Q1")["value"].item() == pytest.approx(1 / 3)


def test_empty_group_average_is_nan_and_counts_are_zero():
    empty = pd.DataFrame({"x": pd.Series([], dtype=float)})
    out = group_agg(empty, [], {"total": ("x", "sum"), "avg": ("x", "mean"), "n": ("x", "count")})
    assert out["total"].item() == 0.0 and out["n"].item() == 0.0 and np.isnan(out["avg"].item())
