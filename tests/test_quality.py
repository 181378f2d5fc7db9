"""Data-quality checks on hand-made dirty data: every dimension, the CRM quality score, failing rows.

The tiny dataset below is loaded with ``validate=False`` (the way a user measures the quality of
data that does not pass the schema yet). Its dirt, for period 2025-Q1 = [2025-01-01, 2025-04-01):

* customers: c2 duplicates c1 ("ACME, Inc." / www.acme.com) and has no industry; c3's domain is
  malformed; c5 is created after the period (out of scope).
* subscriptions: s5 overlaps s1 (same customer and product); s4 belongs to c9, who is not a
  customer, and its currency "US$" is not an ISO code; c4 pays but has no opportunity.
* opportunities: o2's amount is 1000 but 12 × first MRR is 600 (40 % off); o3 is won but c2 has no
  subscription; o4 is open with a close date in the past and a probability of 1.4; o5 has no
  amount; o7 is won with probability 0.9; o6 was closed before the period (out of scope).
* leads: l2 has no channel (l3 too, but it is out of scope).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import revops_kit as rk
from revops_kit.quality import DQ_WEIGHTS, QualityConfig, UnknownCheckError

P = "2025-Q1"


def _frames() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5"],
        "name": ["Acme Inc", "ACME, Inc.", "Bolt GmbH", "Zed Ltd", "Nova"],
        "domain": ["acme.com", "www.acme.com", "http://bolt", "gmail.com", "nova.ai"],
        "industry": ["Software", None, "Retail", "Retail", "Health"],
        "created_at": ["2024-01-01", "2024-06-01", "2024-02-01", "2025-02-01", "2025-05-01"],
    })
    subscriptions = pd.DataFrame({
        "subscription_id": ["s1", "s2", "s3", "s4", "s5"],
        "customer_id": ["c1", "c3", "c4", "c9", "c1"],
        "start_date": ["2025-01-10", "2025-02-20", "2024-03-01", "2025-03-01", "2025-02-01"],
        "end_date": [None, None, "2025-02-01", None, None],
        "mrr": ["100", "50", "80", "30", "20"],
        "currency": ["USD", "USD", "USD", "US$", "USD"],
        "product": ["Core", "Core", "Core", "Core", "Core"],
    })
    opportunities = pd.DataFrame({
        "opportunity_id": ["o1", "o2", "o3", "o4", "o5", "o6", "o7"],
        "created_at": ["2024-11-01", "2024-12-01", "2025-01-15", "2025-01-20", "2025-02-10",
                       "2024-06-01", "2025-03-01"],
        "stage": ["Closed Won", "Closed Won", "Closed Won", "Proposal", "Qualification",
                  "Closed Lost", "Closed Won"],
        "amount": ["1200", "1000", "500", "800", None, "300", "400"],
        "customer_id": ["c1", "c3", "c2", None, None, None, "c1"],
        "type": ["new_business"] * 6 + ["expansion"],
        "close_date": ["2025-01-05", "2025-02-01", "2025-03-01", "2025-03-15", "2025-06-30",
                       "2024-09-01", "2025-03-20"],
        "is_closed": ["true", "true", "true", "false", "false", "true", "true"],
        "is_won": ["true", "true", "true", "false", "false", "false", "true"],
        "probability": ["1", "1", "1", "1.4", "0.2", "0", "0.9"],
        "forecast_category": ["closed", "closed", "closed", "best_case", "pipeline", "omitted", "closed"],
    })
    leads = pd.DataFrame({
        "lead_id": ["l1", "l2", "l3"],
        "created_at": ["2025-01-05", "2025-02-01", "2024-12-01"],
        "channel": ["paid_search", None, None],
    })
    return {"customers": customers, "subscriptions": subscriptions,
            "opportunities": opportunities, "leads": leads}


@pytest.fixture
def dirty():
    return rk.from_frames(_frames(), source="dirty", validate=False)


def _by_check(frame: pd.DataFrame) -> dict[str, tuple[int, int]]:
    return {r.check: (r.passed, r.checked) for r in frame.itertuples()}


# ---------------------------------------------------------------------- every dimension, by hand
def test_completeness_by_column_and_table(dirty):
    col = rk.dq_completeness(dirty, P)
    got = {(r.table, r.column): (r.numerator, r.denominator) for r in col.itertuples()}
    assert got == {
        ("customers", "name"): (4, 4), ("customers", "domain"): (4, 4),
        ("customers", "industry"): (3, 4), ("customers", "created_at"): (4, 4),  # c5 out of scope
        ("subscriptions", "currency"): (5, 5), ("subscriptions", "product"): (5, 5),
        ("opportunities", "amount"): (5, 6), ("opportunities", "close_date"): (6, 6),  # o6 out
        ("opportunities", "type"): (6, 6), ("opportunities", "probability"): (6, 6),
        ("opportunities", "forecast_category"): (6, 6),
        ("leads", "channel"): (1, 2),
    }
    table = rk.dq_completeness(dirty, P, level="table").set_index("table")
    assert table.loc["customers", "value"] == pytest.approx(15 / 16)
    assert table.loc["opportunities", "value"] == pytest.approx(29 / 30)
    dataset = rk.dq_completeness(dirty, P, level="dataset")
    assert (dataset["numerator"].item(), dataset["denominator"].item()) == (55, 58)


def test_validity(dirty):
    checks = _by_check(rk.dq_checks(dirty, P, dimensions=["validity"]))
    assert checks["customers.domain:well_formed"] == (3, 4)            # http://bolt
    assert checks["subscriptions.currency:in_domain"] == (4, 5)        # US$
    assert checks["subscriptions.mrr:in_domain"] == (5, 5)
    assert checks["subscriptions.end_date:end_date_after_start_date"] == (1, 1)
    assert checks["opportunities.probability:in_domain"] == (5, 6)     # 1.4
    assert checks["opportunities.amount:in_domain"] == (5, 5)          # blank amount not counted
    assert checks["opportunities.close_date:close_not_before_created"] == (6, 6)
    assert checks["opportunities.amount:won_amount_positive"] == (4, 4)
    total = rk.dq_validity(dirty, P, level="dataset")
    # 11 subscription values (1 bad), 33 opportunity values (1 bad), 4 domains (1 bad)
    assert (total["numerator"].item(), total["denominator"].item()) == (45, 48)


def test_validity_runs_the_schema_pandera_checks(dirty):
    """in_domain failures are exactly the schema's pandera value-check failures on the scoped rows."""
    from revops_kit import schema

    for table, column in (("opportunities", "probability"), ("subscriptions", "currency")):
        rows = rk.dq_failing_rows(dirty, P, f"{table}.{column}:in_domain")
        cases = schema.value_check_failures(table, getattr(dirty, table), columns=[column])
        assert len(rows) == len(cases) == 1, (table, column)
        assert sorted(rows["row"] - 1) == sorted(cases["index"].astype(int))
    cases = schema.value_check_failures("opportunities", dirty.opportunities)
    assert cases["column"].tolist() == ["probability"]  # the only value that breaks a schema check
    assert "1" in cases["check"].item()  # the pandera check (≤ 1) by its own name


