"""Churn models, evaluation metrics, the time-based backtest and scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import revops_kit as rk
from revops_kit.sample import HOSTILE_NAMES
from revops_kit.churn import (BASELINE, backtest, calibration_table, classification_metrics,
                              cross_validate, expected_calibration_error, lift_table, make_model)


# ---------------------------------------------------------------------------- metrics (golden)
def test_lift_table_golden():
    # 10 customers, 3 churners; probabilities give the ranking 0..9 (0 = highest risk)
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    y = np.array([1, 0, 1, 0, 0, 0, 1, 0, 0, 0])
    t = lift_table(y, p, n_bins=5)
    assert t["customers"].tolist() == [2] * 5
    assert t["churners"].tolist() == [1, 1, 0, 1, 0]
    # overall rate 0.3: decile rates 0.5 -> lift 5/3
    assert t["lift"].tolist() == pytest.approx([0.5 / 0.3, 0.5 / 0.3, 0, 0.5 / 0.3, 0])
    assert t["capture"].tolist() == pytest.approx([1 / 3, 2 / 3, 2 / 3, 1, 1])
    assert t["baseline_capture"].tolist() == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert t["cumulative_lift"].iloc[1] == pytest.approx((2 / 4) / 0.3)


def test_calibration_table_and_ece_golden():
    y = [0, 0, 0, 1, 0, 1, 1, 1]
    p = [0.1, 0.1, 0.2, 0.2, 0.6, 0.6, 0.9, 0.9]
    t = calibration_table(y, p, n_bins=4)
    assert t["customers"].tolist() == [2, 2, 2, 2]
    assert t["observed_rate"].tolist() == [0.0, 0.5, 0.5, 1.0]
    assert t["mean_predicted"].tolist() == pytest.approx([0.1, 0.2, 0.6, 0.9])
    # ECE = mean over equal bins of |gap| = (0.1 + 0.3 + 0.1 + 0.1) / 4
    assert expected_calibration_error(y, p, n_bins=4) == pytest.approx(0.15)
    # a constant forecast is one bin: its error is |rate - forecast|
    const = calibration_table(y, [0.3] * 8, n_bins=10)
    assert len(const) == 1 and expected_calibration_error(y, [0.3] * 8) == pytest.approx(0.2)


def test_classification_metrics_against_sklearn():
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    rng = np.random.default_rng(3)
    y = rng.random(300) < 0.2
    p = np.clip(0.2 + 0.3 * (y - 0.2) + rng.normal(0, 0.15, 300), 0.01, 0.99)
    m = classification_metrics(y, p)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["pr_auc"] == pytest.approx(average_precision_score(y, p))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))
    assert m["log_loss"] == pytest.approx(log_loss(y, p))


def test_metrics_need_both_classes():
    with pytest.raises(rk.churn.ModelError, match="no customer churned"):
        classification_metrics([0, 0, 0], [0.1, 0.2, 0.3])


# ---------------------------------------------------------------------------- models
@pytest.mark.parametrize("kind, cls", [("logistic", LogisticRegression),
                                       ("gbm", HistGradientBoostingClassifier)])
def test_make_model_returns_unfitted_pipeline(kind, cls):
    model = make_model(kind, random_state=3)
    assert isinstance(model, Pipeline)
    assert [n for n, _ in model.steps] == ["columns", "prep", "model"]
    assert isinstance(model.named_steps["model"], cls)
    with pytest.raises(NotFittedError):
        model.predict_proba(pd.DataFrame({"mrr": [1.0]}))
    if kind == "gbm":
        assert model.named_steps["model"].random_state == 3
        assert model.named_steps["model"].categorical_features == "from_dtype"


def test_make_model_calibrated_and_errors():
    from sklearn.calibration import CalibratedClassifierCV

    model = make_model("gbm", calibrate=True, random_state=5)
    cal = model.named_steps["model"]
    assert isinstance(cal, CalibratedClassifierCV) and cal.cv.random_state == 5
    with pytest.raises(rk.churn.ModelError, match="kind must be one of"):
        make_model("forest")
    with pytest.raises(rk.churn.ModelError, match="not in the frame"):
        make_model("logistic", numeric=["nope"]).fit(pd.DataFrame({"a": [1.0, 2.0]}), [0, 1])


def _toy(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    seg = rng.choice(["a", "b", "c"], n)
    logit = -1.5 + 1.5 * x + 1.0 * (seg == "c")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"x": x, "noise": rng.normal(size=n), "seg": seg})
    X.loc[::17, "x"] = np.nan
    X.loc[::23, "seg"] = None
    return X, y


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_models_handle_missing_and_unseen_categories(kind):
    X, y = _toy()
    new = pd.DataFrame({"x": [np.nan, 0.5], "noise": [0.0, 0.0], "seg": ["zzz", None], "extra": [1, 2]})
    with rk.churn.single_threaded():
        model = make_model(kind, numeric=["x", "noise"], categorical=["seg"]).fit(X, y)
        p = model.predict_proba(new)[:, 1]
    assert np.all((p > 0) & (p < 1))


def test_cross_validate_is_deterministic_and_beats_baseline():
    X, y = _toy(600, seed=1)
    a = cross_validate(X, y, cv=4, seed=7, numeric=["x", "noise"], categorical=["seg"])
    b = cross_validate(X, y, cv=4, seed=7, numeric=["x", "noise"], categorical=["seg"])
    pd.testing.assert_frame_equal(a.folds, b.folds)
    assert a.summary["model"].tolist() == ["logistic", "gbm", BASELINE]
    s = a.summary.set_index("model")
    assert s.loc["logistic", "roc_auc_mean"] > 0.75 and s.loc[BASELINE, "roc_auc_mean"] == 0.5
    assert len(a.folds) == 12
    other = cross_validate(X, y, cv=4, seed=8, numeric=["x", "noise"], categorical=["seg"])
    assert not np.allclose(other.folds["roc_auc"], a.folds["roc_auc"])
    d = a.as_dict()
    assert set(d) == {"logistic", "gbm", BASELINE}
    assert set(d["gbm"]["brier"]) == {"mean", "std"}


# ---------------------------------------------------------------------------- backtest on the sample
@pytest.fixture(scope="module")
def sample_backtest():
    data = rk.load_sample()
    return data, backtest(data, "2025-10-01", horizon_months=3, n_train_dates=4)


def test_backtest_both_models_beat_baseline(sample_backtest):
    _, bt = sample_backtest
    m = bt.metrics.set_index("model")
    prevalence = bt.test_churners / bt.test_rows
    assert m.loc[BASELINE, "roc_auc"] == 0.5
    assert m.loc[BASELINE, "pr_auc"] == pytest.approx(prevalence)
    for kind in ("logistic", "gbm"):
        assert m.loc[kind, "roc_auc"] >= 0.80  # the issue asks 0.75 for the better model
        assert m.loc[kind, "pr_auc"] >= 4 * prevalence
        assert m.loc[kind, "brier"] <= 0.85 * m.loc[BASELINE, "brier"]
        assert m.loc[kind, "log_loss"] <= 0.8 * m.loc[BASELINE, "log_loss"]
        assert m.loc[kind, "ece"] < 0.03
        lift = bt.lift(kind)
        assert lift["lift"].iloc[0] >= 4 and lift["capture"].iloc[2] >= 0.7


def test_backtest_shape_and_card(sample_backtest):
    _, bt = sample_backtest
    assert bt.train_as_of[-1] == pd.Timestamp("2025-07-01") and len(bt.train_as_of) == 4
    assert set(bt.predictions.columns) == {"customer_id", "as_of", "churned", "p_logistic", "p_gbm",
                                           "p_baseline"}
    assert bt.best in ("logistic", "gbm")
    card = bt.model_card().set_index("item")["value"]
    assert card["test cut-off"] == "2025-10-01"
    assert "2026-01-01" in card["horizon"]
    cal = bt.calibration()
    assert set(cal["model"]) == {"logistic", "gbm", BASELINE}
    assert cal.groupby("model")["customers"].sum().eq(bt.test_rows).all()


def test_backtest_is_deterministic(sample_backtest):
    data, bt = sample_backtest
    again = backtest(data, "2025-10-01", horizon_months=3, n_train_dates=4)
    pd.testing.assert_frame_equal(bt.predictions, again.predictions)
    pd.testing.assert_frame_equal(bt.metrics, again.metrics)


def test_backtest_refuses_overlapping_training_labels(sample_backtest):
    data, _ = sample_backtest
    with pytest.raises(rk.PeriodError, match="labels would come from the test period"):
        backtest(data, "2025-10-01", train_as_of=["2025-04-01", "2025-08-01"])


def test_backtest_until_picks_latest_observed_cutoff(sample_backtest):
    data, _ = sample_backtest
    bt = backtest(data, until="2025-07-01", horizon_months=3, n_train_dates=2, kinds=["logistic"])
    assert bt.test_as_of == pd.Timestamp("2025-04-01")
    assert bt.train_as_of == [pd.Timestamp("2024-10-01"), pd.Timestamp("2025-01-01")]
    assert bt.metrics["model"].tolist() == ["logistic", BASELINE]


# ---------------------------------------------------------------------------- scoring
@pytest.fixture(scope="module")
def scored(sample_backtest):
    data, _ = sample_backtest
    when = pd.Timestamp("2026-01-01")
    feats = rk.churn.build_features(data, when)
    out = {}
    for kind in ("logistic", "gbm"):
        model = rk.churn.fit_churn_model(data, when, kind=kind, n_train_dates=4)
        out[kind] = (model, rk.churn.risk_table(data, when, model=model, features=feats))
    return data, feats, out


def test_risk_table_columns_and_arithmetic(scored):
    data, feats, out = scored
    model, risk = out["logistic"]
    assert list(risk.columns) == rk.churn.RISK_COLUMNS
    assert len(risk) == len(feats) and risk["customer_id"].is_unique
    assert risk["arr"].to_numpy() == pytest.approx(12 * risk["mrr"].to_numpy())
    assert risk["arr_at_risk"].to_numpy() == pytest.approx((risk["probability"] * risk["arr"]).to_numpy())
    assert risk["arr_at_risk"].is_monotonic_decreasing and risk["rank"].tolist() == list(range(1, len(risk) + 1))
    assert risk["probability"].between(0, 1).all()
    # the model was trained on labels known at 2026-01-01 only
    assert max(model.train_as_of) == pd.Timestamp("2025-10-01")
    # customer names come through untouched (escaping is the view's job)
    names = data.customers.set_index("customer_id")["name"]
    assert (risk["name"].to_numpy() == names.loc[risk["customer_id"]].to_numpy()).all()
    assert set(HOSTILE_NAMES) & set(risk["name"])


def test_risk_table_feeds_accounts_at_risk(scored):
    """success.account_health / accounts_at_risk read the risk table's customer_id + probability."""
    data, _, out = scored
    _, risk = out["gbm"]
    h = rk.account_health(data.subscriptions, "2026-01-01", scores=risk[["customer_id", "probability"]],
                          min_probability=0.3, fx_rates=data.fx_rates)
    model_rows = h.loc[h["source"] == "model"]
    # its population is "active in December"; ours "MRR > 0 on 31 December": nearly the same
    assert len(model_rows) >= 0.97 * len(h)
    mine = risk.set_index("customer_id")["probability"]
    assert model_rows["probability"].to_numpy() == pytest.approx(mine.loc[model_rows["customer_id"]].to_numpy())
    assert (model_rows["at_risk"] == (model_rows["probability"] >= 0.3)).all()


