"""Customer lifetime value: CDNOW reference fits, RFM summaries, simple and survival CLV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import revops_kit as rk
from revops_kit.errors import RevOpsError

from conftest import SHARED_DATA

CDNOW = SHARED_DATA / "cdnow"


def sig3(value: float) -> float:
    return float(f"{value:.3g}")


@pytest.mark.shared_data
def test_bgnbd_matches_fader_hardie_lee_2005():
    # Published on the CDNOW sample: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426,
    # LL = -9582.4 (Fader, Hardie & Lee 2005, Marketing Science 24(2); ../shared/data/PROVENANCE.md)
    summary = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    bg = rk.BetaGeoFitter().fit(summary)
    got = bg.params_
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert sig3(got[name]) == sig3(published), (name, got[name])
    assert round(bg.log_likelihood_, 1) == -9582.4
    assert list(bg.summary().index) == ["r", "alpha", "a", "b"]
    assert (bg.summary()["std_error"] > 0).all()


@pytest.mark.shared_data
def test_gamma_gamma_matches_fader_hardie_2013():
    # Published: p = 6.25, q = 3.74, gamma = 15.44 (Fader & Hardie 2013, "The Gamma-Gamma model of
    # monetary value"); spend is zbar for the 946 customers with x > 0.
    spend = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    gg = rk.GammaGammaFitter().fit(spend, frequency_col="x", monetary_col="zbar")
    assert gg.n_customers_ == 946
    for name, published in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert sig3(gg.params_[name]) == sig3(published), (name, gg.params_[name])


@pytest.mark.shared_data
def test_rfm_summary_reproduces_cdnow_summary_and_holdout():
    tx = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                     names=["master_id", "customer_id", "date", "cds", "value"],
                     dtype={"customer_id": int, "date": str})
    tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")
    rfm = rk.rfm_summary(tx, calibration_end="1997-09-30", observation_end="1998-06-30",
                         value_col="value")
    ref = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    both = rfm.merge(ref, left_on="customer_id", right_on="ID")
    assert len(both) == len(ref) == 2357
    assert (both["frequency"] == both["x"]).all()
    np.testing.assert_allclose(both["recency"], both["t_x"], atol=0.006)
    np.testing.assert_allclose(both["T_x"], both["T_y"], atol=0.006)
    np.testing.assert_allclose(both["monetary_value"], both["zbar"], atol=0.006)
    assert rfm["duration_holdout"].iloc[0] == pytest.approx(39.0)
    bg = rk.BetaGeoFitter().fit(rfm)
    table = rk.holdout_by_frequency(bg, rfm)
    assert table["frequency"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == 2357
    # the model ranks customers: predicted holdout purchases rise with calibration frequency
    assert table["predicted"].is_monotonic_increasing and table["actual"].is_monotonic_increasing


def _toy_rfm():
    return pd.DataFrame({"frequency": [0, 1, 2, 5, 0, 3, 1, 8, 0, 2],
                         "recency": [0.0, 10.0, 20.0, 30.0, 0.0, 5.0, 36.0, 38.0, 0.0, 2.0],
                         "T": [39.0] * 10,
                         "monetary_value": [0, 20.0, 35.0, 18.0, 0, 50.0, 12.0, 25.0, 0, 30.0]})


def test_bgnbd_predictions_behave():
    rfm = _toy_rfm()
    bg = rk.BetaGeoFitter()
    bg.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    alive = bg.probability_alive(rfm["frequency"], rfm["recency"], rfm["T"])
    assert np.all((alive > 0) & (alive <= 1)) and alive[0] == 1.0  # no repeat: cannot have dropped out
    # same frequency, more recent last purchase -> more likely alive and more expected purchases
    p = bg.probability_alive([2, 2], [5.0, 35.0], [39.0, 39.0])
    e = bg.conditional_expected_purchases(10.0, [2, 2], [5.0, 35.0], [39.0, 39.0])
    assert p[1] > p[0] and e[1] > e[0]
    # E[X(t)] at t = 0 is 0 and grows with t
    assert bg.expected_purchases(0.0) == pytest.approx(0.0)
    assert np.all(np.diff(bg.expected_purchases([1.0, 10.0, 39.0, 78.0])) > 0)


def test_clv_transactional_discounting():
    rfm = _toy_rfm()
    bg = rk.BetaGeoFitter()
    bg.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    gg = rk.GammaGammaFitter()
    gg.params_ = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    undiscounted = rk.clv_transactional(bg, gg, rfm, horizon=12, discount_rate=0.0)
    discounted = rk.clv_transactional(bg, gg, rfm, horizon=12, discount_rate=0.01)
    # with no discounting CLV = spend x expected purchases over the horizon (52 weeks)
    expected = gg.conditional_expected_spend(rfm["frequency"], rfm["monetary_value"]) * \
        bg.conditional_expected_purchases(52.0, rfm["frequency"], rfm["recency"], rfm["T"])
    np.testing.assert_allclose(undiscounted["clv"], expected, rtol=1e-9)
    assert (discounted["clv"] < undiscounted["clv"]).all()
    assert gg.conditional_expected_spend(0, 0) == pytest.approx(6.25 * 15.44 / 2.74)


def test_fitters_validate_input():
    with pytest.raises(RevOpsError, match="'frequency'"):
        rk.BetaGeoFitter().fit(pd.DataFrame({"x": [1]}))
    with pytest.raises(RevOpsError, match="recency ≤ T"):
        rk.BetaGeoFitter().fit(pd.DataFrame({"frequency": [1], "recency": [5.0], "T": [2.0]}))
    with pytest.raises(RevOpsError, match="not fitted"):
        rk.BetaGeoFitter().probability_alive([1], [1.0], [2.0])
    with pytest.raises(RevOpsError, match="no customer with a repeat"):
        rk.GammaGammaFitter().fit(pd.DataFrame({"frequency": [0], "monetary_value": [0.0]}))


def test_rfm_summary_golden_and_no_mutation(frozen_frames):
    tx = pd.DataFrame({"customer_id": ["a", "a", "a", "a", "b"],
                       "date": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-15", "2025-03-01",
                                               "2025-01-08"]),
                       "value": [10.0, 5.0, 30.0, 40.0, 7.0]})
    with frozen_frames(tx):
        out = rk.rfm_summary(tx, calibration_end="2025-01-29", observation_end="2025-03-26",
                             value_col="value").set_index("customer_id")
    assert out.loc["a", "frequency"] == 1 and out.loc["a", "recency"] == pytest.approx(2.0)
    assert out.loc["a", "T"] == pytest.approx(4.0) and out.loc["a", "monetary_value"] == pytest.approx(30.0)
    assert out.loc["a", "frequency_holdout"] == 1 and out.loc["b", "frequency"] == 0
    assert out.loc["b", "T"] == pytest.approx(3.0) and out.loc["b", "monetary_value"] == 0.0


def test_monthly_rate():
    assert rk.monthly_rate(1 - 0.9 ** 3, 3) == pytest.approx(0.1)
    assert rk.monthly_rate(0.0, 3) == 0.0


def test_clv_simple_golden():
    subs = pd.DataFrame({"subscription_id": ["s1", "s2", "s3", "s4"],
                         "customer_id": ["a", "b", "c", "d"],
                         "start_date": pd.to_datetime(["2024-01-01"] * 3 + ["2025-01-01"]),
                         "end_date": pd.to_datetime(["2025-02-01", None, None, "2025-03-01"]),
                         "mrr": [10.0, 10.0, 10.0, 10.0]})
    out = rk.clv_simple(subs, "2025-Q1", gross_margin=0.8)
    # churn 2 of 3 customers at start over the quarter; ARPA at the end of March = 20 / 2
    monthly = 1 - (1 / 3) ** (1 / 3)
    row = out.iloc[0]
    assert row["period_churn"] == pytest.approx(2 / 3) and row["monthly_churn"] == pytest.approx(monthly)
    assert row["arpa"] == pytest.approx(10.0) and row["gross_margin"] == 0.8
    assert row["value"] == pytest.approx(10 * 0.8 / monthly)
    assert row["lifetime_months"] == pytest.approx(1 / monthly)
    inv = pd.DataFrame({"invoice_id": ["i1"], "customer_id": ["b"], "issued_at": pd.to_datetime(["2025-01-01"]),
                        "amount": [100.0], "kind": ["one_time"], "cost_of_revenue": [30.0]})
    assert rk.clv_simple(subs, "2025-Q1", invoices=inv)["gross_margin"].item() == pytest.approx(0.7)
    with pytest.raises(RevOpsError, match="gross_margin"):
        rk.clv_simple(subs, "2025-Q1")
    quiet = subs.assign(end_date=pd.NaT)
    with pytest.warns(rk.ZeroDenominatorWarning, match="clv_simple"):
        assert np.isnan(rk.clv_simple(quiet, "2025-Q1", gross_margin=0.8)["value"].item())


SPELL_SUBS = pd.DataFrame({
    "subscription_id": ["a1", "b1", "c1", "c2", "d1", "d2"],
    "customer_id": ["a", "b", "c", "c", "d", "d"],
    "start_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2024-04-01", "2024-01-01",
                                  "2024-03-01"]),
    "end_date": pd.to_datetime(["2024-04-01", None, "2024-04-01", "2024-05-01", "2024-02-01", None]),
    "mrr": [10.0] * 6,
})


def test_clv_survival_golden():
    # lifetimes (rk.customer_lifetimes): a 3 months, b censored at 6, c 4 (back-to-back rows),
    # d 1 (its reactivation does not undo the churn) -> Kaplan-Meier S(1) = 3/4, S(3) = 1/2, S(4) = 1/4
    out = rk.clv_survival(SPELL_SUBS, "2024-Q2", gross_margin=0.5, discount_rate=0.0,
                          horizon_months=2, min_at_risk=1)
    row = out.iloc[0]
    # L = S(0) + S(1) = 1.75; ARPA at the end of June: b and d at 10 each
    assert row["expected_lifetime_months"] == pytest.approx(1.75)
    assert row["arpa"] == pytest.approx(10.0) and row["value"] == pytest.approx(10 * 0.5 * 1.75)
    # remaining: d (current spell 4 months): (S5 + S6) / S4 = 2; b (6 months): beyond the curve,
    # constant hazard h = 1 - (S6 / S0)^(1/6)
    h = 1 - 0.25 ** (1 / 6)
    assert row["remaining_value"] == pytest.approx(0.5 * 10 * (2 + (1 - h) + (1 - h) ** 2))
    disc = rk.clv_survival(SPELL_SUBS, "2024-Q2", gross_margin=0.5, discount_rate=0.10,
                           horizon_months=2, min_at_risk=1)
    v = 1.1 ** (-1 / 12)
    assert disc["expected_lifetime_months"].item() == pytest.approx(1 + 0.75 * v)
