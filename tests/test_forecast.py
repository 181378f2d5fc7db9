"""Series models, accuracy metrics and backtests (revops_kit.forecast)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import revops_kit as rk
from revops_kit.errors import ModelFallbackWarning, ZeroDenominatorWarning
from revops_kit.forecast import accuracy as acc
from revops_kit.forecast.models import ForecastInputError, ForecastResult

from conftest import SHARED_DATA

M3 = SHARED_DATA / "m3" / "m3_monthly_micro_subset.csv"


def monthly(values, start="2022-01-01"):
    return pd.Series(np.asarray(values, dtype="float64"),
                     index=pd.date_range(start, periods=len(values), freq="MS"))


def seasonal_series(n=48, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return monthly((100 + 0.8 * t) * (1 + 0.15 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 2, n))


# =============================================================================== accuracy
def test_metrics_golden():
    # hand computed: errors f - y = (+10, -20, 0); |y| = (100, 200, 0)
    a, f = [100.0, 200.0, 0.0], [110.0, 180.0, 0.0]
    assert acc.mae(a, f) == pytest.approx(10.0)
    assert acc.rmse(a, f) == pytest.approx(np.sqrt(500 / 3))
    assert acc.smape(a, f) == pytest.approx((200 * 10 / 210 + 200 * 20 / 380 + 0) / 3)
    assert acc.wape(a, f) == pytest.approx(30 / 300)
    assert acc.bias(a, f) == pytest.approx(-10 / 3)
    assert acc.relative_bias(a, f) == pytest.approx(-10 / 300)
    # MASE: in-sample seasonal naive (m=2) on [1, 2, 3, 5]: |3-1|, |5-2| -> scale 2.5
    assert acc.mase([6.0, 8.0], [5.0, 9.0], insample=[1.0, 2.0, 3.0, 5.0], season_length=2) == pytest.approx(1 / 2.5)
    assert acc.coverage([1.0, 5.0, 9.0, 2.0], [0, 0, 0, 2], [4, 6, 8, 2]) == pytest.approx(0.75)


def test_zero_actuals_are_explicit():
    with pytest.warns(ZeroDenominatorWarning, match="1 of 2 actual"):
        assert acc.mape([0.0, 100.0], [5.0, 90.0]) == pytest.approx(10.0)
    with pytest.warns(ZeroDenominatorWarning):
        assert np.isnan(acc.mape([0.0, 0.0], [1.0, 2.0]))
    assert acc.smape([0.0, 0.0], [0.0, 3.0]) == pytest.approx(100.0)  # (0 + 200) / 2
    with pytest.warns(ZeroDenominatorWarning, match="wape"):
        assert np.isnan(acc.wape([0.0, 0.0], [1.0, 1.0]))
    with pytest.warns(ZeroDenominatorWarning, match="mase"):
        assert np.isnan(acc.mase([1.0], [2.0], insample=[3.0, 3.0, 3.0]))


def test_metric_input_errors():
    with pytest.raises(rk.RevOpsError, match="same length"):
        acc.mae([1.0, 2.0], [1.0])
    with pytest.raises(rk.RevOpsError, match="but not both"):
        acc.mae([1.0, np.nan], [1.0, 2.0])
    assert acc.mae([1.0, np.nan], [2.0, np.nan]) == 1.0  # NaN pairs are dropped


def test_accuracy_table_has_every_metric():
    t = acc.accuracy_table([10.0, 12.0], [11.0, 12.0], insample=[8.0, 9.0, 10.0],
                           intervals={80: ([9.0, 13.0], [12.0, 14.0])})
    assert list(t.index) == ["mae", "rmse", "mape", "smape", "wape", "mase", "bias",
                             "relative_bias", "coverage_80"]
    assert t["coverage_80"] == 0.5 and t["mase"] == pytest.approx(0.5 / 1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e6), st.floats(0, 1e6)), min_size=1, max_size=30),
       st.randoms(use_true_random=False))
def test_metric_properties(pairs, rnd):
    a = np.array([p[0] for p in pairs])
    f = np.array([p[1] for p in pairs])
    s = acc.smape(a, f)
    assert 0 <= s <= 200 + 1e-9
    assert acc.smape(f, a) == pytest.approx(s)  # symmetric in actual and forecast
    order = list(range(len(a)))
    rnd.shuffle(order)  # order invariance
    assert acc.mae(a[order], f[order]) == pytest.approx(acc.mae(a, f))
    assert acc.rmse(a, f) >= acc.mae(a, f) - 1e-9
    if a.sum() > 0:
        assert acc.wape(3 * a, 3 * f) == pytest.approx(acc.wape(a, f))  # scale free


# =============================================================================== forecast
def test_forecast_is_a_plain_package_and_the_functions_have_plain_names():
    import importlib
    import types

    import revops_kit.forecast.models as models  # noqa: F401 - the import itself is the test

    # no callable-module tricks (issue 14 item 7): rk.forecast is the subpackage, the functions are
    # rk.forecast_series / rk.forecast.forecast and rk.forecast.backtest
    assert isinstance(rk.forecast, types.ModuleType) and not callable(rk.forecast)
    backtest_module = importlib.import_module("revops_kit.forecast.backtest")
    assert isinstance(backtest_module, types.ModuleType) and not callable(backtest_module)
    assert rk.forecast.backtest is backtest_module and rk.backtest_series is backtest_module.backtest
    assert backtest_module.evaluate_holdout is rk.forecast.evaluate_holdout
    assert rk.forecast.models.forecast is models.forecast is rk.forecast_series is rk.forecast.forecast
    assert rk.ForecastResult is ForecastResult
    res = rk.forecast_series(monthly(np.arange(1.0, 13.0)), 2, method="naive")
    assert isinstance(res, ForecastResult)


def test_naive_and_snaive_golden():
    y = monthly([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    res = rk.forecast_series(y, 6, method="snaive", season_length=4)
    f = res.frame
    assert list(f.columns) == ["mean", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert f.index[0] == pd.Timestamp("2022-09-01") and f.index.freqstr == "MS"
    assert f["mean"].tolist() == [5.0, 6.0, 7.0, 8.0, 5.0, 6.0]
    # σ = rms of the seasonal differences (all 4); step k uses σ·√(⌊(k−1)/4⌋ + 1)
    z95 = 1.959963984540054
    assert f["upper_95"].iloc[0] == pytest.approx(5 + z95 * 4)
    assert f["upper_95"].iloc[4] == pytest.approx(5 + z95 * 4 * np.sqrt(2))
    assert f["lower_95"].iloc[0] == 0.0  # a non-negative history: bounds clipped at 0
    naive = rk.forecast_series(y, 3, method="naive").frame
    assert naive["mean"].tolist() == [8.0, 8.0, 8.0]
    assert naive["upper_80"].iloc[2] == pytest.approx(8 + 1.2815515655446004 * np.sqrt(3))


@pytest.mark.parametrize("method", list(rk.forecast.METHODS))
def test_every_method_on_a_seasonal_series(method):
    y = seasonal_series()
    res = rk.forecast_series(y, 12, method=method)
    f = res.frame
    assert len(f) == 12 and f.index[0] == pd.Timestamp("2026-01-01")
    assert np.isfinite(f.to_numpy()).all()
    assert (f["lower_95"] <= f["lower_80"]).all() and (f["lower_80"] <= f["mean"]).all()
    assert (f["mean"] <= f["upper_80"]).all() and (f["upper_80"] <= f["upper_95"]).all()
    assert res.fallbacks == () and res.season_length == 12 and res.n_obs == 48
    # the forecast stays in the range of the data (a sanity check, not a golden number)
    assert 50 < f["mean"].mean() < 250


def test_auto_is_the_mean_of_its_members():
    y = seasonal_series(seed=3)
    auto = rk.forecast_series(y, 6).frame
    members = [rk.forecast_series(y, 6, method=m).frame for m in rk.forecast.AUTO_MEMBERS]
    for col in auto.columns:
        assert np.allclose(auto[col], np.mean([m[col] for m in members], axis=0))


def test_result_is_frozen_and_summarised():
    y = seasonal_series()
    before = y.copy()
    res = rk.forecast_series(y, 3)
    pd.testing.assert_series_equal(y, before)  # the input is not mutated
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.method = "naive"
    frame = res.frame
    frame.loc[:, "mean"] = 0.0  # a copy: the result does not change
    assert (res.frame["mean"] > 0).all()
    s = res.summary()
    assert list(s.columns) == ["item", "value"]
    assert s.set_index("item").loc["members", "value"] == "theta, ses, damped, airline, ets"
    assert "auto" in repr(res)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.5, 1e5), min_size=14, max_size=40), st.floats(0.01, 100),
       st.sampled_from(["naive", "snaive"]))
def test_simple_methods_are_scale_equivariant(values, c, method):
    y = monthly(values)
    a = rk.forecast_series(y, 5, method=method, season_length=4).frame
    b = rk.forecast_series(y * c, 5, method=method, season_length=4).frame
    np.testing.assert_allclose(b.to_numpy(), c * a.to_numpy(), rtol=1e-9, atol=1e-9)


def test_deterministic():
    y = seasonal_series(seed=5)
    a = rk.forecast_series(y, 12, method="ets").frame
    b = rk.forecast_series(y, 12, method="ets").frame
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("values, match, model", [
    ([7.0] * 30, "constant", "naive"),
    ([1.0, 2.0, 3.0], "only 3 observation", "naive"),
    ([0.0] * 20 + list(range(1, 11)), "zero", "ses"),
])
def test_fallbacks_warn_and_work(values, match, model):
    with pytest.warns(ModelFallbackWarning, match=match):
        res = rk.forecast_series(monthly(values), 4)
    assert res.members == (model,) and res.fallbacks
    assert np.isfinite(res.frame["mean"]).all()


def test_constant_series_has_zero_width_intervals():
    with pytest.warns(ModelFallbackWarning):
        f = rk.forecast_series(monthly([7.0] * 30), 3).frame
    assert (f.to_numpy() == 7.0).all()


def test_negative_and_short_seasonal_series():
    rng = np.random.default_rng(1)
    y = monthly(np.sin(np.arange(40)) * 10 - 3 + rng.normal(0, 1, 40))
    with pytest.warns(ModelFallbackWarning, match="values <= 0"):
        res = rk.forecast_series(y, 6)
    assert np.isfinite(res.frame.to_numpy()).all()
    assert (res.frame["lower_95"] < 0).any()  # negative history: no clipping
    with pytest.warns(ModelFallbackWarning, match="fewer than 3 seasons"):
        short = rk.forecast_series(monthly(np.arange(1.0, 21.0)), 3)
    assert not short.seasonal


def test_one_point_gives_naive_without_interval():
    with pytest.warns(ModelFallbackWarning, match="single point"):
        f = rk.forecast_series(monthly([5.0]), 2).frame
    assert f["mean"].tolist() == [5.0, 5.0] and f["upper_95"].isna().all()


def test_input_errors_name_the_problem():
    y = monthly([1.0, 2.0, np.nan, 4.0, 5.0])
    with pytest.raises(ForecastInputError, match="2022-03-01"):
        rk.forecast_series(y, 2)
    with pytest.raises(ForecastInputError, match="h must be a positive integer"):
        rk.forecast_series(monthly([1.0, 2.0, 3.0, 4.0]), 0)
    with pytest.raises(ForecastInputError, match="method must be one of"):
        rk.forecast_series(monthly([1.0, 2.0, 3.0, 4.0]), 2, method="prophet")
    gappy = pd.Series([1.0, 2.0, 3.0, 4.0],
                      index=pd.to_datetime(["2024-01-01", "2024-02-01", "2024-05-01", "2024-06-01"]))
    with pytest.raises(ForecastInputError, match="regular frequency"):
        rk.forecast_series(gappy, 2)
    with pytest.raises(ForecastInputError, match="empty"):
        rk.forecast_series(pd.Series([], dtype=float), 2)


def test_arrays_and_quarters_get_sensible_indexes():
    f = rk.forecast_series(np.arange(1.0, 11.0), 3, method="naive").frame
    assert f.index.tolist() == [10, 11, 12]
    q = pd.Series(np.arange(1.0, 17.0), index=pd.date_range("2021-01-01", periods=16, freq="QS"))
    res = rk.forecast_series(q, 2, method="snaive")
    assert res.season_length == 4 and res.frame.index[0] == pd.Timestamp("2025-01-01")
    p = pd.Series(np.arange(1.0, 13.0), index=pd.period_range("2024-01", periods=12, freq="M"))
    assert rk.forecast_series(p, 1, method="naive").frame.index[0] == pd.Timestamp("2025-01-01")


def test_many_series_in_parallel_match_serial_and_name_fallbacks():
    many = {"a": seasonal_series(seed=1), "b": seasonal_series(seed=2), "flat": monthly([3.0] * 40)}
    with pytest.warns(ModelFallbackWarning, match="series 'flat'"):
        serial = rk.forecast_series(many, 4, method="theta")
    with pytest.warns(ModelFallbackWarning, match="series 'flat'"):
        parallel = rk.forecast_series(many, 4, method="theta", n_jobs=2)
    assert list(parallel) == ["a", "b", "flat"]
    for key in many:
        pd.testing.assert_frame_equal(serial[key].frame, parallel[key].frame)
    wide = pd.DataFrame({"a": many["a"], "b": many["b"]})
    assert set(rk.forecast_series(wide, 2, method="naive")) == {"a", "b"}


def test_seasonality_test_and_indices():
    assert rk.forecast.seasonality_test(np.tile([1.0, 5.0, 3.0, 2.0], 6), 4)
    assert not rk.forecast.seasonality_test(np.tile([1.0, 5.0, 3.0, 2.0], 2), 4)  # n < 3m
    idx = rk.forecast.seasonal_indices(np.tile([10.0, 20.0], 4), 2)
    assert idx == pytest.approx([2 / 3, 4 / 3])
    add = rk.forecast.seasonal_indices(np.tile([-1.0, 1.0], 4), 2, multiplicative=False)
    assert add == pytest.approx([-1.0, 1.0])


def test_series_from_long():
    long = pd.DataFrame({"series_id": ["x", "x", "x", "y", "y", "y"],
                         "date": ["2024-01-01", "2024-02-01", "2024-03-01"] * 2,
                         "value": [1, 2, 3, 4, 5, 6]})
    out = rk.forecast.series_from_long(long)
    assert list(out) == ["x", "y"] and out["y"].tolist() == [4.0, 5.0, 6.0]
    assert out["x"].index.freqstr == "MS"
    with pytest.raises(ForecastInputError, match="missing column"):
        rk.forecast.series_from_long(long.drop(columns="value"))
    with pytest.raises(ForecastInputError, match="duplicated"):
        rk.forecast.series_from_long(pd.concat([long, long.head(1)]))


# =============================================================================== backtests
def test_backtest_origins_and_error_by_horizon():
    y = monthly(np.arange(1.0, 25.0))  # a line: the naive error at step k is exactly k
    bt = rk.backtest_series(y, 3, method="naive", windows=3, step=2)
    origins = sorted(bt["origin"].unique())
    assert [str(o.date()) for o in origins] == ["2023-05-01", "2023-07-01", "2023-09-01"]
    last = bt[bt["origin"] == origins[-1]]
    assert last["actual"].tolist() == [22.0, 23.0, 24.0] and last["mean"].tolist() == [21.0] * 3
    by_h = rk.forecast.error_by_horizon(bt)
    assert by_h["mae"].tolist() == [1.0, 2.0, 3.0]
    assert by_h["bias"].tolist() == [-1.0, -2.0, -3.0]
    assert by_h["n"].tolist() == [3, 3, 3]
    # MASE scale = in-sample seasonal-naive MAE (lag 12 on monthly data) = 12 on a line
    assert by_h["mase"].tolist() == pytest.approx([1 / 12, 2 / 12, 3 / 12])
    summary = rk.forecast.backtest_summary(bt)
    assert summary["mae"].item() == 2.0 and set(summary.columns) >= {"coverage_80", "coverage_95"}


def test_backtest_several_methods_and_errors():
    y = seasonal_series(48)
    bt = rk.backtest_series(y, 6, method=["snaive", "theta"], windows=2, n_jobs=2)
    assert set(bt["method"]) == {"snaive", "theta"} and len(bt) == 2 * 2 * 6
    with pytest.raises(ForecastInputError, match="fewer than 4 points"):
        rk.backtest_series(monthly([1.0, 2.0, 3.0, 4.0, 5.0]), 3, method="naive")


def test_evaluate_holdout_on_synthetic_series():
    series = {f"s{i}": seasonal_series(40, seed=i) for i in range(3)}
    res = rk.forecast.evaluate_holdout(series, 6, methods=["snaive", "naive"])
    s = res.summary.set_index("method")
    assert list(s.index) == ["snaive", "naive"] and (s["series"] == 3).all()
    d = res.detail[res.detail["method"] == "snaive"]
    # recompute one series by hand
    y = series["s0"]
    f = y.iloc[-18:-12].to_numpy()
    assert d.iloc[0]["smape"] == pytest.approx(acc.smape(y.iloc[-6:], f))
    assert s.loc["snaive", "wape"] == pytest.approx(d["abs_error"].sum() / d["abs_actual"].sum())
    with pytest.raises(ForecastInputError, match="no more than"):
        rk.forecast.evaluate_holdout({"x": monthly([1.0, 2.0, 3.0])}, 3)


# =============================================================================== reference data
@pytest.mark.shared_data
def test_m3_seasonal_naive_reference():
    """Seasonal naive on the 237 M3 monthly micro series, last 12 held out.

    Reference (issue 7, from the M3 protocol of Makridakis & Hibon 2000): sMAPE 24.8, MASE 0.82.
    """
    long = pd.read_csv(M3)
    res = rk.forecast.evaluate_holdout(long, 12, methods=["snaive"], season_length=12)
    row = res.summary.iloc[0]
    assert row["series"] == 237
    assert round(row["smape"], 1) == 24.8
    assert round(row["mase"], 2) == 0.82


@pytest.mark.shared_data
def test_m3_auto_beats_snaive_on_a_handful():
    long = pd.read_csv(M3)
    keep = long["series_id"].drop_duplicates().iloc[:6]
    res = rk.forecast.evaluate_holdout(long[long["series_id"].isin(keep)], 12,
                                       methods=["snaive", "auto"], season_length=12)
    s = res.summary.set_index("method")
    assert s.loc["auto", "smape"] < s.loc["snaive", "smape"]
    assert (s["fallbacks"] == 0).all()
