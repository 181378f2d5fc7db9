"""Point-in-time churn features: golden values, population and label, and no leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import revops_kit as rk
from revops_kit.churn.features import build_features, build_training_set
from revops_kit.io import RevOpsData

AS_OF = pd.Timestamp("2025-04-01")
D = pd.Timestamp
NaT = pd.NaT


def _dates(values):
    return pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[ns]")


def tiny_frames() -> dict[str, pd.DataFrame]:
    """Seven customers around as_of = 2025-04-01 (see the comments for what each one tests)."""
    customers = pd.DataFrame({
        "customer_id": ["A", "B", "C", "D", "E", "F", "G"],
        "name": ["Alpha", "=Beta()", "Gamma", "Delta", "Eps", "Zeta", "Eta"],
        "segment": ["SMB", "Enterprise", "SMB", "SMB", "SMB", "Mid-Market", "SMB"],
        "region": ["NA", "EMEA", "NA", "NA", "NA", "APAC", "NA"],
        "industry": ["Retail", "Media", None, "Retail", "Retail", "Software", "Media"],
        "acquisition_channel": ["organic", "partner", "organic", "paid_search", "organic", "outbound", "organic"],
        "created_at": _dates(["2024-01-05", "2023-05-20", "2025-04-01", "2024-06-01", "2024-01-01",
                              "2023-12-20", "2024-04-20"]),
    })
    subs = pd.DataFrame([
        # A: monthly SMB, upgraded in Oct, its running row really ends 2025-05-10 (after as_of)
        ("s1", "A", "2024-01-10", "2024-10-10", 100.0, "USD", "Core", "Starter", 10.0, "2024-10-10"),
        ("s2", "A", "2024-10-10", "2025-05-10", 150.0, "USD", "Core", "Growth", 15.0, "2025-05-10"),
        # B: annual EUR contract, running
        ("s3", "B", "2023-06-01", None, 1000.0, "EUR", "Core", "Scale", 100.0, "2025-06-01"),
        # C: starts on as_of -> not in the population
        ("s4", "C", "2025-04-01", None, 80.0, "USD", "Core", "Starter", 8.0, "2025-05-01"),
        # D: ends exactly on as_of -> its end is not known yet: in the population, churned
        ("s5", "D", "2024-06-01", "2025-04-01", 60.0, "USD", "Core", "Starter", 6.0, "2025-04-01"),
        # E: churned before as_of -> not in the population
        ("s6", "E", "2024-01-01", "2025-02-01", 70.0, "USD", "Core", "Starter", 7.0, "2025-02-01"),
        # F: expansion in December (add-on) and January (new row at a higher MRR)
        ("s7", "F", "2024-01-01", "2025-01-01", 200.0, "USD", "Core", "Growth", 20.0, "2025-01-01"),
        ("s8", "F", "2025-01-01", None, 300.0, "USD", "Core", "Growth", 30.0, "2026-01-01"),
        ("s9", "F", "2024-12-15", None, 50.0, "USD", "Analytics", "Add-on", 5.0, "2026-01-01"),
        # G: leaves 2025-05-01 and comes back 2025-06-15, inside the window -> not churned
        ("s10", "G", "2024-05-01", "2025-05-01", 90.0, "USD", "Core", "Starter", 9.0, "2025-05-01"),
        ("s11", "G", "2025-06-15", None, 90.0, "USD", "Core", "Starter", 9.0, "2025-07-15"),
    ], columns=["subscription_id", "customer_id", "start_date", "end_date", "mrr", "currency",
                "product", "plan", "quantity", "committed_end_date"])
    for c in ("start_date", "end_date", "committed_end_date"):
        subs[c] = _dates(subs[c])
    invoices = pd.DataFrame([
        # A: monthly; Feb invoice paid 8 days late, Mar invoice paid after as_of (unknown)
        ("i1", "A", "2025-02-10", 150.0, "USD", "2025-03-12", "2025-03-20", "recurring", "2025-02-10", "2025-03-10"),
        ("i2", "A", "2025-03-10", 150.0, "USD", "2025-04-09", "2025-04-20", "recurring", "2025-03-10", "2025-04-10"),
        ("i3", "A", "2025-04-10", 150.0, "USD", "2025-05-10", None, "recurring", "2025-04-10", "2025-05-10"),
        # B: annual upfront, paid early; overdue services invoice at as_of (due 2025-03-01, paid later)
        ("i4", "B", "2024-06-01", 12000.0, "EUR", "2024-07-01", "2024-06-25", "recurring", "2024-06-01", "2025-06-01"),
        ("i5", "B", "2025-01-30", 3000.0, "EUR", "2025-03-01", "2025-04-05", "services", "2025-01-30", "2025-03-30"),
        ("i6", "D", "2025-03-01", 60.0, "USD", "2025-03-31", "2025-03-15", "recurring", "2025-03-01", "2025-04-01"),
        ("i7", "F", "2025-01-01", 3600.0, "USD", "2025-01-31", "2025-01-20", "recurring", "2025-01-01", "2026-01-01"),
        ("i8", "G", "2025-03-01", 90.0, "USD", "2025-03-31", "2025-03-10", "recurring", "2025-03-01", "2025-04-01"),
    ], columns=["invoice_id", "customer_id", "issued_at", "amount", "currency", "due_at", "paid_at",
                "kind", "service_start", "service_end"])
    for c in ("issued_at", "due_at", "paid_at", "service_start", "service_end"):
        invoices[c] = _dates(invoices[c])
    tickets = pd.DataFrame([
        ("t1", "A", "2025-03-01", "2025-03-05", "high", 2.0),
        ("t2", "A", "2025-03-20", "2025-04-03", "normal", 5.0),  # closed after as_of: open, csat unknown
        ("t3", "A", "2025-04-02", "2025-04-04", "urgent", 1.0),  # future
        ("t4", "A", "2024-01-15", "2024-01-20", "low", 4.0),  # older than 365 days
        ("t5", "F", "2024-12-01", "2024-12-11", "urgent", 3.0),
    ], columns=["ticket_id", "customer_id", "opened_at", "closed_at", "priority", "csat"])
    for c in ("opened_at", "closed_at"):
        tickets[c] = _dates(tickets[c])
    nps = pd.DataFrame({"customer_id": ["A", "A", "A", "B"],
                        "responded_at": _dates(["2024-09-10", "2025-03-15", "2025-04-15", "2024-09-01"]),
                        "score": [8, 5, 0, 9]})
    months = pd.date_range("2024-10-01", "2025-04-01", freq="MS")
    usage = pd.DataFrame({
        "customer_id": ["A"] * 7 + ["B"] * 7,
        "month": list(months) * 2,
        "active_users": [9, 9, 9, 6, 5, 4, 0] + [80, 80, 80, 80, 80, 80, 80],
        "licensed_seats": [10.0] * 7 + [100.0] * 7,
        "feature_events": [100.0] * 6 + [1.0] + [400, 400, 400, 800, 800, 800, 5],
    })
    usage["active_users"] = usage["active_users"].astype("float64")
    usage["feature_events"] = usage["feature_events"].astype("float64")
    opps = pd.DataFrame([
        ("o1", "2025-02-15", "Closed Lost", 13000.0, "B", "renewal", "2025-05-25", True, False),  # closes after as_of
        ("o2", "2024-08-01", "Closed Won", 600.0, "B", "expansion", "2024-09-01", True, True),
        ("o3", "2025-04-10", "Prospecting", 100.0, "A", "expansion", "2025-06-01", False, False),  # future
        ("o4", "2024-10-01", "Closed Won", 1200.0, "F", "expansion", "2024-12-10", True, True),
    ], columns=["opportunity_id", "created_at", "stage", "amount", "customer_id", "type", "close_date",
                "is_closed", "is_won"])
    for c in ("created_at", "close_date"):
        opps[c] = _dates(opps[c])
    fx = pd.DataFrame({"month": pd.date_range("2024-01-01", "2025-07-01", freq="MS").repeat(2),
                       "currency": ["USD", "EUR"] * 19, "rate": [1.0, 1.1] * 19})
    fx.loc[(fx["currency"] == "EUR") & (fx["month"] >= "2025-04-01"), "rate"] = 1.5  # future rates
    return {"customers": customers, "subscriptions": subs, "invoices": invoices,
            "support_tickets": tickets, "nps_responses": nps, "product_usage": usage,
            "opportunities": opps, "fx_rates": fx}


@pytest.fixture
def tiny():
    return rk.from_frames(tiny_frames(), source="tiny churn")


def row(frame: pd.DataFrame, cid: str) -> pd.Series:
    return frame.set_index("customer_id").loc[cid]


# ---------------------------------------------------------------------------- population / label
def test_population_and_labels(tiny):
    ts = build_training_set(tiny, AS_OF, horizon_months=3)
    # C starts on as_of, E left before: out. D ends on as_of: its end is not known yet: in.
    assert ts["customer_id"].tolist() == ["A", "B", "D", "F", "G"]
    labels = ts.set_index("customer_id")["churned"].to_dict()
    # A ends 2025-05-10, D ends 2025-04-01: churned; G leaves and returns before 2025-07-01: not
    assert labels == {"A": 1, "B": 0, "D": 1, "F": 0, "G": 0}
    assert (ts["as_of"] == AS_OF).all()


def test_label_window_edges(tiny):
    # horizon 1: label date 2025-05-01 -> A (ends 05-10) still active, D churned, G ends 05-01 exactly
    ts = build_training_set(tiny, AS_OF, horizon_months=1).set_index("customer_id")["churned"]
    assert ts.to_dict() == {"A": 0, "B": 0, "D": 1, "F": 0, "G": 1}


def test_label_needs_observed_window(tiny):
    with pytest.raises(rk.PeriodError, match="label is unknown"):
        build_training_set(tiny, "2025-06-01", horizon_months=3)


# ---------------------------------------------------------------------------- golden features
def test_subscription_features(tiny):
    f = build_features(tiny, AS_OF)
    a, b, f_ = row(f, "A"), row(f, "B"), row(f, "F")
    assert a["mrr"] == 150.0 and a["seats"] == 15.0 and a["plan"] == "Growth"
    # B is in EUR: converted at the last month before as_of (2025-03: 1.1), not the future 1.5
    assert b["mrr"] == pytest.approx(1100.0)
    assert a["tenure_months"] == pytest.approx((AS_OF - D("2024-01-10")).days / (365.25 / 12))
    # F: MRR 350 on 2025-03-31 vs 250 on 2024-12-31 (200 + add-on 50) and 200 a year ago
    assert f_["mrr"] == 350.0
    assert f_["mrr_change_3m"] == pytest.approx((350 - 250) / 350)
    assert f_["mrr_change_12m"] == pytest.approx((350 - 200) / 350)
    assert f_["expansions_12m"] == 2 and f_["contractions_12m"] == 0
    assert f_["active_products"] == 2 and f_["product"] == "Core"
    # A: monthly invoices -> term 1 month, paid through 2025-04-10
    assert a["contract_term_months"] == 1
    assert a["renewal_date"] == D("2025-04-10")
    assert a["months_to_renewal"] == pytest.approx(9 / (365.25 / 12))
    # B: annual invoice (the services invoice is not recurring) -> term 12, renewal 2025-06-01
    assert b["contract_term_months"] == 12 and b["renewal_date"] == D("2025-06-01")
    # D: paid through 2025-04-01 = as_of -> renewal today
    assert row(f, "D")["months_to_renewal"] == 0


def test_other_table_features(tiny):
    f = build_features(tiny, AS_OF)
    a, b = row(f, "A"), row(f, "B")
    # tickets: t1 (31 days ago, high) and t2 (12 days ago, still open at as_of); t3 is future; t4 old
    assert (a["tickets_90d"], a["tickets_365d"], a["urgent_tickets_90d"], a["open_tickets"]) == (2, 2, 1, 1)
    assert a["csat_mean_365d"] == 2.0  # t2's csat 5 is given after as_of
    assert a["days_to_close_mean_365d"] == 4.0
    assert row(f, "F")["urgent_tickets_90d"] == 0 and row(f, "F")["tickets_365d"] == 1
    # NPS: last before as_of is 5 (the 0 comes later), change 5 - 8
    assert (a["nps_last"], a["nps_change"], a["days_since_nps"]) == (5, -3, 17)
    assert b["nps_last"] == 9 and np.isnan(b["nps_change"])
    assert np.isnan(row(f, "D")["nps_last"])
    # usage: last complete month 2025-03 (the April row is not complete)
    assert a["active_users"] == 4 and a["seat_utilisation"] == pytest.approx(0.4)
    assert a["seat_utilisation_change_3m"] == pytest.approx(0.5 - 0.9)
    assert a["active_users_change_3m"] == pytest.approx((5 - 9) / 9)
    assert a["feature_events_change_3m"] == pytest.approx(0.0)
    assert b["feature_events_change_3m"] == pytest.approx(np.log1p(800) - np.log1p(400))
    assert np.isnan(row(f, "F")["active_users"])
    # invoices: i1 paid 8 days late (the only one settled before as_of); i2 unpaid, not yet due
    assert (a["late_invoices_365d"], a["days_late_mean_365d"], a["overdue_invoices"]) == (1, 8.0, 0)
    # B: the services invoice was due 2025-03-01 and is paid only after as_of -> overdue 31 days
    assert (b["overdue_invoices"], b["max_days_overdue"]) == (1, 31)
    # opportunities: o1 closes after as_of -> open; o2 a won expansion 7 months ago
    assert (b["open_opportunities"], b["won_expansions_365d"]) == (1, 1)
    assert a["open_opportunities"] == 0  # o3 is created after as_of
    assert row(f, "F")["won_expansions_365d"] == 1
    assert a["segment"] == "SMB" and b["region"] == "EMEA"


def test_several_as_of_dates_stack(tiny):
    one = build_features(tiny, "2025-01-01")
    two = build_features(tiny, AS_OF)
    both = build_features(tiny, [AS_OF, "2025-01-01"])
    assert both["as_of"].is_monotonic_increasing
    pd.testing.assert_frame_equal(both, pd.concat([one, two], ignore_index=True))


def test_does_not_mutate_inputs(tiny, frozen_frames):
    with frozen_frames(*tiny.tables().values()):
        build_training_set(tiny, [AS_OF, "2025-01-01"], 3)


def test_without_optional_tables():
    frames = tiny_frames()
    data = rk.from_frames({"subscriptions": frames["subscriptions"], "fx_rates": frames["fx_rates"]})
    f = build_features(data, AS_OF)
    num, cat = rk.churn.feature_columns(f)
    assert "tickets_90d" not in num and "segment" not in cat
    # contract features fall back to committed_end_date without invoice service periods
    assert row(f, "B")["renewal_date"] == D("2025-06-01")
    assert row(f, "A")["renewal_date"] == D("2025-05-10")


# ---------------------------------------------------------------------------- leakage
DATE_OF = {"customers": "created_at", "subscriptions": "start_date", "invoices": "issued_at",
           "support_tickets": "opened_at", "nps_responses": "responded_at", "product_usage": "month",
           "opportunities": "created_at", "fx_rates": "month", "opportunity_history": "changed_at",
           "leads": "created_at", "costs": "month", "forecast_submissions": "submitted_at"}


def _scramble(frame: pd.DataFrame, mask: pd.Series, rng: np.random.Generator, as_of: pd.Timestamp,
              date_col: str) -> pd.DataFrame:
    """Change every value of the masked rows (dates stay on or after as_of; ids stay valid)."""
    out = frame.copy()
    idx = out.index[mask]
    if len(idx) == 0:
        return out
    for col in out.columns:
        s = out[col]
        if col.endswith("_id") and col != "customer_id":
            continue
        if pd.api.types.is_datetime64_any_dtype(s):
            out.loc[idx, col] = (as_of + pd.to_timedelta(rng.integers(0, 400, len(idx)), unit="D")) \
                .to_numpy(dtype="datetime64[ns]")
        elif pd.api.types.is_bool_dtype(s) or str(s.dtype) == "boolean":
            out.loc[idx, col] = rng.random(len(idx)) < 0.5
        elif pd.api.types.is_numeric_dtype(s):
            out.loc[idx, col] = np.round(rng.uniform(0, 10, len(idx)) * (1 + s.abs().max() if s.notna().any() else 1), 0)
        elif col == "customer_id":
            continue
        else:
            out.loc[idx, col] = rng.choice(["x", "SMB", "urgent", "Closed Lost", "EUR"], len(idx))
    return out


def perturb_future(data: RevOpsData, as_of, seed: int, *, delete: bool) -> RevOpsData:
    """Delete or scramble every row dated on/after as_of and every later field not yet known."""
    rng = np.random.default_rng(seed)
    as_of = pd.Timestamp(as_of)
    tables = {}
    for name, frame in data.tables().items():
        col = DATE_OF.get(name)
        future = (frame[col] >= as_of).fillna(False) if col else pd.Series(False, index=frame.index)
        frame = frame.loc[~future].copy() if delete else _scramble(frame, future, rng, as_of, col)
        keep = ~future if not delete else pd.Series(True, index=frame.index)
        later = lambda c: (frame[c].isna() | (frame[c] >= as_of)) & keep.reindex(frame.index, fill_value=True)
        shift = lambda n: as_of + pd.to_timedelta(rng.integers(0, 300, n), unit="D")

        def later_or_blank(n):
            dates = pd.Series(shift(n))
            return dates.where(rng.random(n) >= 0.3).to_numpy(dtype="datetime64[ns]")

        if name == "subscriptions":
            m = later("end_date")
            frame.loc[m, "end_date"] = later_or_blank(m.sum())
        elif name == "invoices":
            m = later("paid_at")
            frame.loc[m, "paid_at"] = later_or_blank(m.sum())
        elif name == "support_tickets":
            m = later("closed_at")
            frame.loc[m, "closed_at"] = later_or_blank(m.sum())
            frame.loc[m, "csat"] = rng.integers(1, 6, m.sum()).astype("float64")
        elif name == "opportunities":
            closed = frame["is_closed"].astype("boolean").fillna(False).astype(bool) & \
                (frame["close_date"] < as_of).fillna(False).astype(bool)
            m = ~closed & keep.reindex(frame.index, fill_value=True)
            frame.loc[m, "close_date"] = shift(m.sum()).to_numpy(dtype="datetime64[ns]")
            frame.loc[m, "is_closed"] = rng.random(m.sum()) < 0.7
            frame.loc[m, "is_won"] = rng.random(m.sum()) < 0.5
            frame.loc[m, "type"] = rng.choice(["expansion", "renewal", "new_business"], m.sum())
            frame.loc[m, "amount"] = rng.uniform(1, 1e5, m.sum())
        tables[name] = frame.reset_index(drop=True)
    return RevOpsData(**tables, source="perturbed")


@pytest.mark.parametrize("as_of", ["2025-01-01", "2025-04-01", "2025-03-17"])
@pytest.mark.parametrize("delete", [True, False])
def test_no_leakage_tiny_systematic(tiny, as_of, delete):
    """Deleting / scrambling every future row and every not-yet-known field changes nothing."""
    before = build_features(tiny, as_of)
    for seed in range(5):
        after = build_features(perturb_future(tiny, as_of, seed, delete=delete), as_of)
        pd.testing.assert_frame_equal(before, after)


def test_no_leakage_tiny_each_row(tiny):
    """Deleting any single row dated on or after as_of leaves the features unchanged."""
    before = build_features(tiny, AS_OF)
    for name, frame in tiny.tables().items():
        col = DATE_OF[name]
        for i in frame.index[(frame[col] >= AS_OF).fillna(False)]:
            tables = dict(tiny.tables())
            tables[name] = frame.drop(index=i).reset_index(drop=True)
            after = build_features(RevOpsData(**tables), AS_OF)
            pd.testing.assert_frame_equal(before, after, obj=f"{name} row {i}")


@pytest.fixture(scope="module")
def sample_slice():
    """The sample restricted to 150 customers (every table), for fast leakage properties."""
    data = rk.load_sample()
    ids = set(sorted(data.customers["customer_id"])[::16])
    tables = {}
    for name, frame in data.tables().items():
        tables[name] = frame.loc[frame["customer_id"].isin(ids)].reset_index(drop=True) \
            if "customer_id" in frame.columns else frame
    return RevOpsData(**tables, source="sample slice")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(month=st.integers(min_value=6, max_value=44), day=st.sampled_from([1, 1, 15]),
       seed=st.integers(0, 10_000), delete=st.booleans())
def test_no_leakage_sample_property(sample_slice, month, day, seed, delete):
    as_of = pd.Timestamp("2022-01-01") + pd.DateOffset(months=month, days=day - 1)
    before = build_features(sample_slice, as_of)
    after = build_features(perturb_future(sample_slice, as_of, seed, delete=delete), as_of)
    assert len(before) > 0
    pd.testing.assert_frame_equal(before, after)
