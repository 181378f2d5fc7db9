"""Benchmark: the pandas engine vs ``engine="sql"`` on DuckDB, from Parquet, at 1M / 10M / 100M periods.

Usage::

    .venv/bin/python benchmarks/bench_scale.py                         # 1M, 10M, 100M
    .venv/bin/python benchmarks/bench_scale.py --sizes 1000000 --keep  # one size, keep the Parquet

What it does

1. Generates each book as Parquet in ``--dir`` (default ``/tmp/revops-bench-scale``) with
   ``bench_mrr.generate`` (the same seeded book: ``size / 5`` customers over 60 months, chains of
   periods with MRR changes, gaps, open ends, mid-month billing days, 1% zero-MRR rows), in
   chunks of at most 10M periods (chunk ``i`` uses seed ``seed + i`` and its own customers), so
   generating 100M periods never holds more than one chunk in memory.
2. Runs each engine in its own fresh subprocess, from the Parquet file to the monthly MRR bridge
   (``period_start, mrr_start, new, expansion, reactivation, contraction, churn, fx_impact,
   mrr_end``):

   * pandas: ``pd.read_parquet`` → ``rk.mrr_movements(subs, start, end)`` →
     ``rk.bridge_from_movements(mv)``;
   * sql: ``rk.load(folder, engine="sql")`` (DuckDB scans the Parquet file, ``memory_limit`` set
     with ``--duckdb-memory``, spilling to ``--dir``) → ``rk.engines.sql.monthly_bridge``.

   Each subprocess runs under an address-space limit (``--rlimit-gb``) so that an engine that does
   not fit fails with ``MemoryError`` instead of pushing a shared machine into swap or the OOM
   killer. Reported: wall time and peak RSS (``VmHWM``) of the whole subprocess (reading the data
   included).
3. Prints both engines side by side per size, the ratios, and whether the two bridges are equal
   (cents, every month) where both finished.

The benchmark is not a test: run it by hand; results are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_mrr import FIRST, N_MONTHS, generate  # noqa: E402

CHUNK = 10_000_000
COLUMNS = ["period_start", "mrr_start", "new", "expansion", "reactivation", "contraction", "churn",
           "fx_impact", "mrr_end"]


def book_path(folder: Path, size: int) -> Path:
    return folder / f"book_{size}"


def write_book(folder: Path, size: int, seed: int) -> Path:
    """``size`` periods as ``<folder>/book_<size>/subscriptions.parquet`` (chunked)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = book_path(folder, size)
    target = out / "subscriptions.parquet"
    if target.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    writer = None
    done, i = 0, 0
    while done < size:
        n = min(CHUNK, size - done)
        frame = generate(n, seed + i)
        frame["customer_id"] = f"K{i:02d}" + frame["customer_id"]
        frame["subscription_id"] = f"K{i:02d}" + frame["subscription_id"]
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
        writer.write_table(table, row_group_size=1_000_000)
        del frame, table
        done += n
        i += 1
    writer.close()
    tmp.rename(target)
    return out


def window() -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(str(FIRST)), pd.Timestamp(str(FIRST + N_MONTHS))


def _peak_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_engine(engine: str, folder: Path, out: Path, duckdb_memory: str, spill: Path) -> dict:
    import revops_kit as rk

    start, end = window()
    t = time.perf_counter()
    if engine == "pandas":
        subs = pd.read_parquet(folder / "subscriptions.parquet")
        mv = rk.mrr_movements(subs, start=start, end=end)
        del subs
        bridge = rk.bridge_from_movements(mv)
        rows = len(mv)
        del mv
    else:
        from revops_kit.engines import sql

        subs = sql.open_subscriptions(folder, duckdb_config={
            "memory_limit": duckdb_memory, "temp_directory": str(spill),
            "preserve_insertion_order": False})
        bridge = sql.monthly_bridge(subs, start=start, end=end)
        rows = subs.rows_fetched
    seconds = time.perf_counter() - t
    bridge.to_parquet(out)
    return {"engine": engine, "seconds": seconds, "peak_mb": _peak_mb(), "rows": rows}


def measure(engine: str, folder: Path, args) -> dict:
    out = Path(args.dir) / f"bridge_{engine}_{folder.name}.parquet"
    cmd = [sys.executable, __file__, "--measure", engine, "--book", str(folder), "--out", str(out),
           "--duckdb-memory", args.duckdb_memory, "--dir", args.dir,
           "--rlimit-gb", str(args.rlimit_gb)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"engine": engine, "ok": False, "error": tail[:200], "wall": wall}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res.update(ok=True, wall=wall, bridge=str(out))
    return res


