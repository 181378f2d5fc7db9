"""The `revops` command line: exit codes and messages on good and bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from revops_kit.cli import main

from conftest import TINY, write_tables


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def test_validate_good_data(run, tiny_dir):
    res = run("validate", "--data", tiny_dir)
    assert res.exit_code == 0, res.output
    assert "all checks passed" in res.output and "subscriptions" in res.output


def test_validate_bad_data_prints_table(run, tmp_path):
    tables = dict(TINY)
    tables["subscriptions"] = TINY["subscriptions"].replace(",150,", ",-150,")
    res = run("validate", "--data", write_tables(tmp_path / "bad", tables))
    assert res.exit_code == 1
    assert "subscriptions" in res.output and "mrr" in res.output and "greater_than_or_equal_to(0)" in res.output


def test_validate_missing_folder(run, tmp_path):
    res = run("validate", "--data", tmp_path / "nope")
    assert res.exit_code == 1 and "does not exist" in res.output


@pytest.mark.parametrize("period,message,code", [
    ("2024-13", "month 13 is not in 1-12", 2),   # malformed: a usage error
    ("2024-Q5", "quarter 5 is not in 1-4", 2),
    ("2031-Q1", "outside the data", 1),          # well-formed but not in the data: a data error
])
def test_kpis_bad_period(run, tiny_dir, period, message, code):
    res = run("kpis", "--data", tiny_dir, "--period", period)
    assert res.exit_code == code and message in res.output


def test_kpis_missing_table_is_named(run, tiny_dir):
    (tiny_dir / "subscriptions.csv").unlink()
    res = run("kpis", "--data", tiny_dir, "--period", "2024-03", "--kpi", "mrr")
    assert res.exit_code == 1 and "needs table(s) subscriptions" in res.output


def test_kpis_json_and_csv(run, tiny_dir):
    res = run("kpis", "--data", tiny_dir, "--period", "2024-03", "--kpi", "mrr", "--format", "json")
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    rows = payload["kpis"]
    assert payload["period"] == "2024-03" and payload["not_computed"] == []
    assert rows[0]["kpi"] == "mrr" and rows[0]["value"] == pytest.approx(1400.5)
    res = run("kpis", "--data", tiny_dir, "--period", "2024-03", "--kpi", "mrr", "--by", "segment",
              "--format", "csv")
    assert res.output.splitlines()[0] == "period,kpi,group,value,numerator,denominator,unit"


def test_csv_output_neutralises_formulas(capsys):
    import pandas as pd

    from revops_kit.cli.kpis import _emit

    _emit(pd.DataFrame({"name": ["=cmd()", "@x", "ok"], "value": [-1.5, 2.0, 3.0]}), "csv")
    out = capsys.readouterr().out.splitlines()
    assert out == ["name,value", "'=cmd(),-1.5", "'@x,2", "ok,3"]


def test_report_with_bad_data_writes_nothing(run, tmp_path):
    tables = dict(TINY)
    tables["subscriptions"] = TINY["subscriptions"].replace("s4,c3", "s4,c404")
    out = tmp_path / "reports"
    res = run("report", "--data", write_tables(tmp_path / "bad", tables), "--out", out, "--period", "2024-Q1")
    assert res.exit_code == 1 and "customer_exists" in res.output
    assert not out.exists() or not any(out.iterdir())


def test_report_with_bad_period_writes_nothing(run, tiny_dir, tmp_path):
    out = tmp_path / "reports"
    res = run("report", "--data", tiny_dir, "--out", out, "--period", "2024-Q5")
    assert res.exit_code == 2 and "quarter 5" in res.output
    assert not out.exists() or not any(out.iterdir())


def test_list_catalogue(run):
    res = run("kpis", "--list")
    assert res.exit_code == 0 and "customers_active" in res.output


def test_a_foreign_warning_is_shown_once_and_the_command_ends():
    """A warning that is not a RevOpsWarning (a library's FutureWarning, say) is re-emitted once on
    stderr after the command; re-emitting it inside the recording block appended it to the list
    being walked, and `revops report` grew without end after writing the report."""
    import warnings

    import click

    from revops_kit.cli.options import RevOpsGroup

    @click.group(cls=RevOpsGroup)
    def group():
        pass

    @group.command()
    def noisy():
        warnings.warn("a library's own warning", FutureWarning, stacklevel=1)
        click.echo("done")

    with warnings.catch_warnings(record=True) as outer:  # where the re-emitted warning lands
        warnings.simplefilter("always")
        res = CliRunner().invoke(group, ["noisy"], catch_exceptions=False)
    assert res.exit_code == 0
    assert res.stdout == "done\n"
    assert [str(w.message) for w in outer] == ["a library's own warning"]
