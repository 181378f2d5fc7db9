"""MonthGrid: the frame contract, windows, the cache and lazy FX errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import revops_kit as rk
from revops_kit import grid as G
from revops_kit.grid import GRID_COLUMNS, MonthGrid, MRRInputError, month_grid


def _subs():
    return pd.DataFrame({
        "customer_id": ["a", "a", "b", "c"],
        "start_date": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-02-01", "2025-01-15"]),
        "end_date": pd.to_datetime(["2025-03-01", "2025-05-01", "2025-03-01", None]),
        "mrr": [100.0, 150.0, 50.0, 10.0],
    })


def test_frame_contract_columns_dtypes_and_rows():
    g = MonthGrid.build(_subs())
    f = g.frame()
    assert list(f.columns) == list(GRID_COLUMNS)
    for col in ("mrr_cents", "previous_mrr_cents", "fx_impact_cents", "movement_cents"):
        assert f[col].dtype == np.int64
    assert list(f["category"].cat.categories) == list(G.CATEGORIES)
    # hand-computed: a new Jan (100), unchanged Feb, expansion Mar (150), unchanged Apr, churn May;
    # b new Feb (50), churn Mar; c starts mid-January -> new in Feb, still running to the grid end
    a = f[f["customer_id"] == "a"]
    assert a["month"].dt.strftime("%Y-%m").tolist() == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
    assert a["mrr_cents"].tolist() == [10000, 10000, 15000, 15000, 0]
    assert a["category"].tolist() == ["new", "unchanged", "expansion", "unchanged", "churn"]
    c = f[f["customer_id"] == "c"]
    assert c["month"].dt.strftime("%Y-%m").tolist()[0] == "2025-02"
    assert (f["movement_cents"] == f["mrr_cents"] - f["previous_mrr_cents"] - f["fx_impact_cents"]).all()
    # grid ends the month after the last change (a's churn in May): [2025-01, 2025-06)
    assert f["month"].max() == pd.Timestamp("2025-05-01")


def test_window_equals_filtered_full_grid_and_matches_movements():
    subs = _subs()
    full = month_grid(subs).frame()
    w = month_grid(subs, start="2025-02-01", end="2025-04-01").frame()
    expect = full[(full["month"] >= "2025-02-01") & (full["month"] < "2025-04-01")].reset_index(drop=True)
    pd.testing.assert_frame_equal(w, expect)
    mv = rk.mrr_movements(subs, start="2025-02-01", end="2025-04-01")
    assert (mv["mrr"].to_numpy() * 100 == w["mrr_cents"].to_numpy()).all()


def test_period_after_the_data_extends_running_subscriptions():
    subs = _subs()
    month_grid(subs)  # cached with the data's own end first
    late = month_grid(subs, start="2025-08-01", end="2025-10-01").frame()
    assert late["customer_id"].tolist() == ["c", "c"]
    assert late["category"].tolist() == ["unchanged", "unchanged"]
    # a later plain call still ends where the data ends
    assert month_grid(subs).frame()["month"].max() == pd.Timestamp("2025-05-01")


def test_cache_one_build_per_frame_policy_and_grain(monkeypatch):
    calls = []
    real = G._build
    monkeypatch.setattr(G, "_build", lambda *a, **k: calls.append(k) or real(*a, **k))
    subs = _subs()
    g1 = month_grid(subs)
    assert month_grid(subs) is g1
    month_grid(subs, start="2025-02-01", end="2025-03-01")
    assert len(calls) == 1
    month_grid(subs, policy="dbt_mrr_playbook")
    assert len(calls) == 2
    month_grid(subs.copy())  # another frame object
    assert len(calls) == 3
    subs.loc[0, "mrr"] = 120.0  # edited in place: the checksum changes, the grid is rebuilt
    assert month_grid(subs).frame()["mrr_cents"].iloc[0] == 12000
    assert len(calls) == 4


def test_report_kpis_build_each_grid_once(monkeypatch):
    sample = rk.load_sample()  # fresh frames: nothing cached for them yet
    calls = []
    real = G._build
    monkeypatch.setattr(G, "_build", lambda *a, **k: calls.append((k["grain"], k["convert"])) or real(*a, **k))
    p = sample.latest_full_period()
    rk.compute_kpis(sample, p, ["mrr", "arr", "nrr", "grr", "logo_churn_rate", "quick_ratio", "arpa",
                                "mrr_new", "mrr_churned"])
    rk.mrr_bridge(sample.subscriptions, p, customers=sample.customers, fx_rates=sample.fx_rates)
    assert calls.count(((), True)) == 1


def test_missing_fx_rate_raises_only_for_windows_that_need_it():
    subs = pd.DataFrame({
        "customer_id": ["a", "b"],
        "start_date": pd.to_datetime(["2025-01-01", "2025-01-01"]),
        "end_date": pd.to_datetime([None, None]),
        "mrr": [100.0, 80.0],
        "currency": ["USD", "EUR"],
    })
    fx = pd.DataFrame({"month": pd.to_datetime(["2025-03-01", "2025-04-01"]),
                       "currency": ["EUR", "EUR"], "rate": [1.1, 1.2]})
    g = MonthGrid.build(subs, fx_rates=fx, through="2025-05-01")  # the whole grid: no window checked yet
    w = g.window("2025-04-01", "2025-05-01").frame()
    assert w.set_index("customer_id")["mrr_cents"].to_dict() == {"a": 10000, "b": 9600}
    assert w.set_index("customer_id")["fx_impact_cents"].to_dict() == {"a": 0, "b": 800}
    with pytest.raises(MRRInputError, match=r"no rate for currency \['EUR'\] in month\(s\) \['2025-01', '2025-02'\]"):
        g.window("2025-01-01", "2025-03-01")
    with pytest.raises(MRRInputError, match=r"\['2025-02'\]"):  # March needs February's rate too
        g.window("2025-03-01", "2025-04-01")


def test_grid_does_not_mutate_input():
    subs = _subs()
    before = subs.copy()
    MonthGrid.build(subs, grain=["customer_id"][:0])
    pd.testing.assert_frame_equal(subs, before)
