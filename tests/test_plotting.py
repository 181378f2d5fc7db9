"""Figures a reader trusts: notes instead of empty charts, labels clear of the title, integer
count axes, unique money ticks, titles and labelled axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import revops_kit as rk  # noqa: E402

P = rk.plotting


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _labelled(fig):
    """A title (axes or figure), and every drawn axes has a y label and an x label (a twin axes
    shares its partner's x label)."""
    assert isinstance(fig, matplotlib.figure.Figure), fig
    axes = [ax for ax in fig.axes if ax.axison and ax.get_label() != "<colorbar>"]
    assert any(ax.get_title() for ax in axes) or (fig._suptitle and fig._suptitle.get_text())
    for ax in axes:
        assert ax.get_ylabel(), ax
        twins = [o for o in axes if o is not ax and o.get_position().bounds == ax.get_position().bounds]
        assert ax.get_xlabel() or any(o.get_xlabel() for o in twins), ax


def test_nothing_to_plot_cases():
    assert P.nothing_to_plot(pd.DataFrame({"a": [1.0, 0.0]})) is None
    note = P.nothing_to_plot(pd.DataFrame({"note": ["This section needs the table(s) quotas"]}),
                             title="Quota <b>")
    assert isinstance(note, P.ChartNote)
    assert note.text == "This section needs the table(s) quotas."
    assert "Quota &lt;b&gt;" in note._repr_html_() and "Quota <b>" not in note._repr_html_()
    assert str(P.nothing_to_plot(pd.DataFrame(columns=["a"]))) == \
        "Nothing to show for this period: no rows."
    zero = P.nothing_to_plot(pd.DataFrame({"m": ["x", "y"], "mrr": [0.0, -0.0]}), what="MRR")
    assert zero.text == "Nothing to plot: MRR is 0 throughout."
    unknown = P.nothing_to_plot(pd.DataFrame({"amount": [np.nan, np.nan]}), ["amount"],
                                what="the open pipeline amount")
    assert unknown.text == "Nothing to plot: the open pipeline amount is unknown throughout."
    assert P.nothing_to_plot(None).text == "No data for this chart."
    assert P.nothing_to_plot({}).text == "Nothing to show for this period."


MONTHS = pd.date_range("2025-01-01", periods=6, freq="MS")


@pytest.mark.parametrize("draw", [
    lambda: P.mrr_and_customers(pd.DataFrame({"month": MONTHS, "mrr": 0.0, "customers": 0}), title="t"),
    lambda: P.mrr_bridge_waterfall(pd.Series({"mrr_start": 0.0, "new": 0.0, "expansion": 0.0,
                                              "reactivation": 0.0, "contraction": 0.0, "churn": 0.0,
                                              "fx_impact": 0.0, "mrr_end": 0.0}), title="t"),
    lambda: P.pipeline_by_stage(pd.DataFrame({"stage": ["A", "B"], "value": [2, 1], "amount": [0.0, 0.0],
                                              "n_missing_amount": [2, 1]}), title="t"),
    lambda: P.pipeline_by_stage(pd.DataFrame({"stage": ["A"], "value": [0], "amount": [0.0]}), title="t"),
    lambda: P.pipeline_waterfall(pd.DataFrame({"step": ["starting", "ending"], "value": [0.0, 0.0]}),
                                 title="t"),
    lambda: P.finance_flows(pd.DataFrame({"start": MONTHS, "billings": 0.0, "revenue_recognised": 0.0,
                                          "cash_collected": np.nan}), title="t"),
    lambda: P.spend_mix(pd.DataFrame({"month": MONTHS, "marketing_programs": 0.0}), title="t"),
    lambda: P.dq_cost_chart(pd.DataFrame({"what": ["x"], "failed": [3], "unit": ["count"], "cost": [3.0]})),
    lambda: P.cohort_heatmap(pd.DataFrame(np.nan, index=["2025-Q1"], columns=[0, 1]), title="t"),
    lambda: P.nps_mix(pd.DataFrame({"period": ["2025-Q1"], "promoters": [0], "passives": [0],
                                    "detractors": [0], "responses": [0], "value": [np.nan]}), title="t"),
    lambda: P.kpi_trends(pd.DataFrame({"period": ["2025-Q1"], "kpi": ["csat"], "group": ["all"],
                                       "value": [np.nan], "note": [""]}), title="t"),
    lambda: P.quota_attainment_by_owner(pd.DataFrame({"note": ["needs the table quotas"]}), title="t"),
])
def test_empty_or_all_zero_charts_become_a_sentence(draw):
    before = plt.get_fignums()
    out = draw()
    assert isinstance(out, P.ChartNote), out
    assert out.text.endswith(".") and len(out.text) > 10
    assert plt.get_fignums() == before  # no empty figure left behind either


def test_all_unknown_pipeline_says_no_deal_has_an_amount():
    by_stage = pd.DataFrame({"stage": ["A", "B"], "value": [5, 3], "amount": [0.0, 0.0],
                             "n_missing_amount": [5, 3]})
    assert P.pipeline_by_stage(by_stage, title="t").text == \
        "Nothing to plot: none of the 8 open deals has an amount."


def _inside_axes(fig, ax):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    title = ax.title.get_window_extent(renderer)
    for text in ax.texts:
        ext = text.get_window_extent(renderer)
        assert ext.y1 <= box.y1 + 0.5, (text.get_text(), ext, box)
        assert ext.y1 <= title.y0 + 0.5 or not ax.get_title()


def test_value_labels_stay_clear_of_the_title():
    bridge = pd.Series({"mrr_start": 1000.0, "new": 400.0, "expansion": 100.0, "reactivation": 0.0,
                        "contraction": 50.0, "churn": 30.0, "fx_impact": 0.0, "mrr_end": 1420.0})
    fig = P.mrr_bridge_waterfall(bridge, title="MRR bridge")
    _labelled(fig)
    _inside_axes(fig, fig.axes[0])
    by_stage = pd.DataFrame({"stage": ["Prospecting", "Proposal"], "value": [12, 3],
                             "amount": [50_000.0, 20_000.0], "n_missing_amount": [4, 0]})
    fig = P.pipeline_by_stage(by_stage, title="Open pipeline")
    ax = fig.axes[0]
    _inside_axes(fig, ax)
    assert [t.get_text() for t in ax.texts] == ["12 deals, 4 without amount", "3 deals"]
    assert ax.get_ylabel() == "Open pipeline (USD, known amounts)"


def test_counts_are_integers_and_money_ticks_unique():
    trend = pd.DataFrame({"month": MONTHS, "mrr": [1000.0, 1200, 1400, 1600, 1800, 2000],
                          "customers": [1, 2, 3, 2, 3, 3]})
    fig = P.mrr_and_customers(trend, title="MRR", currency="EUR")
    _labelled(fig)
    fig.canvas.draw()
    money, counts = fig.axes[0], fig.axes[1]
    labels = [t.get_text() for t in money.get_yticklabels()]
    assert len(labels) == len(set(labels)) and "1.25k" in labels or "1.2k" in labels
    assert money.get_ylabel() == "MRR (EUR)"
    ticks = [t for t in counts.get_yticks() if counts.get_ylim()[0] <= t <= counts.get_ylim()[1]]
    assert all(float(t).is_integer() for t in ticks)
    assert all("." not in t.get_text() for t in counts.get_yticklabels())


def test_sample_figures_have_titles_axis_labels_and_units(sample):
    p = rk.Period.parse("2025-Q4")
    months = pd.date_range("2024-01-01", "2025-12-01", freq="MS")
    trend = rk.mrr_series(sample.subscriptions, months, fx_rates=sample.fx_rates)
    fig = P.mrr_and_customers(trend, title="MRR and customers")
    _labelled(fig)
    assert fig.axes[1].get_ylabel() == "Active customers (count)"
    fig = P.mrr_bridge_waterfall(rk.mrr_bridge(sample.subscriptions, p, fx_rates=sample.fx_rates),
                                 title="Bridge")
    _labelled(fig)
    fig.canvas.draw()
    shown = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(shown) == len(set(shown)) and "e+" not in "".join(shown)
    hist = pd.DataFrame({"period": ["2025-Q3", "2025-Q4"] * 2, "kpi": ["csat"] * 2 + ["retention_cost"] * 2,
                         "group": "all", "value": [0.91, 0.93, 12000.0, 15000.0], "note": ""})
    fig = P.kpi_trends(hist, title="CS", currency="EUR")
    assert "(EUR)" in fig.axes[1].get_ylabel()


def test_waterfall_step_of_unknown_amount_is_labelled_unknown_not_drawn_as_zero():
    # pipeline_evolution: every created deal without an amount -> that step's value is NaN
    ev = pd.DataFrame({"step": ["starting", "created", "won", "ending"],
                       "value": [1000.0, np.nan, -400.0, 600.0]})
    fig = P.pipeline_waterfall(ev, title="Pipeline evolution")
    _labelled(fig)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts]
    assert labels[1] == "unknown" and len(labels) == 4
    # three bars (start, won, end); "won" floats from the running total 1000 down to 600
    bars = [p for p in ax.patches if p.get_height() != 0]
    assert len(bars) == 3
    won = bars[1]
    assert (won.get_y(), won.get_height()) == (600.0, 400.0)


