"""Churn models on any customer table: messy-value handling, cross-validation and the CLI."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import revops_kit as rk
from revops_kit.churn.table import TableError, evaluate_table, prepare_table, read_table
from revops_kit.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "churn"
SAMPLE_TABLE = FIXTURES / "sample_customers.csv"
SAMPLE_TARGET = "Churned (next 6 months)"


def _tables_module():
    spec = importlib.util.spec_from_file_location("churn_make_tables", FIXTURES / "make_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def telco_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("telco") / "telco.csv"
    _tables_module().telco_table(n=1500, seed=11).to_csv(path, index=False)
    return path


def messy() -> pd.DataFrame:
    """Every kind of mess, 40 rows, all text as a CSV export gives it."""
    n = 40
    rng = np.random.default_rng(0)
    churn = np.array(["Yes", "No", "No", "No"] * 10)
    spend = [f"{v:,.0f}" for v in rng.uniform(500, 5000, n)]
    spend[3], spend[7] = "", "N/A"
    seats = [f" {v} " for v in rng.integers(1, 50, n)]
    seats[5] = "lots"
    return pd.DataFrame({
        "Row": [str(i) for i in range(1, n + 1)],
        "Account ID": [f"A-{i:03d}" for i in range(n)],
        "Company": [f"Company {i}" for i in range(n)],
        "Region": ["NA", "EMEA", "APAC", "NA"] * 10,   # "NA" is North America, not missing
        "Plan": ["Pro", "Basic", "", "Pro", "Basic"] * 8,
        "Spend": spend,
        "Seats": seats,
        "Discount": ["10%", "5%", "0%", "(2%)", "1,000%"] * 8,
        "Auto Renew": ["Yes", "No", "yes", "NO"] * 10,
        "Signed": [f"2024-0{1 + i % 9}-15" for i in range(n)],
        "Source": ["export"] * n,
        "Empty": [""] * n,
        "Reason": np.where(churn == "Yes", "Price", ""),
        "Score": rng.normal(0, 1, n).round(3).astype(str),
        "Churn": churn,
    })


def test_prepare_table_reports_every_column():
    prep = prepare_table(messy(), "Churn", id_column="Account ID")
    rep = prep.report.set_index("column")
    assert rep.loc["Churn", "action"] == "target" and "positive = 'Yes': 10 of 40" in rep.loc["Churn", "detail"]
    assert rep.loc["Account ID", "action"] == "id"
    assert rep.loc["Row", "detail"] == "id-like: the row number"
    assert rep.loc["Company", "detail"].startswith("id-like: 40 distinct values")
    assert rep.loc["Region", "action"] == "categorical" and "blank" not in rep.loc["Region", "detail"]
    assert rep.loc["Plan", "detail"] == "2 categories; 8 blank/NA → missing (kept as their own category)"
    assert rep.loc["Spend", "action"] == "number from text"
    assert "2 blank/NA → missing" in rep.loc["Spend", "detail"]
    assert "1 unparseable → missing (e.g. 'lots')" in rep.loc["Seats", "detail"]
    assert rep.loc["Auto Renew", "action"] == "yes/no → 1/0"
    assert rep.loc["Signed", "detail"].startswith("date-like text")
    assert rep.loc["Source", "detail"] == "constant ('export')"
    assert rep.loc["Empty", "detail"] == "empty (every value blank)"
    assert rep.loc["Reason", "detail"] == "separates the target perfectly on its own: probable leakage"
    assert rep.loc["Score", "action"] == "number from text"
    assert prep.numeric == ["Spend", "Seats", "Discount", "Auto Renew", "Score"]
    assert prep.categorical == ["Region", "Plan"]
    X = prep.X
    assert X["Spend"].isna().sum() == 2 and np.isnan(X.loc[5, "Seats"]) and X.loc[0, "Seats"] > 0
    assert X["Discount"].tolist()[:5] == [10.0, 5.0, 0.0, -2.0, 1000.0]
    assert X["Auto Renew"].tolist()[:4] == [1.0, 0.0, 1.0, 0.0]
    assert prep.ids.tolist()[:2] == ["A-000", "A-001"]
    assert prep.y.sum() == 10 and prep.positive == "Yes"


def test_prepare_table_target_rules():
    frame = messy()
    frame.loc[0, "Churn"] = " "
    prep = prepare_table(frame, "Churn")
    assert len(prep.y) == 39
    assert "1 row(s) without a target value" in prep.report.set_index("column").loc["(rows)", "detail"]
    status = messy().assign(Churn=lambda f: np.where(f["Churn"] == "Yes", "Left", "Active"))
    with pytest.raises(TableError, match="cannot tell which value means churned"):
        prepare_table(status, "Churn")
    assert prepare_table(status, "Churn", positive="left").positive == "Left"
    with pytest.raises(TableError, match="positive value 'gone' does not occur"):
        prepare_table(status, "Churn", positive="gone")
    with pytest.raises(TableError, match="target column 'churn' not found"):
        prepare_table(messy(), "churn")
    with pytest.raises(TableError, match="same value"):
        prepare_table(messy().assign(Churn="No"), "Churn", positive="No")


def test_prepare_table_does_not_mutate(frozen_frames):
    frame = messy()
    with frozen_frames(frame):
        prepare_table(frame, "Churn")


def test_sample_fixture_is_public_style():
    raw = read_table(SAMPLE_TABLE)
    assert len(raw) == 700 and raw[SAMPLE_TARGET].isin(["Yes", "No"]).all()
    assert raw["Monthly Recurring Revenue"].str.startswith("$").all()
    assert (raw["Last NPS"] == "").any() and raw["Seats"].str.startswith(" ").any()


def test_evaluate_sample_table_beats_baseline():
    result = evaluate_table(read_table(SAMPLE_TABLE), SAMPLE_TARGET, id_column="Customer ID", cv=5, seed=42)
    s = result.cv.summary.set_index("model")
    assert set(result.prepared.report["action"]) >= {"id", "dropped", "number from text", "yes/no → 1/0",
                                                     "categorical", "target"}
    for kind in ("logistic", "gbm"):
        assert s.loc[kind, "roc_auc_mean"] > 0.68
        assert s.loc[kind, "pr_auc_mean"] > 2 * result.prepared.prevalence
        assert s.loc[kind, "log_loss_mean"] < s.loc["baseline", "log_loss_mean"]


def test_evaluate_telco_table(telco_csv):
    result = evaluate_table(read_table(telco_csv), "Churn", positive="Yes", id_column="customerID", seed=42)
    rep = result.prepared.report.set_index("column")
    assert rep.loc["Churn Reason", "action"] == "dropped"  # leakage caught
    assert rep.loc["Country", "detail"] == "constant ('United States')"
    assert rep.loc["TotalCharges", "action"] == "number from text"
    assert "blank/NA → missing" in rep.loc["TotalCharges", "detail"]
    assert rep.loc["Partner", "action"] == "yes/no → 1/0"
    assert rep.loc["OnlineSecurity", "action"] == "categorical"  # Yes / No / No internet service
    s = result.cv.summary.set_index("model")
    for kind in ("logistic", "gbm"):
        assert s.loc[kind, "roc_auc_mean"] > 0.75
        assert s.loc[kind, "brier_mean"] < s.loc["baseline", "brier_mean"]


# ---------------------------------------------------------------------------- CLI
def test_cli_evaluate_json_is_deterministic(telco_csv):
    runner = CliRunner()
    args = ["churn", "evaluate", "--table", str(telco_csv), "--target", "Churn", "--id", "customerID",
            "--cv", "3", "--seed", "7", "--format", "json"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    again = runner.invoke(main, args)
    assert first.output == again.output
    doc = json.loads(first.output)
    assert set(doc["models"]) == {"logistic", "gbm", "baseline"}
    for model in doc["models"].values():
        assert set(model) >= {"roc_auc", "pr_auc", "brier", "log_loss"}
        assert set(model["roc_auc"]) == {"mean", "std"}
    assert doc["cv"] == 3 and doc["seed"] == 7 and doc["positive"] == "Yes"
    assert any(c["column"] == "Country" and c["action"] == "dropped" for c in doc["column_actions"])


def test_cli_evaluate_table_format():
    res = CliRunner().invoke(main, ["churn", "evaluate", "--table", str(SAMPLE_TABLE), "--target",
                                    SAMPLE_TARGET, "--id", "Customer ID", "--cv", "3"])
    assert res.exit_code == 0, res.output
    assert "what was done to each column:" in res.output
    assert "Monthly Recurring Revenue" in res.output and "number from text" in res.output
    assert "baseline" in res.output and "±" in res.output


def test_cli_evaluate_errors(tmp_path):
    res = CliRunner().invoke(main, ["churn", "evaluate", "--table", str(SAMPLE_TABLE), "--target", "Nope"])
    assert res.exit_code == 1 and "target column 'Nope' not found" in res.output
    res = CliRunner().invoke(main, ["churn", "evaluate", "--table", str(tmp_path / "x.csv"), "--target", "a"])
    assert res.exit_code == 1 and "does not exist" in res.output


def test_cli_score_writes_neutralised_csv(tmp_path):
    out = tmp_path / "risk.csv"
    res = CliRunner().invoke(main, ["churn", "score", "--as-of", "2026-01-01", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "ARR at risk" in res.output
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(written.columns) == rk.churn.RISK_COLUMNS
    # untrusted names starting with = + - @ are prefixed with ' so spreadsheets show them as text
    dangerous = written["name"].str[:1].isin(["=", "+", "-", "@"])
    assert not dangerous.any()
    assert written["name"].str.startswith("'=").any() or written["name"].str.startswith("'+").any()
    assert written["renewal_date"].str.match(r"^(\d{4}-\d{2}-\d{2})?$").all()
