"""Benchmark: ``rk.mrr_movements`` + monthly bridge (numpy core) vs the same definitions in DuckDB SQL.

Usage::

    .venv/bin/python benchmarks/bench_mrr.py                  # 1,000,000 subscription periods
    .venv/bin/python benchmarks/bench_mrr.py --size 10000000  # 10M periods (~2M customers)

What it does

1. Generates ``--size`` subscription periods for ``size / 5`` customers over 60 months
   (seeded): chains of periods per customer with MRR changes, gaps (churn + reactivation),
   open-ended last periods, billing days 1/4/15/28 (so mid-month dates exercise the
   "start_date <= month" rule) and ~1% zero-MRR rows. One currency (USD).
2. Times ``mv = rk.mrr_movements(subs, end=...)`` + ``rk.bridge_from_movements(mv)`` (ours),
   and the same definitions written in DuckDB SQL, run in the same process on the same pandas
   frame (DuckDB scans it in place) and returning the same two pandas frames (``.df()``).
   Best of ``--repeat`` runs each (DuckDB uses all cores; numpy one).
3. Asserts both give identical movements (customer, month, mrr, previous_mrr, category; cents
   compared as integers) and identical monthly bridges.
4. Fresh-process runs and peak memory: each engine then runs ``--repeat`` more times, each in
   its own fresh subprocess (engines alternating), so neither inherits the other's heap. After
   generating the data the subprocess resets the kernel's peak-RSS counter
   (``/proc/self/clear_refs`` ← 5) and records its RSS; after the run it reads ``VmHWM`` (peak
   RSS). Reported: best time, and peak − baseline, i.e. the extra resident memory the computation
   needed (input frame excluded, output included). This counts DuckDB's native allocations too,
   which ``tracemalloc`` would miss.

Both timings are printed: in-process (the two engines interleaved in one interpreter, as a user
would run them) and fresh-process. On a shared 2-core machine they vary run to run: first touch
of freshly mapped memory (page faults, transparent-huge-page compaction) is a large share of
both engines' time.

The benchmark is not a test: run it by hand; results are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd

N_MONTHS = 60
FIRST = np.datetime64("2021-01", "M")

SQL = """
with subs as (
    select customer_id,
           (year(start_date) * 12 + month(start_date) - 1 - {m0})
               + (day(start_date) > 1)::int                               as s,
           case when end_date is null then {hi}
                else least((year(end_date) * 12 + month(end_date) - 1 - {m0})
                           + (day(end_date) > 1)::int, {hi}) end          as e,
           cast(round(mrr * 100) as bigint)                               as cents
    from subs_df
),
kept as (select * from subs where cents > 0 and s < e and s < {hi}),
-- one row per subscription period x active month, summed per customer-month (all active)
cm as (
    select customer_id, m, sum(cents)::bigint as mrr
    from (select customer_id, unnest(range(s, e)) as m, cents from kept)
    group by customer_id, m
),
w as (
    select customer_id, m, mrr,
           lag(m) over win as pm, lag(mrr) over win as pmrr, lead(m) over win as nm
    from cm
    window win as (partition by customer_id order by m)
),
-- active months, previous month's MRR when the customer was active then
act as (
    select customer_id, m, mrr,
           case when pm = m - 1 then pmrr else 0 end as prev,
           pm is null as is_first
    from w
),
-- the month after each active month that is not followed by an active month: churn rows
churned as (
    select customer_id, m + 1 as m, 0::bigint as mrr, mrr as prev, false as is_first
    from w where nm is null or nm > m + 1
),
unioned as (select * from act union all select * from churned)
select customer_id, m, mrr, prev,
       case when mrr > 0 and is_first then 'new'
            when mrr = 0 and prev > 0 then 'churn'
            when mrr > 0 and prev = 0 then 'reactivation'
            when mrr - prev > 0 then 'expansion'
            when mrr - prev < 0 then 'contraction'
            else 'unchanged' end::movement as category
from unioned
where (mrr > 0 or prev > 0) and m >= {lo} and m < {hi}
"""

BRIDGE_SQL = """
select m,
       sum(prev)                                                            as mrr_start,
       sum(case when category = 'new' then mrr - prev else 0 end)           as new,
       sum(case when category = 'expansion' then mrr - prev else 0 end)     as expansion,
       sum(case when category = 'reactivation' then mrr - prev else 0 end)  as reactivation,
       -sum(case when category = 'contraction' then mrr - prev else 0 end)  as contraction,
       -sum(case when category = 'churn' then mrr - prev else 0 end)        as churn,
       sum(mrr)                                                             as mrr_end
