"""The one set of number formatters: money, percentages, counts, unknown, ticks, tables."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

matplotlib.use("Agg")
import matplotlib.ticker as mticker  # noqa: E402

import revops_kit as rk  # noqa: E402
from revops_kit import formatting as f  # noqa: E402


def test_unknown_is_a_dash_never_zero():
    for fn in (f.format_percent, f.format_count, f.format_points, f.format_change, f.format_number):
        assert fn(None) == "—" and fn(float("nan")) == "—" and fn(pd.NA) == "—"
    assert f.format_money(float("nan"), "USD") == "—"
    for unit in ("currency", "ratio", "count", "days", "months", "multiple", "score"):
        assert f.format_value(np.nan, unit, "EUR") == "—"


@pytest.mark.parametrize("value, text", [
    (6_907_896.32, "USD 6.91M"), (82_894_755.84, "USD 82.89M"), (350_400, "USD 350k"),
    (12_345, "USD 12k"), (4_166.4, "USD 4,166"), (0.4, "USD 0"), (-0.0, "USD 0"),
    (-1_234_567, "USD -1.23M"), (2.5e9, "USD 2.50B"),
])
def test_money(value, text):
    assert f.format_money(value, "USD") == text


def test_money_in_full_and_without_code():
    assert f.format_money(1_234_567.8, "EUR", compact=False) == "EUR 1,234,568"
    assert f.format_money(1_234_567.8) == "1.23M"
    # the old copies now use it
    assert rk.fmt_money(1_234_567.8) == "USD 1,234,568"
    assert rk.format_kpi_value(6_907_896.32, "currency", "EUR") == "EUR 6.91M"


def test_counts_are_whole_and_rates_are_percentages():
    assert f.format_count(1467.0) == "1,467"
    assert f.format_value(1467.0, "count") == "1,467"
    assert f.format_value(0.8734, "ratio") == "87.3%"
    assert f.format_percent(-0.0001) == "0.0%"  # never "-0.0%"
    assert f.format_points(0.012) == "+1.2 pts" and f.format_change(-0.034) == "-3.4%"
    assert f.format_value(38.44, "days") == "38.4 days"


@pytest.mark.parametrize("ticks, labels", [
    ([1000, 1250, 1500, 1750, 2000], ["1k", "1.25k", "1.5k", "1.75k", "2k"]),
    ([-0.0, 0.0, 0.0], ["0", "0", "0"]),
    ([0, 20, 40, 60], ["0", "20", "40", "60"]),
    ([0, 2e5, 4e5, 6e5, 8e5, 1e6, 1.2e6], ["0", "0.2M", "0.4M", "0.6M", "0.8M", "1M", "1.2M"]),
    ([-0.04, -0.02, 0, 0.02], ["-0.04", "-0.02", "0", "0.02"]),
])
def test_money_ticks(ticks, labels):
    assert f.money_tick_labels(ticks) == labels


@settings(max_examples=300, deadline=None)
@given(lo=st.floats(-1e10, 1e10, allow_nan=False), width=st.floats(1e-3, 1e10),
       nbins=st.integers(3, 12))
def test_money_tick_labels_are_unique_for_any_range(lo, width, nbins):
    """Whatever range an axis covers, the ticks matplotlib picks get distinct labels, and each label
    read back (scale applied) is the tick within a millionth of the scale."""
    hi = lo + width
    if not math.isfinite(hi) or hi - lo < 1e-9 * max(1.0, abs(lo)):
        return
    ticks = mticker.MaxNLocator(nbins=nbins).tick_values(lo, hi)
    labels = f.money_tick_labels(ticks)
    assert len(set(labels)) == len(labels), (ticks, labels)
    scale = {"T": 1e12, "B": 1e9, "M": 1e6, "k": 1e3}
    for t, lab in zip(ticks, labels):
        mult = scale.get(lab[-1], 1.0)
        number = float(lab.rstrip("TBMk").replace(",", ""))
        assert abs(number * mult - t) <= 1e-6 * mult + 1e-9 * abs(t), (t, lab)
        assert not lab.startswith("-0") or lab.startswith("-0.")


def test_money_axis_draws_unique_labels():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1000, 2000])
    rk.plotting.money_axis(ax)
    ax.set_ylim(1000, 2000)
    fig.canvas.draw()
    shown = [t.get_text() for t in ax.get_yticklabels()]
    plt.close(fig)
    assert len(set(shown)) == len(shown)
    assert "1.2k" in shown or "1.25k" in shown


def test_format_table_has_no_index_and_formats_by_unit():
    frame = pd.DataFrame({"kpi": ["mrr", "nrr", "customers"], "value": [6907896.32, 1.0312, 1467.0],
                          "unit": ["currency", "ratio", "count"], "n": [3, 4, 5]},
                         index=[10, 11, 12])
    out = f.format_table(frame, currency="EUR", unit_column="unit")
    assert out.index.tolist() == [0, 1, 2]
    assert out["value"].tolist() == ["EUR 6.91M", "103.1%", "1,467"]
    assert out["n"].tolist() == ["3", "4", "5"]
    page = f.table_html(frame.assign(kpi=["<b>x</b>", "nrr", "c"]), unit_column="unit")
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<th>kpi</th>" in page
    assert ">10<" not in page  # no index column


def test_text_table_never_uses_scientific_notation():
    frame = pd.DataFrame({"kpi": ["a", "b", "c", "d"],
                          "value": [82894755.84, 1.2e-7, np.nan, 3e15],
                          "denominator": [1658.0, 2.0, 3.0, 4.0]})
    text = f.text_table(frame)
    assert "e+" not in text and "e-" not in text
    assert "82894755.84" in text and "0.00000012" in text and "—" in text
    assert "3000000000000000" in text
    assert text.splitlines()[0].split() == ["kpi", "value", "denominator"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=6, unique=True))
def test_distinct_money_labels_keep_distinct_values_apart(values):
    """Amount-band edges (quartiles) must never share a label: two bands would become one."""
    vals = sorted(values)
    if any(b - a < 1e-6 * max(1.0, b) for a, b in zip(vals, vals[1:])):
        return  # closer than the labels' six decimals can tell apart
    labels = f.distinct_money_labels(vals)
    assert len(set(labels)) == len(labels), (vals, labels)


def test_pipeline_amount_bands_never_merge():
    from revops_kit.forecast.pipeline_forecast import _band_labels

    labels = _band_labels([1100.0, 1200.0, 1300.0])
    assert labels == ["< 1.1k", "1.1k-1.2k", "1.2k-1.3k", ">= 1.3k"]  # was 1k-1k twice


def test_revops_kpis_table_has_no_scientific_notation(tiny_dir):
    from click.testing import CliRunner

    from revops_kit.cli import main

    result = CliRunner().invoke(main, ["kpis", "--data", str(tiny_dir), "--period", "2024-Q1",
                                       "--kpi", "mrr", "--kpi", "arr", "--kpi", "arpa"])
    assert result.exit_code == 0, result.output
    lines = [x for x in result.output.splitlines() if x.startswith("2024-Q1")]
    assert len(lines) == 3 and "e+" not in result.output and "NaN" not in result.output
    assert lines[0].split()[:4] == ["2024-Q1", "mrr", "all", "1400.5"]  # 150 + 50.5 + 1000 EUR x 1.2
