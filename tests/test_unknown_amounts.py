"""Unknown is not zero at the source (issue 14 item 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import revops_kit as rk
from revops_kit._common import group_agg
from revops_kit.errors import ZeroDenominatorWarning
from revops_kit.pipeline import EVOLUTION_STEPS

OPPS = pd.DataFrame({
    "opportunity_id": list("abcde"),
    "stage": ["Demo", "Demo", "Closed Won", "Closed Lost", "Closed Lost"],
    "created_at": pd.to_datetime(["2025-01-05"] * 5),
    "close_date": pd.to_datetime(["2025-05-01", "2025-05-01", "2025-02-01", "2025-02-10", "2025-03-01"]),
    "amount": [np.nan, 40.0, 300.0, 100.0, np.nan],
})


def test_pipeline_value_is_the_known_part_with_its_share():
    out = rk.pipeline_value(OPPS, "2025-Q1")
    assert out["value"].item() == 40.0
    assert out["n_missing_amount"].item() == 1 and out["known_share"].item() == 0.5


def test_pipeline_value_without_any_known_amount_is_nan_not_zero():
    none_known = OPPS.assign(amount=np.nan)
    out = rk.pipeline_value(none_known, "2025-Q1")
    assert np.isnan(out["value"].item()) and out["known_share"].item() == 0.0
    created = rk.pipeline_created(none_known, "2025-Q1")
    assert np.isnan(created["value"].item())
    booked = rk.bookings(none_known.assign(type="new_business"), "2025-Q1")
    assert np.isnan(booked["value"].item())


def test_amount_win_rate_with_a_loss_of_unknown_amount_is_nan_with_a_warning():
    pol = rk.DEFAULT_POLICY.replace(win_rate_basis="amount")
    with pytest.warns(rk.RevOpsWarning, match="1 lost deal"):
        out = rk.win_rate(OPPS, "2025-Q1", policy=pol)
    assert np.isnan(out["value"].item()) and out["n_lost_missing_amount"].item() == 1
    # by count nothing is unknown
    assert rk.win_rate(OPPS, "2025-Q1")["value"].item() == pytest.approx(1 / 3)


def test_empty_group_average_is_nan_and_counts_are_zero():
    empty = pd.DataFrame({"x": pd.Series([], dtype=float)})
    out = group_agg(empty, [], {"total": ("x", "sum"), "avg": ("x", "mean"), "n": ("x", "count")})
    assert out["total"].item() == 0.0 and out["n"].item() == 0.0 and np.isnan(out["avg"].item())


# ----------------------------------------------------------------------------- coverage
# Q2 quota 1000. At 2025-05-01: open a (no amount) and b (40) close in Q2; c (200) and d (no
# amount) were won in Q2 before that date.
COVER = pd.DataFrame({
    "opportunity_id": list("abcd"),
    "stage": ["Demo", "Demo", "Closed Won", "Closed Won"],
    "created_at": pd.to_datetime(["2025-01-05"] * 4),
    "close_date": pd.to_datetime(["2025-05-01", "2025-06-01", "2025-04-10", "2025-04-20"]),
    "amount": [np.nan, 40.0, 200.0, np.nan],
})
QUOTAS = pd.DataFrame({"owner": ["x"], "period": ["2025-Q2"], "amount": [1000.0]})


def test_coverage_is_the_known_pipeline_over_the_known_remaining_quota():
    out = rk.pipeline_coverage(COVER, QUOTAS, "2025-Q2", as_of="2025-05-01").iloc[0]
    # pipeline: 40 known of 2 open deals; booked: 200 known of 2 won; remaining 1000 − 200
    assert (out["numerator"], out["n_missing_amount"], out["open_opportunities"]) == (40.0, 1, 2)
    assert out["known_share"] == 0.5
    assert (out["booked"], out["booked_deals"], out["n_booked_missing_amount"]) == (200.0, 2, 1)
    assert out["denominator"] == 800.0 and out["value"] == 40.0 / 800.0


def test_coverage_without_any_known_amount_is_nan_not_zero():
    # no open deal with an amount: the pipeline is unknown, not 0
    out = rk.pipeline_coverage(COVER[COVER["opportunity_id"] != "b"], QUOTAS, "2025-Q2",
                               as_of="2025-05-01").iloc[0]
    assert np.isnan(out["numerator"]) and np.isnan(out["value"]) and out["known_share"] == 0.0
    # the only booking so far has no amount: the remaining quota is unknown, so is the coverage
    out = rk.pipeline_coverage(COVER[COVER["opportunity_id"] != "c"], QUOTAS, "2025-Q2",
                               as_of="2025-05-01").iloc[0]
    assert out["numerator"] == 40.0
    assert np.isnan(out["booked"]) and np.isnan(out["denominator"]) and np.isnan(out["value"])


# ----------------------------------------------------------------------------- bookings
def test_bookings_are_the_known_part_with_its_share():
    # won in Q1: c (300) and f (no amount)
    opps = pd.concat([OPPS, pd.DataFrame({"opportunity_id": ["f"], "stage": ["Closed Won"],
                                          "created_at": pd.to_datetime(["2025-01-05"]),
                                          "close_date": pd.to_datetime(["2025-03-06"]),
                                          "amount": [np.nan]})], ignore_index=True)
    out = rk.bookings(opps.assign(type="new_business"), "2025-Q1").iloc[0]
    assert (out["value"], out["won"], out["n_missing_amount"], out["known_share"]) == (300.0, 2, 1, 0.5)


# ----------------------------------------------------------------------------- velocity
WON_F = pd.DataFrame({"opportunity_id": ["f"], "stage": ["Closed Won"],
                      "created_at": pd.to_datetime(["2025-01-05"]),
                      "close_date": pd.to_datetime(["2025-03-06"]), "amount": [np.nan]})


def test_velocity_uses_the_known_deal_size_and_says_how_much_is_known():
    opps = pd.concat([OPPS, WON_F], ignore_index=True)
    out = rk.pipeline_velocity(opps, "2025-Q1").iloc[0]
    # open at the end: a, b (2); win rate by count: won c, f / closed c, d, e, f = 0.5;
    # deal size: 300 (f has no amount); mean cycle of won: (27 + 60) / 2 = 43.5 days
    assert (out["open_opportunities"], out["win_rate"], out["average_deal_size"]) == (2, 0.5, 300.0)
    assert out["cycle_days_mean"] == 43.5
    assert out["n_missing_amount"] == 1 and out["known_share"] == 0.5
    assert out["value"] == pytest.approx(2 * 0.5 * 300.0 / 43.5)


def test_velocity_without_any_known_won_amount_is_nan():
    opps = pd.concat([OPPS.assign(amount=np.nan), WON_F], ignore_index=True)
    with pytest.warns(ZeroDenominatorWarning, match="average_deal_size"):
        out = rk.pipeline_velocity(opps, "2025-Q1").iloc[0]
    assert np.isnan(out["average_deal_size"]) and np.isnan(out["value"])
    assert out["n_missing_amount"] == 2 and out["known_share"] == 0.0


# ----------------------------------------------------------------------------- evolution
def _by_step(ev, col):
    return dict(zip(ev["step"], ev[col]))


def test_evolution_steps_are_known_sums_with_their_share():
    ev = rk.pipeline_evolution(OPPS, "2025-01-01", "2025-04-01")
    value, missing, share = (_by_step(ev, c) for c in ("value", "n_missing_amount", "known_share"))
    # created: a (?), b 40, c 300, d 100, e (?); won: c; lost: d 100, e (?); ending: a (?), b 40
    assert (value["created"], missing["created"], share["created"]) == (440.0, 2, 0.6)
    assert (value["won"], missing["won"], share["won"]) == (-300.0, 0, 1.0)
    assert (value["lost"], missing["lost"], share["lost"]) == (-100.0, 1, 0.5)
    assert (value["ending"], missing["ending"], share["ending"]) == (40.0, 1, 0.5)
    # no movement: 0 with no share; the identity holds on the known part, in cents
    assert value["starting"] == 0.0 and np.isnan(share["starting"]) and missing["starting"] == 0
    c = _by_step(ev, "cents")
    assert c["starting"] + sum(c[s] for s in EVOLUTION_STEPS[1:-1]) == c["ending"] == 4000
    det = rk.pipeline_evolution_detail(OPPS, "2025-01-01", "2025-04-01")
    e = det[det["opportunity_id"] == "e"].set_index("step")
    assert e["missing_amount"].all() and e["amount"].isna().all() and (e["cents"] == 0).all()


def test_evolution_step_without_any_known_amount_is_nan_not_zero():
    ev = rk.pipeline_evolution(OPPS.assign(amount=np.nan), "2025-01-01", "2025-04-01")
    value, missing = _by_step(ev, "value"), _by_step(ev, "n_missing_amount")
    for step, n in (("created", 5), ("won", 1), ("lost", 2), ("ending", 2)):
        assert np.isnan(value[step]) and missing[step] == n, step
    assert value["reopened"] == 0.0  # no movement at all is a true 0
    assert (ev["cents"] == 0).all()


def test_evolution_amount_that_becomes_known_is_an_increase():
    opps = pd.DataFrame({"opportunity_id": ["g"], "stage": ["Demo"], "created_at": pd.to_datetime(["2025-01-05"]),
                         "close_date": pd.to_datetime(["2025-05-01"]), "amount": [np.nan]})
    hist = pd.DataFrame({"opportunity_id": ["g", "g"], "changed_at": pd.to_datetime(["2025-01-05", "2025-02-01"]),
                         "stage": ["Demo", "Demo"], "amount": [np.nan, 500.0]})
    ev = rk.pipeline_evolution(opps, "2025-01-01", "2025-04-01", history=hist)
    value, missing = _by_step(ev, "value"), _by_step(ev, "n_missing_amount")
    assert np.isnan(value["created"]) and missing["created"] == 1
    assert value["increased"] == 500.0 and value["ending"] == 500.0 and missing["ending"] == 0


# ----------------------------------------------------------------------------- win rate by group
def test_amount_win_rate_is_nan_only_in_the_group_with_a_loss_of_unknown_amount():
    opps = pd.concat([OPPS, WON_F.assign(amount=50.0)], ignore_index=True)
    opps["owner"] = ["x", "x", "x", "x", "y", "y"]
    pol = rk.DEFAULT_POLICY.replace(win_rate_basis="amount")
    with pytest.warns(rk.RevOpsWarning, match="1 lost deal"):
        out = rk.win_rate(opps, "2025-Q1", by="owner", policy=pol).set_index("owner")
    # x: won 300, lost 100 -> 0.75; y: won 50, lost e of unknown amount -> unknown
    assert out.loc["x", "value"] == 0.75 and out.loc["x", "n_lost_missing_amount"] == 0
    assert np.isnan(out.loc["y", "value"]) and out.loc["y", "n_lost_missing_amount"] == 1


# ----------------------------------------------------------------------------- cohorts at age 0
# a: Jan-Mar 100; b: from 15 Jan (so from February) to 20 Feb, 50; c: February, 30
COHORT_SUBS = pd.DataFrame({"subscription_id": ["s1", "s2", "s3"], "customer_id": ["a", "b", "c"],
                            "start_date": pd.to_datetime(["2025-01-01", "2025-01-15", "2025-02-01"]),
                            "end_date": pd.to_datetime(["2025-04-01", "2025-02-20", "2025-03-01"]),
                            "mrr": [100.0, 50.0, 30.0]})


def test_monthly_cohort_retention_at_age_0_is_100_percent_by_construction(sample):
    m = rk.cohort_retention(COHORT_SUBS).set_index(["cohort", "age"])
    # January: a; February: b and c, both active in February
    assert m.loc[(pd.Timestamp("2025-01-01"), 0), ["customers", "active", "mrr"]].tolist() == [1, 1, 100.0]
    assert m.loc[(pd.Timestamp("2025-02-01"), 0), ["customers", "active", "mrr"]].tolist() == [2, 2, 80.0]
    for frame in (m.reset_index(), rk.cohort_retention(sample.subscriptions, fx_rates=sample.fx_rates)):
        age0 = frame[frame["age"] == 0]
        assert len(age0) and (age0["logo_retention"] == 1.0).all() and (age0["revenue_retention"] == 1.0).all()


def test_quarterly_cohort_at_age_0_counts_churn_inside_the_quarter_as_documented():
    # age 0 is the quarter's last month (March): of a, b, c only a is still active
    q = rk.cohort_retention(COHORT_SUBS, freq="Q").set_index("age").loc[0]
    assert (q["customers"], q["active"], q["logo_retention"]) == (3, 1, 1 / 3)
    assert q["mrr"] == q["mrr_initial"] == 100.0 and q["revenue_retention"] == 1.0
    # every customer of the cohort gone by March: 0 % of logos, and no MRR to retain is unknown
    gone = rk.cohort_retention(COHORT_SUBS[COHORT_SUBS["customer_id"] != "a"], freq="Q").set_index("age").loc[0]
    assert gone["logo_retention"] == 0.0 and np.isnan(gone["revenue_retention"])
    import revops_kit.cohorts as cohorts
    assert "age-0 logo retention can be below 100%" in cohorts.__doc__
