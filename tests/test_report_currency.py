"""`revops report --currency EUR` on the sample: every figure in EUR through cross rates.

The expected EUR figures are the USD figures converted by hand here: MRR (a month-end level) at
December's EUR rate, bookings and cash collected (sums over the quarter) month by month at each
month's rate. Rates copied from data/sample/fx_rates.csv (USD per EUR).
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import revops_kit as rk
from revops_kit import report

SAMPLE_EUR = {"2025-10": 1.1068, "2025-11": 1.0965, "2025-12": 1.1075}
KPIS = ["mrr", "bookings", "cash_collected"]


@pytest.fixture(scope="module")
def eur_report(tmp_path_factory):
    """The report path `revops report --currency EUR` takes (run_report), with the executive
    summary notebook only: kpis.csv and the index scorecard cover the whole catalogue anyway."""
    out = tmp_path_factory.mktemp("reports")
    return report.run_report("2025-Q4", currency="EUR", out=out, progress=False,
                                notebooks=[report.NOTEBOOK_DIR / "00_executive_summary.ipynb"])


def _by_hand(sample) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rk.RevOpsWarning)
        usd = {m: rk.compute_kpis(sample, m, KPIS).set_index("kpi")["value"] for m in SAMPLE_EUR}
    return {
        "mrr": usd["2025-12"]["mrr"] / SAMPLE_EUR["2025-12"],
        "bookings": sum(usd[m]["bookings"] / r for m, r in SAMPLE_EUR.items()),
        "cash_collected": sum(usd[m]["cash_collected"] / r for m, r in SAMPLE_EUR.items()),
    }


def test_report_in_eur_matches_usd_converted_by_hand(eur_report, sample):
    kpis = pd.read_csv(eur_report / "kpis.csv")
    got = kpis[(kpis["group"] == "all") & kpis["kpi"].isin(KPIS)].set_index("kpi")["value"]
    want = _by_hand(sample)
    # The converters round every row to the cent after converting; converting the USD total
    # instead differs by at most half a cent per row.
    assert got["mrr"] == pytest.approx(want["mrr"], abs=0.005 * len(sample.subscriptions))
    assert got["bookings"] == pytest.approx(want["bookings"], abs=0.005 * len(sample.opportunities))
    assert got["cash_collected"] == pytest.approx(want["cash_collected"],
                                                  abs=0.005 * len(sample.invoices))
    assert round(got["mrr"]) == 6_237_378  # not 6,737,169 (USD taken as EUR) nor 6,907,896 (USD)
    index = (eur_report / "index.html").read_text(encoding="utf-8")
    card = index.split('<table class="rk-scorecard">', 1)[1].split("</table>", 1)[0]
    assert "EUR 6.24M" in card and "USD" not in card
    page = (eur_report / "00_executive_summary.html").read_text(encoding="utf-8")
    assert "EUR 6.24M" in page and "USD 6.91M" not in page


def test_money_targets_are_converted_from_the_fx_base(eur_report, sample):
    """Targets are set in the fx_rates base currency (USD for the sample): in the EUR report the
    MRR target (a level) converts at December's rate, the bookings target (a sum over the quarter)
    at the quarter's mean monthly EUR-per-USD rate; ratio targets are unchanged."""
    t = sample.targets[(sample.targets["period"] == "2025-Q4") & sample.targets["segment"].isna()]
    usd = t.set_index("kpi")["target"].astype(float)
    kpis = pd.read_csv(eur_report / "kpis.csv")
    got = kpis[(kpis["period"] == "2025-Q4") & (kpis["group"] == "all")].set_index("kpi")["target"]
    mean_eur_per_usd = sum(1 / r for r in SAMPLE_EUR.values()) / len(SAMPLE_EUR)
    assert got["mrr"] == pytest.approx(usd["mrr"] / SAMPLE_EUR["2025-12"], rel=1e-9)
    assert got["bookings"] == pytest.approx(usd["bookings"] * mean_eur_per_usd, rel=1e-9)
    assert got["nrr"] == pytest.approx(usd["nrr"], rel=1e-12)
    card = (eur_report / "index.html").read_text(encoding="utf-8")
    assert f"EUR {usd['mrr'] / SAMPLE_EUR['2025-12'] / 1e6:.2f}M" in card  # the MRR row's target
