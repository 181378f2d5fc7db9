"""Benchmark: every forecasting method on the M3 monthly MICRO subset (237 series), in one run.

Usage::

    .venv/bin/python benchmarks/bench_forecast.py                 # h = 12, 2 processes
    .venv/bin/python benchmarks/bench_forecast.py --h 18 --jobs 2
    .venv/bin/python benchmarks/bench_forecast.py --methods snaive auto --origin 12

What it does

1. Reads ``../shared/data/m3/m3_monthly_micro_subset.csv`` (long ``series_id,date,value``; see
   ``../shared/data/PROVENANCE.md``), never shipped with the package.
2. Standard M3 protocol: holds out the last ``h`` months of every series (``--origin k`` moves
   the hold-out ``k`` months earlier, dropping the last ``k`` months first: a validation origin
   for choosing settings without looking at the test months), fits every method on the rest
   with ``rk.forecast.evaluate_holdout`` (joblib, ``--jobs`` processes) and scores
   sMAPE = mean 200|y−f|/(|y|+|f|) (mean over series), MASE (scale = in-sample seasonal-naive
   MAE, lag 12; mean over series), pooled WAPE = Σ|y−f|/Σ|y|, coverage of the 80 % and 95 %
   intervals, and the wall time of fitting and forecasting all series.
3. Prints the table, the published reference figures, and whether ``auto`` meets the target
   (sMAPE ≤ 19.25, MASE ≤ 0.63, < 60 s on 2 cores). ``--json`` writes the table as JSON too.

Published references on this subset (issue 7): seasonal naive sMAPE 24.8 / MASE 0.82; Theta
about 19.5 / 0.643 (Makridakis & Hibon 2000 for the protocol).
The benchmark is not a test: run it by hand; results are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "m3" / "m3_monthly_micro_subset.csv"
TARGET = {"smape": 19.25, "mase": 0.63, "seconds": 60.0}


def main(argv=None) -> int:
    import revops_kit as rk
    from revops_kit.errors import ModelFallbackWarning

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--h", type=int, default=12)
    ap.add_argument("--season", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--origin", type=int, default=0,
                    help="drop the last ORIGIN months of every series first (validation origin)")
    ap.add_argument("--methods", nargs="+", default=list(rk.forecast.METHODS))
    ap.add_argument("--json", default=None, help="also write the table to this JSON file")
    args = ap.parse_args(argv)

    frame = pd.read_csv(args.data)
    series = rk.forecast.series_from_long(frame)
    if args.origin:
        series = {k: s.iloc[:-args.origin] for k, s in series.items()}
    print(f"M3 monthly micro subset: {len(series)} series, {len(frame):,} points, "
          f"lengths {min(map(len, series.values()))}..{max(map(len, series.values()))}; "
          f"h = {args.h}, season = {args.season}, origin = -{args.origin}, jobs = {args.jobs}, "
          f"cores = {os.cpu_count()}, python {platform.python_version()}")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelFallbackWarning)  # counted in the table instead
        res = rk.forecast.evaluate_holdout(series, args.h, methods=args.methods,
                                           season_length=args.season, n_jobs=args.jobs)
    total = time.perf_counter() - start
    table = res.summary.copy()
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}" if abs(v) < 1 else f"{v:.2f}"))
    print(f"total wall time {total:.1f} s")
    print("reference (issue 7 / M3 protocol): snaive sMAPE 24.8 MASE 0.82; theta ~19.5 / 0.643; "
          f"target for auto sMAPE <= {TARGET['smape']}, MASE <= {TARGET['mase']}, < {TARGET['seconds']:.0f} s")
    if "auto" in set(table["method"]) and args.h == 12 and not args.origin:
        row = table[table["method"] == "auto"].iloc[0]
        ok = (row["smape"] <= TARGET["smape"] and row["mase"] <= TARGET["mase"]
              and row["seconds"] < TARGET["seconds"])
        print(f"auto: sMAPE {row['smape']:.3f}, MASE {row['mase']:.4f}, {row['seconds']:.1f} s -> "
              f"{'meets' if ok else 'MISSES'} the target")
    if args.json:
        Path(args.json).write_text(json.dumps(json.loads(table.to_json(orient="records")), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