def test_consistency_including_crm_billing_checks(dirty):
    checks = _by_check(rk.dq_checks(dirty, P, dimensions=["consistency"]))
    assert checks == {
        "opportunities.is_won:won_implies_closed": (4, 4),
        "opportunities.stage:matches_outcome": (4, 4),
        "opportunities.probability:matches_outcome": (3, 4),           # o7 won at 0.9
        "opportunities.forecast_category:matches_outcome": (6, 6),
        "subscriptions.start_date:no_overlap": (4, 5),                 # s5 overlaps s1
        "opportunities.customer_id:won_deal_has_subscription": (2, 3),  # o3: c2 never billed
        "opportunities.amount:won_deal_matches_billing": (1, 2),        # o2: 1000 vs 12 x 50
        "subscriptions.customer_id:paying_customer_in_crm": (2, 4),     # c4 no opp, c9 no account
    }
    table = rk.dq_consistency(dirty, P, level="table").set_index("table")
    assert table.loc["opportunities", "value"] == pytest.approx(20 / 23)
    assert table.loc["subscriptions", "value"] == pytest.approx(6 / 9)


def test_window_and_tolerance_are_configurable(dirty):
    # o2: 12 x 50 = 600 vs 1000 is 40 % off: passes with a 45 % tolerance
    loose = _by_check(rk.dq_checks(dirty, P, dimensions=["consistency"], config=QualityConfig(tolerance=0.45)))
    assert loose["opportunities.amount:won_deal_matches_billing"] == (2, 2)
    # s2 starts 19 days after o2 closes: with a 10-day window o2 has no subscription any more
    tight = _by_check(rk.dq_checks(dirty, P, dimensions=["consistency"], config=QualityConfig(window_days=10)))
    assert tight["opportunities.customer_id:won_deal_has_subscription"] == (1, 3)
    assert tight["opportunities.amount:won_deal_matches_billing"] == (1, 1)


