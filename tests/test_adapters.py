"""Source adapters on small realistic exports in tests/fixtures: Salesforce, HubSpot, Stripe, and
the declarative YAML mapping. Every adapter's output is validated by the schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import revops_kit as rk
from revops_kit.adapters import hubspot, salesforce, stripe
from revops_kit.adapters._common import AdapterError, epoch_to_date
from revops_kit.adapters.mapping import MappingError, load_mapping

FIX = Path(__file__).parent / "fixtures"
T = pd.Timestamp


def _rows(frame: pd.DataFrame, cols: list[str]) -> list[list]:
    out = frame[cols].astype(object).where(frame[cols].notna(), None).values.tolist()
    return [[v.item() if isinstance(v, np.generic) else v for v in row] for row in out]


# ---------------------------------------------------------------------- Salesforce
@pytest.fixture(scope="module")
def sf():
    return rk.load_export("salesforce", FIX / "salesforce")


def test_salesforce_accounts(sf):
    c = sf.customers
    assert _rows(c, ["customer_id", "name", "domain", "segment", "region", "country", "industry",
                     "acquisition_channel", "owner", "created_at"]) == [
        ["0015g00000AbCdEAAV", "Acme Robotics Inc.", "acmerobotics.com", "Mid-Market", "NA", "United States",
         "Manufacturing", "Web", "Dana Whitfield", T("2024-02-12")],
        ["0015g00000AbCdFAAV", "Globex GmbH", "globex.de", "Enterprise", "EMEA", "Germany", "Technology",
         "Partner Referral", "Jonas Weber", T("2024-03-01")],
        ["0015g00000AbCdGAAV", "Initech, LLC", "initech.io", "SMB", "NA", "Canada", None, "Web",
         "Dana Whitfield", T("2024-05-20")],  # 22:10 UTC stays on the 20th
    ]


def test_salesforce_opportunities(sf):
    o = sf.opportunities
    assert _rows(o, ["opportunity_id", "customer_id", "stage", "amount", "close_date", "created_at", "is_closed",
                     "is_won", "probability", "forecast_category", "type", "source", "owner", "currency"]) == [
        ["0065g00000XyZ01AAF", "0015g00000AbCdEAAV", "Closed Won", 48000.0, T("2024-04-30"), T("2024-02-15"),
         True, True, 1.0, "closed", "new_business", "Web", "Dana Whitfield", "USD"],
        ["0065g00000XyZ02AAF", "0015g00000AbCdFAAV", "Negotiation/Review", 120000.0, T("2025-01-31"),
         T("2024-09-02"), False, False, 0.9, "commit", "new_business", "Partner Referral", "Jonas Weber", "EUR"],
        ["0065g00000XyZ03AAF", "0015g00000AbCdEAAV", "Closed Lost", 15000.0, T("2024-11-15"), T("2024-08-20"),
         True, False, 0.0, "omitted", "expansion", None, "Dana Whitfield", "USD"],
        ["0065g00000XyZ04AAF", "0015g00000AbCdGAAV", "Proposal/Price Quote", None, T("2025-05-20"),
         T("2025-01-10"), False, False, 0.75, "best_case", "renewal", "Web", "Dana Whitfield", "USD"],
    ]


def test_salesforce_history_and_leads(sf):
    h = sf.opportunity_history
    assert len(h) == 8
    assert _rows(h.iloc[:3], ["opportunity_id", "changed_at", "stage", "amount", "forecast_category",
                              "is_closed", "is_won"]) == [
        ["0065g00000XyZ01AAF", T("2024-02-15"), "Prospecting", 40000.0, "pipeline", False, False],
        ["0065g00000XyZ01AAF", T("2024-03-20"), "Proposal/Price Quote", 48000.0, "best_case", False, False],
        ["0065g00000XyZ01AAF", T("2024-04-29"), "Closed Won", 48000.0, "closed", True, True],
    ]
    assert h.loc[h["stage"] == "Closed Lost", ["is_closed", "is_won"]].values.tolist() == [[True, False]]
    assert h.loc[4, "forecast_category"] == "commit"  # API value "Forecast" is Commit
    leads = sf.leads
    assert _rows(leads, ["lead_id", "created_at", "channel", "campaign", "mql_at", "sql_at", "opportunity_id",
                         "customer_id", "converted_at"]) == [
        ["00Q5g00000Lm001EAA", T("2024-01-28"), "Web", "Q1 Webinar", T("2024-02-02"), T("2024-02-10"),
         "0065g00000XyZ01AAF", "0015g00000AbCdEAAV", T("2024-02-15")],
        ["00Q5g00000Lm002EAA", T("2024-06-03"), "Partner Referral", None, T("2024-06-10"), None, None, None, None],
        ["00Q5g00000Lm003EAA", T("2024-07-19"), None, "Trade Show Berlin", None, None, None, None, None],
    ]


def test_salesforce_report_labels_and_errors():
    report = pd.DataFrame({"Opportunity ID": ["006X"], "Account ID": ["001X"], "Stage": ["Closed Won"],
                           "Amount": ["$12,000.00"], "Close Date": ["3/31/2025"], "Created Date": ["1/15/2025"],
                           "Probability (%)": ["100%"], "Type": ["Upsell"]})
    out = salesforce.opportunities(report)
    assert out[["opportunity_id", "customer_id", "probability", "type"]].values.tolist() == [
        ["006X", "001X", 1.0, "expansion"]]
    data = rk.from_frames({"opportunities": out})
    assert data.opportunities.loc[0, "close_date"] == T("2025-03-31") and data.opportunities.loc[0, "amount"] == 12000
    with pytest.raises(AdapterError, match="Salesforce Opportunity: no column for 'stage'"):
        salesforce.opportunities(report.drop(columns=["Stage"]))
    # an unknown Type stays as it is so that the schema names it
    odd = salesforce.opportunities(report.assign(Type=["Partnership"]))
    with pytest.raises(rk.SchemaError, match="type"):
        rk.from_frames({"opportunities": odd})
    custom = salesforce.opportunities(report.assign(Type=["Partnership"]), type_map={"Partnership": "new_business"})
    assert custom["type"].tolist() == ["new_business"]


# ---------------------------------------------------------------------- HubSpot
OWNERS = {"41234567": "Dana Whitfield", "41234568": "Jonas Weber"}


@pytest.fixture(scope="module")
def hs():
    return rk.load_export("hubspot", FIX / "hubspot", owners=OWNERS)


def test_hubspot_companies(hs):
    assert _rows(hs.customers, ["customer_id", "name", "domain", "segment", "country", "industry",
                                "acquisition_channel", "owner", "created_at"]) == [
        ["9876543210", "Acme Robotics", "acmerobotics.com", "Mid-Market", "United States", "MACHINERY",
         "organic_search", "Dana Whitfield", T("2024-02-12")],
        ["9876543211", "Globex", "globex.de", "Enterprise", "Germany", "COMPUTER_SOFTWARE", "paid_search",
         "Jonas Weber", T("2024-03-01")],
        ["9876543212", "Hooli", "hooli.com", None, "United States", None, "direct_traffic", None, T("2024-03-08")],
    ]


def test_hubspot_deals_use_the_pipeline_definition(hs):
    assert _rows(hs.opportunities, ["opportunity_id", "stage", "is_closed", "is_won", "probability",
                                    "forecast_category", "amount", "customer_id", "type", "owner", "currency",
                                    "created_at", "close_date", "source"]) == [
        ["15001", "Closed Won", True, True, 1.0, "closed", 48000.0, "9876543210", "new_business",
         "Dana Whitfield", "USD", T("2024-03-05"), T("2024-06-28"), "organic_search"],
        ["15002", "Contract Sent", False, False, 0.9, "pipeline", 120000.0, "9876543211", "new_business",
         "Jonas Weber", "EUR", T("2024-07-01"), T("2025-01-31"), "paid_search"],
        ["15003", "Closed Lost", True, False, 0.0, "omitted", 9000.0, "9876543210", "expansion",
         "Dana Whitfield", "USD", T("2024-10-15"), T("2024-11-20"), None],
        # custom pipeline with numeric stage ids; the first of two associated companies
        ["15004", "Quote Sent", False, False, 0.8, "pipeline", 5000.0, "9876543212", "renewal",
         None, "USD", T("2025-01-08"), T("2025-03-31"), None],
    ]


def test_hubspot_stage_history_from_property_history(hs):
    h = hs.opportunity_history
    assert _rows(h, ["opportunity_id", "changed_at", "stage", "is_closed", "is_won"]) == [
        ["15001", T("2024-03-05"), "Appointment Scheduled", False, False],
        ["15001", T("2024-04-02"), "Contract Sent", False, False],
        ["15001", T("2024-06-28"), "Closed Won", True, True],
        ["15002", T("2024-07-01"), "Qualified To Buy", False, False],
        ["15002", T("2024-10-15"), "Contract Sent", False, False],
        ["15003", T("2024-10-15"), "Appointment Scheduled", False, False],
        ["15003", T("2024-11-20"), "Closed Lost", True, False],
        ["15004", T("2025-01-08"), "Renewal Due", False, False],
        ["15004", T("2025-02-02"), "Quote Sent", False, False],
    ]
    # history agrees with the deals' current stage: the consistency check passes
    checks = rk.dq_checks(hs, "2025-Q1", dimensions=["consistency"]).set_index("check")
    assert checks.loc["opportunity_history.stage:matches_current", "failed"] == 0


def test_hubspot_history_from_date_entered_columns():
    deals = pd.DataFrame({"hs_object_id": ["1", "2"],
                          "hs_date_entered_appointmentscheduled": ["2025-01-02T10:00:00Z", "1735992000000"],
                          "hs_date_entered_closedwon": ["2025-02-03T10:00:00Z", None]})
    h = hubspot.deal_stage_history(None, pipelines=FIX / "hubspot" / "pipelines.json", deals=deals)
    assert _rows(h, ["opportunity_id", "changed_at", "stage"]) == [
        ["1", T("2025-01-02"), "Appointment Scheduled"], ["1", T("2025-02-03"), "Closed Won"],
        ["2", T("2025-01-04"), "Appointment Scheduled"]]


def test_hubspot_unknown_stage_and_missing_pipelines(tmp_path):
    deals = pd.read_csv(FIX / "hubspot" / "deals.csv", dtype=str)
    with pytest.raises(AdapterError, match=r"dealstage id\(s\) \['qualifiedtobuyy'\]"):
        hubspot.deals(deals.assign(dealstage="qualifiedtobuyy"), pipelines=FIX / "hubspot" / "pipelines.json")
    (tmp_path / "deals.csv").write_text((FIX / "hubspot" / "deals.csv").read_text())
    with pytest.raises(AdapterError, match="pipelines.json"):
        rk.load_export("hubspot", tmp_path)


# ---------------------------------------------------------------------- Stripe
@pytest.fixture(scope="module")
def st():
    return rk.load_export("stripe", FIX / "stripe")


def test_stripe_subscriptions_mrr(st):
    s = st.subscriptions
    assert _rows(s, ["subscription_id", "customer_id", "start_date", "end_date", "mrr", "currency", "quantity",
                     "product", "plan", "committed_end_date"]) == [
        # 4,000.00 USD a year per seat x 12 seats = 48,000 a year = 4,000 a month
        ["si_PqZ001", "cus_PqA1b2C3d4E5fG", T("2024-05-01"), None, 4000.0, "USD", 12.0, "prod_Platform",
         "Platform annual", T("2026-05-01")],
        # trial until 2025-02-14: MRR starts then; 990 + 20 x 15 EUR
        ["si_PqZ002", "cus_PqA1b2C3d4E5fH", T("2025-02-14"), None, 990.0, "EUR", 1.0, "prod_Platform",
         "Platform monthly", T("2025-03-14")],
        ["si_PqZ003", "cus_PqA1b2C3d4E5fH", T("2025-02-14"), None, 300.0, "EUR", 20.0, "prod_Seats",
         "Seats monthly", T("2025-03-14")],
        ["si_PqZ004", "cus_PqA1b2C3d4E5fJ", T("2024-03-10"), T("2024-09-10"), 49.0, "USD", 1.0, "prod_Starter",
         "Starter", T("2024-09-01")],
        ["si_PqZ005", "cus_PqA1b2C3d4E5fJ", T("2025-06-01"), None, 0.0, "USD", 1.0, "prod_Starter", "Starter",
         T("2025-06-15")],  # still trialing
        ["si_PqZ006", "cus_PqA1b2C3d4E5fK", T("2024-11-02"), None, 50000.0, "JPY", 1.0, "prod_Platform",
         "Platform JP", T("2025-01-02")],  # JPY has no minor unit
    ]
    assert any("MRR set to 0 for 1 trialing" in n for n in st.notes)


def test_stripe_invoices(st):
    assert _rows(st.invoices, ["invoice_id", "customer_id", "issued_at", "amount", "currency", "due_at",
                               "paid_at", "kind"]) == [
        ["in_1PaQ001", "cus_PqA1b2C3d4E5fG", T("2024-05-01"), 48000.0, "USD", T("2024-05-01"), T("2024-05-01"),
         "recurring"],
        ["in_1PaQ002", "cus_PqA1b2C3d4E5fH", T("2025-02-14"), 1290.0, "EUR", T("2025-03-16"), None, "recurring"],
        ["in_1PaQ005", "cus_PqA1b2C3d4E5fJ", T("2024-07-05"), 250.0, "USD", T("2024-07-05"), T("2024-07-05"),
         "one_time"],
        ["in_1PaQ006", "cus_PqA1b2C3d4E5fK", T("2024-12-02"), 50000.0, "JPY", T("2024-12-02"), None, "recurring"],
    ]
    assert any("left out 1 draft, 1 void" in n for n in st.notes)
    assert any("due_at set to the issue date for 3 auto-charged" in n for n in st.notes)


def test_stripe_customers_and_crm_ids(st):
    assert _rows(st.customers, ["customer_id", "name", "domain", "country", "created_at"]) == [
        ["cus_PqA1b2C3d4E5fG", "Acme Robotics Inc.", "acmerobotics.com", "US", T("2024-02-12")],
        ["cus_PqA1b2C3d4E5fH", "Globex GmbH", "globex.de", "DE", T("2024-03-01")],
        ["cus_PqA1b2C3d4E5fJ", "Jane Doe", None, "US", T("2024-03-08")],  # gmail.com is not a company domain
        ["cus_PqA1b2C3d4E5fK", "Tanaka KK", "tanaka.co.jp", "JP", T("2024-11-02")],
    ]
    mapped = stripe.to_frames(FIX / "stripe", id_field="metadata.crm_id")
    assert mapped["customers"]["customer_id"].tolist()[:3] == ["0015g00000AbCdEAAV", "0015g00000AbCdFAAV",
                                                              "cus_PqA1b2C3d4E5fJ"]
    assert mapped["subscriptions"]["customer_id"].tolist()[0] == "0015g00000AbCdEAAV"
    assert mapped["invoices"]["customer_id"].tolist()[1] == "0015g00000AbCdFAAV"


def test_stripe_nested_json_and_intervals(tmp_path):
    subs = [{"id": "sub_9", "customer": "cus_9", "status": "active", "start_date": 1735689600,
             "items": {"data": [{"id": "si_9", "quantity": 3, "price": {
                 "unit_amount": 1000, "currency": "gbp", "product": "prod_X",
                 "recurring": {"interval": "week", "interval_count": 2}}}]}}]
    (tmp_path / "subscriptions.json").write_text(json.dumps({"object": "list", "data": subs}))
    out = stripe.to_frames(tmp_path)["subscriptions"]
    # 10 GBP x 3 every 2 weeks = 15 a week = 15 x 52 / 12 a month
    assert out[["subscription_id", "mrr", "currency"]].values.tolist() == [["si_9", 65.0, "GBP"]]
    with pytest.raises(AdapterError, match="interval"):
        stripe.monthly_factor(pd.Series(["fortnight"]))


def test_crm_and_billing_together_feed_the_cross_system_checks(sf):
    """Salesforce + Stripe joined on the CRM id kept in Stripe metadata."""
    billing = stripe.to_frames(FIX / "stripe", id_field="metadata.crm_id")
    crm_customers = sf.customers
    extra = billing["customers"][~billing["customers"]["customer_id"].isin(crm_customers["customer_id"])]
    data = rk.from_frames({**sf.tables(), "customers": pd.concat([crm_customers, extra], ignore_index=True),
                           "subscriptions": billing["subscriptions"], "invoices": billing["invoices"]})
    checks = rk.dq_checks(data, "2024-Q2").set_index("check")
    # Acme's won deal (48,000, closed 2024-04-30) matches its subscription (4,000 MRR from 2024-05-01)
    assert checks.loc["opportunities.customer_id:won_deal_has_subscription", ["checked", "failed"]].tolist() == [1, 0]
    assert checks.loc["opportunities.amount:won_deal_matches_billing", ["checked", "failed"]].tolist() == [1, 0]
    # Jane Doe pays by card and never talked to sales: not in the CRM
    missing = rk.dq_failing_rows(data, "2024-Q2", "subscriptions.customer_id:paying_customer_in_crm")
    assert missing["customer_id"].tolist() == ["cus_PqA1b2C3d4E5fJ"]


def test_epoch_dates():
    out = epoch_to_date(pd.Series(["1714521600", None, "2024-05-01T23:59:00Z", "1714521600.0"]))
    assert out.tolist()[0] == T("2024-05-01") and pd.isna(out[1]) and out[2] == T("2024-05-01")


# ---------------------------------------------------------------------- YAML mapping
MAPPING = FIX / "mapping" / "mapping.yaml"


def test_mapping_reads_a_foreign_export():
    data = rk.load(FIX / "mapping", mapping=MAPPING)
    assert _rows(data.customers, ["customer_id", "name", "domain", "segment", "country", "created_at"]) == [
        ["K-1001", "Müller Maschinenbau GmbH", "www.mueller-mb.de", "Mid-Market", "DE", T("2024-01-03")],
        ["K-1002", "Schmidt & Söhne KG", "schmidt-soehne.de", "SMB", "AT", T("2024-02-15")],
        ["K-1003", "Weber Logistik AG", "weber-logistik.ch", "Enterprise", "CH", T("2024-03-01")],
    ]
    assert _rows(data.subscriptions, ["subscription_id", "customer_id", "start_date", "end_date", "mrr",
                                      "currency"]) == [
        ["V-1", "K-1001", T("2024-02-01"), None, 1250.0, "EUR"],
        ["V-2", "K-1002", T("2024-03-01"), T("2024-09-01"), 480.5, "EUR"],
        ["V-3", "K-1003", T("2024-03-15"), None, 12400.0, "CHF"],
    ]
    assert _rows(data.fx_rates.iloc[[3, 7]], ["month", "currency", "rate"]) == [
        [T("2024-04-01"), "EUR", 1.072], [T("2024-04-01"), "CHF", 1.095]]
    # the mapping file with its `source:` is a dataset of its own
    again = rk.load(MAPPING)
    pd.testing.assert_frame_equal(again.subscriptions, data.subscriptions)


def test_mapping_values_it_cannot_translate_are_reported(tmp_path):
    (tmp_path / "Kunden.csv").write_text("Kundennummer;Firma;Angelegt am\nK-1;A;31.02.2024\n", encoding="utf-8")
    (tmp_path / "m.yaml").write_text(
        "tables:\n  customers:\n    file: Kunden.csv\n    sep: ';'\n    columns: {customer_id: Kundennummer, "
        "name: Firma, created_at: Angelegt am}\n    dates: {created_at: '%d.%m.%Y'}\n", encoding="utf-8")
    with pytest.raises(rk.SchemaError, match=r"customers\s+created_at\s+parse_date\s+1\s+1 \('31.02.2024'\)"):
        rk.load(tmp_path, mapping=tmp_path / "m.yaml")


@pytest.mark.parametrize("spec,message", [
    ({"tables": {"deals": {}}}, "unknown table 'deals'"),
    ({"tables": {"customers": {"columns": {"company": "Firma"}}}}, r"'columns' names unknown column\(s\) \['company'\]"),
    ({"tables": {"customers": {"colums": {}}}}, r"unknown key\(s\) \['colums'\]"),
    ({"tables": {"customers": {"scale": {"name": "x"}}}}, "scale of 'name' must be a number"),
    ({"tables": {"customers": {"dates": {"created_at": "dd.mm.yyyy"}}}}, "strftime format"),
    ({"table": {}}, "expected a mapping with a 'tables:' section"),
])
def test_mapping_errors_name_the_table_and_key(spec, message):
    with pytest.raises(MappingError, match=message):
        load_mapping(spec)


def test_mapping_missing_source_column(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    with pytest.raises(MappingError, match=r"source column\(s\) \['Kundennummer'\] not found; the source has \['x'\]"):
        rk.load(tmp_path, mapping={"tables": {"customers": {"file": "a.csv",
                                                            "columns": {"customer_id": "Kundennummer"}}}})


def test_mapping_on_the_command_line():
    cmd = [sys.executable, "-m", "revops_kit.cli"]
    ok = subprocess.run(cmd + ["validate", "--data", str(FIX / "mapping"), "--mapping", str(MAPPING)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "3 table(s), all checks passed" in ok.stdout and "customers                     3 rows" in ok.stdout
    kpis = subprocess.run(cmd + ["kpis", "--data", str(MAPPING), "--period", "2024-04", "--kpi", "mrr",
                                 "--format", "json"], capture_output=True, text=True)
    assert kpis.returncode == 0, kpis.stderr
    # (1250 + 480.50) EUR x 1.0720 + 12400 CHF x 1.0950, each row rounded to cents
    assert json.loads(kpis.stdout)["kpis"][0]["value"] == pytest.approx(1340.00 + 515.10 + 13578.00)
    bad = subprocess.run(cmd + ["validate", "--data", str(FIX / "mapping"), "--mapping",
                                str(FIX / "hubspot" / "pipelines.json")], capture_output=True, text=True)
    assert bad.returncode == 1 and "expected a mapping with a 'tables:' section" in bad.stderr
