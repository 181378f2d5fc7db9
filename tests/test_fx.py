"""Cross rates, the fx table's base currency, and rebasing onto a reporting currency."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import revops_kit as rk
from revops_kit import fx
from revops_kit._common import to_reporting_currency


def _fx(rows):
    return pd.DataFrame(rows, columns=["month", "currency", "rate"]).assign(
        month=lambda d: pd.to_datetime(d["month"]))


USD_BASED = _fx([
    ("2025-01-01", "USD", 1.0), ("2025-01-01", "EUR", 1.25), ("2025-01-01", "GBP", 1.5),
    ("2025-02-01", "USD", 1.0), ("2025-02-01", "EUR", 1.10), ("2025-02-01", "GBP", 1.32),
])


def test_base_currency_is_the_one_at_rate_one(sample):
    assert fx.fx_base_currency(USD_BASED) == "USD"
    assert fx.fx_base_currency(sample.fx_rates) == "USD"
    assert fx.fx_base_currency(None) is None
    # no currency at 1 throughout: the table does not state its base
    assert fx.fx_base_currency(USD_BASED[USD_BASED["currency"] != "USD"]) is None


def test_two_currencies_at_rate_one_is_ambiguous():
    pegged = _fx([("2025-01-01", "USD", 1.0), ("2025-01-01", "XXX", 1.0), ("2025-01-01", "EUR", 1.2)])
    with pytest.raises(fx.FxError, match=r"ambiguous base currency.*\['USD', 'XXX'\]"):
        fx.fx_base_currency(pegged)


def test_bad_rates_are_named():
    bad = _fx([("2025-01-01", "USD", 1.0), ("2025-01-01", "EUR", 0.0)])
    with pytest.raises(fx.FxError, match=r"rate > 0; data rows \[2\]"):
        fx.rebase_fx_rates(bad, "EUR")
    dup = _fx([("2025-01-01", "USD", 1.0), ("2025-01-15", "USD", 1.0)])
    with pytest.raises(fx.FxError, match=r"2025-01 USD.*data rows \[1, 2\]"):
        fx.fx_base_currency(dup)


def test_rebase_gives_cross_rates_by_hand(frozen_frames):
    with frozen_frames(USD_BASED):
        eur = fx.rebase_fx_rates(USD_BASED, "EUR")
    got = eur.set_index([eur["month"].dt.strftime("%Y-%m"), "currency"])["rate"]
    # units of EUR per unit: USD 1/1.25, GBP 1.5/1.25; February 1/1.10, 1.32/1.10
    assert got[("2025-01", "EUR")] == 1.0 and got[("2025-02", "EUR")] == 1.0
    assert got[("2025-01", "USD")] == pytest.approx(0.8, rel=1e-15)
    assert got[("2025-01", "GBP")] == pytest.approx(1.2, rel=1e-15)
    assert got[("2025-02", "USD")] == pytest.approx(1 / 1.10, rel=1e-15)
    assert got[("2025-02", "GBP")] == pytest.approx(1.2, rel=1e-15)
    assert fx.fx_base_currency(eur) == "EUR"
    assert eur.attrs == {"base_currency": "EUR", "rebased_from": "USD"}
    # rebasing back is the identity
    back = fx.rebase_fx_rates(eur, "USD")
    pd.testing.assert_series_equal(back["rate"], USD_BASED.sort_values(["month", "currency"])
                                   .reset_index(drop=True)["rate"], rtol=1e-14)
    assert round(fx.cross_rate(USD_BASED, "GBP", "EUR", "2025-02-20"), 12) == 1.2


def test_old_base_appears_explicitly_when_the_table_omits_it():
    implicit = USD_BASED[USD_BASED["currency"] != "USD"]
    with pytest.raises(fx.FxError, match="does not state its base currency"):
        fx.rebase_fx_rates(implicit, "EUR")
    eur = fx.rebase_fx_rates(implicit, "EUR", base="USD")
    usd = eur[eur["currency"] == "USD"]
    assert usd["rate"].round(12).tolist() == [0.8, round(1 / 1.1, 12)]
    with pytest.raises(fx.FxError, match="quoted in 'USD'"):
        fx.rebase_fx_rates(USD_BASED, "EUR", base="GBP")


def test_reporting_currency_missing_in_a_month_is_left_out_with_a_warning():
    partial = USD_BASED[~((USD_BASED["currency"] == "EUR") & (USD_BASED["month"] == "2025-02-01"))]
    with pytest.warns(fx.FxWarning, match=r"no EUR rate in 1 month\(s\) \(2025-02\)"):
        eur = fx.rebase_fx_rates(partial, "EUR")
    assert set(eur["month"].dt.strftime("%Y-%m")) == {"2025-01"}
    with pytest.raises(fx.FxError, match="2 currency-month.*GBP 2025-02, USD 2025-02"):
        fx.check_fx_coverage(partial, "EUR", ["2025-01-01", "2025-02-01"], ["USD", "GBP", "EUR"])
    fx.check_fx_coverage(partial, "EUR", ["2025-01-01"], ["USD", "GBP"])  # January is fine
    with pytest.raises(fx.FxError, match="no rates for JPY"):
        fx.rebase_fx_rates(USD_BASED, "JPY")


def test_rebased_table_makes_the_existing_converter_right():
    rows = pd.DataFrame({"amount": [100.0, 100.0, 100.0], "currency": ["USD", "EUR", "GBP"],
                         "month": pd.to_datetime(["2025-01-10"] * 3)})
    pol = rk.DEFAULT_POLICY.replace(reporting_currency="EUR")
    wrong = to_reporting_currency(rows, "amount", "month", USD_BASED, pol)
    assert wrong.tolist() == [100.0, 100.0, 150.0]  # USD taken at face value as EUR: the bug
    right = to_reporting_currency(rows, "amount", "month", fx.rebase_fx_rates(USD_BASED, "EUR"), pol)
    assert right.round(10).tolist() == [80.0, 100.0, 120.0]
    assert fx.convert(rows["amount"], rows["currency"], rows["month"], USD_BASED, "EUR") \
        .round(10).tolist() == [80.0, 100.0, 120.0]


# The sample's EUR rates (USD per EUR) for the last quarter, copied from data/sample/fx_rates.csv.
SAMPLE_EUR = {"2025-10": 1.1068, "2025-11": 1.0965, "2025-12": 1.1075}


def test_sample_kpis_in_eur_equal_the_usd_figures_converted_by_hand(sample):
    """MRR (a month-end level) converts at December's rate; bookings and cash collected (sums over
    the quarter) convert month by month at each month's rate."""
    usd = rk.DEFAULT_POLICY
    eur = usd.replace(reporting_currency="EUR")
    rebased = dataclasses.replace(sample, fx_rates=fx.rebase_fx_rates(sample.fx_rates, "EUR"),
                                  _derived={})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rk.RevOpsWarning)
        got = rk.compute_kpis(rebased, "2025-Q4", ["mrr", "bookings", "cash_collected"], policy=eur) \
            .set_index("kpi")["value"]
        monthly = {m: rk.compute_kpis(sample, m, ["mrr", "bookings", "cash_collected"], policy=usd)
                   .set_index("kpi")["value"] for m in SAMPLE_EUR}
    mrr_eur = monthly["2025-12"]["mrr"] / SAMPLE_EUR["2025-12"]
    bookings_eur = sum(monthly[m]["bookings"] / r for m, r in SAMPLE_EUR.items())
    cash_eur = sum(monthly[m]["cash_collected"] / r for m, r in SAMPLE_EUR.items())
    # The converters round each row to the cent after converting; converting the USD total instead
    # differs by at most half a cent per row (here < EUR 10 on millions).
    n_subs = int((sample.subscriptions["start_date"] < "2026-01-01").sum())
    assert got["mrr"] == pytest.approx(mrr_eur, abs=0.005 * n_subs)
    assert got["mrr"] == pytest.approx(6_237_378, abs=1)  # the figure issue 13 names as right
    assert got["bookings"] == pytest.approx(bookings_eur, abs=0.005 * len(sample.opportunities))
    assert got["cash_collected"] == pytest.approx(cash_eur, abs=0.005 * len(sample.invoices))
    # and the bug: the USD-based table with reporting currency EUR counts USD as EUR
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rk.RevOpsWarning)
        buggy = rk.compute_kpis(sample, "2025-Q4", ["mrr"], policy=eur)["value"].item()
    assert round(buggy) == 6_737_169 and not np.isclose(buggy, got["mrr"])