def test_uniqueness_and_likely_duplicates(dirty):
    checks = _by_check(rk.dq_checks(dirty, P, dimensions=["uniqueness"]))
    assert checks["customers.name:likely_duplicate"] == (3, 4)
    assert checks["customers.customer_id:unique"] == (4, 4)
    assert checks["opportunities.opportunity_id:unique"] == (6, 6)
    assert checks["leads.lead_id:unique"] == (2, 2)
    assert checks["subscriptions.subscription_id:unique"] == (5, 5)
    rows = rk.dq_failing_rows(dirty, P, "customers.name:likely_duplicate")
    assert rows[["row", "customer_id", "duplicate_of", "matched_on"]].values.tolist() == [
        [2, "c2", "c1", "name+domain"]]


def test_duplicated_keys_are_found_when_data_skips_the_schema():
    frames = _frames()
    frames["leads"] = pd.DataFrame({"lead_id": ["l1", "l1", "l2"],
                                    "created_at": ["2025-01-05", "2025-01-06", "2025-01-07"],
                                    "channel": ["a", "b", "c"]})
    data = rk.from_frames(frames, validate=False)
    assert _by_check(rk.dq_checks(data, P, dimensions=["uniqueness"]))["leads.lead_id:unique"] == (2, 3)
    assert rk.dq_failing_rows(data, P, "leads.lead_id:unique")["row"].tolist() == [2]


def test_integrity(dirty):
    checks = _by_check(rk.dq_checks(dirty, P, dimensions=["integrity"]))
    assert checks == {
        "subscriptions.customer_id:customer_exists": (4, 5),   # c9
        "opportunities.customer_id:customer_exists": (4, 4),
        "opportunities.customer_id:won_deal_has_account": (4, 4),
    }


def test_timeliness(dirty):
    checks = _by_check(rk.dq_checks(dirty, P, dimensions=["timeliness"]))
    assert checks == {
        "opportunities.close_date:not_stale": (1, 2),          # o4 closes 2025-03-15, still open
        "customers.created_at:fresh": (0, 1),                  # newest 2025-02-01: 59 days old
        "subscriptions.start_date:fresh": (1, 1),              # 2025-03-01: 31 days
        "opportunities.created_at:fresh": (1, 1),
        "leads.created_at:fresh": (0, 1),                      # 2025-02-01
    }
    stale = rk.dq_failing_rows(dirty, P, "opportunities.close_date:not_stale")
    assert stale[["opportunity_id", "days_past_close"]].values.tolist() == [["o4", 17]]
    fresh = rk.dq_failing_rows(dirty, P, "customers.created_at:fresh")
    assert fresh[["table", "days_old_at_period_end"]].values.tolist() == [["customers", 59]]
    assert "row" not in fresh.columns  # not a row of the customers table


