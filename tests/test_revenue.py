"""Revenue KPIs: golden hand-computed cases, a brute-force reference, and hypothesis properties.

The golden book (``GOLDEN``) is small enough to check by hand; the numbers in each test are
worked out in the comments next to them. Period: 2025-Q1 (Jan-Mar), so the period start is the
MRR of December 2024.

    customer  segment     rows (start -> end, mrr, committed_end)
    a         SMB         2024-10-01 -> 2025-02-01 100 ; 2025-02-01 -> open 150       (expansion Feb)
    b         SMB         2024-03-01 -> 2025-03-01 200, committed 2025-03-01           (churn Mar)
    c         SMB         2025-01-15 -> open 50                                       (new Feb: mid-month start)
    d         Enterprise  2024-01-01 -> 2024-11-01 80 ; 2025-02-01 -> open 60         (reactivation Feb)
    e         Enterprise  2024-12-01 -> 2025-03-01 300 ; 2025-03-01 -> open 250,
                          both committed 2025-12-01                                   (contraction Mar)
    f         Enterprise  2025-01-01 -> 2025-02-01 40                                 (new Jan, churn Feb)
    g         Enterprise  2024-02-01 -> 2025-02-01 500, committed 2025-02-01 ;
                          2025-02-01 -> open 550, committed 2026-02-01                 (renewal + uplift Feb)

    month     a    b    c   d    e    f    g    MRR   active
    2024-12  100  200   -   -   300   -   500   1100   4 (a b e g)
    2025-01  100  200   -   -   300  40   500   1140   5
    2025-02  150  200  50  60   300   0   550   1310   6 (f churned)
    2025-03  150    0  50  60   250   -   550   1060   5 (b churned)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import revops_kit as rk
from revops_kit.errors import ZeroDenominatorWarning
from revops_kit.revenue import CATEGORIES

D = pd.Timestamp


def _subs(rows, currency=True):
    frame = pd.DataFrame(rows, columns=["subscription_id", "customer_id", "start_date", "end_date",
                                        "mrr", "currency", "committed_end_date"])
    for col in ("start_date", "end_date", "committed_end_date"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    frame["product"] = "Core"
    if not currency:
        frame = frame.drop(columns="currency")
    return frame


GOLDEN = _subs([
    ("s1", "a", "2024-10-01", "2025-02-01", 100.0, "USD", None),
    ("s2", "a", "2025-02-01", None, 150.0, "USD", None),
    ("s3", "b", "2024-03-01", "2025-03-01", 200.0, "USD", "2025-03-01"),
    ("s4", "c", "2025-01-15", None, 50.0, "USD", None),
    ("s5", "d", "2024-01-01", "2024-11-01", 80.0, "USD", None),
    ("s6", "d", "2025-02-01", None, 60.0, "USD", None),
    ("s7", "e", "2024-12-01", "2025-03-01", 300.0, "USD", "2025-12-01"),
    ("s8", "e", "2025-03-01", None, 250.0, "USD", "2025-12-01"),
    ("s9", "f", "2025-01-01", "2025-02-01", 40.0, "USD", None),
    ("s10", "g", "2024-02-01", "2025-02-01", 500.0, "USD", "2025-02-01"),
    ("s11", "g", "2025-02-01", None, 550.0, "USD", "2026-02-01"),
])
CUSTOMERS = pd.DataFrame({"customer_id": list("abcdefg"),
                          "name": ["A", "B", "<script>C</script>", "D", "E", "F", "G"],
                          "segment": ["SMB"] * 3 + ["Enterprise"] * 4})
Q1 = "2025-Q1"


def _one(frame, col="value"):
    assert len(frame) == 1
    return float(frame[col].iloc[0])


# ---------------------------------------------------------------------- movements
def test_golden_movements_rows_and_categories():
    mv = rk.mrr_movements(GOLDEN, start="2025-01", end="2025-04")
    got = {(r.customer_id, r.month.strftime("%Y-%m")): (r.mrr, r.previous_mrr, r.category)
           for r in mv.itertuples()}
    assert got == {
        ("a", "2025-01"): (100, 100, "unchanged"), ("a", "2025-02"): (150, 100, "expansion"),
        ("a", "2025-03"): (150, 150, "unchanged"),
        ("b", "2025-01"): (200, 200, "unchanged"), ("b", "2025-02"): (200, 200, "unchanged"),
        ("b", "2025-03"): (0, 200, "churn"),
        ("c", "2025-02"): (50, 0, "new"), ("c", "2025-03"): (50, 50, "unchanged"),
        ("d", "2025-02"): (60, 0, "reactivation"), ("d", "2025-03"): (60, 60, "unchanged"),
        ("e", "2025-01"): (300, 300, "unchanged"), ("e", "2025-02"): (300, 300, "unchanged"),
        ("e", "2025-03"): (250, 300, "contraction"),
        ("f", "2025-01"): (40, 0, "new"), ("f", "2025-02"): (0, 40, "churn"),
        ("g", "2025-01"): (500, 500, "unchanged"), ("g", "2025-02"): (550, 500, "expansion"),
        ("g", "2025-03"): (550, 550, "unchanged"),
    }
    assert list(mv.columns) == ["customer_id", "month", "mrr", "previous_mrr", "change",
                                "fx_impact", "movement", "category"]
    assert (mv["change"] == mv["mrr"] - mv["previous_mrr"]).all()
    assert list(mv["category"].cat.categories) == list(CATEGORIES)


def test_default_window_ends_with_the_last_churn_row():
    mv = rk.mrr_movements(GOLDEN)
    # d's first life: new 2024-02 (start 2024-01-01 is active from Jan), churn row 2024-11
    d = mv[mv["customer_id"] == "d"]
    assert d["month"].min() == D("2024-01-01") and d["category"].iloc[0] == "new"
    assert d.loc[d["month"] == D("2024-11-01"), "category"].item() == "churn"
    # open-ended rows run to the month after the latest start/end date in the table
    assert mv["month"].max() == D("2025-03-01")


def test_reactivation_window_policy_turns_a_late_return_into_new():
    # d was inactive Nov, Dec, Jan (3 months) before returning in Feb
    three = rk.DEFAULT_POLICY.replace(reactivation_window_months=3)
    two = rk.DEFAULT_POLICY.replace(reactivation_window_months=2)
    row = lambda p: rk.mrr_movements(GOLDEN, start="2025-02", end="2025-03", policy=p)  # noqa: E731
    assert row(three).set_index("customer_id").loc["d", "category"] == "reactivation"
    assert row(two).set_index("customer_id").loc["d", "category"] == "new"


def test_mid_month_dates_follow_the_half_open_rule():
    subs = _subs([("s", "x", "2025-01-15", "2025-03-15", 10.0, "USD", None)])
    mv = rk.mrr_movements(subs)
    # active in months m with start <= m < end: Feb and Mar; churn row in Apr
    assert mv["month"].dt.strftime("%Y-%m").tolist() == ["2025-02", "2025-03", "2025-04"]
    assert mv["category"].astype(str).tolist() == ["new", "unchanged", "churn"]


def test_cents_precision_never_makes_a_fake_expansion():
    # 0.1 + 0.2 != 0.3 in floats; in cents 10 + 20 == 30
    subs = _subs([("s1", "x", "2025-01-01", "2025-02-01", 0.1, "USD", None),
                  ("s2", "x", "2025-01-01", "2025-02-01", 0.2, "USD", None),
                  ("s3", "x", "2025-02-01", None, 0.3, "USD", None)])
    mv = rk.mrr_movements(subs, end="2025-03")
    assert mv["category"].astype(str).tolist() == ["new", "unchanged"]


def test_by_subscription_column_changes_the_grain():
    subs = _subs([("s1", "x", "2025-01-01", None, 100.0, "USD", None),
                  ("s2", "x", "2025-02-01", None, 30.0, "USD", None)])
    subs.loc[1, "product"] = "Analytics"
    mv = rk.mrr_movements(subs, end="2025-03", by="product")
    got = mv[["product", "category"]].astype(str).values.tolist()
    # the customer's first Analytics month is "new" for Analytics
    assert got == [["Analytics", "new"], ["Core", "new"], ["Core", "unchanged"]]


# ---------------------------------------------------------------------- bridge
def test_golden_bridge_q1():
    b = rk.mrr_bridge(GOLDEN, Q1)
    row = b.iloc[0]
    # start Dec 1100; new f 40 + c 50; expansion a 50 + g 50; reactivation d 60;
    # contraction e 50; churn f 40 + b 200; end 1100 + 90 + 100 + 60 - 50 - 240 = 1060
    assert row[["mrr_start", "new", "expansion", "reactivation", "contraction", "churn",
                "fx_impact", "mrr_end"]].tolist() == [1100, 90, 100, 60, 50, 240, 0, 1060]
    assert row[["customers_start", "customers_new", "customers_reactivated", "customers_churned",
                "customers_end"]].tolist() == [4, 2, 1, 2, 5]
    assert row["net_change"] == -40


def test_golden_bridge_by_segment():
    b = rk.mrr_bridge(GOLDEN, Q1, by="segment", customers=CUSTOMERS).set_index("segment")
    # SMB: start a100+b200 = 300; new c 50; expansion a 50; churn b 200; end a150 + c50 = 200
    assert b.loc["SMB", ["mrr_start", "new", "expansion", "churn", "mrr_end"]].tolist() == \
        [300, 50, 50, 200, 200]
    # Enterprise: start e300+g500 = 800; new f40; exp g50; react d60; contr e50; churn f40; end 860
    assert b.loc["Enterprise", ["mrr_start", "new", "expansion", "reactivation", "contraction",
                                "churn", "mrr_end"]].tolist() == [800, 40, 50, 60, 50, 40, 860]


def test_bridge_from_movements_matches_period_bridges():
    mv = rk.mrr_movements(GOLDEN, start="2024-01", end="2025-04")
    monthly = rk.bridge_from_movements(mv)
    feb = monthly[monthly["period_start"] == D("2025-02-01")].iloc[0]
    ref = rk.mrr_bridge(GOLDEN, "2025-02").iloc[0]
    for col in ("mrr_start", "new", "expansion", "reactivation", "contraction", "churn", "mrr_end"):
        assert feb[col] == ref[col]
    quarterly = rk.bridge_from_movements(mv, freq="Q").set_index("period_start")
    q1 = rk.mrr_bridge(GOLDEN, Q1).iloc[0]
    for col in ("mrr_start", "new", "expansion", "churn", "mrr_end"):
        assert quarterly.loc[D("2025-01-01"), col] == q1[col]


FX = pd.DataFrame({
    "month": pd.to_datetime(["2024-12-01", "2025-01-01", "2025-02-01", "2025-03-01"] * 2),
    "currency": ["EUR"] * 4 + ["USD"] * 4,
    "rate": [1.10, 1.10, 1.20, 1.25] + [1.0] * 4,
})
FX_SUBS = _subs([
    ("x1", "x", "2024-12-01", "2025-03-01", 100.0, "EUR", None),
    ("x2", "x", "2025-03-01", None, 110.0, "EUR", None),
    ("y1", "y", "2025-01-01", "2025-03-01", 50.0, "EUR", None),
    ("z1", "z", "2024-12-01", None, 10.0, "USD", None),
])


def test_golden_fx_impact_is_its_own_line():
    # Dec: x 100€×1.10 + z 10 = 120. Jan: + y 50€×1.10 = 175 (new 55).
    # Feb: x 120 (fx +10), y 60 (fx +5), z 10 = 190.
    # Mar: x 110€×1.25 = 137.50; last month's 100€ at Mar rate = 125 -> fx +5, expansion 12.50;
    #      y churns: churn = 60 as reported in Feb. Total 147.50.
    b = rk.mrr_bridge(FX_SUBS, Q1, fx_rates=FX).iloc[0]
    assert b[["mrr_start", "new", "expansion", "churn", "fx_impact", "mrr_end"]].tolist() == \
        [120, 55, 12.5, 60, 20, 147.5]
    mv = rk.mrr_movements(FX_SUBS, start="2025-02", end="2025-04", fx_rates=FX)
    x = mv[mv["customer_id"] == "x"]
    assert x["fx_impact"].tolist() == [10, 5] and x["category"].astype(str).tolist() == \
        ["unchanged", "expansion"]


def test_fx_policies_dbt_and_fixed():
    dbt = rk.mrr_bridge(FX_SUBS, Q1, fx_rates=FX, policy=rk.get_policy("dbt_mrr_playbook")).iloc[0]
    # the playbook classifies the whole change: Feb x +10 and y +5, Mar x +17.50 are expansion
    assert dbt[["expansion", "fx_impact", "mrr_end"]].tolist() == [32.5, 0, 147.5]
    fixed = rk.DEFAULT_POLICY.replace(fx_mode="fixed", fx_fixed_month="2024-12")
    b = rk.mrr_bridge(FX_SUBS, Q1, fx_rates=FX, policy=fixed).iloc[0]
    # everything at 1.10: start 120, new 55, expansion 11, churn 55, end 110×1.1 + 10 = 131
    assert b[["mrr_start", "new", "expansion", "churn", "fx_impact", "mrr_end"]].tolist() == \
        [120, 55, 11, 55, 0, 131]


def test_missing_rate_and_missing_table_errors_name_the_problem():
    with pytest.raises(rk.RevOpsError, match=r"fx_rates.*EUR.*2025-04"):
        rk.mrr_bridge(FX_SUBS, "2025-04", fx_rates=FX)
    with pytest.raises(rk.RevOpsError, match="no fx_rates table"):
        rk.mrr(FX_SUBS, Q1)
    with pytest.raises(rk.RevOpsError, match=r"subscriptions: missing column\(s\) \['mrr'\]"):
        rk.mrr_movements(GOLDEN.drop(columns="mrr"))
    bad = GOLDEN.copy()
    bad.loc[2, "mrr"] = -5.0
    with pytest.raises(rk.RevOpsError, match=r"'mrr' must be a finite amount >= 0.*data row\(s\) \[3\]"):
        rk.mrr_movements(bad)


# ---------------------------------------------------------------------- point KPIs
def test_golden_mrr_arr_customers_and_series():
    assert _one(rk.mrr(GOLDEN, Q1)) == 1060
    assert _one(rk.arr(GOLDEN, Q1)) == 12 * 1060
    assert _one(rk.customers_active(GOLDEN, Q1)) == 5
    seg = rk.mrr(GOLDEN, Q1, by="segment", customers=CUSTOMERS).set_index("segment")["value"]
    assert seg.to_dict() == {"Enterprise": 860, "SMB": 200}
    s = rk.mrr_series(GOLDEN, pd.date_range("2024-12-01", periods=4, freq="MS"))
    assert s["mrr"].tolist() == [1100, 1140, 1310, 1060]
    assert s["customers"].tolist() == [4, 5, 6, 5]


def test_golden_movement_kpis_via_catalogue():
    data = rk.from_frames({"subscriptions": GOLDEN, "customers": CUSTOMERS})
    k = rk.compute_kpis(data, Q1, ["mrr_new", "mrr_expansion", "mrr_reactivation",
                                   "mrr_contraction", "mrr_churned", "mrr_net_change",
                                   "customers_new", "customers_reactivated"])
    assert dict(zip(k["kpi"], k["value"])) == {
        "mrr_new": 90, "mrr_expansion": 100, "mrr_reactivation": 60, "mrr_contraction": 50,
        "mrr_churned": 240, "mrr_net_change": -40, "customers_new": 2,
        "customers_reactivated": 1}


def test_golden_arpa_and_new_customer_arpa():
    a = rk.arpa(GOLDEN, Q1).iloc[0]
    # end: 1060 / 5 = 212; new customers c (50) and f (40): 90 / 2 = 45
    assert (a["value"], a["numerator"], a["denominator"]) == (212, 1060, 5)
    assert (a["new_mrr"], a["new_customers"], a["new_customer_arpa"]) == (90, 2, 45)
    avg = rk.arpa(GOLDEN, Q1, policy=rk.DEFAULT_POLICY.replace(arpa_basis="average")).iloc[0]
    # (1140 + 1310 + 1060) / (5 + 6 + 5) = 3510 / 16
    assert (avg["numerator"], avg["denominator"]) == (3510, 16)
    assert avg["value"] == pytest.approx(219.375, abs=0)
    n = rk.new_customer_arpa(GOLDEN, Q1, by="segment", customers=CUSTOMERS).set_index("segment")
    assert n.loc["SMB", "value"] == 50 and n.loc["Enterprise", "value"] == 40


def test_golden_growth_rate():
    g = rk.revenue_growth_rate(GOLDEN, Q1).iloc[0]
    # (1060 - 1100) / 1100
    assert (g["numerator"], g["denominator"]) == (-40, 1100)
    y = rk.revenue_growth_rate(GOLDEN, "2025-03", compare="year_ago").iloc[0]
    # March 2024: b 200 + d 80 + g 500 = 780
    assert (y["numerator"], y["denominator"]) == (1060 - 780, 780)


def test_golden_backlog():
    # at the end of March, first month after = April 2025:
    # g 550 × (Feb 2026 - Apr 2025 = 10 months) + e 250 × (Dec 2025 - Apr 2025 = 8) = 7500
    b = rk.revenue_backlog(GOLDEN, Q1)
    assert _one(b) == 7500 and int(b["subscriptions"].iloc[0]) == 2


OPPS = pd.DataFrame({
    "opportunity_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
    "created_at": pd.to_datetime(["2024-11-01"] * 6),
    "stage": ["Closed Won", "Closed Won", "Closed Lost", "Closed Won", "Closed Won", "Closed Lost"],
    "amount": [6600.0, 1200.0, 9999.0, 5000.0, 6600.0, 2400.0],
    "customer_id": ["g", "c", None, "a", "g", "b"],
    "type": ["new_business", "expansion", "new_business", "new_business", "renewal", "renewal"],
    "close_date": pd.to_datetime(["2025-02-10", "2025-03-05", "2025-02-01", "2024-12-20",
                                  "2025-02-01", "2025-03-01"]),
    "is_closed": [True] * 6,
    "is_won": [True, True, False, True, True, False],
    "term_months": [24.0, 6.0, 12.0, 12.0, 12.0, 12.0],
    "currency": ["USD"] * 6,
})


def test_golden_tcv_acv_from_opportunities_and_subscriptions():
    c = rk.contract_values(OPPS, Q1).iloc[0]
    # won in Q1: o1 annual 6600 × 24/12 = 13200 (ACV 6600), o2 1200 × 6/12 = 600 (ACV 600),
    # o5 renewal 6600 × 12/12 (ACV 6600)
    assert (c["tcv"], c["acv"], c["contracts"]) == (13200 + 600 + 6600, 6600 + 600 + 6600, 3)
    total = rk.DEFAULT_POLICY.replace(opportunity_amount="total")
    t = rk.contract_values(OPPS, Q1, policy=total).iloc[0]
    # amount is the whole contract: TCV 6600 + 1200 + 6600; ACV 6600×12/24 + 1200 + 6600
    assert (t["tcv"], t["acv"]) == (14400, 3300 + 1200 + 6600)
    subs_basis = rk.DEFAULT_POLICY.replace(contract_value_source="subscriptions")
    s = rk.contract_values(None, Q1, subscriptions=GOLDEN, policy=subs_basis).iloc[0]
    # periods starting in Q1 with a committed end: e 250 × 9 months (Mar..Nov) = 2250, ACV same;
    # g 550 × 12 = 6600
    assert (s["tcv"], s["acv"], s["contracts"]) == (2250 + 6600, 2250 + 6600, 2)


def test_zero_denominators_give_nan_and_a_warning():
    empty_start = _subs([("s", "x", "2025-02-01", None, 10.0, "USD", None)])
    with pytest.warns(ZeroDenominatorWarning, match="growth"):
        g = rk.revenue_growth_rate(empty_start, Q1)
    assert np.isnan(g["value"].iloc[0])
    with pytest.warns(ZeroDenominatorWarning, match="ARPA"):
        a = rk.arpa(empty_start, "2024-Q4")
    assert np.isnan(a["value"].iloc[0])


def test_inputs_are_not_mutated(frozen_frames):
    subs, fx, cust = FX_SUBS.copy(), FX.copy(), CUSTOMERS.copy()
    subs.loc[len(subs)] = ["w", "w", D("2025-01-01"), pd.NaT, 5.0, None, pd.NaT, "Core"]
    with frozen_frames(subs, fx, cust, GOLDEN, OPPS):
        rk.mrr_movements(subs, fx_rates=fx, end="2025-04")
        rk.mrr_bridge(subs, Q1, fx_rates=fx, by="currency")
        rk.mrr_bridge(GOLDEN, Q1, by="segment", customers=cust)
        rk.arpa(GOLDEN, Q1, by="segment", customers=cust)
        rk.mrr_series(GOLDEN, pd.date_range("2025-01-01", periods=3, freq="MS"), by="segment",
                      customers=cust)
        rk.contract_values(OPPS, Q1)
        rk.revenue_backlog(GOLDEN, Q1, by="segment", customers=cust)
        rk.top_movements(GOLDEN, Q1, customers=cust)


def test_top_movements_lists_largest_per_category():
    t = rk.top_movements(GOLDEN, Q1, customers=CUSTOMERS)
    got = {(r.category, r.customer_id): (r.amount, r.mrr_start, r.mrr_end) for r in t.itertuples()}
    assert got == {("churn", "b"): (-200, 200, 0), ("churn", "f"): (-40, 0, 0),
                   ("contraction", "e"): (-50, 300, 250), ("expansion", "a"): (50, 100, 150),
                   ("expansion", "g"): (50, 500, 550)}
    # categories in rule order (expansion, contraction, churn), largest first within each
    assert t["category"].tolist() == ["expansion", "expansion", "contraction", "churn", "churn"]
    assert t["customer_id"].tolist()[-2:] == ["b", "f"]
    assert t.loc[t["customer_id"] == "b", "name"].item() == "B"


# ---------------------------------------------------------------------- brute-force reference
def _reference(subs: pd.DataFrame, fx: pd.DataFrame | None, first: str, end: str,
               policy=rk.DEFAULT_POLICY):
    """Loop-by-loop implementation of the documented definitions (slow, obviously right)."""
    rates = {}
    if fx is not None:
        for r in fx.itertuples():
            rates[(r.month.strftime("%Y-%m"), r.currency)] = r.rate
    months = pd.date_range(D(first) - pd.DateOffset(years=3), end, freq="MS", inclusive="left")

    def local(cust, m):
        out = {}
        for r in subs[subs["customer_id"] == cust].itertuples():
            cents = int(round(r.mrr * 100))
            if cents > 0 and r.start_date <= m and (pd.isna(r.end_date) or m < r.end_date):
                cur = r.currency if isinstance(r.currency, str) else "USD"
                out[cur] = out.get(cur, 0) + cents
        return out

    def conv(loc, m):
        return sum(round(v * (1.0 if c == "USD" else rates[(m.strftime("%Y-%m"), c)]))
                   for c, v in loc.items())

    rows = []
    for cust in sorted(subs["customer_id"].unique()):
        seen = False
        prev_loc: dict = {}
        for m in months:
            loc = local(cust, m)
            active, was = bool(loc), bool(prev_loc)
            if m >= D(first) and (active or was):
                now = conv(loc, m) if active else 0
                before = conv(prev_loc, m - pd.DateOffset(months=1)) if was else 0
                fx_c = conv(prev_loc, m) - before if (active and was) else 0
                move = now - before - fx_c
                if active and not seen:
                    cat = "new"
                elif not active and was:
                    cat = "churn"
                elif active and not was:
                    cat = "reactivation"
                elif move > 0:
                    cat = "expansion"
                elif move < 0:
                    cat = "contraction"
                else:
                    cat = "unchanged"
                rows.append((cust, m, now, before, fx_c, cat))
            seen = seen or active
            prev_loc = loc
    return rows


MONTHS = [f"2024-{m:02d}" for m in range(1, 13)] + [f"2025-{m:02d}" for m in range(1, 13)]


@st.composite
def books(draw, max_customers=5, currencies=("USD", "EUR")):
    """Random subscription books over 2024-2025 with mid-month dates, gaps and open ends."""
    rows = []
    n_c = draw(st.integers(1, max_customers))
    for c in range(n_c):
        start = draw(st.integers(0, 20))
        for k in range(draw(st.integers(1, 4))):
            length = draw(st.integers(1, 6))
            day = draw(st.sampled_from([1, 1, 15]))
            open_end = draw(st.booleans()) and draw(st.booleans())
            s = D(MONTHS[min(start, 23)]) + pd.Timedelta(days=day - 1)
            e = None if open_end else s + pd.DateOffset(months=length)
            mrr = draw(st.sampled_from([0.0, 0.01, 9.99, 10.0, 33.33, 100.0, 250.5]))
            cur = draw(st.sampled_from(currencies))
            rows.append((f"s{c}_{k}", f"c{c}", s, e, mrr, cur, None))
            start += length + draw(st.sampled_from([0, 0, 0, 1, 3]))
    return _subs(rows)


@st.composite
def rates(draw):
    values = draw(st.lists(st.sampled_from([0.9, 1.0, 1.0837, 1.1, 1.25]), min_size=26,
                           max_size=26))
    months = pd.date_range("2023-12-01", periods=26, freq="MS")
    return pd.DataFrame({"month": months, "currency": "EUR", "rate": values})


PROPS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(books(), rates())
def test_movements_match_the_brute_force_reference(subs, fx):
    mv = rk.mrr_movements(subs, start="2024-06", end="2026-01", fx_rates=fx)
    ref = _reference(subs, fx, "2024-06", "2026-01")
    got = [(r.customer_id, r.month, round(r.mrr * 100), round(r.previous_mrr * 100),
            round(r.fx_impact * 100), r.category) for r in mv.itertuples()]
    assert got == ref


def _cents(frame, cols):
    return {c: np.rint(frame[c].to_numpy() * 100).astype(np.int64) for c in cols}


@PROPS
@given(books(), rates(), st.sampled_from(["2024-07", "2025-02", "2024-Q3", "2025-Q4", "2024",
                                          "2025"]),
       st.sampled_from([None, "segment", "product", "currency", ["segment", "currency"]]),
       st.sampled_from(["default", "dbt_mrr_playbook", "chartmogul"]))
def test_bridge_identity_exact_for_every_period_and_group(subs, fx, period, by, policy):
    subs = subs.assign(product=np.where(np.arange(len(subs)) % 3 == 0, "Analytics", "Core"))
    customers = pd.DataFrame({"customer_id": subs["customer_id"].unique()})
    customers["segment"] = np.where(np.arange(len(customers)) % 2 == 0, "SMB", "Enterprise")
    b = rk.mrr_bridge(subs, period, by=by, customers=customers, fx_rates=fx, policy=policy)
    c = _cents(b, ["mrr_start", "new", "expansion", "reactivation", "contraction", "churn",
                   "fx_impact", "mrr_end"])
    lhs = (c["mrr_start"] + c["new"] + c["expansion"] + c["reactivation"] - c["contraction"]
           - c["churn"] + c["fx_impact"])
    assert (lhs == c["mrr_end"]).all()
    total = rk.mrr_bridge(subs, period, customers=customers, fx_rates=fx, policy=policy)
    # groups add up to the total for customer-level groupings
    if by in (None, "segment"):
        for col in ("mrr_start", "new", "churn", "mrr_end"):
            assert np.rint(b[col].sum() * 100) == np.rint(total[col].iloc[0] * 100)
    assert (b[["new", "expansion", "reactivation", "contraction", "churn"]] >= 0).all().all()


@PROPS
@given(books(), rates(), st.randoms(use_true_random=False))
def test_invariant_to_row_order(subs, fx, rnd):
    order = list(range(len(subs)))
    rnd.shuffle(order)
    shuffled = subs.iloc[order]
    a = rk.mrr_movements(subs, fx_rates=fx, end="2026-01")
    b = rk.mrr_movements(shuffled, fx_rates=fx, end="2026-01")
    pd.testing.assert_frame_equal(a, b)


@PROPS
@given(books(), rates(), st.data())
def test_invariant_to_splitting_a_period(subs, fx, data):
    i = data.draw(st.integers(0, len(subs) - 1))
    row = subs.iloc[i]
    end = row["end_date"] if pd.notna(row["end_date"]) else D("2026-06-01")
    days = (end - row["start_date"]).days
    if days < 2:
        return
    cut = row["start_date"] + pd.Timedelta(days=data.draw(st.integers(1, days - 1)))
    first = row.copy()
    second = row.copy()
    first["end_date"] = cut
    second["start_date"], second["subscription_id"] = cut, row["subscription_id"] + "b"
    split = pd.concat([subs.drop(index=subs.index[i]), first.to_frame().T, second.to_frame().T],
                      ignore_index=True).astype(subs.dtypes.to_dict())
    a = rk.mrr_movements(subs, fx_rates=fx, end="2026-01")
    b = rk.mrr_movements(split, fx_rates=fx, end="2026-01")
    pd.testing.assert_frame_equal(a, b)


@PROPS
@given(books(), rates(), books(currencies=("USD",)))
def test_invariant_to_adding_zero_mrr_rows(subs, fx, extra):
    zeros = extra.assign(mrr=0.0, subscription_id=extra["subscription_id"] + "z")
    zeros["customer_id"] = np.where(np.arange(len(zeros)) % 2 == 0, zeros["customer_id"],
                                    zeros["customer_id"] + "_new")
    more = pd.concat([subs, zeros], ignore_index=True)
    a = rk.mrr_movements(subs, fx_rates=fx, end="2026-01")
    b = rk.mrr_movements(more, fx_rates=fx, end="2026-01")
    pd.testing.assert_frame_equal(a, b)


def test_policies_are_validated():
    with pytest.raises(rk.PolicyError, match="arpa_basis"):
        rk.DEFAULT_POLICY.replace(arpa_basis="median")
    with pytest.raises(rk.PolicyError, match="reactivation_window_months"):
        rk.DEFAULT_POLICY.replace(reactivation_window_months=-1)


def test_sample_q4_headline_figures_are_consistent(sample):
    b = rk.mrr_bridge(sample.subscriptions, "2025-Q4", fx_rates=sample.fx_rates).iloc[0]
    m = rk.mrr(sample.subscriptions, "2025-Q4", fx_rates=sample.fx_rates).iloc[0]
    prev = rk.mrr(sample.subscriptions, "2025-Q3", fx_rates=sample.fx_rates).iloc[0]
    assert b["mrr_end"] == m["value"] and b["mrr_start"] == prev["value"]
    assert b["customers_end"] == m["customers"]
    # the sample README: 1,658 customers active at the end, MRR $6.9M in 2025-12
    assert m["customers"] == 1658 and 6.85e6 < m["value"] < 6.95e6
