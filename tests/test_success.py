"""Customer-success KPIs: golden hand-computed cases, health rules, zero denominators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import revops_kit as rk
from revops_kit.errors import RevOpsError, ZeroDenominatorWarning

D = pd.to_datetime

CUSTOMERS = pd.DataFrame({"customer_id": ["a", "b", "c"], "segment": ["SMB", "SMB", "Enterprise"],
                          "owner": ["Ann", "Bob", "Ann"], "name": ["A", "<b>B</b>", "C"]})
SUBS = pd.DataFrame({
    "subscription_id": ["s1", "s2", "s3", "s4"],
    "customer_id": ["a", "b", "c", "c"],
    "start_date": D(["2024-01-01", "2024-06-01", "2024-01-01", "2025-02-01"]),
    "end_date": D([None, "2025-02-01", None, None]),
    "mrr": [100.0, 50.0, 1000.0, 200.0],
    "committed_end_date": D(["2025-05-15", "2025-02-01", "2025-12-01", "2026-02-01"]),
})
TICKETS = pd.DataFrame({
    "ticket_id": [f"t{i}" for i in range(7)],
    "customer_id": ["a", "a", "a", "a", "b", "c", "c"],
    "opened_at": D(["2025-01-05", "2025-02-10", "2025-03-01", "2025-03-20", "2025-01-10", "2024-12-20",
                    "2025-03-30"]),
    "closed_at": D(["2025-01-07", "2025-02-20", "2025-03-02", None, "2025-01-11", "2025-01-03", "2025-04-02"]),
    "priority": ["low", "high", "urgent", "normal", "low", "normal", "high"],
    "csat": [5.0, 2.0, 4.0, np.nan, 3.0, 4.0, 5.0],
})
NPS = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "c"],
                    "responded_at": D(["2024-09-10", "2025-03-10", "2025-03-11", "2025-03-12", "2025-03-13"]),
                    "score": [9, 4, 7, 10, 9]})
USAGE = pd.DataFrame({
    "customer_id": ["a"] * 6 + ["c"] * 6,
    "month": D([f"2024-{m:02d}-01" for m in range(10, 13)] + [f"2025-{m:02d}-01" for m in range(1, 4)]) .tolist() * 2,
    "active_users": [10, 10, 10, 4, 4, 4, 50, 50, 50, 50, 50, 60],
    "licensed_seats": [10, 10, 10, 10, 10, 10, 80, 80, 80, 80, 80, 80],
    "feature_events": [100, 100, 100, 0, 0, 0, 500, 500, 500, 500, 500, 600],
})
COSTS = pd.DataFrame({"month": D(["2025-01-01", "2025-02-01", "2025-03-01", "2025-03-01"]),
                      "category": ["customer_success"] * 3 + ["sales_payroll"],
                      "amount": [300.0, 300.0, 300.0, 999.0]})


def test_nps_golden_with_counts():
    out = rk.nps(NPS, "2025-Q1")
    # 2025-Q1 answers: 4 (detractor), 7 (passive), 10, 9 (promoters) -> 100 * (2 - 1) / 4
    row = out.iloc[0]
    assert row["value"] == pytest.approx(25.0)
    assert (row["promoters"], row["passives"], row["detractors"], row["responses"]) == (2, 1, 1, 4)
    assert row["numerator"] == 1 and row["denominator"] == 4 and row["customers"] == 3
    by = rk.nps(NPS, "2025-Q1", by="segment", customers=CUSTOMERS).set_index("segment")["value"]
    assert by["Enterprise"] == 100.0 and by["SMB"] == pytest.approx(-50.0)


def test_nps_without_answers_warns():
    with pytest.warns(ZeroDenominatorWarning, match="nps"):
        out = rk.nps(NPS, "2025-Q4")
    assert np.isnan(out["value"].item())


def test_ticket_kpis_golden():
    assert rk.support_tickets(TICKETS, "2025-Q1")["value"].item() == 6
    assert rk.support_tickets(TICKETS, "2025-Q1")["high_priority"].item() == 3
    # closed in Q1: t0 2d, t1 10d, t2 1d, t4 1d, t5 14d -> median 2
    ttc = rk.ticket_time_to_close(TICKETS, "2025-Q1")
    assert ttc["value"].item() == 2.0 and ttc["closed"].item() == 5
    assert ttc["mean_days"].item() == pytest.approx(28 / 5)
    # rated and closed in Q1: 5, 2, 4, 3, 4 -> 3 satisfied of 5
    c = rk.csat(TICKETS, "2025-Q1")
    assert c["value"].item() == pytest.approx(0.6) and c["mean_score"].item() == pytest.approx(3.6)
    # active at the end of 2025-Q1: a and c -> 6 tickets / 2 customers
    tpc = rk.tickets_per_customer(TICKETS, SUBS, "2025-Q1")
    assert tpc["value"].item() == 3.0 and tpc["denominator"].item() == 2


def test_usage_kpis_golden():
    ad = rk.product_adoption_rate(USAGE, "2025-Q1")
    assert ad["value"].item() == pytest.approx((12 + 160) / (30 + 240))
    by = rk.product_adoption_rate(USAGE, "2025-Q1", by="segment", customers=CUSTOMERS).set_index("segment")
    assert by.loc["SMB", "value"] == pytest.approx(0.4)
    fa = rk.feature_adoption(USAGE, "2025-Q1")
    assert fa["value"].item() == pytest.approx(1600 / 172)
    assert fa["customers_using"].item() == 1 and fa["customers"].item() == 2


def test_retention_cost_golden():
    rc = rk.retention_cost(COSTS, SUBS, "2025-Q1")
    # retained: active in 2024-12 and in 2025-03 -> a and c (b churned in 2025-02)
    assert rc["denominator"].item() == 2 and rc["numerator"].item() == 900.0
    assert rc["value"].item() == 450.0
    assert rc["retained_arr"].item() == pytest.approx(12 * (100 + 1200))
    assert rc["per_retained_arr"].item() == pytest.approx(900 / 15600)


def test_account_health_rules():
    h = rk.account_health(SUBS, "2025-04-01", product_usage=USAGE, support_tickets=TICKETS,
                          nps_responses=NPS, customers=CUSTOMERS).set_index("customer_id")
    assert list(h.index) == ["a", "c"]  # b is no longer active
    a = h.loc["a"]
    # a: usage 12 vs 30 (decline), latest NPS 4 (detractor), 4 tickets in 90 days vs 0 before
    # (surge), committed end 2025-05-15 within 90 days -> 40 + 25 + 20 + 15
    assert a["usage_decline"] and a["detractor"] and a["ticket_surge"] and a["renewal_soon"]
    assert a["score"] == 100 and a["at_risk"]
    assert a["reasons"] == "usage down, NPS detractor, ticket surge, renewal within 90 days"
    c = h.loc["c"]
    assert not c["usage_decline"] and not c["detractor"] and c["score"] == 0 and not c["at_risk"]
    assert h.loc["a", "name"] == "A"


def test_account_health_scores_replace_rules():
    scores = pd.DataFrame({"customer_id": ["a", "c"], "probability": [0.1, 0.8]})
    h = rk.account_health(SUBS, "2025-04-01", product_usage=USAGE, support_tickets=TICKETS,
                          nps_responses=NPS, scores=scores).set_index("customer_id")
    assert not h.loc["a", "at_risk"] and h.loc["c", "at_risk"]
    assert (h["source"] == "model").all()
    out = rk.accounts_at_risk(SUBS, "2025-Q1", product_usage=USAGE, scores=scores)
    assert out["value"].item() == 1 and out["arr_at_risk"].item() == pytest.approx(12 * 1200)
    with pytest.raises(RevOpsError, match="probability"):
        rk.account_health(SUBS, "2025-04-01", scores=pd.DataFrame({"customer_id": ["a"]}))


def test_accounts_at_risk_summary_by_segment():
    out = rk.accounts_at_risk(SUBS, "2025-Q1", product_usage=USAGE, support_tickets=TICKETS,
                              nps_responses=NPS, customers=CUSTOMERS, by="segment").set_index("segment")
    assert out.loc["SMB", "value"] == 1 and out.loc["SMB", "share"] == 1.0
    assert out.loc["Enterprise", "value"] == 0 and out.loc["Enterprise", "denominator"] == 1


def test_renewal_soon_ignores_month_to_month():
    inv = pd.DataFrame({"invoice_id": ["i1"], "customer_id": ["a"], "issued_at": D(["2025-03-15"]),
                        "amount": [100.0], "kind": ["recurring"], "service_start": D(["2025-03-15"]),
                        "service_end": D(["2025-04-15"])})
    h = rk.account_health(SUBS, "2025-04-01", invoices=inv).set_index("customer_id")
    assert not h.loc["a", "renewal_soon"]


def test_no_mutation(frozen_frames):
    with frozen_frames(SUBS, TICKETS, NPS, USAGE, COSTS, CUSTOMERS):
        rk.account_health(SUBS, "2025-04-01", product_usage=USAGE, support_tickets=TICKETS,
                          nps_responses=NPS, customers=CUSTOMERS)
        rk.nps(NPS, "2025-Q1", by="segment", customers=CUSTOMERS)
        rk.csat(TICKETS, "2025-Q1", by="owner", customers=CUSTOMERS)
        rk.retention_cost(COSTS, SUBS, "2025-Q1")


def test_catalogue_ids_registered():
    ids = {k.id for k in rk.list_kpis(family="success")}
    assert {"nps", "support_tickets", "tickets_per_customer", "ticket_time_to_close_days", "csat",
            "product_adoption_rate", "feature_adoption", "retention_cost", "portfolio_growth",
            "accounts_at_risk"} <= ids


def test_portfolio_growth_is_nrr_of_each_owners_book():
    subs = pd.DataFrame({
        "subscription_id": ["s1", "s2", "s3", "s4"],
        "customer_id": ["a", "a", "b", "c"],
        "start_date": D(["2024-06-01", "2025-02-01", "2024-06-01", "2024-06-01"]),
        "end_date": D(["2025-02-01", None, "2025-03-01", None]),
        "mrr": [100.0, 150.0, 50.0, 1000.0],
    })
    out = rk.portfolio_growth(subs, CUSTOMERS, "2025-Q1").set_index("owner")
    # Ann: a 100 -> 150 and c 1000 -> 1000; Bob: b 50 -> 0 (churned in March)
    assert out.loc["Ann", "value"] == pytest.approx(1150 / 1100)
    assert out.loc["Bob", "value"] == pytest.approx(0.0)
    assert out.loc["Ann", "denominator"] == pytest.approx(1100.0)
    long = rk.get_kpi("portfolio_growth").compute(
        rk.from_frames({"customers": CUSTOMERS, "subscriptions": subs}), "2025-Q1")
    assert sorted(long["group"]) == ["owner=Ann", "owner=Bob"]
    with pytest.raises(RevOpsError, match="owner"):
        rk.portfolio_growth(subs, CUSTOMERS.drop(columns="owner"), "2025-Q1")