def test_stage_names_read_by_the_one_stage_rule():
    """quality reads stage names with revops_kit.stages: "Closed - no decision" says lost (it used to
    say neither, so a deal with that stage flagged open was never checked)."""
    opps = pd.DataFrame({
        "opportunity_id": ["a", "b", "c", "d"], "created_at": ["2024-10-01"] * 4,
        "stage": ["Closed - no decision", "Closed - no decision", "Closed Won", "Negotiation"],
        "amount": [1.0, 2.0, 3.0, 4.0], "close_date": ["2025-02-01"] * 4,
        "is_closed": [True, False, True, False], "is_won": [False, False, True, False]})
    data = rk.from_frames({"opportunities": opps})
    assert _by_check(rk.dq_checks(data, P))["opportunities.stage:matches_outcome"] == (2, 3)
    bad = rk.dq_failing_rows(data, P, "opportunities.stage:matches_outcome")
    assert bad["opportunity_id"].tolist() == ["b"]  # a closed stage name on a deal flagged open


def test_history_checks():
    opps = pd.DataFrame({
        "opportunity_id": ["p1", "p2", "p3"], "created_at": ["2024-10-01", "2024-11-01", "2025-01-01"],
        "stage": ["Proposal", "Proposal", "Prospecting"], "amount": [1.0, 2.0, 3.0],
        "close_date": ["2025-06-01", "2025-05-01", "2025-07-01"], "is_closed": [False] * 3,
        "is_won": [False] * 3})
    hist = pd.DataFrame({
        "opportunity_id": ["p1", "p1", "p2", "p2"],
        "changed_at": ["2024-10-01", "2024-11-15", "2024-11-01", "2025-03-10"],
        "stage": ["Prospecting", "Proposal", "Prospecting", "Qualification"]})
    data = rk.from_frames({"opportunities": opps, "opportunity_history": hist})
    checks = _by_check(rk.dq_checks(data, P))
    assert checks["opportunity_history.stage:matches_current"] == (1, 2)       # p2
    assert checks["opportunities.changed_at:recent_activity"] == (1, 2)        # p1 idle 137 days
    assert checks["opportunities.opportunity_id:has_history"] == (2, 3)        # p3
    idle = rk.dq_failing_rows(data, P, "opportunities.changed_at:recent_activity")
    assert idle[["opportunity_id", "days_idle"]].values.tolist() == [["p1", 137]]
    mismatch = rk.dq_failing_rows(data, P, "opportunity_history.stage:matches_current")
    assert mismatch[["opportunity_id", "stage", "current_stage"]].values.tolist() == [
        ["p2", "Qualification", "Proposal"]]


# ---------------------------------------------------------------------- score and catalogue
def test_crm_quality_score_by_hand(dirty):
    parts = {"completeness": 45 / 48, "validity": 35 / 37, "consistency": 22 / 27,
             "uniqueness": 15 / 16, "integrity": 8 / 8, "timeliness": 2 / 5}
    expected = 100 * sum(DQ_WEIGHTS[d] * v for d, v in parts.items()) / sum(DQ_WEIGHTS.values())
    out = rk.crm_quality_score(dirty, P)
    assert out["value"].item() == pytest.approx(expected)
    for d, v in parts.items():
        assert out[d].item() == pytest.approx(v), d
    summary = rk.dq_summary(dirty, P)
    assert summary["contribution"].sum() == pytest.approx(expected)
    # weights renormalise over the dimensions given
    only = rk.crm_quality_score(dirty, P, weights={"completeness": 1.0, "timeliness": 1.0})
    assert only["value"].item() == pytest.approx(100 * (45 / 48 + 2 / 5) / 2)
    with pytest.raises(ValueError, match="weights"):
        rk.crm_quality_score(dirty, P, weights={"freshness": 1.0})


