"""``revops forecast evaluate`` and the forecast figures."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import revops_kit as rk
from revops_kit.cli import main

from conftest import SHARED_DATA

matplotlib.use("Agg")
M3 = SHARED_DATA / "m3" / "m3_monthly_micro_subset.csv"


def long_table(n_series=3, n=40, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_series):
        dates = pd.date_range("2020-01-01", periods=n, freq="MS")
        values = 100 + 10 * np.sin(2 * np.pi * np.arange(n) / 12) + rng.normal(0, 2, n) + s * 50
        rows += [{"series_id": f"S{s}", "date": d.strftime("%Y-%m-%d"), "value": v} for d, v in zip(dates, values)]
    return pd.DataFrame(rows)


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def test_evaluate_table_and_json(run, tmp_path):
    path = tmp_path / "series.csv"
    long_table().to_csv(path, index=False)
    res = run("forecast", "evaluate", "--series", path, "--h", 6, "--method", "snaive", "--method", "naive")
    assert res.exit_code == 0, res.output
    assert "3 series, 120 points" in res.output and "last 6 point(s)" in res.output
    lines = [line.split() for line in res.output.splitlines() if line.strip().startswith(("snaive", "naive"))]
    assert [line[0] for line in lines] == ["snaive", "naive"]
    res = run("forecast", "evaluate", "--series", path, "--h", 6, "--method", "snaive", "--format", "json")
    out = json.loads(res.output)
    # the numbers are those of the library function
    direct = rk.forecast.evaluate_holdout(long_table(), 6, methods=["snaive"]).summary.iloc[0]
    got = out["methods"][0]
    assert got["method"] == "snaive" and got["series"] == 3
    assert got["smape"] == pytest.approx(direct["smape"]) and got["mase"] == pytest.approx(direct["mase"])
    assert got["wape"] == pytest.approx(direct["wape"])


def test_evaluate_bad_input(run, tmp_path):
    res = run("forecast", "evaluate", "--series", tmp_path / "nope.csv", "--h", 3)
    assert res.exit_code == 1 and "does not exist" in res.output
    bad = tmp_path / "bad.csv"
    long_table().rename(columns={"value": "amount"}).to_csv(bad, index=False)
    res = run("forecast", "evaluate", "--series", bad, "--h", 3)
    assert res.exit_code == 1 and "missing column(s) ['value']" in res.output
    good = tmp_path / "good.csv"
    long_table(n=5).to_csv(good, index=False)
    res = run("forecast", "evaluate", "--series", good, "--h", 5)
    assert res.exit_code == 1 and "no more than h + 1" in res.output
    res = run("forecast", "evaluate", "--series", good, "--h", 2, "--method", "prophet")
    assert res.exit_code == 1 and "method must be one of" in res.output


@pytest.mark.shared_data
@pytest.mark.parametrize("h", [12, 18])
def test_evaluate_on_m3_handful(run, tmp_path, h):
    long = pd.read_csv(M3)
    keep = long["series_id"].drop_duplicates().iloc[::40]  # 6 series
    path = tmp_path / "m3.csv"
    long[long["series_id"].isin(keep)].to_csv(path, index=False)
    res = run("forecast", "evaluate", "--series", path, "--h", h, "--season", 12, "--method", "snaive",
              "--format", "json")
    assert res.exit_code == 0, res.output
    row = json.loads(res.output)["methods"][0]
    assert row["series"] == 6 and 0 < row["smape"] < 200 and row["fallbacks"] == 0


# =============================================================================== figures
def _labelled(fig):
    for ax in fig.axes:
        if ax.axison:
            assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_forecast_figures_have_titles_and_units():
    y = pd.Series(100 + np.arange(36.0), index=pd.date_range("2023-01-01", periods=36, freq="MS"))
    res = rk.forecast_series(y, 6, method="naive")
    fig = rk.plotting.fan_chart(res, title="MRR <b>$x</b>", ylabel="MRR (USD)")
    _labelled(fig)
    assert fig.axes[0].get_title() == r"MRR <b>\$x</b>"  # data text drawn as plain text
    _labelled(rk.plotting.revenue_fan_charts({"mrr": res, "bookings": res}, title="t"))
    frame = rk.forecast.forecast_from(y, "2025-06-01", 6, method="naive")
    _labelled(rk.plotting.forecast_vs_actual_chart(frame, title="t", ylabel="MRR (USD)", history=y))
    bt = rk.backtest_series(y, 3, method=["naive", "snaive"], windows=2)
    fig = rk.plotting.error_by_horizon_chart(rk.forecast.error_by_horizon(bt), title="t")
    _labelled(fig)
    assert "%" in fig.axes[0].get_ylabel()
    cal = pd.DataFrame({"bin": ["0%–50%", "50%–100%"], "opportunities": [10, 5],
                        "mean_predicted": [0.2, 0.7], "observed_win_rate": [0.25, 0.6]})
    _labelled(rk.plotting.calibration_chart(cal, title="t"))
    cmp = pd.DataFrame({"period": ["2025-Q1", "2025-Q2"], "as_of": pd.to_datetime(["2025-01-07", "2025-04-07"]),
                        "pipeline_forecast": [1.0, 2.0], "commit": [1.1, 1.9], "best_case": [1.5, 2.5],
                        "actual": [1.2, 2.1]})
    _labelled(rk.plotting.forecast_comparison_chart(cmp, title="t"))
    acc = pd.DataFrame({"owner": ["<script>", "b"], "value": [0.9, 0.7], "bias": [-0.1, 0.2]})
    fig = rk.plotting.submission_accuracy_chart(acc, title="t")
    _labelled(fig)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["b", "<script>"]
    note = rk.plotting.calibration_chart(pd.DataFrame({"note": ["needs opportunities"]}), title="t")
    assert isinstance(note, rk.plotting.ChartNote) and note.text == "needs opportunities."
    import matplotlib.pyplot as plt

    plt.close("all")
