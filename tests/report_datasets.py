"""Datasets derived from the committed sample for the report tests: partial exports as users bring
them (CRM only, billing only, missing optional columns, few customers, little history ...).

Every table is read as text and written back as text, so a derived dataset holds the sample's
values exactly; only rows and columns are removed or blanked, and the result passes validation.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"

REQUIRED_SUBSCRIPTION_COLUMNS = ["subscription_id", "customer_id", "start_date", "end_date", "mrr"]


def read_sample() -> dict[str, pd.DataFrame]:
    return {f.stem: pd.read_csv(f, dtype=str, keep_default_na=False) for f in sorted(SAMPLE.glob("*.csv"))}


def write(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def _open(opps: pd.DataFrame) -> pd.Series:
    return opps["is_closed"].str.lower() != "true"


def opportunities_only(t):
    """A CRM export of opportunities only, amounts in one currency (no currency column); a third
    of the open deals have no amount."""
    opps = t["opportunities"].drop(columns=["currency"]).copy()
    open_rows = opps.index[_open(opps)]
    opps.loc[open_rows[::3], "amount"] = ""
    return {"opportunities": opps}


def opportunities_and_history(t):
    """Opportunities in USD and EUR with their history, but no fx_rates: amounts cannot be converted."""
    return {"opportunities": t["opportunities"], "opportunity_history": t["opportunity_history"]}


def _usd(frame):
    return frame.assign(currency=frame["currency"].where(frame["currency"] == "", "USD"))


def subscriptions_only(t):
    """A single-currency billing export: subscriptions only, no customers table."""
    return {"subscriptions": _usd(t["subscriptions"])}


def subscriptions_without_optional_columns(t):
    """Subscriptions with only the required columns (no currency, product, plan, ...) and customers
    with only an id and a name (no segment)."""
    return {"subscriptions": t["subscriptions"][REQUIRED_SUBSCRIPTION_COLUMNS],
            "customers": t["customers"][["customer_id", "name"]]}


def invoices_only(t):
    """A single-currency invoice export."""
    return {"invoices": _usd(t["invoices"])}


def crm_and_billing(t):
    """CRM (customers, opportunities, history) and billing (subscriptions, invoices, fx), no marketing."""
    keep = ("customers", "opportunities", "opportunity_history", "subscriptions", "invoices", "fx_rates")
    return {k: t[k] for k in keep}


def no_targets(t):
    return {k: v for k, v in t.items() if k != "targets"}


def one_currency(t):
    """Every amount labelled USD and no fx_rates table."""
    out = {}
    for k, v in t.items():
        if k == "fx_rates":
            continue
        v = v.copy()
        if "currency" in v.columns:
            v["currency"] = v["currency"].where(v["currency"] == "", "USD")
        out[k] = v
    return out


def customers_subset(t, ids: set[str]) -> dict[str, pd.DataFrame]:
    """The sample restricted to the customers ``ids`` and the rows that belong to them."""
    out = {k: v for k, v in t.items()}
    out["customers"] = t["customers"][t["customers"]["customer_id"].isin(ids)]
    for k in ("subscriptions", "invoices", "support_tickets", "nps_responses", "product_usage"):
        out[k] = t[k][t[k]["customer_id"].isin(ids)]
    opps = t["opportunities"]
    opps = opps[(opps["customer_id"] == "") | opps["customer_id"].isin(ids)]
    out["opportunities"] = opps
    oids = set(opps["opportunity_id"])
    out["opportunity_history"] = t["opportunity_history"][t["opportunity_history"]["opportunity_id"].isin(oids)]
    leads = t["leads"].copy()
    leads = leads[(leads["customer_id"] == "") | leads["customer_id"].isin(ids)]
    leads.loc[~leads["opportunity_id"].isin(oids), "opportunity_id"] = ""
    out["leads"] = leads
    return out


def fifty_customers(t):
    ids = set(t["customers"]["customer_id"].iloc[:50])
    return customers_subset(t, ids)


def few_hundred_customers(t, n: int = 300):
    ids = set(t["customers"]["customer_id"].iloc[::max(1, len(t["customers"]) // n)])
    return customers_subset(t, ids)


def two_months(t):
    """Only the first two months of the business: every row dated before the cut-off, dates after it
    blanked (a subscription still running, an invoice not yet paid ...)."""
    first = pd.to_datetime(t["customers"]["created_at"]).min().to_period("M").to_timestamp()
    cut = first + pd.DateOffset(months=2)

    def before(s):
        d = pd.to_datetime(s.replace("", None))
        return d.notna() & (d < cut) & (d >= first)

    def blank_after(frame, cols):
        frame = frame.copy()
        for c in cols:
            d = pd.to_datetime(frame[c].replace("", None))
            frame.loc[d.notna() & (d >= cut), c] = ""
        return frame

    out = {}
    out["customers"] = t["customers"][before(t["customers"]["created_at"])]
    ids = set(out["customers"]["customer_id"])
    subs = t["subscriptions"][before(t["subscriptions"]["start_date"]) & t["subscriptions"]["customer_id"].isin(ids)]
    out["subscriptions"] = blank_after(subs, ["end_date", "committed_end_date"])
    inv = t["invoices"][before(t["invoices"]["issued_at"]) & t["invoices"]["customer_id"].isin(ids)]
    out["invoices"] = blank_after(inv, ["paid_at"])
    opps = t["opportunities"]
    closed = ~_open(opps)
    opps = opps[before(opps["created_at"]) & (~closed | before(opps["close_date"]))
                & ((opps["customer_id"] == "") | opps["customer_id"].isin(ids))]
    out["opportunities"] = opps
    oids = set(opps["opportunity_id"])
    hist = t["opportunity_history"]
    out["opportunity_history"] = hist[before(hist["changed_at"]) & hist["opportunity_id"].isin(oids)]
    leads = t["leads"]
    leads = leads[before(leads["created_at"]) & ((leads["customer_id"] == "") | leads["customer_id"].isin(ids))].copy()
    leads.loc[~leads["opportunity_id"].isin(oids), "opportunity_id"] = ""
    out["leads"] = blank_after(leads, ["mql_at", "sql_at", "trial_started_at", "converted_at"])
    tickets = t["support_tickets"]
    out["support_tickets"] = blank_after(tickets[before(tickets["opened_at"]) & tickets["customer_id"].isin(ids)],
                                         ["closed_at"])
    nps = t["nps_responses"]
    out["nps_responses"] = nps[before(nps["responded_at"]) & nps["customer_id"].isin(ids)]
    usage = t["product_usage"]
    out["product_usage"] = usage[before(usage["month"]) & usage["customer_id"].isin(ids)]
    costs = t["costs"]
    out["costs"] = costs[before(costs["month"])]
    fs = t["forecast_submissions"]
    out["forecast_submissions"] = fs[before(fs["submitted_at"])]
    from revops_kit.periods import as_period

    def period_before(col):
        return col.map(lambda v: as_period(v).start < cut and as_period(v).end > first)

    out["quotas"] = t["quotas"][period_before(t["quotas"]["period"])]
    out["targets"] = t["targets"][period_before(t["targets"]["period"])]
    out["fx_rates"] = t["fx_rates"][before(t["fx_rates"]["month"])]
    return out


DERIVED = {
    "opportunities_only": opportunities_only,
    "opportunities_and_history": opportunities_and_history,
    "subscriptions_only": subscriptions_only,
    "subscriptions_without_optional_columns": subscriptions_without_optional_columns,
    "invoices_only": invoices_only,
    "crm_and_billing": crm_and_billing,
    "no_targets": lambda t: no_targets(few_hundred_customers(t)),
    "one_currency": lambda t: one_currency(few_hundred_customers(t)),
    "fifty_customers": fifty_customers,
    "two_months": two_months,
}


def build(name: str, folder: Path) -> Path:
    return write(DERIVED[name](read_sample()), folder)