def test_catalogue_entries(dirty):
    long = rk.compute_kpis(dirty, P, ["dq_consistency", "crm_quality_score"])
    cons = long[long["kpi"] == "dq_consistency"].set_index("group")
    assert cons.loc["table=opportunities", "value"] == pytest.approx(20 / 23)
    assert (cons.loc["table=all", "numerator"], cons.loc["table=all", "denominator"]) == (26, 32)
    score = long[long["kpi"] == "crm_quality_score"]
    assert score["group"].tolist() == ["all"] and score["unit"].tolist() == ["score"]
    ids = {k.id for k in rk.list_kpis("quality")}
    assert ids == {"dq_completeness", "dq_validity", "dq_consistency", "dq_uniqueness",
                   "dq_integrity", "dq_timeliness", "crm_quality_score"}
    for k in rk.list_kpis("quality"):
        assert k.dims == (("table",) if k.id.startswith("dq_") else ())


def test_empty_dataset_dimension_warns():
    data = rk.from_frames({"quotas": pd.DataFrame({"owner": ["a"], "period": ["2025-Q1"], "amount": [1.0]})})
    with pytest.warns(rk.ZeroDenominatorWarning, match="dq_integrity"):
        out = rk.get_kpi("dq_integrity").compute(data, P)
    assert out["group"].tolist() == ["table=all"] and np.isnan(out["value"].item())


# ---------------------------------------------------------------------- failing rows and costs
def test_failing_rows_of_crm_billing_checks(dirty):
    missing = rk.dq_failing_rows(dirty, P, "subscriptions.customer_id:paying_customer_in_crm")
    assert missing[["customer_id", "reason"]].values.tolist() == [
        ["c4", "no opportunity in the CRM"], ["c9", "no account in customers"]]
    # c4's subscription ended 2025-02-01: no MRR in March; c9 pays 30 (US$ cannot be converted)
    assert missing["mrr_period_end"].tolist() == [0.0, 30.0]
    no_sub = rk.dq_failing_rows(dirty, P, "opportunities.customer_id:won_deal_has_subscription")
    assert no_sub["opportunity_id"].tolist() == ["o3"] and no_sub["row"].tolist() == [3]
    off = rk.dq_failing_rows(dirty, P, "opportunities.amount:won_deal_matches_billing")
    assert off[["opportunity_id", "first_mrr", "annualised_mrr", "difference"]].values.tolist() == [
        ["o2", 50.0, 600.0, -400.0]]
    assert off["relative_difference"].item() == pytest.approx(0.4)


def test_unknown_check_names_close_matches(dirty):
    with pytest.raises(UnknownCheckError, match="did you mean customers.name:likely_duplicate"):
        rk.dq_failing_rows(dirty, P, "customers.name:likely_duplicates")


def test_costs(dirty):
    costs = rk.dq_costs(dirty, P).set_index("check")
    assert costs.loc["subscriptions.customer_id:paying_customer_in_crm", "cost"] == 12 * 30.0  # ARR
    assert costs.loc["opportunities.customer_id:won_deal_has_subscription", "cost"] == 500.0
    assert costs.loc["opportunities.amount:won_deal_matches_billing", "cost"] == 400.0
    assert costs.loc["opportunities.close_date:not_stale", "cost"] == 800.0
    assert costs.loc["leads.channel:not_blank", ["failed", "cost", "unit"]].tolist() == [1, 1.0, "count"]
    assert costs.loc["customers.industry:not_blank", "cost"] == 0.0  # c2 pays nothing