def test_house_style_is_seaborn_whitegrid_without_importing_seaborn():
    """set_style sets exactly what seaborn's set_theme(style="whitegrid", palette=PALETTE, rc=...)
    set before (reference: seaborn itself), except seaborn's default colormap ``rocket``, which
    only exists once seaborn is imported and no house figure uses."""
    import seaborn as sns

    from revops_kit.plotting._core import HOUSE_RC, PALETTE

    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        sns.set_theme(style="whitegrid", palette=PALETTE, rc=HOUSE_RC)
        reference = dict(matplotlib.rcParams)
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        rk.plotting.set_style()
        ours = dict(matplotlib.rcParams)
    differ = {k for k in reference if k != "image.cmap" and reference[k] != ours[k]}
    assert not differ, {k: (reference[k], ours[k]) for k in differ}
    assert ours["image.cmap"] == matplotlib.rcParamsDefault["image.cmap"]


def test_margins_chart_without_cost_data_draws_dso_alone_and_says_why():
    months = pd.date_range("2025-01-01", periods=6, freq="MS")
    series = pd.DataFrame({"start": months, "dso": [40.0, 42, 38, 41, 39, 44]})
    fig = P.finance_margins(series, title="Margins and DSO")
    _labelled(fig)
    (ax,) = fig.axes
    assert ax.get_ylabel() == "DSO (days)" and "no cost data" in ax.get_title()
    both = P.finance_margins(series.assign(gross_margin=0.8, profit_margin=np.nan), title="Margins and DSO")
    labels = [t.get_text() for t in both.axes[0].get_legend().get_texts()]
    assert labels == ["Gross margin", "DSO"]
