"""RavenStack, a third party's synthetic SaaS company, read with examples/ravenstack/mapping.yaml alone.

Reference: RavenStack (Synthetic SaaS Data) by River @ Rivalytics, Kaggle
``rivalytics/saas-subscription-and-churn-analytics-dataset`` (copy and quirks in
``../shared/data/ravenstack/PROVENANCE.md``). The expected figures are computed here, independently
of the package, with plain pandas on the raw CSV: a subscription is active in month ``m`` when
``start_date <= m < end_date`` (month starts; blank end = running), a customer is active when the
MRR of its active subscriptions is > 0, and churned in ``m`` when active in ``m - 1`` but not in ``m``.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import ROOT, SHARED_DATA

MAPPING = ROOT / "examples" / "ravenstack" / "mapping.yaml"
RAW = SHARED_DATA / "ravenstack"
# every account holds at least two open subscriptions, so logo churn is rare: 2023-12 and 2024-10
# are the only months with a churned customer
MONTHS = ["2023-06", "2023-12", "2024-01", "2024-06", "2024-10", "2024-12"]

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def data():
    if not RAW.exists():
        pytest.skip(f"RavenStack copy not found at {RAW}")
    import revops_kit as rk

    return rk.load(MAPPING)


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    subs = pd.read_csv(RAW / "ravenstack_subscriptions.csv")
    start = pd.to_datetime(subs["start_date"], format="%m/%d/%Y")
    end = pd.to_datetime(subs["end_date"], format="%m/%d/%Y")
    rows = []
    prev_active = None
    ever: set = set()
    for month in pd.date_range("2023-01-01", "2024-12-01", freq="MS"):
        on = (start <= month) & (end.isna() | (end > month))
        per_account = subs.loc[on].groupby("account_id")["mrr_amount"].sum()
        active = set(per_account.index[per_account > 0])
        churned = len(prev_active - active) if prev_active is not None else 0
        rows.append({"month": month.strftime("%Y-%m"), "mrr": float(subs.loc[on, "mrr_amount"].sum()),
                     "active": len(active), "churned": churned, "new": len(active - ever)})
        prev_active = active
        ever |= active
    return pd.DataFrame(rows).set_index("month")


def test_mapping_validates_and_says_what_it_did(data):
    assert len(data.customers) == 500 and len(data.support_tickets) == 2000
    assert len(data.subscriptions) == 5000 - 13  # the zero-length periods, listed in a note
    assert any("left out 13 source row(s) where end_date equals start_date" in n for n in data.notes)
    assert data.validation_report().empty
    assert set(data.support_tickets["priority"].dropna()) <= {"low", "normal", "high", "urgent"}
    # M/D/YYYY read as month first (10/16/2024 is October 16th)
    first = data.customers.set_index("customer_id").loc["A-2e4581", "created_at"]
    assert first == pd.Timestamp("2024-10-16")


@pytest.mark.parametrize("month", MONTHS)
def test_monthly_mrr_active_and_churned_customers(data, expected, month):
    import revops_kit as rk

    got = rk.compute_kpis(data, month, ["mrr", "customers_active", "customers_churned", "customers_new"]
                          ).set_index("kpi")["value"]
    want = expected.loc[month]
    assert got["customers_new"] == want["new"]
    assert got["mrr"] == pytest.approx(want["mrr"], abs=0.005)
    assert got["customers_active"] == want["active"]
    assert got["customers_churned"] == want["churned"]


def test_kpis_command_on_the_mapping(data, expected):
    from revops_kit.cli import main

    res = CliRunner().invoke(main, ["kpis", "--data", str(MAPPING), "--period", "2024-12", "--format", "json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    mrr = next(r for r in payload["kpis"] if r["kpi"] == "mrr" and r["group"] == "all")
    assert mrr["value"] == pytest.approx(expected.loc["2024-12", "mrr"], abs=0.005)
    # no invoices, CRM, costs ...: those KPIs are listed, not failed
    reasons = {s["kpi"]: s["reason"] for s in payload["not_computed"]}
    assert reasons["win_rate"] == "missing table" and reasons["dso"] == "missing table"
