"""Targets: SMART validation, attainment in both directions, pace, baseline, scorecard, messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import revops_kit as rk
from revops_kit.targets import TargetError

D = pd.to_datetime


def test_attainment_respects_direction():
    assert rk.attainment(110.0, 100.0, "up") == pytest.approx(1.1)
    assert rk.attainment(90.0, 100.0, "up") == pytest.approx(0.9)
    # lower is better: churn 4 % against a 5 % target beats it; 6 % misses it
    assert rk.attainment(0.04, 0.05, "down") == pytest.approx(1.25)
    assert rk.attainment(0.06, 0.05, "down") == pytest.approx(5 / 6)
    # non-positive targets: distance relative to |target|
    assert rk.attainment(-10.0, -20.0, "up") == pytest.approx(1.5)
    assert rk.attainment(0.0, 0.05, "down") == pytest.approx(2.0)
    assert np.isnan(rk.attainment(5.0, 4.0, "neutral"))
    np.testing.assert_allclose(rk.attainment([1.0, 2.0], [2.0, 2.0], "up"), [0.5, 1.0])


def test_status_thresholds():
    assert rk.target_status(1.0) == "on track"
    assert rk.target_status(0.96) == "at risk"
    assert rk.target_status(0.94) == "off track"
    assert rk.target_status(0.94, band=0.10) == "at risk"
    assert rk.target_status(np.nan) == "no data"
    assert rk.target_status(1.2, has_target=False) == "no target"


def test_elapsed_fraction():
    assert rk.elapsed_fraction("2025-Q1", "2025-02-15") == pytest.approx(45 / 90)
    assert rk.elapsed_fraction("2025-Q1", "2025-04-01") == 1.0
    assert rk.elapsed_fraction("2025-Q1", "2024-12-01") == 0.0
    assert rk.elapsed_fraction("2025-Q1", None) == 1.0


def test_smart_checks_name_every_problem():
    targets = pd.DataFrame({"kpi": ["mrr", "nrrr", "arr", "mrr"],
                            "period": ["2025-Q1", "2025-Q1", "2025-Q5", "2025-Q2"],
                            "target": [100.0, 1.0, 5.0, np.nan],
                            "owner": ["CFO", "VP CS", None, "CFO"]})
    problems = rk.check_targets(targets)
    got = set(zip(problems["row"], problems["check"]))
    assert got == {(2, "specific"), (3, "assignable"), (3, "time-bound"), (4, "measurable")}
    unknown = problems.loc[problems["check"] == "specific", "problem"].item()
    assert "unknown KPI id 'nrrr'" in unknown and "nrr" in unknown  # suggests the close id
    with pytest.raises(TargetError, match=r"row 2 \(nrrr, 2025-Q1\) specific"):
        rk.validate_targets(targets)
    rk.validate_targets(targets.iloc[[0]])
    rk.validate_targets(targets.iloc[[0, 2]].assign(period="2025-Q1"), require_owner=False)


# ---------------------------------------------------------------------- scorecard on a tiny dataset
def _dataset(targets: pd.DataFrame, *, invoices_until="2025-04-01"):
    months = pd.date_range("2024-01-01", "2025-03-01", freq="MS")
    subs = pd.DataFrame({
        "subscription_id": ["s1", "s2", "s3", "s4"],
        "customer_id": ["a", "b", "c", "d"],
        "start_date": D(["2024-01-01", "2024-01-01", "2024-01-01", "2024-07-01"]),
        "end_date": D([None, "2025-02-01", None, None]),
        "mrr": [100.0, 100.0, 100.0, 100.0],
    })
    cust = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                         "segment": ["SMB", "SMB", "Enterprise", "Enterprise"]})
    inv = pd.DataFrame({
        "invoice_id": [f"i{k}" for k in range(len(months))],
        "customer_id": "a",
        "issued_at": months,
        "amount": 100.0,
        "kind": "one_time",
    })
    inv = inv[inv["issued_at"] < pd.Timestamp(invoices_until)]
    return rk.from_frames({"customers": cust, "subscriptions": subs, "invoices": inv, "targets": targets})


TARGETS = pd.DataFrame({
    "kpi": ["mrr", "logo_churn_rate", "mrrr", "billings", "mrr"],
    "period": ["2025-Q1"] * 5,
    "target": [400.0, 0.20, 1.0, 600.0, 100.0],
    "segment": [None, None, None, None, "Enterprise"],
    "owner": ["CFO", "VP CS", "CFO", "CFO", "VP Ent"],
    "baseline": [np.nan, 0.10, np.nan, np.nan, np.nan],
})


def test_scorecard_completed_period():
    data = _dataset(TARGETS)
    sc = rk.scorecard(data, "2025-Q1").set_index(["kpi", "group"])
    mrr = sc.loc[("mrr", "all")]
    # end of 2025-Q1: a, c, d active -> 300 against 400 (higher is better)
    assert mrr["actual"] == 300.0 and mrr["attainment"] == pytest.approx(0.75)
    assert mrr["status"] == "off track" and mrr["gap"] == -100.0
    assert mrr["previous"] == 400.0 and mrr["vs_previous"] == pytest.approx(-0.25)
    assert mrr["year_ago"] == 300.0 and mrr["vs_year_ago"] == pytest.approx(0.0)
    # baseline: trailing four quarters 2024-Q1..Q4 MRR = 300, 300, 400, 400
    assert mrr["baseline"] == pytest.approx(350.0) and mrr["baseline_source"].startswith("mean of 4")
    assert len(mrr["trend"]) == 8 and mrr["trend"][-1] == 300.0
    # logo churn: b of a, b, c, d -> 25 % against 20 % (lower is better) -> 0.8
    churn = sc.loc[("logo_churn_rate", "all")]
    assert churn["actual"] == pytest.approx(0.25) and churn["attainment"] == pytest.approx(0.8)
    assert churn["baseline"] == 0.10 and churn["baseline_source"] == "target table"
    assert churn["vs_previous"] == pytest.approx(0.25)  # ratio: change in points
    seg = sc.loc[("mrr", "segment=Enterprise")]
    assert seg["actual"] == 200.0 and seg["status"] == "on track" and seg["owner"] == "VP Ent"
    unknown = sc.loc[("mrrr", "all")]
    assert unknown["status"] == "unknown KPI" and "did you mean" in unknown["note"]
    assert "mrr" in unknown["note"]
    bill = sc.loc[("billings", "all")]
    assert bill["actual"] == 300.0 and bill["attainment"] == pytest.approx(0.5)
    # headline KPIs without a target are listed after the targeted ones
    assert sc.loc[("customers_active", "all"), "status"] == "no target"
    assert sc.attrs["period_kind"] == "quarter"


def test_scorecard_pace_inside_running_period():
    # data stop at 2025-02-15: billings so far 200 (Jan, Feb) against 600 x 45/90 = 300
    data = _dataset(TARGETS, invoices_until="2025-02-15")
    sc = rk.scorecard(data, "2025-Q1", as_of="2025-02-15").set_index(["kpi", "group"])
    bill = sc.loc[("billings", "all")]
    assert bill["elapsed"] == pytest.approx(0.5)
    assert bill["attainment"] == pytest.approx(200 / 300) and "pace" in bill["note"]
    # a level KPI is judged against the full target
    assert sc.loc[("mrr", "all"), "attainment"] == pytest.approx(0.75)
    full = rk.scorecard(data, "2025-Q1").set_index(["kpi", "group"])
    assert full.loc[("billings", "all"), "attainment"] == pytest.approx(200 / 600)


def test_scale_mismatch_is_flagged():
    t = TARGETS.iloc[[0]].assign(target=0.4)
    sc = rk.scorecard(_dataset(t), "2025-Q1", include_headline=False)
    assert sc["status"].item() == "check target" and "scale" in sc["note"].item()


def test_scorecard_without_targets_table_and_no_mutation(frozen_frames):
    data = _dataset(TARGETS)
    with frozen_frames(data.targets, data.subscriptions):
        sc = rk.scorecard(data, "2025-Q1", targets=TARGETS.iloc[:0])
    # computed headline KPIs have no target; those whose tables this dataset lacks are not computed
    assert set(sc["status"]) == {"no target", "not computed"}
    by_kpi = dict(zip(sc["kpi"], sc["status"]))
    assert by_kpi["mrr"] == "no target" and by_kpi["win_rate"] == "not computed"


def test_key_messages_and_weakest_areas():
    sc = rk.scorecard(_dataset(TARGETS), "2025-Q1", include_headline=False)
    msgs = rk.key_messages(sc, n=5)
    # risks: billings (50 %), MRR (75 %), churn (80 %); movements: churn +25 pts, MRR -25 %.
    # One item per KPI (its larger one), risks and movements alternating by size.
    assert msgs["kind"].tolist() == ["risk", "movement", "risk"]
    assert msgs["kpi"].tolist() == ["billings", "logo_churn_rate", "mrr"]
    assert msgs["message"].tolist() == [
        "Billings is off track: USD 300 against a target of USD 600 (50% attainment; higher is better).",
        "Logo churn rate rose 25.0 pts to 25.0% from 0.0% the previous quarter — a deterioration.",
        "MRR is off track: USD 300 against a target of USD 400 (75% attainment; higher is better).",
    ]
    assert rk.key_messages(sc, n=2)["rank"].tolist() == [1, 2]
    weak = rk.weakest_areas(sc, n=3)
    assert weak["kpi"].tolist() == ["billings", "mrr", "logo_churn_rate"]
    assert weak["score"].is_monotonic_increasing and (weak["score"] < 1).all()


def test_weakest_areas_name_only_kpis_that_got_worse():
    sc = rk.scorecard(_dataset(TARGETS), "2025-Q1")
    weak = rk.weakest_areas(sc, n=10, distinct_families=False)
    # the Enterprise MRR target is met (200 against 100): never "weak"
    assert ("mrr", "segment=Enterprise") not in set(zip(weak["kpi"], weak["group"]))
    judged = sc.set_index(["kpi", "group"])
    for w in weak.itertuples(index=False):
        r = judged.loc[(w.kpi, w.group)]
        if w.basis == "target":
            assert r["attainment"] < 1
        else:  # worse than baseline in the KPI's good direction
            assert pd.isna(r["target"])
            assert (r["actual"] < r["baseline"]) if r["good"] == "up" else (r["actual"] > r["baseline"])
    # ARR is 12 x MRR, 300 x 12 against a baseline of 350 x 12: named with its deterioration
    arr = weak[weak["kpi"] == "arr"]
    assert arr["reason"].item() == "USD 3,600 vs baseline USD 4,200 (-14.3%; higher is better)"


def _crm(rows: list[tuple]) -> rk.RevOpsData:
    opp = pd.DataFrame(rows, columns=["opportunity_id", "created_at", "stage", "amount", "close_date",
                                      "is_closed", "is_won"])
    opp["created_at"] = D(opp["created_at"])
    opp["close_date"] = D(opp["close_date"])
    return rk.from_frames({"opportunities": opp})


# o1 and o2 open at the end of Q1 (1,000 + 500 known); at the end of Q2 o1 (1,000), o3 (300) and o4
# (amount unknown) are open: USD 1,300 known, one open deal without an amount.
PARTLY_UNKNOWN = [
    ("o1", "2024-01-10", "Proposal", 1000.0, "2024-12-01", False, False),
    ("o2", "2024-02-01", "Closed Won", 500.0, "2024-04-15", True, True),
    ("o3", "2024-04-05", "Proposal", 300.0, "2024-12-01", False, False),
    ("o4", "2024-05-01", "Proposal", np.nan, "2024-12-01", False, False),
    ("o5", "2024-06-20", "Closed Won", 200.0, "2024-06-25", True, True),
]


def test_scorecard_partly_unknown_sum_states_no_change():
    data = _crm(PARTLY_UNKNOWN)
    targets = pd.DataFrame({"kpi": ["pipeline_value"], "period": ["2024-Q2"], "target": [1000.0],
                            "owner": ["CRO"]})
    sc = rk.scorecard(data, "2024-Q2", targets=targets).set_index(["kpi", "group"])
    pipe = sc.loc[("pipeline_value", "all")]
    assert pipe["actual"] == 1300.0 and pipe["n_unknown"] == 1 and pipe["previous"] == 1500.0
    assert pipe["status"] == "partly unknown"
    assert pd.isna(pipe["attainment"]) and pd.isna(pipe["vs_previous"]) and pd.isna(pipe["gap"])
    assert "1 open deal has no amount: USD 1,300 is the known part" in pipe["note"]
    assert rk.display_actual(pipe) == "USD 1,300 known"
    msgs = rk.key_messages(sc.reset_index(), n=5)
    pm = msgs[msgs["kpi"] == "pipeline_value"]
    assert pm["kind"].tolist() == ["unknown"]
    assert pm["message"].item() == ("Open pipeline: USD 1,300 known; 1 open deal has no amount, so no "
                                    "change or attainment is stated.")
    assert "pipeline_value" not in set(rk.weakest_areas(sc.reset_index(), n=10)["kpi"])
    page = rk.scorecard_html(sc.reset_index())
    assert "USD 1,300 known" in page and "partly unknown" in page


def test_scorecard_all_unknown_is_a_dash_not_a_fall_to_zero():
    rows = [r if r[0] != "o3" else (*r[:3], np.nan, *r[4:]) for r in PARTLY_UNKNOWN]
    rows = [r for r in rows if r[0] != "o1"]  # open at Q2 end: o3, o4, both without an amount
    sc = rk.scorecard(_crm(rows), "2024-Q2").set_index(["kpi", "group"])
    pipe = sc.loc[("pipeline_value", "all")]
    assert pd.isna(pipe["actual"]) and pipe["n_unknown"] == 2 and pd.isna(pipe["vs_previous"])
    assert "2 open deals have no amount: the value is unknown" in pipe["note"]
    assert rk.format_kpi_value(pipe["actual"], "currency") == "—"
    text = " ".join(rk.key_messages(sc.reset_index(), n=10)["message"])
    assert "Open pipeline" not in text and "100.0%" not in text


def test_sparkline_and_html_escape():
    svg = rk.sparkline_svg([1.0, np.nan, 3.0, 2.0])
    assert svg.startswith("<svg") and "<polyline" in svg and svg.count("<circle") == 1
    assert rk.sparkline_svg([]) .endswith("</svg>")
    sc = rk.scorecard(_dataset(TARGETS.assign(owner='<script>alert(1)</script>')), "2025-Q1")
    page = rk.scorecard_html(sc)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<svg") == len(sc)


def test_format_kpi_value():
    assert rk.format_kpi_value(0.8734, "ratio") == "87.3%"
    assert rk.format_kpi_value(1234567.0, "currency") == "USD 1.23M"
    assert rk.format_kpi_value(38.43, "days") == "38.4 days"
    assert rk.format_kpi_value(np.nan, "count") == "—"


def test_account_risk_uses_model_else_rules(monkeypatch):
    data = _dataset(TARGETS)
    rules = rk.account_risk(data, "2025-Q1", use_model=False)
    assert rules.attrs["source"] == "rules" and (rules["source"] == "rules").all()
    assert set(rules["customer_id"]) == {"a", "c", "d"}
    model = rk.account_risk(data, "2025-Q1")
    assert model.attrs["source"] == "model" and (model["source"] == "model").all()
    assert model["probability"].between(0, 1).all()
    assert (model["at_risk"] == (model["probability"] >= 0.3)).all()

    def fail(*args, **kwargs):
        raise rk.RevOpsError("not enough history")

    monkeypatch.setattr(rk.churn, "risk_table", fail)
    auto = rk.account_risk(data, "2025-Q1")
    assert auto.attrs["source"] == "rules" and "not enough history" in auto.attrs["note"]
    pd.testing.assert_frame_equal(auto, rules)


def test_scorecard_words_use_its_reporting_currency():
    """Every money text of a scorecard computed in EUR says EUR (the notes and the weakest-area
    reasons used to fall back to USD)."""
    eur = rk.DEFAULT_POLICY.replace(reporting_currency="EUR")
    sc = rk.scorecard(_crm(PARTLY_UNKNOWN), "2024-Q2", policy=eur)
    assert sc.attrs["currency"] == "EUR"
    page = rk.scorecard_html(sc)
    assert "EUR 1,300 known" in page and "USD" not in page
    assert "USD" not in " ".join(rk.key_messages(sc)["message"])
    sc2 = rk.scorecard(_dataset(TARGETS), "2025-Q1", policy=eur)
    reasons = " ".join(rk.weakest_areas(sc2)["reason"])
    assert "EUR 300 vs target EUR 400" in reasons and "USD" not in reasons


def test_kpis_the_dataset_cannot_compute_are_not_computed_not_untargeted(tmp_path):
    """Without billing tables MRR cannot be computed: its scorecard row says "not computed" with
    the reason as its note, not "no target"; a computed KPI without a target keeps "no target"."""
    import report_datasets as rd

    crm = rk.load(rd.build("opportunities_only", tmp_path / "crm"))
    sc = rk.scorecard(crm, "2025-Q4").set_index(["kpi", "group"])
    mrr = sc.loc[("mrr", "all")]
    assert mrr["status"] == "not computed" and "subscriptions" in mrr["note"] and np.isnan(mrr["actual"])
    assert sc.loc[("win_rate", "all"), "status"] == "no target"
    hist = rk.kpi_history(crm, ["2025-Q3", "2025-Q4"], ["mrr", "win_rate"])
    assert dict(zip(hist["kpi"], hist["computed"])) == {"mrr": False, "win_rate": True}


def test_scores_change_in_points_not_percent():
    """NPS and the CRM quality score are bounded scales: 20.2 after 23.0 is −2.8 points (a relative
    −12.2 % would flip sign with an NPS around 0); rates stay in percentage points."""
    from revops_kit.targets import _change, _format_change

    assert _change(20.2, 23.0, "score") == pytest.approx(-2.8)
    assert _format_change(_change(20.2, 23.0, "score"), "score") == "-2.8 pts"
    assert _format_change(_change(5.0, -4.0, "score"), "score") == "+9.0 pts"
    assert _format_change(_change(0.291, 0.239, "ratio"), "ratio") == "+5.2 pts"
    assert _format_change(_change(110.0, 100.0, "currency"), "currency") == "+10.0%"
    assert _format_change(np.nan, "score") == "—"
    sc = pd.DataFrame([{"kpi": "nps", "label": "NPS", "unit": "score", "good": "up", "group": "all",
                        "actual": 20.2, "target": np.nan, "attainment": np.nan, "previous": 23.0,
                        "vs_previous": _change(20.2, 23.0, "score"), "year_ago": np.nan,
                        "vs_year_ago": np.nan, "status": "no target", "n_unknown": 0.0, "note": ""}])
    msg = rk.key_messages(sc, n=1)["message"].item()
    assert "NPS fell 2.8 pts to 20.2 from 23.0" in msg and "deterioration" in msg


def test_scorecard_notes_say_unknown_not_nan():
    from revops_kit.targets import _plain_note

    assert _plain_note("cac 2025-Q4 (no new customers): denominator is zero; the value is NaN") == \
        "cac 2025-Q4 (no new customers): the denominator is zero, so the value is unknown (—)"
    assert _plain_note("win_rate: denominator is zero (groups a, b); the value is NaN") == \
        "win_rate: denominator is zero (groups a, b), so the value is unknown (—)"