from mv group by m
"""


def generate(size: int, seed: int = 42) -> pd.DataFrame:
    """``size`` subscription periods for ``size // 5`` customers over 60 months (deterministic)."""
    rng = np.random.default_rng(seed)
    n_cust = max(size // 5, 1)
    cust = np.sort(rng.integers(0, n_cust, size))
    first_of = np.r_[True, cust[1:] != cust[:-1]]
    grp_start = np.flatnonzero(first_of)
    idx_in = np.arange(size) - np.repeat(grp_start, np.diff(np.r_[grp_start, size]))
    length = rng.geometric(1 / 5, size).astype(np.int64)                       # months
    gap = np.where(rng.random(size) < 0.05, rng.integers(1, 7, size), 0)
    gap[first_of] = 0
    step = length + gap
    cum = np.cumsum(step)
    before = cum - step                                                          # sum of earlier steps
    group_base = np.repeat(before[grp_start], np.diff(np.r_[grp_start, size]))
    offset = before - group_base + gap                                          # months after first start
    first_month = rng.integers(-6, N_MONTHS - 24, n_cust)
    start_m = first_month[cust] + offset
    end_m = start_m + length
    last_of = np.r_[cust[1:] != cust[:-1], True]
    open_end = last_of & (rng.random(size) < 0.6)
    day = np.array([1, 4, 15, 28])[rng.integers(0, 4, n_cust)][cust]
    start = (FIRST + start_m).astype("datetime64[D]") + (day - 1)
    end = (FIRST + end_m).astype("datetime64[D]") + (day - 1)
    end = end.astype("datetime64[ns]")
    end[open_end] = np.datetime64("NaT")
    mrr = np.round(rng.lognormal(5.5, 1.2, size), 2)
    mrr[rng.random(size) < 0.01] = 0.0
    ids = np.char.add("C", np.char.zfill(cust.astype(str), 8))
    frame = pd.DataFrame({
        "subscription_id": np.char.add("S", np.char.zfill(np.arange(size).astype(str), 9)),
        "customer_id": ids,
        "start_date": start.astype("datetime64[ns]"),
        "end_date": end,
        "mrr": mrr,
        "currency": "USD",
    })
    return frame


def window() -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(str(FIRST)), pd.Timestamp(str(FIRST + N_MONTHS))


def run_ours(subs: pd.DataFrame):
    import revops_kit as rk

    start, end = window()
    mv = rk.mrr_movements(subs, start=start, end=end)
    bridge = rk.bridge_from_movements(mv)
    return mv, bridge


def duckdb_connect():
    import duckdb

    con = duckdb.connect()
    con.execute("create type movement as enum ('unchanged', 'new', 'expansion', 'contraction', "
                "'churn', 'reactivation')")
    return con


def run_duckdb(subs: pd.DataFrame, con=None):
    """The same definitions in DuckDB SQL; results fetched through Arrow into pandas (faster
    than ``.df()`` here), the category as an ENUM (→ pandas Categorical, like ours)."""
    con = con or duckdb_connect()
    m0 = int(FIRST.astype(np.int64)) + 1970 * 12          # year*12 + month-1 of the first month
    lo, hi = 0, N_MONTHS
    con.register("subs_df", subs)
    con.execute("create or replace temp table mv as " + SQL.format(m0=m0, lo=lo, hi=hi))
    mv = con.sql("select * from mv").to_arrow_table().to_pandas()
    bridge = con.sql(BRIDGE_SQL).to_arrow_table().to_pandas()
    con.execute("drop table mv")
    con.unregister("subs_df")
    return mv, bridge


def compare(ours, duck) -> None:
    mv, br = ours
    dmv, dbr = duck
    assert len(mv) == len(dmv), f"row counts differ: ours {len(mv)}, duckdb {len(dmv)}"
    m0 = FIRST.astype(np.int64)
    ours_m = mv["month"].to_numpy().astype("datetime64[M]").astype(np.int64) - m0
    a = pd.DataFrame({"customer_id": mv["customer_id"].to_numpy(dtype=object), "m": ours_m,
                      "mrr": np.rint(mv["mrr"].to_numpy() * 100).astype(np.int64),
                      "prev": np.rint(mv["previous_mrr"].to_numpy() * 100).astype(np.int64),
                      "category": mv["category"].astype(str).to_numpy(dtype=object)})
    b = pd.DataFrame({"customer_id": dmv["customer_id"].to_numpy(dtype=object),
                      "m": dmv["m"].to_numpy(dtype=np.int64),
                      "mrr": dmv["mrr"].to_numpy(dtype=np.int64),
                      "prev": dmv["prev"].to_numpy(dtype=np.int64),
                      "category": dmv["category"].astype(str).to_numpy(dtype=object)})
    b = b.sort_values(["customer_id", "m"], kind="stable").reset_index(drop=True)
    for col in a.columns:
        if not np.array_equal(a[col].to_numpy(), b[col].to_numpy()):
            bad = np.flatnonzero(a[col].to_numpy() != b[col].to_numpy())[:5]
            raise AssertionError(f"movements differ in {col} at rows {bad.tolist()}:\n"
                                 f"{a.iloc[bad]}\n{b.iloc[bad]}")
    dbr = dbr.sort_values("m").reset_index(drop=True)
    bm = br["period_start"].to_numpy().astype("datetime64[M]").astype(np.int64) - m0
    # ours lists every month of the span; compare the months duckdb has (and zeros elsewhere)
    ours_b = br.assign(m=bm).set_index("m")
    for col in ("mrr_start", "new", "expansion", "reactivation", "contraction", "churn", "mrr_end"):
        o = np.rint(ours_b[col].reindex(dbr["m"]).to_numpy() * 100).astype(np.int64)
        d = dbr[col].to_numpy(dtype=np.int64)
        assert np.array_equal(o, d), f"bridge column {col} differs"
    cents = (ours_b[["mrr_start", "new", "expansion", "reactivation", "fx_impact", "mrr_end",
                     "contraction", "churn"]] * 100).round().astype(np.int64)
    lhs = (cents["mrr_start"] + cents["new"] + cents["expansion"] + cents["reactivation"]
           - cents["contraction"] - cents["churn"] + cents["fx_impact"])
    assert (lhs == cents["mrr_end"]).all(), "bridge identity broken"


def fingerprint(mv: pd.DataFrame, bridge: pd.DataFrame, engine: str) -> dict:
    """Order-independent digest of a result, for sizes where holding both results at once would
    not fit: row count, per-category row counts and cent sums, a 64-bit sum of row hashes over
    (customer_id, month, mrr, previous_mrr, category), and the monthly bridge in cents."""
    m0 = FIRST.astype(np.int64)
    if engine == "ours":
        month = mv["month"].to_numpy().astype("datetime64[M]").astype(np.int64) - m0
        mrr = np.rint(mv["mrr"].to_numpy() * 100).astype(np.int64)
        prev = np.rint(mv["previous_mrr"].to_numpy() * 100).astype(np.int64)
        bm = bridge["period_start"].to_numpy().astype("datetime64[M]").astype(np.int64) - m0
        b = bridge.assign(m=bm).set_index("m")
        b = (b[["mrr_start", "new", "expansion", "reactivation", "contraction", "churn",
                "mrr_end"]] * 100).round().astype(np.int64)
    else:
        month = mv["m"].to_numpy(dtype=np.int64)
        mrr, prev = mv["mrr"].to_numpy(dtype=np.int64), mv["prev"].to_numpy(dtype=np.int64)
        b = bridge.set_index("m")[["mrr_start", "new", "expansion", "reactivation",
                                   "contraction", "churn", "mrr_end"]].astype(np.int64)
    cat = pd.Categorical(mv["category"], categories=["unchanged", "new", "expansion",
                                                     "contraction", "churn", "reactivation"])
    codes_c = cat.codes.astype(np.uint64)
    ids, uniq = pd.factorize(mv["customer_id"])
    hu = pd.util.hash_array(np.asarray(uniq, dtype=object)).astype(np.uint64)
    with np.errstate(over="ignore"):
        h = hu[ids]
        for k, col in enumerate((month, mrr, prev, codes_c)):
            h ^= (np.asarray(col).astype(np.uint64) + np.uint64(k + 1)) * np.uint64(0x9E3779B97F4A7C15)
            h = (h ^ (h >> np.uint64(31))) * np.uint64(0xBF58476D1CE4E5B9)
        digest = int(h.sum(dtype=np.uint64))
    per_cat = pd.DataFrame({"c": cat.codes, "mrr": mrr, "prev": prev}).groupby("c").agg(
        n=("mrr", "size"), mrr=("mrr", "sum"), prev=("prev", "sum"))
    b = b[(b != 0).any(axis=1)].sort_index()
    return {"rows": len(mv), "digest": digest, "per_category": per_cat.to_dict(),
            "bridge": b.to_dict()}


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def measure(engine: str, size: int, seed: int) -> dict:
    subs = generate(size, seed)
    if engine == "duckdb":
        con = duckdb_connect()
        con.execute("select 1").fetchall()
    else:
        import revops_kit  # noqa: F401  (import cost outside the measurement)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")                       # reset VmHWM (peak RSS) to the current RSS
    base = _rss_kb("VmRSS")
    t = time.perf_counter()
    out = run_ours(subs) if engine == "ours" else run_duckdb(subs, con)
    seconds = time.perf_counter() - t
    peak = _rss_kb("VmHWM")
    del out
    return {"engine": engine, "seconds": seconds, "peak_extra_mb": (peak - base) / 1024,
            "baseline_mb": base / 1024}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=1_000_000, help="subscription periods")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per engine (best is kept)")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    ap.add_argument("--fingerprint", action="store_true",
                    help="compare digests instead of row by row (always above 2M periods)")
    ap.add_argument("--measure", choices=["ours", "duckdb"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.size, args.seed)))
        return 0

    import duckdb

    import revops_kit  # noqa: F401  (import cost outside the timings)

    t = time.perf_counter()
    subs = generate(args.size, args.seed)
    print(f"generated {len(subs):,} subscription periods for {subs['customer_id'].nunique():,} "
          f"customers over {N_MONTHS} months in {time.perf_counter() - t:.1f}s")
    con = duckdb_connect()
    ours_t, duck_t = [], []
    full_compare = len(subs) <= 2_000_000 and not args.fingerprint
    for i in range(args.repeat):
        gc.collect()
        t = time.perf_counter()
        ours = run_ours(subs)
        ours_t.append(time.perf_counter() - t)
        if i == 0 and not full_compare:
            f_ours = fingerprint(*ours, "ours")
        if full_compare and i == args.repeat - 1:
            kept = ours
        del ours
        gc.collect()
        t = time.perf_counter()
        duck = run_duckdb(subs, con)
        duck_t.append(time.perf_counter() - t)
        if i == 0 and not full_compare:
            f_duck = fingerprint(*duck, "duckdb")
            assert f_ours == f_duck, "ours and duckdb differ (fingerprints)"
            print(f"results equal (fingerprint of {f_ours['rows']:,} customer-month movements: "
                  f"per-category counts and cent sums, row-hash sum, monthly bridge)")
        if full_compare and i == args.repeat - 1:
            compare(kept, duck)
            print(f"results equal: {len(kept[0]):,} customer-month movements, "
                  f"{len(duck[1])} bridge months (row by row)")
            del kept
        del duck
    best_o, best_d = min(ours_t), min(duck_t)
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    print(f"ours   (numpy):  {best_o:7.3f} s  (runs: {', '.join(f'{x:.3f}' for x in ours_t)})")
    print(f"duckdb {duckdb.__version__}: {best_d:7.3f} s  (runs: {', '.join(f'{x:.3f}' for x in duck_t)})"
          f"  threads={threads}")
    del subs, con
    gc.collect()
    print(f"in-process ratio ours / duckdb: {best_o / best_d:.2f}")
    if not args.no_memory:
        res: dict = {"ours": [], "duckdb": []}
        for _ in range(args.repeat):
            for engine in ("ours", "duckdb"):
                proc = subprocess.run([sys.executable, __file__, "--measure", engine, "--size",
                                       str(args.size), "--seed", str(args.seed)],
                                      capture_output=True, text=True, check=True)
                res[engine].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        best = {e: min(r["seconds"] for r in runs) for e, runs in res.items()}
        peak = {e: max(r["peak_extra_mb"] for r in runs) for e, runs in res.items()}
        for engine, runs in res.items():
            times = ", ".join(f"{r['seconds']:.3f}" for r in runs)
            print(f"fresh process {engine:6s}: best {best[engine]:7.3f} s (runs: {times}), "
                  f"peak extra RSS {peak[engine]:7.0f} MB (baseline {runs[0]['baseline_mb']:.0f} MB)")
        print(f"fresh-process ratio ours / duckdb: {best['ours'] / best['duckdb']:.2f}")
        print(f"memory ratio ours / duckdb: {peak['ours'] / peak['duckdb']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
