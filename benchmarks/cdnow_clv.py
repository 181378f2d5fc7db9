"""Validate the BG/NBD and Gamma-Gamma fits on the CDNOW sample against the published values.

Reads ``../shared/data/cdnow/`` (see ``../shared/data/PROVENANCE.md``), prints the parameter table
(ours next to Fader, Hardie & Lee 2005 and Fader & Hardie 2013), and writes
``benchmarks/results/cdnow_holdout.png``: mean predicted vs actual purchases in the 39-week holdout
(weeks 40-78) by calibration frequency, computed from the raw transactions in CDNOW_sample.txt.

    .venv/bin/python benchmarks/cdnow_clv.py [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

import revops_kit as rk  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CDNOW = ROOT.parent / "shared" / "data" / "cdnow"
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4,
             "p": 6.25, "q": 3.74, "gamma": 15.44}


def load_transactions() -> pd.DataFrame:
    tx = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                     names=["master_id", "customer_id", "date", "cds", "value"],
                     dtype={"customer_id": int, "date": str})
    tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")
    return tx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    summary = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    spend = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    t0 = time.perf_counter()
    bg = rk.BetaGeoFitter().fit(summary)
    t_bg = time.perf_counter() - t0
    t0 = time.perf_counter()
    gg = rk.GammaGammaFitter().fit(spend, frequency_col="x", monetary_col="zbar")
    t_gg = time.perf_counter() - t0

    ours = {**bg.params_, "log_likelihood": bg.log_likelihood_, **gg.params_}
    table = pd.DataFrame({"published": PUBLISHED, "ours": ours})
    table["ours_3sf"] = [float(f"{v:.3g}") for v in table["ours"]]
    table["published_3sf"] = [float(f"{v:.3g}") for v in table["published"]]
    table["match_3sf"] = table["ours_3sf"] == table["published_3sf"]
    with pd.option_context("display.float_format", "{:.4f}".format):
        print(table.to_string())
    print(f"\nfit time: BG/NBD {t_bg:.2f} s, Gamma-Gamma {t_gg:.2f} s")

    tx = load_transactions()
    rfm = rk.rfm_summary(tx, calibration_end="1997-09-30", observation_end="1998-06-30",
                         value_col="value")
    check = rfm.merge(summary.rename(columns={"ID": "customer_id"}), on="customer_id",
                      suffixes=("", "_ref"))
    same = (check["frequency"] == check["frequency_ref"]).mean()
    print(f"rfm_summary from CDNOW_sample.txt reproduces the published summary's frequency for "
          f"{same:.1%} of {len(check)} customers")
    holdout = rk.holdout_by_frequency(bg, rfm)
    print("\nmean purchases per customer in the holdout (weeks 40-78):")
    print(holdout.to_string(index=False, float_format="{:.3f}".format))
    print(f"total: actual {rfm['frequency_holdout'].sum():.0f}, predicted "
          f"{(holdout['predicted'] * holdout['customers']).sum():.0f}")
    rk.plotting.set_style()
    fig = rk.plotting.holdout_purchases(holdout, title="CDNOW: BG/NBD holdout purchases by calibration frequency",
                                        holdout_length=float(rfm["duration_holdout"].iloc[0]))
    path = out / "cdnow_holdout.png"
    fig.savefig(path)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
