"""Marketing and acquisition KPIs and the CRM-export mapping: golden cases computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import revops_kit as rk

Q1 = "2025-Q1"


# ----------------------------------------------------------------------------- tiny company
# New customers in 2025-Q1 (first active month in Q1): c1 organic 100, c2 paid_search 200,
# c3 paid_search 300, c4 no channel 400 -> 4 new, new MRR 1000. c5 (partner) and c6 (organic)
# are older customers; c5 churns in February.
def _customers() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
                         "acquisition_channel": ["organic", "paid_search", "paid_search", None, "partner", "organic"]})


def _subscriptions() -> pd.DataFrame:
    return pd.DataFrame({"subscription_id": ["s1", "s2", "s3", "s4", "s5", "s6"],
                         "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
                         "start_date": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01", "2025-02-01",
                                                       "2024-11-01", "2024-10-01"]),
                         "end_date": pd.to_datetime([None, None, None, None, "2025-02-01", None]),
                         "mrr": [100.0, 200.0, 300.0, 400.0, 50.0, 60.0]})


# Q1 acquisition costs: programs organic 300, paid_search 1500, partner 200 (direct 2000);
# shared: marketing payroll 600, sales payroll 900, tools 90, external services 210 (1800).
# Not acquisition: cost of revenue 1000, customer success 500; a December program row.
def _costs() -> pd.DataFrame:
    rows = []
    for m in ("2025-01-01", "2025-02-01", "2025-03-01"):
        rows += [(m, "marketing_programs", 100.0, "organic"), (m, "marketing_programs", 500.0, "paid_search"),
                 (m, "marketing_payroll", 200.0, None), (m, "sales_payroll", 300.0, None),
                 (m, "tools_infrastructure", 30.0, None), (m, "external_services", 70.0, None),
                 (m, "cost_of_revenue", 1000 / 3, None), (m, "customer_success", 500 / 3, None)]
    rows += [("2025-01-01", "marketing_programs", 200.0, "partner"),
             ("2024-12-01", "marketing_programs", 9999.0, "organic")]
    c = pd.DataFrame(rows, columns=["month", "category", "amount", "channel"])
    c["month"] = pd.to_datetime(c["month"])
    return c


def _leads() -> pd.DataFrame:
    return pd.DataFrame({
        "lead_id": ["L1", "L2", "L3", "L4", "L5", "L6", "L7"],
        "created_at": pd.to_datetime(["2025-01-05", "2025-01-07", "2025-02-01", "2025-03-15", "2024-12-20",
                                      "2025-02-10", "2025-03-01"]),
        "channel": ["organic", "paid_search", "paid_search", None, "organic", "paid_search", "partner"],
        "campaign": ["seo", "google", "google", None, "seo", "google", "reseller"],
        "mql_at": pd.to_datetime(["2025-01-10", "2025-01-08", None, None, "2025-01-03", None, None]),
        "sql_at": pd.to_datetime(["2025-01-20", None, "2025-02-10", None, "2025-01-04", None, None]),
        "opportunity_id": ["o1", None, "o2", None, "o3", None, None],
        "customer_id": ["c1", "c2", None, None, None, None, None],
        "trial_started_at": pd.to_datetime([None, "2025-01-07", None, None, "2024-12-21", "2025-02-11",
                                            "2025-03-02"]),
        "converted_at": pd.to_datetime([None, "2025-01-30", None, None, None, "2025-02-05", "2025-04-10"]),
    })


def _opportunities() -> pd.DataFrame:
    return pd.DataFrame({"opportunity_id": ["o1", "o2", "o3"],
                         "created_at": pd.to_datetime(["2025-01-25", "2025-02-15", "2025-01-06"]),
                         "stage": ["Closed Won", "Closed Lost", "Demo"], "amount": [1200.0, 800.0, 500.0],
                         "close_date": pd.to_datetime(["2025-03-10", "2025-03-01", "2025-04-30"]),
                         "is_closed": [True, True, False], "is_won": [True, False, False]})


KW = dict(customers=_customers())


# ----------------------------------------------------------------------------- CAC family
def test_cac_fully_loaded():
    c = rk.cac(_costs(), _subscriptions(), Q1, **KW).iloc[0]
    assert (c["numerator"], c["denominator"], c["value"]) == (3800.0, 4, 950.0)
    assert c["marketing_programs"] == 2000.0 and c["sales_payroll"] == 900.0 and c["new_mrr"] == 1000.0


@pytest.mark.parametrize("allocation, costs", [
    # spend_share: shared 1800 split 300:1500:200 of direct 2000 -> 270, 1350, 180, 0
    ("spend_share", {"organic": 570.0, "paid_search": 2850.0, "partner": 380.0, "(missing)": 0.0}),
    # new_customers: 1800 split 1:2:0:1 -> 450, 900, 0, 450
    ("new_customers", {"organic": 750.0, "paid_search": 2400.0, "partner": 200.0, "(missing)": 450.0}),
])
def test_cac_by_channel_allocation(allocation, costs):
    policy = rk.DEFAULT_POLICY.replace(cac_allocation=allocation)
    with pytest.warns(rk.ZeroDenominatorWarning, match="partner"):  # partner: costs, no new customer
        out = rk.cac_by_channel(_costs(), _subscriptions(), Q1, policy=policy, **KW)
    got = dict(zip(out["channel"], out["numerator"]))
    assert got == pytest.approx(costs)
    assert sum(got.values()) == pytest.approx(3800.0)          # adds up to the fully loaded total
    new = dict(zip(out["channel"], out["denominator"]))
    assert new == {"organic": 1, "paid_search": 2, "partner": 0, "(missing)": 1}
    assert np.isnan(out.set_index("channel").loc["partner", "value"])


def test_cpa_payback_roi_ltv():
    cpa = rk.cpa(_costs(), _subscriptions(), Q1, **KW).iloc[0]
    assert (cpa["numerator"], cpa["denominator"], cpa["value"]) == (2000.0, 4, 500.0)
    with pytest.warns(rk.ZeroDenominatorWarning):
        by = rk.cpa(_costs(), _subscriptions(), Q1, by_channel=True, **KW).set_index("channel")
    assert by.loc["paid_search", "value"] == 750.0 and by.loc["(missing)", "value"] == 0.0
    pb = rk.cac_payback_months(_costs(), _subscriptions(), Q1, gross_margin=0.8, **KW).iloc[0]
    assert pb["value"] == pytest.approx(950 / (250 * 0.8))      # 4.75 months
    roi = rk.marketing_roi(_costs(), _subscriptions(), Q1, gross_margin=0.8, **KW).iloc[0]
    assert roi["denominator"] == 2600.0                            # programs 2000 + marketing payroll 600
    assert roi["value"] == pytest.approx((12 * 1000 * 0.8 - 2600) / 2600)
    ltv = rk.ltv_to_cac(_costs(), _subscriptions(), Q1, gross_margin=0.8, **KW)
    clv = rk.clv_simple(_subscriptions(), Q1, gross_margin=0.8, **KW)["value"].item()
    assert ltv["value"].item() == pytest.approx(clv / 950)


def test_payback_needs_a_gross_margin():
    with pytest.raises(rk.RevOpsError, match="gross margin"):
        rk.cac_payback_months(_costs(), _subscriptions(), Q1, **KW)


# ----------------------------------------------------------------------------- leads
def test_lead_volume_and_cost_per_lead():
    v = rk.lead_volume(_leads(), Q1, by="channel")
    assert dict(zip(v["channel"], v["value"])) == {"(missing)": 1, "organic": 1, "paid_search": 3, "partner": 1}
    cpl = rk.cost_per_lead(_leads(), _costs(), Q1).iloc[0]
    assert cpl["value"] == pytest.approx(2000 / 6)
    by = rk.cost_per_lead(_leads(), _costs(), Q1, by_channel=True).set_index("channel")["value"]
    assert by.to_dict() == {"(missing)": 0.0, "organic": 300.0, "paid_search": 500.0, "partner": 200.0}


def test_funnel_period_based():
    f = rk.lead_funnel(_leads(), Q1, opportunities=_opportunities()).set_index("step")
    # L3 skipped MQL (has an SQL date): it passed MQL, placed on its SQL date; L5 (created in
    # December) reaches MQL, SQL and opportunity in January
    assert f["count"].to_dict() == {"lead": 6, "mql": 4, "sql": 3, "opportunity": 3, "won": 1}
    assert f.loc["mql", "conversion_rate"] == pytest.approx(4 / 6)
    assert f.loc["won", "conversion_rate"] == pytest.approx(1 / 3)
    assert f.loc["won", "rate_from_lead"] == pytest.approx(1 / 6)
    assert (f.loc["mql", "median_days"], f.loc["mql", "n_days"]) == (5.0, 3)   # 5, 1, 14 days
    assert f.loc["sql", "median_days"] == 5.5                                   # 10 and 1 days
    assert f.loc["won", "median_days"] == 44.0


def test_funnel_cohort_based_and_as_of():
    f = rk.lead_funnel(_leads(), Q1, opportunities=_opportunities(), basis="cohort").set_index("step")
    assert f["count"].to_dict() == {"lead": 6, "mql": 3, "sql": 2, "opportunity": 2, "won": 1}
    early = rk.lead_funnel(_leads(), Q1, opportunities=_opportunities(), basis="cohort",
                           as_of="2025-03-05").set_index("step")
    assert early.loc["won", "count"] == 0 and early.loc["opportunity", "count"] == 2
    by = rk.lead_funnel(_leads(), Q1, opportunities=_opportunities(), by="channel")
    miss = by[by["channel"] == "(missing)"].set_index("step")["count"].to_dict()
    assert miss == {"lead": 1, "mql": 0, "sql": 0, "opportunity": 0, "won": 0}


def test_funnel_without_opportunities_uses_conversion_dates():
    f = rk.lead_funnel(_leads(), Q1).set_index("step")
    # won = converted_at: L2 (01-30) and L6 (02-05) in Q1. Without the opportunities table the
    # opportunity step has no dates: L1, L3, L5 have an opportunity_id but cannot be placed in a
    # period; L2 and L6 passed the step (they converted) and are placed on their conversion date.
    assert f.loc["won", "count"] == 2
    assert f.loc["opportunity", "count"] == 2
    cohort = rk.lead_funnel(_leads(), Q1, basis="cohort").set_index("step")
    assert cohort.loc["opportunity", "count"] == 5          # L1, L3 (ids) + L2, L6, L7 (converted)


def test_trial_to_paid():
    t = rk.trial_to_paid(_leads(), Q1).iloc[0]
    # trials started in Q1: L2 (paid 01-30), L6 (converted before its trial: flagged), L7 (paid 04-10)
    assert (t["numerator"], t["denominator"], t["n_converted_before_trial"]) == (2, 3, 1)
    assert t["median_days_to_paid"] == 31.0
    assert rk.trial_to_paid(_leads(), Q1, as_of="2025-04-01")["value"].item() == pytest.approx(1 / 3)


def test_catalogue_on_tiny_dataset():
    data = rk.from_frames({"customers": _customers(), "subscriptions": _subscriptions(), "costs": _costs(),
                           "leads": _leads(), "opportunities": _opportunities()})
    out = rk.compute_kpis(data, Q1, ["cac", "cpa", "lead_volume", "cost_per_lead", "lead_to_mql_rate",
                                     "mql_to_sql_rate", "sql_to_opportunity_rate", "opportunity_to_won_rate",
                                     "lead_to_won_rate", "trial_to_paid"])
    v = dict(zip(out["kpi"], out["value"]))
    assert v["cac"] == 950.0 and v["lead_volume"] == 6 and v["lead_to_won_rate"] == pytest.approx(1 / 6)
    assert v["sql_to_opportunity_rate"] == 1.0 and v["trial_to_paid"] == pytest.approx(2 / 3)
    with pytest.raises(rk.NotGroupableError, match="channel only"):
        rk.compute_kpis(data, Q1, ["cpa"], by="campaign")


def test_inputs_not_mutated(frozen_frames):
    costs, subs, leads, opps, cust = _costs(), _subscriptions(), _leads(), _opportunities(), _customers()
    with frozen_frames(costs, subs, leads, opps, cust):
        rk.acquisition_by_channel(costs, subs, Q1, leads=leads, gross_margin=0.8, customers=cust)
        rk.lead_funnel(leads, Q1, opportunities=opps, by="campaign", basis="cohort")
        rk.trial_to_paid(leads, Q1, by="channel")


def test_acquisition_table_total_row():
    t = rk.acquisition_by_channel(_costs(), _subscriptions(), Q1, leads=_leads(), gross_margin=0.8, **KW)
    total = t.set_index("channel").loc["total"]
    assert (total["acquisition_cost"], total["cac"], total["leads"]) == (3800.0, 950.0, 6)
    assert t.loc[t["channel"] != "total", "acquisition_cost"].sum() == pytest.approx(3800.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", None]), st.floats(0, 1e5)), min_size=1, max_size=12),
       st.lists(st.sampled_from(["a", "b", "d", None]), min_size=1, max_size=8),
       st.sampled_from(["spend_share", "new_customers"]))
def test_property_channel_costs_add_up(spend, channels, allocation):
    costs = pd.DataFrame({"month": pd.Timestamp("2025-02-01"), "category": "marketing_programs",
                          "amount": [a for _, a in spend], "channel": [c for c, _ in spend]})
    costs.loc[costs["channel"].isna(), "category"] = "sales_payroll"
    costs = costs.groupby(["month", "category", "channel"], dropna=False, as_index=False)["amount"].sum()
    n = len(channels)
    subs = pd.DataFrame({"subscription_id": [f"s{i}" for i in range(n)], "customer_id": [f"c{i}" for i in range(n)],
                         "start_date": pd.Timestamp("2025-02-01"), "end_date": pd.NaT, "mrr": 10.0})
    cust = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "acquisition_channel": channels})
    policy = rk.DEFAULT_POLICY.replace(cac_allocation=allocation)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rk.ZeroDenominatorWarning)
        out = rk.cac_by_channel(costs, subs, Q1, customers=cust, policy=policy)
    total = costs["amount"].sum()
    if out["allocated_shared"].notna().all():
        assert out["numerator"].sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert out["denominator"].sum() == n


# ----------------------------------------------------------------------------- CRM export mapping
def _export() -> pd.DataFrame:
    # the shape of a common CRM export: free-text stages, engage date, close value 0 when lost
    return pd.DataFrame({
        "opportunity_id": ["1C1I7A6R", "Z063OYW0", "EC4QE1BX", "MV1LWRNH", "PE84CX4O"],
        "sales_agent": ["Moses Frase", "Darcel Schlecht", "Darcel Schlecht", "Moses Frase", "Zane Levy"],
        "product": ["GTX Plus Basic", "GTXPro", "MG Special", "GTX Basic", "GTX Basic"],
        "account": ["Cancity", "Isdom", "Cancity", "Codehow", None],
        "deal_stage": ["Won", "Won", "Lost", "Engaging", "Prospecting"],
        "engage_date": ["2016-10-20", "2016-10-25", "2016-10-25", "2016-10-25", None],
        "close_date": ["2017-03-01", "2017-03-11", "2017-03-07", None, None],
        "close_value": ["1054", "4514", "0", None, None],
        "list_price": [1096, 4821, 55, 550, 550],
    })


COLUMNS = {"deal_stage": "stage", "engage_date": "created_at", "close_value": "amount",
           "sales_agent": "owner", "account": "customer_id"}
STAGES = {"Prospecting": "open", "Engaging": "open", "Won": "won", "Lost": "lost"}


def test_crm_mapping_stages_and_lost_zero():
    raw = _export()
    opps = rk.map_crm_opportunities(raw, columns=COLUMNS, stage_map=STAGES, created_default="2017-01-01",
                                    defaults={"type": "new_business", "currency": "USD"})
    assert opps["is_closed"].tolist() == [True, True, True, False, False]
    assert opps["is_won"].tolist() == [True, True, False, False, False]
    assert opps["amount"].iloc[:2].tolist() == [1054.0, 4514.0]
    assert np.isnan(opps["amount"].iloc[2]) and opps["amount_was_zero_lost"].tolist() == [False, False, True, False, False]
    assert opps["created_at_filled"].tolist() == [False, False, False, False, True]
    assert str(opps["created_at"].dtype).startswith("datetime64") and opps["product"].iloc[1] == "GTXPro"
    data = rk.from_frames({"opportunities": opps})
    with pytest.warns(rk.RevOpsWarning, match="amount lost is unknown"):
        w = rk.win_rate(data.opportunities, "2017-Q1",
                        policy=rk.DEFAULT_POLICY.replace(win_rate_basis="amount")).iloc[0]
    assert (w["won"], w["lost"], w["n_missing_amount"]) == (2, 1, 1)   # the lost deal's value is unknown
    assert np.isnan(w["value"])  # was 1.0: every loss of unknown amount dropped out (issue 14 item 3)
    zero = rk.map_crm_opportunities(raw, columns=COLUMNS, stage_map=STAGES, lost_amount="zero",
                                    created_default="2017-01-01")
    assert zero["amount"].iloc[2] == 0.0
    fb = rk.map_crm_opportunities(raw, columns=COLUMNS, stage_map=STAGES, lost_amount_column="list_price",
                                  created_default="2017-01-01")
    assert fb["amount"].iloc[2] == 55.0 and "list_price" not in fb.columns


def test_crm_mapping_errors_name_the_problem():
    raw = _export()
    with pytest.raises(rk.RevOpsError, match=r"\['Prospecting'\] are not in stage_map"):
        rk.map_crm_opportunities(raw, columns=COLUMNS, stage_map={k: v for k, v in STAGES.items() if k != "Prospecting"},
                                 created_default="2017-01-01")
    with pytest.raises(rk.RevOpsError, match="1 row\\(s\\) have no created date \\(rows \\[5\\]\\)"):
        rk.map_crm_opportunities(raw, columns=COLUMNS, stage_map=STAGES)
    with pytest.raises(rk.SchemaError, match="required column"):
        rk.map_crm_opportunities(raw, columns={"deal_stage": "stage"}, stage_map=STAGES)
    bad = raw.assign(close_date=["2017-03-01", "not a date", None, None, None])
    with pytest.raises(rk.SchemaError, match="close_date.*parse_date"):
        rk.map_crm_opportunities(bad, columns=COLUMNS, stage_map=STAGES, created_default="2017-01-01")
    guessed = rk.map_crm_opportunities(raw, columns=COLUMNS, created_default="2017-01-01")
    assert guessed["is_won"].tolist() == [True, True, False, False, False]
    assert rk.infer_stage_map(raw["deal_stage"]) == {"Engaging": "open", "Lost": "lost", "Prospecting": "open",
                                                     "Won": "won"}


def test_crm_mapping_does_not_mutate(frozen_frames):
    raw = _export()
    with frozen_frames(raw):
        rk.map_crm_opportunities(raw, columns=COLUMNS, stage_map=STAGES, created_default="2017-01-01")


# ----------------------------------------------------------------------------- the sample
MARKETING_IDS = ["cac", "cac_by_channel", "cpa", "marketing_roi", "cac_payback_months", "ltv_to_cac",
                 "lead_volume", "cost_per_lead", "lead_to_mql_rate", "mql_to_sql_rate", "sql_to_opportunity_rate",
                 "opportunity_to_won_rate", "lead_to_won_rate", "trial_to_paid"]


def test_sample_cac_payback_independent(sample):
    out = rk.compute_kpis(sample, "2025-Q4", MARKETING_IDS)
    assert set(out["kpi"]) == set(MARKETING_IDS)
    v = {k: g["value"].iloc[0] for k, g in out.groupby("kpi")}
    # independent pandas: acquisition costs of Q4 (USD) and new customers = first month with MRR
    c = sample.costs
    q4 = c[(c["month"] >= "2025-10-01") & (c["month"] < "2026-01-01") & c["category"].isin(rk.CAC_CATEGORIES)]
    s = sample.subscriptions
    first_month = s["start_date"].dt.to_period("M").dt.to_timestamp()
    first_month = first_month.where(first_month == s["start_date"], first_month + pd.DateOffset(months=1))
    covers = s["end_date"].isna() | (first_month < s["end_date"])
    firsts = first_month[covers & (s["mrr"] > 0)].groupby(s["customer_id"]).min()
    new = firsts[(firsts >= "2025-10-01") & (firsts < "2026-01-01")]
    assert v["cac"] == pytest.approx(q4["amount"].sum() / len(new))
