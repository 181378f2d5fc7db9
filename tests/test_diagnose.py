"""`revops diagnose`: one screen, core KPIs vs baseline and targets, the three weakest areas."""

from __future__ import annotations

from click.testing import CliRunner

import revops_kit as rk
from revops_kit.cli import main

from conftest import TINY, write_tables

TARGETS = (
    "kpi,period,target,segment,owner,baseline\n"
    "mrr,2024-Q2,250,,CFO,\n"               # c2 left in May: 150 + 50.5 = 200.5 -> 80 %, off track
    "customers_active,2024-Q2,2,,CFO,\n"    # c1 and c3 active at the end of June -> 100 %, on track
    "logo_churn_rate,2024-Q2,0.5,,VP CS,\n"  # 1 of 3 churned -> 33 % against 50 %: 150 %, on track
    "forecast_acuracy,2024-Q2,0.9,,RevOps,\n"
)


def _data(tmp_path):
    tables = dict(TINY, targets=TARGETS)
    return write_tables(tmp_path / "data", tables)


def test_diagnose_prints_one_screen(tmp_path):
    folder = _data(tmp_path)
    result = CliRunner().invoke(main, ["diagnose", "--data", str(folder), "--period", "2024-Q2"])
    assert result.exit_code == 0, result.output
    out = result.output
    lines = out.splitlines()
    assert len(lines) <= 40 and max(len(x) for x in lines) <= 110
    assert lines[0].startswith("RevOps diagnosis 2024-Q2 (2024-04-01 – 2024-07-01 exclusive)")
    mrr = next(x for x in lines if x.startswith("MRR "))
    assert "USD 200" in mrr and "USD 250" in mrr and "80%" in mrr and mrr.endswith("off track")
    assert "Targets: 2 on track, 1 off track." in out
    assert "Weakest 3 area(s):" in out or "Weakest 2 area(s):" in out
    assert "  1. MRR [revenue] — USD 200 vs target USD 250 (80%)" in out
    assert "Targets on unknown KPI ids (not judged): forecast_acuracy" in out


def test_diagnose_bad_period_exits_1(tmp_path):
    folder = _data(tmp_path)
    result = CliRunner().invoke(main, ["diagnose", "--data", str(folder), "--period", "2031-Q1"])
    assert result.exit_code == 1 and "outside the data" in result.output


def test_diagnosis_names_three_weakest_distinct_areas(tmp_path):
    data = rk.load(_data(tmp_path))
    text = rk.diagnosis(data, "2024-Q2")
    weak = [x for x in text.splitlines() if x.startswith("  ") and ". " in x[:6]]
    families = [x.split("[", 1)[1].split("]", 1)[0] for x in weak]
    assert len(families) == len(set(families)) and weak[0].startswith("  1. MRR")