def test_with_reporting_currency_and_diagnose_in_eur(sample):
    with_eur, pol = fx.with_reporting_currency(sample, "EUR")
    assert pol.reporting_currency == "EUR" and fx.fx_base_currency(with_eur.fx_rates) == "EUR"
    assert sample.fx_rates is not with_eur.fx_rates and fx.fx_base_currency(sample.fx_rates) == "USD"
    assert with_eur._derived is not sample._derived  # no shared cache between the two currencies
    same, pol_usd = fx.with_reporting_currency(sample, "USD")
    assert same is sample and pol_usd.reporting_currency == "USD"
    # diagnose --currency EUR converts the numbers, not only the labels (was: USD figures as "EUR")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rk.RevOpsWarning)
        text = rk.diagnosis(sample, "2025-Q4", currency="EUR")
    mrr = next(x for x in text.splitlines() if x.startswith("MRR "))
    assert "EUR 6.24M" in mrr  # USD 6,907,896 / 1.1075


def test_quotas_and_forecast_submissions_convert_from_the_base(sample):
    """Quota and forecast-submission amounts carry no currency: they are in the fx base (USD).
    Reporting in EUR converts them (a sum over their period: the period's mean monthly rate), so
    attainment compares EUR bookings with EUR quotas; the data notes say so."""
    quotas_before = sample.quotas["amount"].copy()
    eur, _ = fx.with_reporting_currency(sample, "EUR")
    rates = sample.fx_rates[sample.fx_rates["currency"] == "EUR"].copy()
    rates["month"] = pd.to_datetime(rates["month"])
    usd_per_eur = rates.set_index("month")["rate"]
    for name in ("quotas", "forecast_submissions"):
        before, after = getattr(sample, name), getattr(eur, name)
        row = before.index[len(before) // 2]
        p = rk.Period.parse(str(before.at[row, "period"]))
        months = pd.date_range(p.start, p.end, freq="MS", inclusive="left")
        want = before.at[row, "amount"] * (1 / usd_per_eur.reindex(months)).mean()
        assert after.at[row, "amount"] == pytest.approx(want, rel=1e-12), name
        assert any(n.startswith(f"{name}: ") and "converted to EUR" in n for n in eur.notes), name
    assert sample.quotas["amount"].equals(quotas_before)  # the input dataset is not modified