def test_logistic_drivers_are_an_exact_decomposition(scored):
    _, feats, out = scored
    model, _ = out["logistic"]
    contrib = model.contributions(feats)
    p = model.predict_proba(feats).to_numpy()
    logit = np.log(p / (1 - p))
    lin = model.pipeline.named_steps["model"]
    base = lin.intercept_[0] + float(lin.coef_[0] @ model._z_mean)
    assert contrib.sum(axis=1).to_numpy() + base == pytest.approx(logit, abs=1e-8)
    # numeric features: coefficient x standardised value
    scaler = model.pipeline.named_steps["prep"].named_transformers_["num"].named_steps["scale"]
    names = list(model.pipeline.named_steps["prep"].get_feature_names_out())
    k = names.index("seat_utilisation")
    z = (feats["seat_utilisation"] - scaler.mean_[k]) / scaler.scale_[k]
    ind = [n for n in names if n == "missingindicator_seat_utilisation"]
    if not ind:  # no missing values in training: the contribution is exactly coef x z
        assert contrib["seat_utilisation"].to_numpy() == pytest.approx((lin.coef_[0][k] * z).to_numpy())


def test_gbm_drivers_are_replacement_effects(scored):
    _, feats, out = scored
    model, risk = out["gbm"]
    assert model.driver_method == "replacement"
    few = feats.head(5)
    contrib = model.contributions(few)
    swapped = few.assign(seat_utilisation=model.reference["seat_utilisation"])
    p0 = model.predict_proba(few).to_numpy()
    p1 = model.predict_proba(swapped).to_numpy()
    expected = np.log(p0 / (1 - p0)) - np.log(p1 / (1 - p1))
    assert contrib["seat_utilisation"].to_numpy() == pytest.approx(expected)
    drivers = rk.churn.account_drivers(model, few, top=3)
    assert drivers.groupby("customer_id")["rank"].max().le(3).all()
    assert (drivers["contribution"] > 0).all()
    text = risk.set_index("customer_id").loc[drivers["customer_id"].iloc[0], "top_drivers"]
    assert drivers["feature"].iloc[0] in text


