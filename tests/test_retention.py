"""Retention KPIs, cohorts and survival: golden cases on the book of ``test_revenue.GOLDEN``
(period 2025-Q1, start = December 2024), the dbt mrr-playbook reproduced in DuckDB, properties.

Book recap (MRR by month, see test_revenue.py)::

    month     a    b    c   d    e    f    g    MRR   active
    2024-12  100  200   -   -   300   -   500   1100   4 (a b e g)
    2025-01  100  200   -   -   300  40   500   1140   5
    2025-02  150  200  50  60   300   0   550   1310   6
    2025-03  150    0  50  60   250   -   550   1060   5
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import revops_kit as rk
from revops_kit.errors import ZeroDenominatorWarning

from test_revenue import CUSTOMERS, FX, FX_SUBS, GOLDEN, OPPS, PROPS, books, rates

Q1 = "2025-Q1"
MOVEMENTS = rk.get_policy("chartmogul").replace(churn_exclude_new_in_period=False)


def _row(frame):
    assert len(frame) == 1
    r = frame.iloc[0]
    return r["numerator"], r["denominator"], r["value"]


# ---------------------------------------------------------------------- logo churn
def test_golden_logo_churn_default_chartmogul_average():
    # churned in Q1: b (Mar) and f (new in Jan, churned Feb); active at start: a, b, e, g
    assert _row(rk.logo_churn_rate(GOLDEN, Q1)) == (2, 4, 0.5)
    # ChartMogul leaves out f, who joined and churned inside the period
    assert _row(rk.logo_churn_rate(GOLDEN, Q1, policy="chartmogul")) == (1, 4, 0.25)
    # average denominator: (4 at start + 5 at end) / 2
    avg = rk.DEFAULT_POLICY.replace(churn_denominator="average")
    assert _row(rk.logo_churn_rate(GOLDEN, Q1, policy=avg)) == (2, 4.5, 2 / 4.5)


def test_golden_logo_churn_by_segment():
    out = rk.logo_churn_rate(GOLDEN, Q1, by="segment", customers=CUSTOMERS).set_index("segment")
    assert out.loc["SMB", ["numerator", "denominator"]].tolist() == [1, 2]          # b of a, b
    assert out.loc["Enterprise", ["numerator", "denominator"]].tolist() == [1, 2]   # f; e, g
    cm = rk.logo_churn_rate(GOLDEN, Q1, by="segment", customers=CUSTOMERS, policy="chartmogul")
    assert cm.set_index("segment").loc["Enterprise", "numerator"] == 0


def test_golden_customer_counts_via_catalogue():
    data = rk.from_frames({"subscriptions": GOLDEN, "customers": CUSTOMERS})
    k = rk.compute_kpis(data, Q1, ["customers_churned", "customers_active", "logo_churn_rate"])
    got = {r.kpi: (r.value, r.numerator, r.denominator) for r in k.itertuples()}
    assert got["customers_churned"][0] == 2 and got["customers_active"][0] == 5
    assert got["logo_churn_rate"][1:] == (2, 4)


# ---------------------------------------------------------------------- revenue retention
def test_golden_nrr_grr_cohort_basis():
    # cohort a, b, e, g: start 100 + 200 + 300 + 500 = 1100; end 150 + 0 + 250 + 550 = 950
    assert _row(rk.nrr(GOLDEN, Q1)) == (950, 1100, 950 / 1100)
    # capped at start: 100 + 0 + 250 + 500 = 850
    assert _row(rk.grr(GOLDEN, Q1)) == (850, 1100, 850 / 1100)
    assert _row(rk.expansion_rate(GOLDEN, Q1)) == (100, 1100, 100 / 1100)        # a 50 + g 50
    assert _row(rk.gross_revenue_churn_rate(GOLDEN, Q1)) == (250, 1100, 250 / 1100)
    assert _row(rk.net_revenue_churn_rate(GOLDEN, Q1)) == (150, 1100, 150 / 1100)


def test_golden_nrr_grr_movements_basis():
    # bridge: new 90, expansion 100, reactivation 60, contraction 50, churn 240 (incl. new f)
    assert _row(rk.gross_revenue_churn_rate(GOLDEN, Q1, policy=MOVEMENTS))[:2] == (290, 1100)
    assert _row(rk.net_revenue_churn_rate(GOLDEN, Q1, policy=MOVEMENTS))[:2] == (130, 1100)
    assert _row(rk.grr(GOLDEN, Q1, policy=MOVEMENTS))[:2] == (810, 1100)
    assert _row(rk.nrr(GOLDEN, Q1, policy=MOVEMENTS))[:2] == (970, 1100)
    assert _row(rk.expansion_rate(GOLDEN, Q1, policy=MOVEMENTS))[:2] == (100, 1100)


def test_golden_nrr_by_segment():
    out = rk.nrr(GOLDEN, Q1, by="segment", customers=CUSTOMERS).set_index("segment")
    assert out.loc["SMB", ["numerator", "denominator"]].tolist() == [150, 300]       # a 150, b 0
    assert out.loc["Enterprise", ["numerator", "denominator"]].tolist() == [800, 800]
    g = rk.grr(GOLDEN, Q1, by="segment", customers=CUSTOMERS).set_index("segment")
    assert g.loc["Enterprise", "numerator"] == 250 + 500


def test_golden_nrr_at_constant_currency():
    # cohort x (100€ at Dec 1.10 = 110) and z (10): start 120. End x 110€ valued at the Dec
    # rate = 121, z 10 -> NRR 131 / 120; GRR caps x at 110 -> 120 / 120
    assert _row(rk.nrr(FX_SUBS, Q1, fx_rates=FX))[:2] == (131, 120)
    assert _row(rk.grr(FX_SUBS, Q1, fx_rates=FX))[:2] == (120, 120)


def test_golden_quick_ratio():
    # (new 90 + expansion 100 + reactivation 60) / (contraction 50 + churn 240)
    assert _row(rk.quick_ratio(GOLDEN, Q1)) == (250, 290, 250 / 290)


# ---------------------------------------------------------------------- renewals
def test_golden_renewal_rate_from_contracts():
    r = rk.renewals(GOLDEN, Q1).set_index("customer_id")
    # g: 12-month term ends 2025-02-01, still active in Feb (550 >= 500): renewed, 500 counted
    # b: 12-month term ends 2025-03-01, gone in March: not renewed
    # e's term (2024-12 .. 2025-12) is not due; a's monthly rows have no committed end
    assert sorted(r.index) == ["b", "g"]
    assert r.loc["g", ["due_mrr", "renewed", "renewed_mrr"]].tolist() == [500, True, 500]
    assert r.loc["b", ["due_mrr", "renewed", "renewed_mrr"]].tolist() == [200, False, 0]
    assert _row(rk.renewal_rate(GOLDEN, Q1)) == (1, 2, 0.5)
    assert _row(rk.renewal_rate(GOLDEN, Q1, amount=True)) == (500, 700, 500 / 700)
    # a 13-month minimum term excludes both
    long_only = rk.DEFAULT_POLICY.replace(renewal_min_term_months=13)
    with pytest.warns(ZeroDenominatorWarning, match="renewal"):
        assert np.isnan(_row(rk.renewal_rate(GOLDEN, Q1, policy=long_only))[2])


def test_golden_renewal_rate_from_opportunities():
    opp = rk.DEFAULT_POLICY.replace(renewal_basis="opportunities")
    # renewal opportunities closed in Q1: o5 won 6600, o6 lost 2400
    assert _row(rk.renewal_rate(GOLDEN, Q1, opportunities=OPPS, policy=opp)) == (1, 2, 0.5)
    num, den, _ = _row(rk.renewal_rate(GOLDEN, Q1, amount=True, opportunities=OPPS, policy=opp))
    assert (round(num * 12, 6), round(den * 12, 6)) == (6600, 9000)


# ---------------------------------------------------------------------- cohorts
def test_golden_monthly_cohort_of_d_with_reactivation():
    c = rk.cohort_retention(GOLDEN, end=Q1)
    d = c[c["cohort"] == pd.Timestamp("2024-01-01")].set_index("age")
    # d alone: 80 from Jan 2024 (age 0) to Oct (age 9), gone Nov-Jan, back at 60 Feb-Mar 2025
    assert d["customers"].unique().tolist() == [1]
    assert d["active"].tolist() == [1] * 10 + [0] * 3 + [1] * 2
    assert d.loc[13, "revenue_retention"] == 0.75 and d.loc[14, "mrr"] == 60
    assert d.index.max() == 14                                  # March 2025 is the last month


def test_golden_quarterly_cohorts():
    c = rk.cohort_retention(GOLDEN, freq="Q", end=Q1).set_index(["cohort", "age"])
    # 2024-Q1: d (Jan), g (Feb), b (Mar). Age 0 = March 2024: 80 + 500 + 200 = 780.
    # Age 4 = March 2025: d 60 + g 550, b gone: logo 2/3, revenue 610 / 780
    q = c.loc[pd.Timestamp("2024-01-01")]
    assert q.loc[0, ["customers", "active", "mrr"]].tolist() == [3, 3, 780]
    assert q.loc[4, ["active", "mrr"]].tolist() == [2, 610]
    assert q.loc[4, "logo_retention"] == 2 / 3 and q.loc[4, "revenue_retention"] == 610 / 780
    # 2025-Q1: f (Jan, churned Feb) and c (Feb): at the end of March only c
    assert c.loc[(pd.Timestamp("2025-01-01"), 0), ["customers", "active", "mrr"]].tolist() == \
        [2, 1, 50]
    m = rk.cohort_matrix(c.reset_index(), "logo_retention", freq="Q")
    assert m.loc["2024Q4", 1] == 1.0 and np.isnan(m.loc["2025Q1", 1])


def test_cohorts_by_segment_add_up():
    c = rk.cohort_retention(GOLDEN, freq="Q", end=Q1, by="segment", customers=CUSTOMERS)
    total = rk.cohort_retention(GOLDEN, freq="Q", end=Q1)
    s = c.groupby(["cohort", "age"])[["customers", "active", "mrr"]].sum()
    pd.testing.assert_frame_equal(s, total.set_index(["cohort", "age"])[["customers", "active",
                                                                          "mrr"]])


# ---------------------------------------------------------------------- survival
def test_golden_lifetimes_and_kaplan_meier():
    life = rk.customer_lifetimes(GOLDEN, end=Q1).set_index("customer_id")
    # observation ends before April 2025; first churn counts even if the customer came back (d)
    assert life["months"].to_dict() == {"a": 6, "b": 12, "c": 2, "d": 10, "e": 4, "f": 1,
                                        "g": 14}
    assert life["event"].to_dict() == {"a": 0, "b": 1, "c": 0, "d": 1, "e": 0, "f": 1, "g": 0}
    km = rk.survival_curves(GOLDEN, by=None, end=Q1).set_index("months")
    # at risk 7 at t=1 (1 event) -> 6/7; at t=10: d, b, g at risk -> x 2/3; t=12: b, g -> x 1/2
    assert km.loc[1, "survival"] == pytest.approx(6 / 7, rel=1e-12)
    assert km.loc[10, "survival"] == pytest.approx(4 / 7, rel=1e-12)
    assert km.loc[12, "survival"] == pytest.approx(2 / 7, rel=1e-12)
    assert km.loc[10, "at_risk"] == 3 and km.loc[0, "survival"] == 1
    assert (km["ci_lower"] <= km["survival"]).all() and (km["survival"] <= km["ci_upper"]).all()
    summary = rk.survival_summary(km.reset_index(), by=None, at=(6, 12, 24))
    assert summary.loc[0, "median_months"] == 12 and summary.loc[0, "churn_events"] == 3
    assert summary.loc[0, "survival_6m"] == pytest.approx(6 / 7, rel=1e-12)
    assert np.isnan(summary.loc[0, "survival_24m"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=60))
def test_kaplan_meier_equals_statsmodels(obs):
    """The Kaplan-Meier curve and Greenwood standard errors are exactly those of statsmodels'
    SurvfuncRight (the reference implementation the survival curves used before), ties,
    censoring at event times and a curve that falls to 0 included."""
    from statsmodels.duration.survfunc import SurvfuncRight

    from revops_kit.cohorts import _kaplan_meier

    time = np.array([t for t, _ in obs], dtype=float)
    status = np.array([e for _, e in obs], dtype=float)
    assume(status.any())  # statsmodels needs at least one event
    ref = SurvfuncRight(time, status)
    times, surv, se, n, d = _kaplan_meier(time, status)
    np.testing.assert_array_equal(times, ref.surv_times)
    np.testing.assert_array_equal(surv, ref.surv_prob)
    np.testing.assert_array_equal(se, ref.surv_prob_se)
    np.testing.assert_array_equal(n, ref.n_risk)
    np.testing.assert_array_equal(d, ref.n_events)


def test_survival_by_segment_on_the_sample_orders_segments(sample):
    s = rk.survival_curves(sample.subscriptions, customers=sample.customers, end="2025-Q4")
    summ = rk.survival_summary(s).set_index("segment")
    # the sample churns SMB most and Enterprise least (see data/sample/README.md)
    assert summ.loc["SMB", "survival_24m"] < summ.loc["Mid-Market", "survival_24m"] \
        < summ.loc["Enterprise", "survival_24m"]


# ---------------------------------------------------------------------- dbt mrr-playbook
def _dbt_playbook_duckdb(subs: pd.DataFrame) -> pd.DataFrame:
    """The dbt-labs mrr-playbook models (customer_revenue_by_month, customer_churn_month, mrr)
    re-expressed in DuckDB SQL: month spine per customer from the month of its first start to the
    month of its last end (exclusive), a left join of periods, first/last active month, one extra
    churn row after the last active month, lag of mrr and of is_active, and the ordered CASE."""
    import duckdb

    con = duckdb.connect()
    con.register("periods", subs[["customer_id", "start_date", "end_date", "mrr"]])
    sql = """
    with subscription_periods as (
        select customer_id, cast(start_date as date) as start_date,
               cast(end_date as date) as end_date, mrr as monthly_amount from periods),
    months as (select cast(unnest(generate_series(date '2020-01-01', date '2030-01-01',
                                                  interval 1 month)) as date) as date_month),
    customers as (
        select customer_id, date_trunc('month', min(start_date)) as date_month_start,
               date_trunc('month', max(end_date)) as date_month_end
        from subscription_periods group by 1),
    customer_months as (
        select c.customer_id, m.date_month from customers c join months m
          on m.date_month >= c.date_month_start and m.date_month < c.date_month_end),
    joined as (
        select cm.date_month, cm.customer_id, coalesce(sp.monthly_amount, 0) as mrr
        from customer_months cm left join subscription_periods sp
          on cm.customer_id = sp.customer_id and cm.date_month >= sp.start_date
         and cm.date_month < sp.end_date),
    revenue_by_month as (
        select date_month, customer_id, mrr, mrr > 0 as is_active,
               min(case when mrr > 0 then date_month end) over (partition by customer_id)
                   as first_active_month,
               max(case when mrr > 0 then date_month end) over (partition by customer_id)
                   as last_active_month
        from joined),
    flagged as (
        select *, first_active_month = date_month as is_first_month,
               last_active_month = date_month as is_last_month from revenue_by_month),
    churn_month as (
        select cast(date_month + interval 1 month as date) as date_month, customer_id,
               0.0 as mrr, false as is_active, first_active_month, last_active_month,
               false as is_first_month, false as is_last_month
        from flagged where is_last_month),
    unioned as (select * from flagged union all select * from churn_month),
    with_changes as (
        select *,
               coalesce(lag(is_active) over (partition by customer_id order by date_month), false)
                   as previous_month_is_active,
               coalesce(lag(mrr) over (partition by customer_id order by date_month), 0)
                   as previous_month_mrr
        from unioned)
    select customer_id, date_month, mrr, previous_month_mrr,
           case when is_first_month then 'new'
                when not is_active and previous_month_is_active then 'churn'
                when is_active and not previous_month_is_active then 'reactivation'
                when mrr - previous_month_mrr > 0 then 'upgrade'
                when mrr - previous_month_mrr < 0 then 'downgrade'
           end as change_category
    from with_changes
    """
    return con.execute(sql).df()


@settings(max_examples=25, deadline=None)
@given(books(max_customers=6, currencies=("USD",)))
def test_dbt_mrr_playbook_preset_reproduces_the_playbook(subs):
    # the playbook's conventions: month-start dates, every period ended, no zero amounts
    subs = subs.copy()
    subs["start_date"] = subs["start_date"].dt.to_period("M").dt.to_timestamp()
    subs["end_date"] = subs["end_date"].fillna(subs["start_date"] + pd.DateOffset(months=5))
    subs["end_date"] = subs["end_date"].dt.to_period("M").dt.to_timestamp()
    subs = subs[(subs["mrr"] > 0) & (subs["end_date"] > subs["start_date"])]
    # and one period at a time per customer (its join would duplicate overlapping months)
    subs = subs.sort_values(["customer_id", "start_date"])
    keep, last_end = [], {}
    for idx, row in subs.iterrows():
        if row["start_date"] >= last_end.get(row["customer_id"], pd.Timestamp.min):
            keep.append(idx)
            last_end[row["customer_id"]] = row["end_date"]
    subs = subs.loc[keep]
    if subs.empty:
        return
    dbt = _dbt_playbook_duckdb(subs)
    # rows where the customer is neither active nor was active carry no movement: we omit them
    dbt = dbt[(dbt["mrr"] > 0) | (dbt["previous_month_mrr"] > 0)]
    names = {"upgrade": "expansion", "downgrade": "contraction", None: "unchanged"}
    dbt_rows = sorted((r.customer_id, pd.Timestamp(r.date_month), round(r.mrr * 100),
                       round(r.previous_month_mrr * 100),
                       names.get(r.change_category, r.change_category)
                       if isinstance(r.change_category, str) else "unchanged")
                      for r in dbt.itertuples())
    ours = rk.mrr_movements(subs, policy="dbt_mrr_playbook")
    our_rows = sorted((r.customer_id, r.month, round(r.mrr * 100), round(r.previous_mrr * 100),
                       r.category) for r in ours.itertuples())
    assert our_rows == dbt_rows


# ---------------------------------------------------------------------- properties
@PROPS
@given(books(), rates(), st.sampled_from(["2024-08", "2025-Q2", "2024-Q4", "2025"]),
       st.sampled_from([None, "segment", "currency"]))
def test_rates_within_bounds(subs, fx, period, by):
    customers = pd.DataFrame({"customer_id": subs["customer_id"].unique()})
    customers["segment"] = np.where(np.arange(len(customers)) % 2 == 0, "SMB", "Enterprise")
    kw = dict(by=by, customers=customers, fx_rates=fx)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZeroDenominatorWarning)
        g = rk.grr(subs, period, **kw)["value"].dropna()
        n = rk.nrr(subs, period, **kw)
        e = rk.expansion_rate(subs, period, **kw)["value"].dropna()
        cm = rk.logo_churn_rate(subs, period, by=by, customers=customers, policy="chartmogul")
        d = rk.logo_churn_rate(subs, period, by=by, customers=customers)
        if by == "currency":
            with pytest.raises(rk.NotGroupableError, match="renewal_rate.*currency"):
                rk.renewal_rate(subs, period, **kw)
            r = pd.Series([], dtype=float)
        else:
            r = rk.renewal_rate(subs, period, **kw)["value"].dropna()
        q = rk.quick_ratio(subs, period, **kw)["value"].dropna()
    assert ((g >= 0) & (g <= 1)).all() and (e >= 0).all() and (r.between(0, 1)).all()
    assert (n["value"].dropna() >= 0).all()
    np.testing.assert_allclose(n["value"].dropna(), (g + e).to_numpy(), rtol=1e-12)
    assert cm["value"].dropna().between(0, 1).all() and (d["value"].dropna() >= 0).all()
    assert (cm["numerator"] <= d["numerator"]).all() and (q >= 0).all()


@PROPS
@given(books(), rates())
def test_no_input_mutation(subs, fx):
    import warnings

    before = (subs.copy(deep=True), fx.copy(deep=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZeroDenominatorWarning)
        rk.nrr(subs, "2025-Q1", fx_rates=fx)
        rk.logo_churn_rate(subs, "2025-Q1")
        rk.renewal_rate(subs, "2025-Q1", fx_rates=fx)
    rk.cohort_retention(subs, freq="Q", fx_rates=fx, end="2025-Q4")
    rk.customer_lifetimes(subs)
    pd.testing.assert_frame_equal(before[0], subs)
    pd.testing.assert_frame_equal(before[1], fx)


def test_zero_denominators_warn_and_give_nan():
    late = GOLDEN[GOLDEN["customer_id"] == "c"]
    for func in (rk.logo_churn_rate, rk.nrr, rk.grr, rk.gross_revenue_churn_rate,
                 rk.net_revenue_churn_rate, rk.expansion_rate):
        with pytest.warns(ZeroDenominatorWarning):
            out = func(late, Q1)
        assert np.isnan(out["value"].iloc[0]) and out["denominator"].iloc[0] == 0
    with pytest.warns(ZeroDenominatorWarning, match="quick ratio"):
        assert np.isnan(rk.quick_ratio(late, Q1)["value"].iloc[0])


def test_sample_q4_retention_is_plausible(sample):
    kw = dict(fx_rates=sample.fx_rates)
    nrr = rk.nrr(sample.subscriptions, "2025", **kw)["value"].item()
    # the sample README: revenue retention ~108 % NRR in 2025
    assert 1.03 < nrr < 1.13
    churn = rk.logo_churn_rate(sample.subscriptions, "2025-Q4")["value"].item()
    # monthly logo churn ~2 % -> roughly 5-7 % a quarter
    assert 0.03 < churn < 0.08
