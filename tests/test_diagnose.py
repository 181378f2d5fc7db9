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
    # only KPIs that got worse are named: active customers (100 %) and logo churn (150 %) are on
    # track, the other revenue KPIs fall in MRR's family
    assert "Weakest 1 area(s) (below target or worse than baseline):" in out
    assert "  1. MRR [revenue] — USD 200 vs target USD 250 (80%)" in out
    assert "  2." not in out
    assert "Baseline: the target table's baseline, else the mean of the four prior periods." in out
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


# Open deals without an amount: o3 and o4 at the end of 2024-Q2 (o1 was lost in April).
OPPS_UNKNOWN = (
    "opportunity_id,created_at,stage,amount,close_date,is_closed,is_won\n"
    "o1,2024-01-10,Closed Lost,1000,2024-04-10,true,false\n"
    "o2,2024-01-20,Closed Won,500,2024-03-15,true,true\n"
    "o3,2024-04-05,Proposal,,2024-09-30,false,false\n"
    "o4,2024-05-01,Proposal,,2024-09-30,false,false\n"
    "o5,2024-06-20,Closed Won,200,2024-06-25,true,true\n"
)


def test_diagnose_never_states_a_change_from_unknown_amounts(tmp_path):
    folder = write_tables(tmp_path / "crm", {"opportunities": OPPS_UNKNOWN})
    result = CliRunner().invoke(main, ["diagnose", "--data", str(folder), "--period", "2024-Q2"])
    assert result.exit_code == 0, result.output
    out = result.output
    pipe = next(x for x in out.splitlines() if x.startswith("Open pipeline"))
    # Q1 ended with USD 1,000 open (o1); Q2 with two deals of unknown amount: not "-100.0%"
    assert "100.0%" not in pipe and "USD 0" not in pipe
    assert pipe.split()[2:5] == ["—", "—", "—"]
    assert "fell" not in out and "Open pipeline" not in out.split("Weakest", 1)[-1]



def test_diagnose_help_defines_baseline():
    result = CliRunner().invoke(main, ["diagnose", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Baseline: the target table's `baseline`" in text
    assert "mean of the KPI over the four prior periods" in text and "Weakest areas: only KPIs" in text
