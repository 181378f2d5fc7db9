"""The report context and section views: notes instead of failures, data notes instead of stderr."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pandas as pd
import pytest

import revops_kit as rk
from revops_kit.errors import ModelFallbackWarning, ZeroDenominatorWarning
from revops_kit.views import DataNotes, is_note, needs, note_text

from conftest import TINY, write_tables


@pytest.fixture
def tiny(tmp_path):
    return rk.load(write_tables(tmp_path / "tiny", TINY))


def test_open_report_knows_tables_period_and_currency(tiny):
    ctx = rk.open_report(tiny, "2024-Q1", setup=False)
    assert ctx.tables == ["customers", "subscriptions", "fx_rates"]
    assert str(ctx.period) == "2024-Q1" and ctx.policy.reporting_currency == "USD"
    assert ctx.has_column("customers", "segment") and not ctx.has_column("customers", "owner")
    assert ctx.as_of_date == pd.Timestamp("2024-04-01")


def test_sections_without_their_data_carry_one_sentence(tiny):
    ctx = rk.open_report(tiny, "2024-Q1", setup=False)
    assert note_text(ctx.sales.by_stage) == "This section needs the table `opportunities`."
    assert note_text(ctx.sales.coverage) == "This section needs the tables `opportunities` and `quotas`."
    assert note_text(ctx.marketing.funnel) == "This section needs the table `leads`."
    assert note_text(ctx.success.portfolio) == "This section needs an `owner` column on customers."
    assert note_text(ctx.finance.monthly) == "This section needs the table `invoices`."
    # what the data has is computed
    bridge = ctx.revenue.bridge
    assert not is_note(bridge) and bridge["mrr_end"].iloc[0] == pytest.approx(150 + 1000 * 1.2 + 50.5)
    assert not is_note(ctx.revenue.segment_trend)


def test_missing_optional_column_is_named(tmp_path):
    tables = dict(TINY)
    tables["customers"] = "customer_id,name\nc1,Acme\nc2,Globex\nc3,Initech\n"
    ctx = rk.open_report(rk.load(write_tables(tmp_path / "d", tables)), "2024-Q1", setup=False)
    assert note_text(ctx.revenue.segment_trend) == "This section needs a `segment` column on customers."
    assert not is_note(ctx.revenue.bridge)


def test_needs_sentences():
    data = rk.RevOpsData()
    assert needs(data, ["subscriptions", "opportunities"], any_of=True) == \
        "This section needs the table `subscriptions` or `opportunities`."
    assert needs(data, [], columns={"customers": ["segment"]}) == \
        "This section needs the table `customers` with a column `segment`."
    assert needs(data, []) is None


def test_trends_start_at_the_first_period_of_data(tiny):
    ctx = rk.open_report(tiny, "2024-Q2", setup=False)
    periods = ctx.trailing(8, tables=["subscriptions"], what="Retention trends")
    assert [str(q) for q in periods] == ["2024-Q1", "2024-Q2"]
    notes = ctx.notes.frame()
    assert notes["note"].tolist() == [
        "Retention trends start at 2024-Q1, the first period the data covers (6 earlier period(s) left out)."]


def test_data_notes_merge_and_count_warnings():
    notes = DataNotes()
    with notes.capture():
        for _ in range(3):
            warnings.warn("win_rate: denominator is zero (groups a, b); the value is NaN", ZeroDenominatorWarning)
        warnings.warn("series 'mrr': too short, seasonal naive used", ModelFallbackWarning)
        warnings.warn("overflow in exp", RuntimeWarning)
    frame = notes.frame()
    assert len(notes) == 3 and notes.total == 5
    assert frame["count"].tolist() == [3, 1, 1]
    assert frame["note"].iloc[0].startswith("Win rate has nothing to divide by")
    html = notes.html()
    assert "Data notes (3)" in html and "(3×)" in html and "Warning" not in html


def test_lazy_forecast_names_match_the_modules():
    import importlib

    for module, names in rk.forecast.LAZY.items():
        mod = importlib.import_module(f"revops_kit.forecast.{module}")
        assert names == mod.__all__, module
    assert rk.forecast.ForecastResult is rk.ForecastResult


def test_import_does_not_load_the_models():
    code = ("import sys, revops_kit as rk; rk.open_report; "
            "print(sorted(m for m in ('statsmodels', 'scipy.stats', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_notebooks_of_one_kernel_share_the_cached_dataset(tmp_path, monkeypatch):
    """In a kernel, each notebook's open_report reads the report's cache once per version of the
    file and reuses the loaded dataset; when the report rewrites the file with the frames it
    computed meanwhile (scorecard, data-quality pass rates), the loaded dataset takes them over."""
    from revops_kit.views.context import CACHE_ENV, _cache_key

    data_dir = str(write_tables(tmp_path / "tiny", TINY).resolve())
    parent = rk.open_report(data_dir, "2024-Q1", setup=False)
    cache = tmp_path / "context.pkl"
    key = _cache_key(data_dir, "2024-Q1", "default", "USD", 1)
    parent.save(cache, key)
    monkeypatch.setenv(CACHE_ENV, str(cache))
    first = rk.open_report(data_dir, "2024-Q1", setup=False)
    second = rk.open_report(data_dir, "2024-Q1", setup=False)
    assert second.data is first.data and second is not first and second.notes is not first.notes
    # the report computes shared frames and rewrites the cache
    checks = rk.dq_checks(parent.data, "2024-Q1", policy=parent.policy)
    parent.precompute("answer", lambda: pd.DataFrame({"x": [42]}))
    parent.save(cache, key)
    third = rk.open_report(data_dir, "2024-Q1", setup=False)
    assert third.data is first.data
    assert third.shared("answer", lambda: None)["x"].tolist() == [42]
    calls = []
    monkeypatch.setattr("revops_kit.quality.run.run_checks", lambda *a, **k: calls.append(1))
    pd.testing.assert_frame_equal(rk.dq_checks(third.data, "2024-Q1", policy=third.policy), checks)
    assert not calls  # the report's pass rates, not a new run
    # a frame whose computation warned is not shared: the notebook computes it, with its warning
    assert not parent.precompute("noisy", lambda: warnings.warn("careful") or pd.DataFrame())
    assert "noisy" not in parent._shared


def test_caches_keep_only_values_that_warned_nothing():
    """A cached intermediate whose computation warned is computed again by the next caller, who
    then sees the warning too; a notice about a library version does not stop caching and still
    reaches the caller."""
    from revops_kit._common import frame_cache

    frame = pd.DataFrame({"a": [1]})
    calls = []

    def noisy():
        calls.append(1)
        warnings.warn("about the data", UserWarning)
        return len(calls)

    for _ in range(2):
        with pytest.warns(UserWarning, match="about the data"):
            frame_cache("noisy", (frame,), (), noisy)
    assert len(calls) == 4  # per caller: the recorded run, then the one whose warning reaches it

    def versioned():
        calls.append(1)
        warnings.warn("a future version", FutureWarning)
        return "v"

    with pytest.warns(FutureWarning):
        assert frame_cache("versioned", (frame,), (), versioned) == "v"
    n = len(calls)
    assert frame_cache("versioned", (frame,), (), versioned) == "v" and len(calls) == n  # cached


@pytest.fixture(scope="module")
def crm_only(tmp_path_factory):
    """A CRM export: opportunities only (one currency, some open deals without an amount)."""
    import report_datasets as rd

    return rk.load(rd.build("opportunities_only", tmp_path_factory.mktemp("crm") / "opportunities_only"))


def test_sales_tables_for_the_page_name_counts_and_hide_unseen_steps(crm_only):
    ctx = rk.open_report(crm_only, "2025-Q4", setup=False)
    by_stage = ctx.sales.by_stage_table
    assert {"open_deals", "without_amount"} <= set(by_stage.columns) and "value" not in by_stage.columns
    assert by_stage["open_deals"].tolist() == ctx.sales.by_stage["value"].tolist()
    ev = ctx.sales.evolution_table
    assert "cents" not in ev.columns
    unseen = ev[ev["step"].isin(["reopened", "increased", "decreased", "pulled_in", "slipped_out"])]
    assert len(unseen) == 5 and unseen[["value", "opportunities", "n_missing_amount"]].isna().all().all()
    seen = ev.set_index("step").loc[["starting", "created", "won", "lost", "ending"]]
    assert seen["opportunities"].notna().all() and (seen["opportunities"] > 0).all()
    # the frame the waterfall draws keeps the exact cents
    assert "cents" in ctx.sales.evolution.columns


def test_a_section_note_is_shown_once_per_page(tiny):
    ctx = rk.open_report(tiny, "2024-Q1", setup=False)
    note = ctx.sales.by_stage
    first = ctx.show(note, caption="Open pipeline by stage")
    assert "needs the table `opportunities`" in first._repr_html_()
    again = ctx.plot(rk.plotting.pipeline_by_stage, note, title="x").data
    assert again == ctx.show(ctx.sales.by_stage, caption="again").data
    assert "same reason as above" in again and "opportunities" not in again
    # the data notes box does not claim the page was computed in full
    box = ctx.data_notes().data
    assert "None beyond the sections not computed" in box and "every figure" not in box
    # another page (another context) says it in full again
    other = rk.open_report(tiny, "2024-Q1", setup=False)
    assert "needs the table `opportunities`" in other.plot(rk.plotting.pipeline_by_stage, note, title="x").data


def test_day_columns_show_days_with_one_decimal():
    from revops_kit.notebook import show

    frame = pd.DataFrame({"period": ["2025-Q3", "2025-Q4"], "cycle_days_median": [44.0, 39.5],
                          "dso": [44.74, 43.97], "win_rate": [0.239, 0.29]})
    page = show(frame)._repr_html_()
    for text in ("44.0 days", "39.5 days", "44.7 days", "29.0%"):
        assert text in page