def test_global_drivers_find_the_built_in_signal(scored):
    _, feats, out = scored
    feats = feats.iloc[::3]
    for kind in ("logistic", "gbm"):
        model, _ = out[kind]
        g = rk.churn.global_drivers(model, feats)
        assert g["share"].sum() == pytest.approx(1.0)
        top = g["feature"].head(4).tolist()
        # the sample's churn is driven by health (usage) and annual renewals
        assert "seat_utilisation" in top and "months_to_renewal" in top
        util = g.set_index("feature").loc["seat_utilisation", "direction"]
        assert util == "lower → more risk"


def test_risk_summary(scored):
    _, _, out = scored
    _, risk = out["logistic"]
    s = rk.churn.risk_summary(risk)
    total = s.loc[s["group"] == "all accounts"].iloc[0]
    assert total["accounts"] == len(risk)
    assert total["arr_at_risk"] == pytest.approx(risk["arr_at_risk"].sum())
    assert s.loc[s["group"] != "all accounts", "accounts"].sum() == len(risk)


def test_scoring_is_deterministic(scored):
    data, feats, out = scored
    model = rk.churn.fit_churn_model(data, "2026-01-01", kind="gbm", n_train_dates=4)
    few = feats.iloc[::10]
    first = rk.churn.risk_table(data, "2026-01-01", model=out["gbm"][0], features=few)
    again = rk.churn.risk_table(data, "2026-01-01", model=model, features=few)
    pd.testing.assert_frame_equal(again, first)


def test_fit_refuses_labels_unknown_at_as_of(sample_backtest):
    data, _ = sample_backtest
    with pytest.raises(rk.PeriodError, match="not known at as_of"):
        rk.churn.fit_churn_model(data, "2025-10-01", train_as_of=["2025-08-01"])


def test_refit_reuses_backtest_rows_and_matches_a_fresh_fit(sample_backtest):
    data, bt = sample_backtest
    when = pd.Timestamp("2026-01-01")
    reused = bt.refit(data, when, kind="logistic", n_train_dates=4)
    fresh = rk.churn.fit_churn_model(data, when, kind="logistic", n_train_dates=4)
    assert reused.train_as_of == fresh.train_as_of
    assert max(reused.train_as_of) == bt.test_as_of  # the test labels are known on the scoring date
    feats = rk.churn.build_features(data, when).iloc[::7]
    assert reused.predict_proba(feats).to_numpy() == pytest.approx(fresh.predict_proba(feats).to_numpy())