def test_offenders_and_worst_checks(dirty):
    worst = rk.dq_worst_checks(dirty, P, n=3)
    # ties on the pass rate (0.5) go to the check with more failures
    assert worst["check"].tolist() == ["customers.created_at:fresh", "leads.created_at:fresh",
                                       "subscriptions.customer_id:paying_customer_in_crm"]
    opps = _frames()["opportunities"].assign(owner=["ann", "bob", "bob", "bob", None, "ann", "ann"])
    data = rk.from_frames({**_frames(), "opportunities": opps}, validate=False)
    off = rk.dq_offenders(data, P).set_index("owner")
    # bob: o2 (amount mismatch), o3 (no subscription), o4 (stale, probability 1.4); ann: o7
    assert off.loc["bob", ["failures", "records"]].tolist() == [4, 3]
    assert off.loc["ann", ["failures", "records"]].tolist() == [1, 1]
    # o5 has neither amount nor owner: two failures, one record
    assert off.loc["(missing)", ["failures", "records"]].tolist() == [2, 1]


def test_trend_and_scorecard(dirty):
    trend = rk.dq_trend(dirty, ["2024-Q4", P])
    assert set(trend["dimension"]) == {*rk.DIMENSIONS, "crm_quality_score"}
    q1 = trend[(trend["period"] == P) & (trend["dimension"] == "completeness")]
    assert (q1["numerator"].item(), q1["denominator"].item()) == (55, 58)
    card = rk.dq_scorecard(dirty, P).set_index("table")
    assert card.loc["opportunities", "consistency"] == pytest.approx(20 / 23)
    assert np.isnan(card.loc["leads", "integrity"])  # no integrity check applies to leads here


# ---------------------------------------------------------------------- normalisation
@pytest.mark.parametrize("name,key", [
    ("Acme Inc.", "acme"), ("ACME, INC", "acme"), ("acme corp", "acme"), ("Acme Corporation", "acme"),
    ("Acme GmbH & Co. KG", "acme"), ("Acme Ltd", "acme"), ("Acme Limited", "acme"),
    ("Société Générale S.A.", "societe generale"), ("Acme (EMEA)", "acme emea"), ("Inc", "inc"),
])
def test_normalize_company_name(name, key):
    assert rk.normalize_company_name(pd.Series([name])).item() == key


def test_duplicates_by_domain_chain_and_free_mail():
    c = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e"],
        "name": ["Acme", "Acme (EMEA)", "Acme EMEA Ltd", "Solo", "Other"],
        "domain": ["acme.com", "https://www.acme.com/", None, "gmail.com", "GMAIL.com"],
        "created_at": pd.to_datetime(["2024-03-01", "2024-01-01", "2024-05-01", "2024-01-01", "2024-01-02"]),
    })
    dups = rk.likely_duplicate_accounts(c)
    # b is the oldest of the a/b/c cluster: a matches it by domain, c by name ("acme emea")
    assert dups[["customer_id", "duplicate_of", "matched_on"]].values.tolist() == [
        ["a", "b", "domain"], ["c", "b", "name"]]


# ---------------------------------------------------------------------- properties
def test_inputs_are_not_mutated(dirty, frozen_frames):
    with frozen_frames(*dirty.tables().values()):
        rk.dq_checks(dirty, P)
        rk.dq_costs(dirty, P)
        rk.dq_failing_rows(dirty, P, "customers.name:likely_duplicate")


@settings(max_examples=15, deadline=None)
@given(st.randoms(use_true_random=False))
def test_row_order_does_not_change_results(rnd):
    base = rk.dq_checks(rk.from_frames(_frames(), validate=False), P)
    shuffled = {}
    for name, frame in _frames().items():
        order = list(range(len(frame)))
        rnd.shuffle(order)
        shuffled[name] = frame.iloc[order].reset_index(drop=True)
    other = rk.dq_checks(rk.from_frames(shuffled, validate=False), P)
    pd.testing.assert_frame_equal(base.sort_values("check").reset_index(drop=True),
                                  other.sort_values("check").reset_index(drop=True))
    assert other["value"].between(0, 1).all()


