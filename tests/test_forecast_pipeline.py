"""Pipeline forecast, submitted-forecast accuracy (forecast_accuracy / forecast_bias), revenue
forecasts and the forecast view."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import revops_kit as rk
from revops_kit.errors import ZeroDenominatorWarning

STAGES = ["Prospecting", "Qualification", "Negotiation"]


def synthetic_sales(seed: int = 7, n: int = 360) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Opportunities with a stage history. Deals that reach Negotiation win 30 days later; the
    others are lost 45 days after creation, so win probability depends on stage (and time)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-01")
    opps, hist = [], []
    for i in range(n):
        created = start + pd.Timedelta(days=int(rng.integers(0, 700)))
        amount = float(rng.choice([5_000.0, 20_000.0, 80_000.0]))
        source = str(rng.choice(["inbound", "outbound"]))
        wins = rng.random() < (0.6 if source == "inbound" else 0.3)
        oid = f"O{i:04d}"
        hist.append((oid, created, "Prospecting", amount, created + pd.Timedelta(days=60), False, False))
        qual = created + pd.Timedelta(days=10)
        hist.append((oid, qual, "Qualification", amount, created + pd.Timedelta(days=60), False, False))
        if wins:
            neg = created + pd.Timedelta(days=20)
            hist.append((oid, neg, "Negotiation", amount, neg + pd.Timedelta(days=30), False, False))
            end, stage, won = neg + pd.Timedelta(days=30), "Closed Won", True
        else:
            end, stage, won = created + pd.Timedelta(days=45), "Closed Lost", False
        cutoff = pd.Timestamp("2025-01-01")
        if end < cutoff:
            hist.append((oid, end, stage, amount, end, True, won))
            state = (stage, end, True, won)
        else:
            last = [h for h in hist if h[0] == oid and h[1] < cutoff][-1]
            state = (last[2], last[4], False, False)
        if created >= cutoff:
            hist[:] = [h for h in hist if h[0] != oid]
            continue
        opps.append({"opportunity_id": oid, "created_at": created, "stage": state[0], "amount": amount,
                     "owner": "ann" if i % 2 else "bob", "team": "A" if i % 2 else "B", "source": source,
                     "type": "new_business", "close_date": state[1], "is_closed": state[2],
                     "is_won": state[3], "currency": "USD"})
    hist = [h for h in hist if h[1] < pd.Timestamp("2025-01-01")]
    history = pd.DataFrame(hist, columns=["opportunity_id", "changed_at", "stage", "amount", "close_date",
                                          "is_closed", "is_won"])
    return pd.DataFrame(opps), history


@pytest.fixture(scope="module")
def sales():
    opps, history = synthetic_sales()
    return rk.from_frames({"opportunities": opps, "opportunity_history": history}, source="synthetic")


# =============================================================================== pipeline forecast
def test_pipeline_forecast_identity_and_groups(sales):
    total, detail = rk.forecast.pipeline_forecast(sales, "2024-Q4", as_of="2024-11-01", detail=True)
    row = total.iloc[0]
    assert row["expected_bookings"] == pytest.approx(row["booked_to_date"] + row["expected_from_pipeline"])
    assert row["expected_from_pipeline"] == pytest.approx((detail["amount"] * detail["p_win"]).sum())
    assert row["open_opportunities"] == len(detail) and row["open_pipeline"] == pytest.approx(detail["amount"].sum())
    assert detail["p_win"].between(0, 1).all()
    # booked to date = won deals closed in [2024-10-01, 2024-11-01), by the pipeline module's rules
    booked = rk.bookings(sales.opportunities, "2024-10", history=sales.opportunity_history)["value"].item()
    assert row["booked_to_date"] == pytest.approx(booked)
    by_team = rk.forecast.pipeline_forecast(sales, "2024-Q4", as_of="2024-11-01", by="team")
    assert by_team["expected_bookings"].sum() == pytest.approx(row["expected_bookings"])
    assert set(by_team["team"]) == {"A", "B"}


def test_win_probability_learns_stage_and_source(sales):
    _, detail = rk.forecast.pipeline_forecast(sales, "2024-Q4", detail=True)
    by_stage = detail.groupby("stage")["p_win"].mean()
    # Negotiation deals always win within 30 days; Prospecting ones rarely within the quarter
    assert by_stage["Negotiation"] > 0.7
    assert by_stage["Prospecting"] < by_stage["Negotiation"]


def test_pipeline_forecast_has_no_look_ahead(sales):
    """Everything after as_of can change without changing the forecast made at as_of."""
    as_of = pd.Timestamp("2024-10-01")
    opps, hist = sales.opportunities, sales.opportunity_history
    past_hist = hist[hist["changed_at"] < as_of]
    last = past_hist.sort_values("changed_at", kind="mergesort").drop_duplicates("opportunity_id", keep="last")
    known = opps[opps["created_at"] < as_of].drop(columns=["stage", "close_date", "is_closed", "is_won"])
    known = known.merge(last[["opportunity_id", "stage", "close_date", "is_closed", "is_won"]], on="opportunity_id")
    truncated = rk.from_frames({"opportunities": known, "opportunity_history": past_hist}, source="truncated")
    full = rk.forecast.pipeline_forecast(sales, "2024-Q4", as_of=as_of)
    cut = rk.forecast.pipeline_forecast(truncated, "2024-Q4", as_of=as_of)
    cols = ["open_pipeline", "open_opportunities", "expected_from_pipeline", "expected_bookings"]
    pd.testing.assert_frame_equal(full[cols], cut[cols])


def test_calibration_and_comparison(sales, frozen_frames):
    with frozen_frames(sales.opportunities, sales.opportunity_history):
        cal = rk.forecast.pipeline_calibration(sales, ["2024-Q3", "2024-Q4"])
    assert cal["bin"].iloc[0] == "0%–10%" and len(cal) == 10
    scored = cal["opportunities"].sum()
    n_open = sum(len(rk.pipeline_snapshot(sales.opportunities, d, history=sales.opportunity_history))
                 for d in ("2024-07-01", "2024-10-01"))
    assert scored == n_open
    filled = cal[cal["opportunities"] > 0]
    assert filled["mean_predicted"].between(0, 1).all() and filled["observed_win_rate"].between(0, 1).all()
    cmp = rk.forecast.forecast_comparison(sales, ["2024-Q4"])
    assert cmp["as_of"].tolist() == [pd.Timestamp("2024-10-01")]
    actual = rk.bookings(sales.opportunities, "2024-Q4", history=sales.opportunity_history)["value"].item()
    assert cmp["actual"].item() == pytest.approx(actual)
    assert cmp["pipeline_forecast_error"].item() == pytest.approx(cmp["pipeline_forecast"].item() / actual - 1)


def test_pipeline_forecast_errors(sales):
    with pytest.raises(rk.RevOpsError, match="not before the end"):
        rk.forecast.pipeline_forecast(sales, "2024-Q1", as_of="2024-05-01")
    with pytest.raises(rk.RevOpsError, match="no snapshot before as_of"):
        rk.forecast.pipeline_forecast(sales, "2023-Q1")
    with pytest.raises(rk.MissingTableError, match="opportunities"):
        rk.forecast.pipeline_forecast(rk.RevOpsData(source="empty"), "2024-Q4")


# =============================================================================== submissions
SUBS = pd.DataFrame({
    "submitted_at": pd.to_datetime(["2025-10-07", "2025-10-07", "2025-10-07", "2025-12-10", "2025-12-10",
                                    "2025-12-10", "2025-10-07", "2025-10-07"]),
    "period": ["2025-Q4"] * 8,
    "amount": [80.0, 300.0, 999.0, 100.0, 230.0, 150.0, 120.0, 400.0],
    "owner": ["a", "b", "b", "a", "b", "c", "a", "b"],
    "team": ["t1", "t2", "t2", "t1", "t2", "t2", "t1", "t2"],
    "category": ["commit", "commit", "commit", "commit", "commit", "commit", "best_case", "best_case"],
})
# b's 999 on 2025-10-07 is re-submitted the same day as 300 before it: the later row (999) counts
OPPS = pd.DataFrame({
    "opportunity_id": ["o1", "o2", "o3", "o4", "o5"],
    "created_at": pd.to_datetime(["2025-09-01"] * 5),
    "stage": ["Closed Won", "Closed Won", "Closed Won", "Closed Lost", "Closed Won"],
    "amount": [100.0, 100.0, 100.0, 500.0, 70.0],
    "close_date": pd.to_datetime(["2025-10-15", "2025-11-02", "2025-12-20", "2025-11-01", "2025-09-30"]),
    "owner": ["a", "b", "b", "b", "a"],
    "type": ["new_business", "new_business", "expansion", "new_business", "new_business"],
    "currency": ["USD", "EUR", "USD", "USD", "USD"],
})
FX = pd.DataFrame({"month": pd.to_datetime(["2025-09-01", "2025-10-01", "2025-11-01", "2025-12-01"] * 2),
                   "currency": ["USD"] * 4 + ["EUR"] * 4, "rate": [1.0] * 4 + [1.1, 1.1, 1.2, 1.2]})


def test_submission_errors_golden():
    # actual Q4: a = 100 (o1; o5 closed in Q3), b = 100 EUR × 1.2 (Nov rate) + 100 = 220, c = 0
    err = rk.forecast.submission_errors(SUBS, OPPS, "2025-Q4", by="owner", fx_rates=FX)
    got = err.set_index(["submitted_at", "owner"])
    assert got.loc[(pd.Timestamp("2025-10-07"), "a"), "actual"] == pytest.approx(100.0)
    assert got.loc[(pd.Timestamp("2025-10-07"), "b"), "forecast"] == 999.0
    assert got.loc[(pd.Timestamp("2025-12-10"), "b"), "actual"] == pytest.approx(220.0)
    assert got["months_ahead"].to_dict() == {(pd.Timestamp("2025-10-07"), "a"): 3, (pd.Timestamp("2025-10-07"), "b"): 3,
                                             (pd.Timestamp("2025-12-10"), "a"): 1, (pd.Timestamp("2025-12-10"), "b"): 1,
                                             (pd.Timestamp("2025-12-10"), "c"): 1}
    assert got.loc[(pd.Timestamp("2025-12-10"), "a"), "hit"]  # 100 vs 100
    assert got.loc[(pd.Timestamp("2025-12-10"), "b"), "hit"]  # 230 vs 220: within 10 %
    assert not got.loc[(pd.Timestamp("2025-10-07"), "a"), "hit"]  # 80 vs 100


def test_forecast_accuracy_and_bias_golden():
    with pytest.warns(ZeroDenominatorWarning, match="groups c"):  # c booked nothing
        by_owner = rk.forecast.forecast_accuracy(SUBS, OPPS, "2025-Q4", by="owner", fx_rates=FX)
    a = by_owner.set_index("owner")
    assert np.isnan(a.loc["c", "value"]) and a.loc["c", "forecast"] == 150.0
    # a: |80-100| + |100-100| = 20 over actual 100 + 100 -> accuracy 0.9, bias (-20 + 0)/200
    assert a.loc["a", "value"] == pytest.approx(1 - 20 / 200)
    assert a.loc["a", "bias"] == pytest.approx(-20 / 200)
    assert a.loc["a", "hit_rate"] == pytest.approx(0.5)
    # b: |999-220| + |230-220| = 789 over 440
    assert a.loc["b", "value"] == pytest.approx(1 - 789 / 440)
    assert a.loc["b", "numerator"] == pytest.approx(440 - 789) and a.loc["b", "denominator"] == pytest.approx(440)
    # the whole team on each date: 10-07 F = 80 + 999, A = 320; 12-10 F = 100 + 230 + 150, A = 320 (c booked 0)
    total = rk.forecast.forecast_accuracy(SUBS, OPPS, "2025-Q4", fx_rates=FX).iloc[0]
    assert total["value"] == pytest.approx(1 - (759 + 160) / 640)
    assert total["forecasts"] == 2 and total["hits"] == 0
    bias = rk.forecast.forecast_bias(SUBS, OPPS, "2025-Q4", fx_rates=FX).iloc[0]
    assert bias["value"] == pytest.approx((759 + 160) / 640)
    by_cat = rk.forecast.forecast_accuracy(SUBS, OPPS, "2025-Q4", by="category", fx_rates=FX).set_index("category")
    # best case on 10-07: a 120 vs 100, b 400 vs 220 -> team F 520, A 320
    assert by_cat.loc["best_case", "value"] == pytest.approx(1 - 200 / 320)
    by_lead = rk.forecast.forecast_accuracy(SUBS, OPPS, "2025-Q4", by="months_ahead", fx_rates=FX).set_index("months_ahead")
    assert by_lead.loc[1, "value"] == pytest.approx(1 - 160 / 320)
    by_team = rk.forecast.forecast_accuracy(SUBS, OPPS, "2025-Q4", by="team", fx_rates=FX).set_index("team")
    assert by_team.loc["t2", "value"] == pytest.approx(1 - (779 + 160) / 440)  # c (t2) booked nothing


def test_zero_actual_gives_nan_and_warning():
    only_c = SUBS[SUBS["owner"] == "c"]
    with pytest.warns(ZeroDenominatorWarning, match="forecast_accuracy"):
        out = rk.forecast.forecast_accuracy(only_c, OPPS, "2025-Q4", fx_rates=FX)
    assert np.isnan(out["value"].item())


def test_submission_kpis_in_catalogue_and_year_scope(frozen_frames):
    data = rk.from_frames({"forecast_submissions": SUBS, "opportunities": OPPS, "fx_rates": FX})
    with frozen_frames(data.forecast_submissions, data.opportunities):
        long = rk.compute_kpis(data, "2025-Q4", ["forecast_accuracy", "forecast_bias"], by="months_ahead")
    assert set(long["group"]) == {"months_ahead=1", "months_ahead=3"}
    year = rk.compute_kpis(data, "2025", ["forecast_accuracy"])
    quarter = rk.compute_kpis(data, "2025-Q4", ["forecast_accuracy"])
    assert year["value"].item() == pytest.approx(quarter["value"].item())  # only Q4 was submitted
    assert rk.compute_kpis(data, "2025-11", ["forecast_accuracy"]).empty or \
        rk.compute_kpis(data, "2025-11", ["forecast_accuracy"])["value"].isna().all()
    with pytest.raises(rk.NotGroupableError, match="grouped by"):
        rk.compute_kpis(data, "2025-Q4", ["forecast_accuracy"], by="source")


def test_sample_submission_accuracy_is_sane(sample):
    acc = rk.compute_kpis(sample, "2025-Q4", ["forecast_accuracy", "forecast_bias"]).set_index("kpi")
    assert 0 < acc.loc["forecast_accuracy", "value"] <= 1
    # denominator = Σ actual over the 3 submission dates = 3 × the quarter's bookings
    bookings = rk.compute_kpis(sample, "2025-Q4", ["bookings"])["value"].item()
    assert acc.loc["forecast_accuracy", "denominator"] == pytest.approx(3 * bookings)


# =============================================================================== revenue & view
def test_monthly_bookings_matches_pipeline_bookings(sales):
    months = pd.date_range("2024-01-01", periods=12, freq="MS")
    series = rk.forecast.monthly_bookings(sales.opportunities, months, history=sales.opportunity_history)
    q3 = rk.bookings(sales.opportunities, "2024-Q3", history=sales.opportunity_history)["value"].item()
    assert series.loc["2024-07-01":"2024-09-01"].sum() == pytest.approx(q3)
    assert series.index.freqstr == "MS"


def test_forecast_from_scores_a_past_forecast():
    y = pd.Series(np.arange(1.0, 49.0), index=pd.date_range("2022-01-01", periods=48, freq="MS"))
    f = rk.forecast.forecast_from(y, "2024-12-01", 12, method="naive", months=None)
    assert f["mean"].tolist() == [36.0] * 12
    assert f["actual"].tolist() == list(np.arange(37.0, 49.0))
    assert (f["error"] == f["mean"] - f["actual"]).all()


def test_forecast_view_on_sales_only_dataset(sales):
    view = rk.forecast_view(sales, "2024-Q4", trailing=2, backtest_windows=2)
    assert "note" in view.submissions_by_owner.columns  # no forecast_submissions table
    assert set(view.revenue) == {"bookings"}  # no subscriptions: bookings only
    assert list(view.pipeline_next["team"]) == ["A", "B", "total"]
    assert set(view.notes.columns) == {"section", "note"}
    fig = rk.plotting.submission_accuracy_chart(view.submissions_by_owner, title="no data")
    assert isinstance(fig, rk.plotting.ChartNote) and fig.title == "no data"