def bridges_equal(a: str, b: str) -> tuple[bool, str]:
    x, y = pd.read_parquet(a), pd.read_parquet(b)
    x = x[(x[COLUMNS[1:]] != 0).any(axis=1)].reset_index(drop=True)
    y = y[(y[COLUMNS[1:]] != 0).any(axis=1)].reset_index(drop=True)
    if len(x) != len(y) or not (x["period_start"].to_numpy() == y["period_start"].to_numpy()).all():
        return False, f"months differ ({len(x)} vs {len(y)})"
    for c in COLUMNS[1:]:
        cx = np.rint(x[c].to_numpy() * 100).astype(np.int64)
        cy = np.rint(y[c].to_numpy() * 100).astype(np.int64)
        if not np.array_equal(cx, cy):
            return False, f"column {c} differs"
    return True, f"{len(x)} months, every line equal in cents"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000000,10000000,100000000")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dir", default="/tmp/revops-bench-scale")
    ap.add_argument("--duckdb-memory", default="4GB", help="DuckDB memory_limit")
    ap.add_argument("--rlimit-gb", type=float, default=16.0,
                    help="address-space limit of each engine's subprocess")
    ap.add_argument("--engines", default="pandas,sql")
    ap.add_argument("--keep", action="store_true", help="keep the generated Parquet files")
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--compare", nargs=2, metavar="BRIDGE",
                    help="compare two bridge Parquet files kept by --keep runs, and exit")
    ap.add_argument("--measure", choices=["pandas", "sql"], help=argparse.SUPPRESS)
    ap.add_argument("--book", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.compare:
        eq, why = bridges_equal(*args.compare)
        print(f"bridges {'EQUAL' if eq else 'DIFFER'} ({why})")
        return 0 if eq else 1
    if args.measure:
        limit = int(args.rlimit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        spill = Path(args.dir) / f"spill-{os.getpid()}"
        spill.mkdir(parents=True, exist_ok=True)
        try:
            res = run_engine(args.measure, Path(args.book), Path(args.out), args.duckdb_memory,
                             spill)
        finally:
            shutil.rmtree(spill, ignore_errors=True)
        print(json.dumps(res))
        return 0

    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; DuckDB "
          f"memory_limit {args.duckdb_memory}; subprocess address-space limit {args.rlimit_gb} GB")
    rows = []
    for size in sizes:
        t = time.perf_counter()
        book = write_book(folder, size, args.seed)
        print(f"{size:,} periods: Parquet ready in {time.perf_counter() - t:.0f} s "
              f"({(book / 'subscriptions.parquet').stat().st_size / 2**20:.0f} MB)", flush=True)
        if args.generate_only:
            continue
        res = {}
        for engine in engines:
            load = os.getloadavg()[0]
            res[engine] = measure(engine, book, args)
            r = res[engine]
            if r["ok"]:
                print(f"  {engine:6s}: {r['seconds']:8.1f} s  peak RSS {r['peak_mb']:8.0f} MB  "
                      f"(load average before {load:.1f})", flush=True)
            else:
                print(f"  {engine:6s}: did not finish ({r['error']}) after {r['wall']:.0f} s",
                      flush=True)
        line = {"size": size, **{f"{e}_{k}": res[e].get(k) for e in res for k in
                                 ("ok", "seconds", "peak_mb", "error")}}
        if all(res[e]["ok"] for e in ("pandas", "sql") if e in res) and len(res) == 2:
            eq, why = bridges_equal(res["pandas"]["bridge"], res["sql"]["bridge"])
            line.update(equal=eq, equal_note=why,
                        time_ratio=res["sql"]["seconds"] / res["pandas"]["seconds"],
                        memory_ratio=res["sql"]["peak_mb"] / res["pandas"]["peak_mb"])
            print(f"  sql / pandas: time {line['time_ratio']:.2f}×, peak RSS "
                  f"{line['memory_ratio']:.2f}×; bridges {'EQUAL' if eq else 'DIFFER'} ({why})",
                  flush=True)
        rows.append(line)
        if not args.keep:  # with --keep the bridges stay too (compare later with --compare)
            for r in res.values():
                if r.get("bridge"):
                    Path(r["bridge"]).unlink(missing_ok=True)
            shutil.rmtree(book, ignore_errors=True)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