# ---------------------------------------------------------------------- the sample's documented dirt
def test_sample_is_not_perfect(sample):
    long = rk.compute_kpis(sample, "2025-Q4", [k.id for k in rk.list_kpis("quality")])
    overall = long[long["group"].isin(["table=all", "all"])].set_index("kpi")["value"]
    for kpi in ("dq_completeness", "dq_consistency", "dq_uniqueness", "dq_timeliness"):
        assert 0.9 < overall[kpi] < 1, kpi
    assert 80 < overall["crm_quality_score"] < 100
    dups = rk.dq_failing_rows(sample, "2025-Q4", "customers.name:likely_duplicate")
    assert len(dups) == 5  # the generator's five duplicate accounts
    keys = rk.normalize_company_name(dups["name"]).tolist()
    originals = rk.normalize_company_name(dups["duplicate_of_name"]).tolist()
    assert all(k.startswith(o) for k, o in zip(keys, originals))


def test_stale_uses_the_close_date_recorded_by_the_period_end():
    """p1 was due 2025-02-01 all through Q1; the slip to May was only recorded in April."""
    opps = pd.DataFrame({"opportunity_id": ["p1", "p2"], "created_at": ["2024-12-01", "2024-12-01"],
                         "stage": ["Proposal", "Closed Won"], "amount": [10.0, 20.0],
                         "close_date": ["2025-05-01", "2025-04-15"], "is_closed": [False, True],
                         "is_won": [False, True]})
    hist = pd.DataFrame({"opportunity_id": ["p1", "p1", "p2", "p2"],
                         "changed_at": ["2024-12-01", "2025-04-10", "2024-12-01", "2025-04-15"],
                         "stage": ["Proposal", "Proposal", "Proposal", "Closed Won"],
                         "close_date": ["2025-02-01", "2025-05-01", "2025-03-01", "2025-04-15"]})
    data = rk.from_frames({"opportunities": opps, "opportunity_history": hist})
    stale = rk.dq_failing_rows(data, P, "opportunities.close_date:not_stale")
    # p2 closed after the period but was overdue at its end too (due 2025-03-01)
    assert stale[["opportunity_id", "close_date_at_period_end", "days_past_close"]].values.tolist() == [
        ["p1", pd.Timestamp("2025-02-01"), 59], ["p2", pd.Timestamp("2025-03-01"), 31]]
    # without the history only the current close dates are known: nothing looks stale in Q1
    alone = rk.from_frames({"opportunities": opps})
    assert rk.dq_failing_rows(alone, P, "opportunities.close_date:not_stale").empty


def test_figures_have_titles_and_labelled_axes(dirty):
    import matplotlib.pyplot as plt

    customers = _frames()["customers"].assign(name=["<script>$x$</script>", "b", "c", "d", "e"])
    data = rk.from_frames({**_frames(), "customers": customers}, validate=False)
    card = rk.dq_scorecard(data, P)
    fig = rk.plotting.dq_scorecard_heatmap(card, title="Scorecard")
    ax = fig.axes[0]
    assert ax.get_title() == "Scorecard" and ax.get_xlabel() == "Dimension" and ax.get_ylabel() == "Table"
    assert fig.axes[1].get_ylabel() == "Pass rate (%)"
    fig = rk.plotting.dq_trend_chart(rk.dq_trend(data, ["2024-Q4", P]))
    assert [a.get_ylabel() for a in fig.axes] == ["Pass rate (%)", "Score (0–100)"]
    costs = rk.dq_costs(data, P).assign(what=lambda f: f["what"].where(f.index > 0, "$5 <b>"))
    fig = rk.plotting.dq_cost_chart(costs, currency="USD")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Amount (USD)" and ax.get_title()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any(label.startswith(r"\$5 <b>") for label in labels)  # mathtext disabled for data text
    plt.close("all")


