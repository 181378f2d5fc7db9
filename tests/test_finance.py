"""Finance KPIs: golden hand-computed cases, recognition properties, FX, zero denominators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import revops_kit as rk
from revops_kit.errors import RevOpsError, ZeroDenominatorWarning

D = pd.to_datetime

# i1: 12 whole months at 100 (cost 20/month); i2: one-time, delivered 2025-02-10; i3: one month in
# EUR; i4: services 2025-01-16..2025-03-16 -> weights 16/31, 1, 15/31 (sum exactly 2).
INVOICES = pd.DataFrame({
    "invoice_id": ["i1", "i2", "i3", "i4"],
    "customer_id": ["a", "a", "b", "b"],
    "issued_at": D(["2025-01-01", "2025-02-01", "2025-03-01", "2025-01-16"]),
    "amount": [1200.0, 500.0, 310.0, 900.0],
    "currency": ["USD", "USD", "EUR", "USD"],
    "kind": ["recurring", "one_time", "recurring", "services"],
    "cost_of_revenue": [240.0, 100.0, 31.0, 180.0],
    "service_start": D(["2025-01-01", "2025-02-10", "2025-03-01", "2025-01-16"]),
    "service_end": D(["2026-01-01", None, "2025-04-01", "2025-03-16"]),
    "paid_at": D(["2025-02-10", None, "2025-04-10", "2025-01-30"]),
})
FX = pd.DataFrame({"month": D(["2025-03-01", "2025-04-01"]), "currency": ["EUR", "EUR"], "rate": [1.1, 1.2]})
CUSTOMERS = pd.DataFrame({"customer_id": ["a", "b"], "segment": ["SMB", "Enterprise"]})
COSTS = pd.DataFrame({
    "month": D(["2025-01-01", "2025-02-01", "2025-03-01"] * 2),
    "category": ["cost_of_revenue"] * 3 + ["sales_payroll"] * 3,
    "amount": [100.0, 100.0, 100.0, 200.0, 200.0, 200.0],
})
Q1_REVENUE = 300 + 500 + 310 * 1.1 + 900  # 2041


def test_recognition_schedule_golden():
    s = rk.recognition_schedule(INVOICES, fx_rates=FX)
    i1 = s[s["invoice_id"] == "i1"]
    assert len(i1) == 12 and np.allclose(i1["revenue"], 100.0) and np.allclose(i1["cost_of_revenue"], 20.0)
    i4 = s[s["invoice_id"] == "i4"].set_index("month")["revenue"]
    assert i4[D("2025-01-01")] == pytest.approx(900 * (16 / 31) / 2)
    assert i4[D("2025-02-01")] == pytest.approx(450.0)
    assert i4[D("2025-03-01")] == pytest.approx(900 * (15 / 31) / 2)
    i2 = s[s["invoice_id"] == "i2"]
    assert i2["month"].tolist() == [D("2025-02-01")] and i2["revenue"].item() == 500.0
    assert s.loc[s["invoice_id"] == "i3", "revenue"].item() == pytest.approx(341.0)


def test_revenue_recognised_billings_cash_golden():
    rev = rk.revenue_recognised(INVOICES, "2025-Q1", fx_rates=FX)
    assert rev["value"].item() == pytest.approx(Q1_REVENUE)
    assert rev["non_recurring"].item() == pytest.approx(1400.0)
    assert rk.revenue_recognised(INVOICES, "2025-02", fx_rates=FX)["value"].item() == pytest.approx(100 + 500 + 450)
    assert rk.billings(INVOICES, "2025-Q1", fx_rates=FX)["value"].item() == pytest.approx(1200 + 500 + 341 + 900)
    assert rk.cash_collected(INVOICES, "2025-Q1", fx_rates=FX)["value"].item() == pytest.approx(2100.0)
    # paid in April: converted at April's rate
    assert rk.cash_collected(INVOICES, "2025-Q2", fx_rates=FX)["value"].item() == pytest.approx(372.0)
    by = rk.revenue_recognised(INVOICES, "2025-Q1", by="segment", customers=CUSTOMERS, fx_rates=FX)
    assert dict(zip(by["segment"], by["value"])) == pytest.approx({"SMB": 800.0, "Enterprise": 1241.0})


def test_dso_golden():
    d = rk.dso(INVOICES, "2025-Q1", fx_rates=FX)
    # AR at 2025-04-01: i2 (500, unpaid) + i3 (341, paid in April); billings 2941; 90 days
    assert d["receivables"].item() == pytest.approx(841.0)
    assert d["billings"].item() == pytest.approx(2941.0)
    assert d["value"].item() == pytest.approx(841.0 / 2941.0 * 90)
    assert d["numerator"].item() / d["denominator"].item() == pytest.approx(d["value"].item())


def test_gross_margin_from_invoices_and_ledger():
    gm = rk.gross_margin(INVOICES, "2025-Q1", fx_rates=FX)
    cost = 60 + 100 + 34.1 + 180
    assert gm["value"].item() == pytest.approx((Q1_REVENUE - cost) / Q1_REVENUE)
    assert gm["numerator"].item() == pytest.approx(Q1_REVENUE - cost)
    assert gm["denominator"].item() == pytest.approx(Q1_REVENUE)
    led = rk.gross_margin(INVOICES, "2025-Q1", costs=COSTS, fx_rates=FX)
    assert led["value"].item() == pytest.approx((Q1_REVENUE - 300) / Q1_REVENUE)
    assert led["cost_source"].item() == "costs"
    by = rk.gross_margin(INVOICES, "2025-Q1", by="segment", customers=CUSTOMERS, fx_rates=FX)
    smb = by.set_index("segment").loc["SMB"]
    assert smb["value"] == pytest.approx((800 - 160) / 800)


def test_cash_flow_and_profit_margin():
    ocf = rk.operating_cash_flow(INVOICES, COSTS, "2025-Q1", fx_rates=FX)
    assert ocf["value"].item() == pytest.approx(2100 - 900)
    pm = rk.profit_margin(INVOICES, COSTS, "2025-Q1", fx_rates=FX)
    assert pm["value"].item() == pytest.approx((Q1_REVENUE - 900) / Q1_REVENUE)


def test_finance_series_by_month_quarter_year():
    m = rk.finance_series(INVOICES, "2025-Q1", costs=COSTS, freq="month", n=3, fx_rates=FX)
    assert m["period"].tolist() == ["2025-01", "2025-02", "2025-03"]
    assert m["revenue_recognised"].sum() == pytest.approx(Q1_REVENUE)
    q = rk.finance_series(INVOICES, "2025-Q1", costs=COSTS, freq="quarter", n=1, fx_rates=FX)
    assert q["gross_margin"].item() == pytest.approx((Q1_REVENUE - 300) / Q1_REVENUE)
    with pytest.raises(RevOpsError, match="freq"):
        rk.finance_series(INVOICES, "2025-Q1", freq="week")


def test_zero_revenue_gives_nan_and_warning():
    with pytest.warns(ZeroDenominatorWarning, match="gross_margin"):
        gm = rk.gross_margin(INVOICES, "2024-Q1", fx_rates=FX)
    assert np.isnan(gm["value"].item())


def test_missing_fx_rate_names_table():
    with pytest.raises(RevOpsError, match="invoices.*EUR"):
        rk.billings(INVOICES, "2025-Q1")


def test_no_mutation(frozen_frames):
    with frozen_frames(INVOICES, COSTS, FX, CUSTOMERS):
        rk.recognition_schedule(INVOICES, fx_rates=FX)
        rk.dso(INVOICES, "2025-Q1", fx_rates=FX, by="segment", customers=CUSTOMERS)
        rk.gross_margin(INVOICES, "2025-Q1", costs=COSTS, by="segment", customers=CUSTOMERS, fx_rates=FX)
        rk.finance_series(INVOICES, "2025-Q1", costs=COSTS, n=2, fx_rates=FX)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 700), st.integers(1, 800), st.floats(1, 1e5),
                          st.sampled_from(["recurring", "services", "one_time"])), min_size=1, max_size=8))
def test_recognition_conserves_amount_and_ignores_order(rows):
    base = pd.Timestamp("2024-01-01")
    inv = pd.DataFrame({
        "invoice_id": [f"i{k}" for k in range(len(rows))],
        "customer_id": "c",
        "issued_at": [base + pd.Timedelta(days=s) for s, _, _, _ in rows],
        "amount": [a for _, _, a, _ in rows],
        "kind": [k for _, _, _, k in rows],
        "service_start": [base + pd.Timedelta(days=s) for s, _, _, _ in rows],
        "service_end": [base + pd.Timedelta(days=s + n) for s, n, _, _ in rows],
    })
    sched = rk.recognition_schedule(inv)
    per = sched.groupby("invoice_id")["revenue"].sum().reindex(inv["invoice_id"])
    assert np.allclose(per.to_numpy(), inv["amount"].to_numpy(), rtol=1e-9)
    assert (sched["revenue"] >= 0).all()
    # windows start in 2024-2025 (day <= 700) and last at most 800 days (to 2028-02): 2024..2028 hold all
    total = sum(rk.revenue_recognised(inv, str(y))["value"].item() for y in range(2024, 2029))
    assert total == pytest.approx(inv["amount"].sum())
    shuffled = inv.iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(rk.recognition_schedule(shuffled), sched)


def test_finance_series_matches_the_kpi_functions():
    s = rk.finance_series(INVOICES, "2025-Q1", costs=COSTS, freq="month", n=3, fx_rates=FX)
    assert len(s) == 3
    for r in s.itertuples(index=False):
        p = r.period
        assert r.revenue_recognised == pytest.approx(rk.revenue_recognised(INVOICES, p, fx_rates=FX)["value"].item())
        assert r.billings == pytest.approx(rk.billings(INVOICES, p, fx_rates=FX)["value"].item())
        assert r.dso == pytest.approx(rk.dso(INVOICES, p, fx_rates=FX)["value"].item())
        gm = rk.gross_margin(INVOICES, p, costs=COSTS, fx_rates=FX)["value"].item()
        assert r.gross_margin == pytest.approx(gm)
        pm = rk.profit_margin(INVOICES, COSTS, p, fx_rates=FX)["value"].item()
        assert r.profit_margin == pytest.approx(pm)
        assert r.operating_cash_flow == pytest.approx(
            rk.operating_cash_flow(INVOICES, COSTS, p, fx_rates=FX)["value"].item())


def test_future_months_use_latest_fx_rate():
    inv = pd.DataFrame({"invoice_id": ["e1"], "customer_id": ["b"], "issued_at": D(["2025-04-01"]),
                        "amount": [200.0], "currency": ["EUR"], "kind": ["recurring"],
                        "service_start": D(["2025-04-01"]), "service_end": D(["2025-06-01"])})
    s = rk.recognition_schedule(inv, fx_rates=FX).set_index("month")["revenue"]
    # April at April's rate; May is after the last fx month and uses April's 1.2
    assert s.to_dict() == pytest.approx({D("2025-04-01"): 120.0, D("2025-05-01"): 120.0})