def test_quality_view_matches_the_functions(dirty):
    view = rk.quality_view(dirty, P, trend_periods=2, n=3)
    pd.testing.assert_frame_equal(view.checks, rk.dq_checks(dirty, P))
    pd.testing.assert_frame_equal(view.score, rk.crm_quality_score(dirty, P))
    pd.testing.assert_frame_equal(view.summary, rk.dq_summary(dirty, P))
    pd.testing.assert_frame_equal(view.scorecard, rk.dq_scorecard(dirty, P))
    pd.testing.assert_frame_equal(view.trend, rk.dq_trend(dirty, ["2024-Q4", P]))
    pd.testing.assert_frame_equal(view.worst, rk.dq_worst_checks(dirty, P, n=3))
    pd.testing.assert_frame_equal(view.offenders, rk.dq_offenders(dirty, P, n=3))
    pd.testing.assert_frame_equal(view.costs, rk.dq_costs(dirty, P))
    check = "opportunities.amount:won_deal_matches_billing"
    pd.testing.assert_frame_equal(view.examples(check, columns=["opportunity_id", "nope"]),
                                  rk.dq_examples(dirty, P, check, columns=["opportunity_id", "nope"]))
    assert view.examples(check, columns=["opportunity_id"])["opportunity_id"].tolist() == ["o2"]
    note = view.examples("opportunity_history.stage:matches_current")
    assert note["note"].item().endswith("table opportunity_history is absent")


def test_every_dimension_module_registers_its_checks(dirty):
    from revops_kit.quality import checks as registry

    found = registry.checks_for(dirty)
    assert {c.dimension for c in found} == set(rk.quality.DIMENSIONS)
    by_dim = {d: [c.id for c in registry.checks_for(dirty, [d])] for d in ("completeness", "consistency")}
    # one dimension's checks come from its own module(s) in registration order: consistency first,
    # then the CRM <-> billing checks of quality/accuracy.py
    cons = by_dim["consistency"]
    assert cons.index("opportunities.stage:matches_outcome") < cons.index(
        "opportunities.customer_id:won_deal_has_subscription") < cons.index(
        "subscriptions.customer_id:paying_customer_in_crm")
    assert all(c.endswith(":not_blank") for c in by_dim["completeness"])
    with pytest.raises(ValueError, match="unknown data-quality dimension 'accuracy'"):
        registry.register_checks("accuracy")


def test_shared_check_runs_equal_fresh_runs(dirty):
    """Every check runs once per dataset, period, config and policy and is shared by all the dq
    functions (the six dimension KPIs, the score, the trend): what they return is exactly what a
    fresh run of the checks gives, for every dimension alone and all together."""
    from revops_kit.quality.checks import checks_for
    from revops_kit.quality.config import DEFAULT_QUALITY, DIMENSIONS
    from revops_kit.quality.context import CheckContext
    from revops_kit.quality.run import QualityRun, outcome_memo

    p = rk.Period.parse("2025-Q1")
    policy = rk.get_policy("default")

    def fresh(dims):
        ctx = CheckContext(dirty, p, DEFAULT_QUALITY, policy)
        results = [(c, o) for c in checks_for(dirty, dims) for o in [c.run(ctx)]
                   if o is not None and len(o.rows)]
        return QualityRun(p, ctx, results).checks

    everything = rk.dq_checks(dirty, p)
    pd.testing.assert_frame_equal(everything, fresh(DIMENSIONS))
    memo = outcome_memo(dirty, p, DEFAULT_QUALITY, policy)
    assert len(memo.by_id) == len(checks_for(dirty))  # all ran, once
    for dim in DIMENSIONS:
        pd.testing.assert_frame_equal(rk.dq_checks(dirty, p, dimensions=[dim]), fresh([dim]))
    assert outcome_memo(dirty, p, DEFAULT_QUALITY, policy) is memo
    # the returned frames are copies: editing one does not change the next answer
    everything.loc[:, "failed"] = -1
    pd.testing.assert_frame_equal(rk.dq_checks(dirty, p), fresh(DIMENSIONS))
    # a replaced table is a different dataset: the checks run again on it
    changed = rk.from_frames({**dirty.tables(), "leads": dirty.leads.iloc[:-1]}, source="dirty", validate=False)
    assert outcome_memo(changed, p, DEFAULT_QUALITY, policy) is not memo
