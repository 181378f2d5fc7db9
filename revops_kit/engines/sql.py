"""The SQL engine: the month grid and its KPIs as Ibis expressions, computed in the backend.

The grid is the one of :mod:`revops_kit.revenue` (same month spine, integer cents, ordered
movement rule, policies, FX impact); see that module for the definitions. Here it is an Ibis
expression over a subscriptions table wherever it lives, built in four steps:

1. **Periods → month numbers.** ``s = ceil_month(start_date)``, ``e = ceil_month(end_date)``
   (open = the window end), ``cents = round_half_even(mrr × 100)``; rows with ``cents > 0`` and
   ``s < e`` are kept. An entity is ``customer_id`` (× the grain columns of ``by``); its first
   active month is ``min(s)``.
2. **Local cents per entity × currency × month**: each kept period expanded to the months of the
   window it covers (``unnest(range(s, e))``) and summed; a copy shifted by one month gives the
   previous month's cents, so the union, summed again, has one row per entity-month in which the
   entity is active or was active the month before (a churn is a row with MRR 0).
3. **Conversion** (only when a currency other than the reporting one is present): a join with the
   month's and the previous month's rate; ``round_half_even(local × rate)`` per currency, summed
   per entity-month; ``fx_impact = Σ round(L_{m-1} × r_m) − round(L_{m-1} × r_{m-1})`` for
   entities active in both months.
4. **Category** by the ordered rule (new, churn, reactivation, expansion, contraction,
   unchanged) on the constant-currency movement; ``reactivation_window_months`` turns a late
   return into *new* (gap = months since the last period ended, by a join of the few
   reactivation rows with the entity's periods).

Aggregates over that expression — per entity, then per group — give the bridge lines, customer
counts, logo churn and the cohort components of GRR/NRR for any list of periods in **one query**;
monthly MRR series and cohort matrices are one query each. Only those aggregates come back to
pandas (:attr:`SQLSubscriptions.rows_fetched` counts every row that did), and the same
post-processing as the pandas engine turns them into the same frames (cents compared exactly in
``tests/test_engine_sql.py`` on DuckDB, PostgreSQL and PySpark).

Rounding is half to even (numpy's ``rint``) written out in SQL, since SQL ``ROUND`` rounds half
away from zero; the products ``local × rate`` are IEEE doubles on every backend, as in numpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._common import as_list, ratio_frame
from ..errors import DataNotFoundError, NotGroupableError, RevOpsError
from ..periods import Period, PeriodLike, as_period
from ..policies import DEFAULT_POLICY, MetricPolicy, get_policy
from . import SQLEngineUnsupported

__all__ = [
    "SQLSubscriptions",
    "open_subscriptions",
    "connect",
    "mrr_movements",
    "mrr_bridge",
    "mrr_bridge_series",
    "monthly_bridge",
    "mrr",
    "mrr_series",
    "customer_counts",
    "arpa",
    "logo_churn_rate",
    "revenue_retention",
    "cohort_retention",
    "unsupported",
]

CATEGORIES = ("unchanged", "new", "expansion", "contraction", "churn", "reactivation")
_UNCHANGED, _NEW, _EXPANSION, _CONTRACTION, _CHURN, _REACTIVATION = range(6)
_REQUIRED = ("customer_id", "start_date", "end_date", "mrr")
_M1970 = 1970 * 12
_OPEN = 10_000_000  # month number of an open end (clipped to the window end before use)
_LINES = ("new", "expansion", "reactivation", "contraction", "churn")


class SQLEngineError(RevOpsError, ValueError):
    """The subscriptions table cannot be used by the SQL engine (missing column, bad values,
    no rate)."""


def _ibis():
    try:
        import ibis
    except ImportError:  # pragma: no cover - depends on the installation
        raise SQLEngineError("engine='sql' needs Ibis: pip install 'revops-kit[sql]'") from None
    return ibis


def _month_of(m: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(int(m), "M"))


def _month_number(value, *, ceil: bool) -> int:
    ts = pd.Timestamp(value)
    m = (ts.year * 12 + ts.month - 1) - _M1970
    if ceil and (ts.day > 1 or ts != ts.normalize()):
        m += 1
    return int(m)


def _months_ts(m) -> np.ndarray:
    return np.asarray(m, dtype=np.int64).astype("datetime64[M]").astype("datetime64[ns]")


# ---------------------------------------------------------------------- the table handle
class SQLSubscriptions:
    """A subscriptions table that lives in a database, for the SQL engine.

    Holds an Ibis table expression (columns named like the canonical ``subscriptions`` table,
    compared case-insensitively) and counts every row fetched back (:attr:`rows_fetched`).
    Pass it wherever a function takes ``subscriptions``: the grid-derived functions of
    :mod:`revops_kit.revenue`, :mod:`revops_kit.retention` and :mod:`revops_kit.cohorts`
    compute in the backend; the others raise :class:`~revops_kit.engines.SQLEngineUnsupported`.

    >>> import pandas as pd, revops_kit as rk
    >>> from revops_kit.engines.sql import SQLSubscriptions
    >>> subs = SQLSubscriptions.from_frame(pd.DataFrame({"customer_id": ["a"],
    ...     "start_date": pd.to_datetime(["2025-01-01"]), "end_date": [pd.NaT], "mrr": [10.0]}))
    >>> rk.mrr(subs, "2025-03")["value"].item()
    10.0
    """

    def __init__(self, table, *, source: str = "", name: str = "subscriptions",
                 validate: bool = True):
        ibis = _ibis()
        canon = {c: c for c in _REQUIRED + ("currency", "product", "plan", "subscription_id",
                                             "quantity", "committed_end_date")}
        renames = {canon[c.lower()]: c for c in table.columns
                   if c.lower() in canon and c != canon[c.lower()]}
        if renames:
            table = table.rename(renames)
        missing = [c for c in _REQUIRED if c not in table.columns]
        if missing:
            raise SQLEngineError(f"{name}: missing column(s) {missing}; expected {list(_REQUIRED)} "
                                 f"(got {list(table.columns)})")
        casts = {}
        for col in ("start_date", "end_date"):
            dtype = table[col].type()
            if dtype.is_string():
                casts[col] = table[col].cast("date")
            elif dtype.is_null():
                casts[col] = ibis.null().cast("date")
        if not table["mrr"].type().is_floating():
            casts["mrr"] = table["mrr"].cast("float64")
        if not table["customer_id"].type().is_string():
            casts["customer_id"] = table["customer_id"].cast("string")
        if casts:
            table = table.mutate(**casts)
        self.table = table
        self.name = name
        self.source = source
        self.rows_fetched = 0
        self.queries = 0
        self._cache: dict = {}
        self._len: int | None = None
        if validate:
            self.validate()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, con=None, name: str = "subscriptions"):
        """Register an in-memory frame with DuckDB (or the Ibis backend ``con``)."""
        ibis = _ibis()
        con = con or ibis.duckdb.connect()
        frame = frame.copy()
        for col in ("start_date", "end_date", "committed_end_date"):
            if col in frame.columns and frame[col].isna().all():
                frame[col] = frame[col].astype("datetime64[ns]")
        table = con.create_table(f"revops_{name}_{id(frame):x}", frame, temp=_supports_temp(con))
        return cls(table, source=f"(in memory, {con.name})", name=name)

    @property
    def columns(self) -> list[str]:
        return list(self.table.columns)

    @property
    def backend(self):
        return self.table._find_backend()

    def __len__(self) -> int:
        if self._len is None:
            n = self.fetch(self.table.aggregate(n=self.table.count()))["n"].iloc[0]
            self._len = int(n)
        return self._len

    def __repr__(self) -> str:
        return f"SQLSubscriptions({self.source or self.backend.name}, columns={self.columns})"

    def __getitem__(self, key):
        unsupported(f"reading column {key!r} of the subscription rows")

    def __getattr__(self, name: str):
        # anything a DataFrame has (loc, copy, groupby ...) but a table handle has not: the
        # caller is pandas-only code, which needs the rows in memory
        if name.startswith("_") or name in ("table", "name", "source", "rows_fetched", "queries"):
            raise AttributeError(name)
        unsupported(f"subscriptions.{name} (pandas code)")

    def coverage(self) -> dict:
        """Rows, columns and the range of ``start_date`` (one aggregate query, cached)."""
        hit = self._cache.get("coverage")
        if hit is None:
            t = self.table
            r = self.fetch(t.aggregate(n=t.count(), first=t.start_date.min(),
                                       last=t.start_date.max())).iloc[0]
            self._len = int(r["n"])
            hit = self._cache["coverage"] = {
                "rows": int(r["n"]), "columns": len(self.columns), "date_column": "start_date",
                "first": pd.Timestamp(r["first"]) if pd.notna(r["first"]) else pd.NaT,
                "last": pd.Timestamp(r["last"]) if pd.notna(r["last"]) else pd.NaT}
        return dict(hit)

    def to_pandas(self) -> pd.DataFrame:
        """Every row, in memory (what the pandas engine needs)."""
        return self.fetch(self.table)

    # ------------------------------------------------------------------ execution
    def fetch(self, expr) -> pd.DataFrame:
        """Execute ``expr`` in the backend and return the result (rows are counted)."""
        out = expr.to_pandas()
        self.queries += 1
        self.rows_fetched += len(out)
        return out

    def validate(self) -> None:
        """The schema's checks on the columns the grid reads, counted in the backend; failures
        raise one error naming the table, column, check and a sample of offending rows."""
        ibis = _ibis()
        t = self.table
        mrr = t["mrr"]
        checks = {
            ("customer_id", "not_null"): t["customer_id"].isnull(),
            ("start_date", "not_null"): t["start_date"].isnull(),
            ("mrr", "finite_non_negative"): mrr.isnull() | mrr.isnan() | mrr.isinf() | (mrr < 0),
            ("end_date", "end_after_start"): t["end_date"].notnull()
            & t["start_date"].notnull() & (t["end_date"] <= t["start_date"]),
        }
        counts = self.fetch(t.aggregate(**{f"{c}__{k}": ibis.ifelse(cond, 1, 0).sum()
                                           for (c, k), cond in checks.items()}))
        problems = []
        show = [c for c in ("subscription_id", "customer_id", "start_date", "end_date", "mrr")
                if c in t.columns]
        for (col, check), cond in checks.items():
            n = counts[f"{col}__{check}"].iloc[0]
            n = 0 if pd.isna(n) else int(n)
            if n:
                rows = self.fetch(t.filter(cond).select(*show).limit(5))
                sample = "; ".join(", ".join(f"{k}={v}" for k, v in r.items())
                                   for r in rows.to_dict(orient="records"))
                problems.append(f"{self.name}.{col}: check {check} failed for {n} row(s), "
                                f"e.g. {sample}")
        if problems:
            raise SQLEngineError(f"{self.source or self.name}: " + " | ".join(problems))


def _supports_temp(con) -> bool:
    return con.name in ("duckdb", "postgres")


# ---------------------------------------------------------------------- connecting to sources
def connect(source: str, *, duckdb_config: dict | None = None):
    """An Ibis backend for a database URL or DuckDB file (``postgresql://``, ``duckdb:///``,
    ``*.duckdb``; other URLs through ``ibis.connect``)."""
    ibis = _ibis()
    text = str(source)
    if text.startswith("duckdb://") or ("://" not in text and Path(text).suffix.lower() in
                                         (".duckdb", ".ddb")):
        path = re.sub(r"^duckdb:///?", "", text) if text.startswith("duckdb:") else text
        if path and path != ":memory:" and not Path(path).exists():
            raise DataNotFoundError(f"DuckDB file {path!r} does not exist")
        return ibis.duckdb.connect(path or ":memory:", read_only=bool(path) and path != ":memory:",
                                   **(duckdb_config or {}))
    if text.startswith(("postgresql", "postgres://")):
        from urllib.parse import parse_qs, unquote, urlsplit

        u = urlsplit(re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", text))
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        kw = {"user": unquote(u.username) if u.username else None,
              "password": unquote(u.password) if u.password else None,
              "host": q.pop("host", None) or u.hostname,
              "port": int(q.pop("port", None) or u.port or 5432),
              "database": u.path.lstrip("/") or None}
        return ibis.postgres.connect(**{k: v for k, v in kw.items() if v is not None}, **q)
    return ibis.connect(text)


def open_subscriptions(source: str | Path, *, schema: str | None = None, validate: bool = True,
                       duckdb_config: dict | None = None) -> SQLSubscriptions:
    """The ``subscriptions`` table (or view) of a database, or the ``subscriptions.parquet`` /
    ``.csv`` file of a folder (scanned by DuckDB), as an :class:`SQLSubscriptions`.

    ``duckdb_config`` (e.g. ``{"memory_limit": "4GB", "temp_directory": "/tmp/spill"}``) is
    passed to DuckDB when it does the scanning."""
    ibis = _ibis()
    text = str(source)
    from ..adapters.warehouse import _safe_url

    if "://" not in text and Path(text).is_dir():
        folder = Path(text)
        con = ibis.duckdb.connect(**(duckdb_config or {}))
        pq, csv = folder / "subscriptions.parquet", folder / "subscriptions.csv"
        if pq.exists():
            table = con.read_parquet(str(pq), table_name="subscriptions")
        elif csv.exists():
            table = con.read_csv(str(csv), table_name="subscriptions")
        else:
            raise DataNotFoundError(f"{folder} has no subscriptions.parquet or subscriptions.csv")
        return SQLSubscriptions(table, source=f"{folder} (DuckDB scan)", validate=validate)
    con = connect(text, duckdb_config=duckdb_config)
    names = {n.lower(): n for n in con.list_tables(database=schema)} if schema else \
        {n.lower(): n for n in con.list_tables()}
    real = names.get("subscriptions")
    if real is None:
        raise DataNotFoundError(f"database {_safe_url(text)} has no table or view 'subscriptions'"
                                + (f" in schema {schema}" if schema else ""))
    table = con.table(real, database=schema) if schema else con.table(real)
    return SQLSubscriptions(table, source=_safe_url(text), validate=validate)


def count_rows(source: str | Path, *, schema: str | None = None) -> int | None:
    """Rows of the ``subscriptions`` table of a database (``None`` when it has none)."""
    try:
        subs = open_subscriptions(source, schema=schema, validate=False)
    except Exception:  # no such table, or a database Ibis cannot open: let pandas load it
        return None
    try:
        return len(subs)
    finally:
        try:
            subs.backend.disconnect()  # do not hold a DuckDB file open behind the loader
        except Exception:  # pragma: no cover - backend specific
            pass


# ---------------------------------------------------------------------- expression helpers
def _rint(x):
    """Round half to even (numpy's ``rint``) of a float expression, as int64."""
    ibis = _ibis()
    f = x.floor()
    d = x - f
    return ibis.cases((d > 0.5, f + 1), (d < 0.5, f),
                      else_=ibis.ifelse(f % 2 == 0, f, f + 1)).cast("int64")


def _month_expr(col, *, ceil: bool):
    ibis = _ibis()
    m = (col.year() * 12 + col.month() - 1 - _M1970).cast("int64")
    if not ceil:
        return m
    later = col.day() > 1
    if col.type().is_timestamp():
        later = later | (col.hour() > 0) | (col.minute() > 0) | (col.second() > 0) \
            | (col.millisecond() > 0)
    return m + ibis.ifelse(later, 1, 0)


def _split_by(columns, by) -> tuple[list[str], list[str]]:
    by = as_list(by)
    grain = [c for c in by if c in columns and c != "customer_id"]
    return grain, [c for c in by if c not in grain]


@dataclass
class _Prepared:
    table: object        # ent cols, cur, s, e, cents (kept rows only)
    ent: list[str]       # customer_id + grain
    currencies: list[str]
    needs_fx: bool
    hi: int
    lo: int


def _base(ss: SQLSubscriptions, grain: list[str], policy: MetricPolicy):
    ibis = _ibis()
    t = ss.table
    cols = {"customer_id": t["customer_id"]}
    for g in grain:
        cols[g] = t[g].cast("string").fill_null("(missing)")
    if "currency" in t.columns:
        cols["cur"] = t["currency"].cast("string").fill_null(policy.reporting_currency)
    else:
        cols["cur"] = ibis.literal(policy.reporting_currency)
    cols["s"] = _month_expr(t["start_date"], ceil=True)
    cols["e"] = _month_expr(t["end_date"], ceil=True).fill_null(_OPEN)
    cols["cents"] = _rint(t["mrr"] * 100.0)
    return t.select(**cols)


def _prepare(ss: SQLSubscriptions, *, lo: int | None, hi: int | None, grain: list[str],
             policy: MetricPolicy, convert: bool) -> _Prepared:
    """Kept periods, the currencies among them and the window (one small query, cached)."""
    ibis = _ibis()
    key = ("prep", lo, hi, tuple(grain), policy.reporting_currency, convert)
    base = _base(ss, grain, policy)
    info = ss._cache.get(("info", policy.reporting_currency))
    if info is None:
        pos = base.filter(base.cents > 0)
        stats = ss.fetch(pos.aggregate(
            smax=pos.s.max(), emax=ibis.ifelse(pos.e < _OPEN, pos.e, None).max(),
            smin_kept=ibis.ifelse(pos.s < pos.e, pos.s, None).min()))
        curs = ss.fetch(pos.filter(pos.s < pos.e).select("cur").distinct())
        info = ss._cache[("info", policy.reporting_currency)] = (
            stats.iloc[0].to_dict(), sorted(str(c) for c in curs["cur"]))
    stats, currencies = info
    if hi is None:
        cand = [int(stats["smax"]) + 1 if pd.notna(stats["smax"]) else 0]
        if pd.notna(stats["emax"]):
            cand.append(int(stats["emax"]) + 1)
        hi = max(cand)
    kept = base.filter((base.cents > 0) & (base.s < base.e) & (base.s < hi))
    kept = kept.mutate(e=ibis.least(kept.e, hi))
    if lo is None:
        lo = int(stats["smin_kept"]) if pd.notna(stats["smin_kept"]) else hi
    needs_fx = convert and bool(currencies) and (
        len(currencies) > 1 or currencies[0] != policy.reporting_currency)
    del key
    return _Prepared(kept, ["customer_id"] + grain, currencies, needs_fx, hi, lo)


def _rates_frame(fx_rates: pd.DataFrame | None, currencies: list[str], m0: int, m1: int,
                 policy: MetricPolicy) -> pd.DataFrame:
    """Rates of months ``m0 .. m1-1`` per currency (NaN where unknown), as the pandas engine
    reads them (``policy.fx_mode``, ``fx_fixed_month``)."""
    months = np.arange(m0, m1, dtype=np.int64)
    out = {c: np.full(len(months), np.nan) for c in currencies}
    if policy.reporting_currency in out:
        out[policy.reporting_currency][:] = 1.0
    foreign = [c for c in currencies if c != policy.reporting_currency]
    if foreign and fx_rates is not None and len(fx_rates):
        fm = pd.to_datetime(fx_rates["month"])
        fmn = ((fm.dt.year * 12 + fm.dt.month - 1) - _M1970).to_numpy(dtype=np.int64)
        cur = fx_rates["currency"].astype(str).to_numpy()
        rate = pd.to_numeric(fx_rates["rate"], errors="coerce").to_numpy(dtype="float64")
        if policy.fx_mode == "fixed":
            fixed = _month_number(policy.fx_fixed_month, ceil=True) if policy.fx_fixed_month \
                else int(fmn.min())
            for c in foreign:
                hit = (fmn == fixed) & (cur == c)
                if hit.any():
                    out[c][:] = rate[hit][-1]
        else:
            for c in foreign:
                hit = (cur == c) & (fmn >= m0) & (fmn < m1)
                out[c][fmn[hit] - m0] = rate[hit]
    rows = [pd.DataFrame({"cur": c, "m": months, "rate": v}) for c, v in out.items()]
    return pd.concat(rows, ignore_index=True) if rows else \
        pd.DataFrame({"cur": pd.Series(dtype=str), "m": pd.Series(dtype="int64"),
                      "rate": pd.Series(dtype="float64")})


def _check_rates(ss, prep: _Prepared, rates: pd.DataFrame, fx_rates, policy, m0: int) -> None:
    """Raise when a currency lacks a rate in a month where it has MRR (like the pandas engine)."""
    ibis = _ibis()
    gaps = rates[rates["rate"].isna()]
    if gaps.empty:
        return
    kept = prep.table
    gap_t = ibis.memtable(gaps[["cur", "m"]].rename(columns={"cur": "gcur", "m": "gm"}))
    hits = kept.join(gap_t, (kept.cur == gap_t.gcur) & (kept.s <= gap_t.gm) & (kept.e > gap_t.gm))
    found = ss.fetch(hits.select("gcur", "gm").distinct())
    if found.empty:
        return
    # as the pandas engine: the months of the window first, then the month before it
    now = found[found["gm"] >= m0 + 1]
    found = now if len(now) else found
    curs = sorted(found["gcur"].astype(str).unique())
    mons = sorted({_month_of(m).strftime("%Y-%m") for m in found["gm"]})
    if fx_rates is None:
        raise SQLEngineError(
            f"subscriptions: MRR in {curs} cannot be converted to {policy.reporting_currency}: "
            f"no fx_rates table was given")
    detail = (f"fixed month {policy.fx_fixed_month or 'first month of fx_rates'}"
              if policy.fx_mode == "fixed" else f"month(s) {mons[:6]}")
    raise SQLEngineError(f"fx_rates: no rate for currency {curs} in {detail} "
                         f"(needed to convert subscriptions to {policy.reporting_currency})")


def _grid(ss: SQLSubscriptions, *, lo: int | None, hi: int | None, grain: list[str],
          fx_rates, policy: MetricPolicy, convert: bool = True):
    """(grid expression, prepared) — one row per entity-month of ``[lo, hi)`` with ``m, mrr,
    prev, fx, move, cat, active, pact, const`` (``const``: local MRR at the rates of month
    ``lo − 1``, for constant-currency retention) and the entity columns."""
    ibis = _ibis()
    prep = _prepare(ss, lo=lo, hi=hi, grain=grain, policy=policy, convert=convert)
    lo, hi, ent = prep.lo, prep.hi, prep.ent
    kept = prep.table
    first = kept.group_by(ent).aggregate(first=kept.s.min())
    a = ibis.greatest(kept.s, lo - 1)
    span = kept.filter(a < kept.e)
    by_cur = prep.needs_fx or not convert
    keys = ent + (["cur"] if by_cur else [])
    x = span.select(*keys, cents=span.cents,
                    m=ibis.range(ibis.greatest(span.s, lo - 1), span.e).unnest())
    local = x.group_by(keys + ["m"]).aggregate(L=x.cents.sum())
    zero = ibis.literal(0, type="int64")
    now = local.select(*keys, m=local.m, L=local.L, P=zero)
    prev = local.select(*keys, m=local.m + 1, L=zero, P=local.L)
    u = now.union(prev)
    u = u.group_by(keys + ["m"]).aggregate(L=u.L.sum(), P=u.P.sum())
    u = u.filter((u.m >= lo) & (u.m < hi))
    if prep.needs_fx:
        rates = _rates_frame(fx_rates, prep.currencies, lo - 1, hi, policy)
        _check_rates(ss, prep, rates, fx_rates, policy, lo - 1)
        r = rates.set_index(["cur", "m"])["rate"]
        start = r.xs(lo - 1, level="m") if len(r) else pd.Series(dtype=float)
        tab = pd.DataFrame({"rcur": rates["cur"], "rm": rates["m"] + 1,
                            "r_prev": rates["rate"].to_numpy()})
        tab = tab[tab["rm"] < hi].merge(
            rates.rename(columns={"cur": "rcur", "m": "rm", "rate": "r_now"}),
            on=["rcur", "rm"], how="left")
        tab["r_start"] = tab["rcur"].map(start)
        tab = tab.fillna({"r_prev": 0.0, "r_now": 0.0, "r_start": 0.0})
        rt = ibis.memtable(tab[["rcur", "rm", "r_now", "r_prev", "r_start"]])
        j = u.join(rt, (u.cur == rt.rcur) & (u.m == rt.rm), how="left")
        r_now, r_prev, r_start = (j.r_now.fill_null(0.0), j.r_prev.fill_null(0.0),
                                  j.r_start.fill_null(0.0))
        j = j.mutate(now_c=_rint(j.L.cast("float64") * r_now),
                     prev_c=_rint(j.P.cast("float64") * r_prev),
                     pan_c=_rint(j.P.cast("float64") * r_now),
                     const_c=_rint(j.L.cast("float64") * r_start))
        g = j.group_by(ent + ["m"]).aggregate(
            mrr=j.now_c.sum(), prev=j.prev_c.sum(), pan=j.pan_c.sum(), tl=j.L.sum(),
            tp=j.P.sum(), const=j.const_c.sum())
    else:
        if by_cur:
            u = u.group_by(ent + ["m"]).aggregate(L=u.L.sum(), P=u.P.sum())
        g = u.select(*ent, m=u.m, mrr=u.L, prev=u.P, pan=u.P, tl=u.L, tp=u.P, const=u.L)
    g = g.join(first, ent)
    active, pact = g.tl > 0, g.tp > 0
    if prep.needs_fx and not policy.fx_in_movements:
        fx = ibis.ifelse(active & pact, g.pan - g.prev, 0)
    else:
        fx = zero
    g = g.mutate(active=active, pact=pact, fx=fx.cast("int64"))
    g = g.mutate(move=g.mrr - g.prev - g.fx)
    cat = ibis.cases((g.active & (g.m == g.first), _NEW), (~g.active & g.pact, _CHURN),
                     (g.active & ~g.pact, _REACTIVATION), (g.move > 0, _EXPANSION),
                     (g.move < 0, _CONTRACTION), else_=_UNCHANGED)
    g = g.mutate(cat=cat.cast("int8"))
    window = policy.reactivation_window_months
    if window is not None:
        react = g.filter(g.cat == _REACTIVATION).select(*[g[c].name(f"r_{c}") for c in ent],
                                                         rm=g.m)
        cond = [react[f"r_{c}"] == kept[c] for c in ent] + [kept.s < react.rm]
        last = react.join(kept, cond).group_by([f"r_{c}" for c in ent] + ["rm"]) \
            .aggregate(last_e=kept.e.max())
        g = g.left_join(last, [g[c] == last[f"r_{c}"] for c in ent] + [g.m == last.rm])
        late = (g.cat == _REACTIVATION) & ((g.m - g.last_e) > window)
        g = g.mutate(cat=ibis.ifelse(late, _NEW, g.cat).cast("int8"))
    g = g.select(*ent, "m", "mrr", "prev", "fx", "move", "cat", "active", "pact", "const")
    return g, prep


def _customer_columns(ss, expr, customers, cust_cols: list[str]):
    """``expr`` with the customer columns ``cust_cols`` looked up in ``customers`` (missing →
    ``"(missing)"``), as the pandas engine's ``attach_columns``."""
    if not cust_cols:
        return expr
    ibis = _ibis()
    from .._common import GroupingError

    if customers is None or any(c not in customers.columns for c in cust_cols):
        avail = sorted(set(ss.columns) | set(customers.columns if customers is not None else []))
        raise GroupingError(f"cannot group subscriptions by {cust_cols}: not a column of "
                            f"subscriptions or customers (available: {', '.join(avail)})")
    look = customers.drop_duplicates("customer_id")[["customer_id"] + cust_cols].copy()
    look["customer_id"] = look["customer_id"].astype(str)
    for c in cust_cols:
        look[c] = look[c].astype(object).where(look[c].notna(), "(missing)").astype(str)
    look = look.rename(columns={"customer_id": "lk_customer_id",
                                **{c: f"lk_{c}" for c in cust_cols}})
    lt = ibis.memtable(look)
    j = expr.left_join(lt, expr.customer_id == lt.lk_customer_id)
    return j.mutate(**{c: j[f"lk_{c}"].fill_null("(missing)") for c in cust_cols}) \
        .drop("lk_customer_id", *[f"lk_{c}" for c in cust_cols])


def _groups(ss, grain, cust_cols, customers, by) -> pd.DataFrame:
    """Every group of ``by`` among the entities of the table (the pandas engine lists groups of
    every entity, active in the period or not), sorted."""
    if not by:
        return pd.DataFrame(index=[0])
    key = ("groups", tuple(grain), tuple(cust_cols), id(customers), tuple(by))
    hit = ss._cache.get(key)
    if hit is None:
        t = ss.table
        ents = t.select(customer_id=t.customer_id,
                        **{g: t[g].cast("string").fill_null("(missing)") for g in grain}).distinct()
        ents = _customer_columns(ss, ents, customers, cust_cols)
        hit = ss.fetch(ents.select(*by).distinct())
        hit = hit.sort_values(by, kind="stable").reset_index(drop=True)
        ss._cache[key] = hit
    return hit.copy()


# ---------------------------------------------------------------------- period summaries
_SUMMARY_SUMS = ("mrr_start", "new", "expansion", "reactivation", "contraction", "churn",
                 "fx_impact", "mrr_end", "customers_start", "customers_new",
                 "customers_reactivated", "customers_churned", "customers_end",
                 "churned_from_start", "cohort_start", "cohort_end", "cohort_retained",
                 "cohort_expanded", "cohort_customers", "mrr_months", "active_months", "new_rows")


def _summaries(ss: SQLSubscriptions, periods: list[Period], *, by, customers, fx_rates,
               policy: MetricPolicy, convert: bool = True) -> pd.DataFrame:
    """One row per period × group with every sum the period KPIs need (integer cents and
    counts), computed in one query. Cached per arguments on ``ss``."""
    ibis = _ibis()
    by = as_list(by)
    grain, cust_cols = _split_by(ss.columns, by)
    labels = [str(p) for p in periods]
    key = ("summary", tuple(labels), tuple(by), id(customers), id(fx_rates), policy, convert)
    hit = ss._cache.get(key)
    if hit is not None:
        return hit.copy()
    bounds = [(_month_number(p.start, ceil=False), _month_number(p.last_month, ceil=False))
              for p in periods]
    lo = min(b[0] for b in bounds)
    hi = max(b[1] for b in bounds) + 1
    g, prep = _grid(ss, lo=lo, hi=hi, grain=grain, fx_rates=fx_rates, policy=policy,
                    convert=convert)
    ent = prep.ent
    pm = pd.DataFrame([(i, m, first, last) for i, (first, last) in enumerate(bounds)
                       for m in range(first, last + 1)], columns=["pi", "pm", "pfirst", "plast"])
    pt = ibis.memtable(pm)
    j = g.join(pt, g.m == pt.pm)
    at_start, at_end = j.m == j.pfirst, j.m == j.plast

    def s(cond, value):
        return ibis.ifelse(cond, value, 0).sum()

    def flag(cond):
        return ibis.ifelse(cond, 1, 0).max()

    per_ent = j.group_by(ent + ["pi"]).aggregate(
        mrr_start=s(at_start, j.prev),
        new=s(j.cat == _NEW, j.move), expansion=s(j.cat == _EXPANSION, j.move),
        reactivation=s(j.cat == _REACTIVATION, j.move),
        contraction=s(j.cat == _CONTRACTION, -j.move), churn=s(j.cat == _CHURN, -j.move),
        fx_impact=j.fx.sum(), mrr_end=s(at_end, j.mrr),
        is_start=flag(at_start & j.pact), is_new=flag(j.cat == _NEW),
        is_react=flag(j.cat == _REACTIVATION), is_churn=flag(j.cat == _CHURN),
        is_end=flag(at_end & j.active),
        s_ret=s(at_start & j.pact, j.prev), e_ret=s(at_end & j.active, j.const),
        mrr_months=j.mrr.sum(), active_months=s(j.active, 1), new_rows=s(j.cat == _NEW, 1))
    per_ent = _customer_columns(ss, per_ent, customers, cust_cols)
    coh = per_ent.s_ret > 0
    e_c = ibis.ifelse(coh, per_ent.e_ret, 0)
    s_c = ibis.ifelse(coh, per_ent.s_ret, 0)
    aggs = {c: per_ent[c].sum() for c in ("mrr_start",) + _LINES + ("fx_impact", "mrr_end",
                                                                    "mrr_months", "active_months",
                                                                    "new_rows")}
    aggs.update(customers_start=per_ent.is_start.sum(), customers_new=per_ent.is_new.sum(),
                customers_reactivated=per_ent.is_react.sum(),
                customers_churned=per_ent.is_churn.sum(), customers_end=per_ent.is_end.sum(),
                churned_from_start=(per_ent.is_churn * per_ent.is_start).sum(),
                cohort_start=s_c.sum(), cohort_end=e_c.sum(),
                cohort_retained=ibis.least(e_c, s_c).sum(),
                cohort_expanded=ibis.greatest(e_c - s_c, 0).sum(),
                cohort_customers=ibis.ifelse(coh, 1, 0).sum())
    res = ss.fetch(per_ent.group_by(["pi"] + by).aggregate(**aggs))
    groups = _groups(ss, grain, cust_cols, customers, by)
    frames = []
    for i, label in enumerate(labels):
        part = res[res["pi"] == i].drop(columns="pi")
        if by:
            out = groups.merge(part, on=by, how="left")
        else:
            out = pd.DataFrame(index=[0])
            for c in _SUMMARY_SUMS:
                out[c] = part[c].to_numpy()[:1] if len(part) else [0]
        out = out.fillna({c: 0 for c in _SUMMARY_SUMS})
        for c in _SUMMARY_SUMS:
            out[c] = pd.to_numeric(out[c]).fillna(0).astype(np.int64)
        out.insert(0, "period", label)
        frames.append(out)
    result = pd.concat(frames, ignore_index=True)
    ss._cache[key] = result
    return result.copy()


def _one(ss, period, **kw) -> pd.DataFrame:
    return _summaries(ss, [as_period(period)], **kw)


# ---------------------------------------------------------------------- public functions
def mrr_bridge(ss: SQLSubscriptions, period: PeriodLike, *, by=None, customers=None,
               fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.mrr_bridge` computed in the backend (same frame)."""
    return mrr_bridge_series(ss, [period], by=by, customers=customers, fx_rates=fx_rates,
                             policy=policy)


def mrr_bridge_series(ss: SQLSubscriptions, periods, *, by=None, customers=None, fx_rates=None,
                      policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.mrr_bridge_series` in one query (same frame)."""
    policy = get_policy(policy)
    ps = [as_period(p) for p in periods]
    s = _summaries(ss, ps, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    by = as_list(by)
    out = s[["period"] + by].copy()
    for key in ("mrr_start",) + _LINES + ("fx_impact", "mrr_end"):
        out[key] = s[key] / 100.0
    out["net_change"] = (s["mrr_end"] - s["mrr_start"]) / 100.0
    for key in ("customers_start", "customers_new", "customers_reactivated",
                "customers_churned", "customers_end"):
        out[key] = s[key].to_numpy()
    return out.reset_index(drop=True)


def mrr(ss: SQLSubscriptions, period: PeriodLike, *, by=None, customers=None, fx_rates=None,
        policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.mrr` (MRR and active customers of the period's last month)."""
    policy = get_policy(policy)
    p = as_period(period)
    s = _summaries(ss, [Period.containing(p.last_month)], by=by, customers=customers,
                   fx_rates=fx_rates, policy=policy)
    by = as_list(by)
    out = s[by].reset_index(drop=True).copy() if by else pd.DataFrame(index=[0])
    out["value"] = s["mrr_end"].to_numpy() / 100.0
    out["customers"] = s["customers_end"].to_numpy()
    return out


def customer_counts(ss: SQLSubscriptions, period: PeriodLike, *, by=None, customers=None,
                    policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.customer_counts` (no conversion needed)."""
    policy = get_policy(policy)
    s = _one(ss, period, by=by, customers=customers, fx_rates=None, policy=policy, convert=False)
    by = as_list(by)
    out = s[by].reset_index(drop=True).copy() if by else pd.DataFrame(index=[0])
    for key in ("customers_start", "customers_new", "customers_reactivated",
                "customers_churned", "customers_end"):
        out[key] = s[key].to_numpy()
    return out


def arpa(ss: SQLSubscriptions, period: PeriodLike, *, by=None, customers=None, fx_rates=None,
         policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.arpa` (same frame)."""
    policy = get_policy(policy)
    s = _one(ss, period, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    by = as_list(by)
    out = s[by].reset_index(drop=True).copy() if by else pd.DataFrame(index=[0])
    if policy.arpa_basis == "average":
        num, den = s["mrr_months"], s["active_months"]
    else:
        num, den = s["mrr_end"], s["customers_end"]
    out["mrr"] = num.to_numpy() / 100
    out["customers"] = den.to_numpy().astype(np.float64)
    out = ratio_frame(out, "mrr", "customers", what="ARPA (no active customers)", by=by)
    new_mrr = s["new"].to_numpy() / 100
    new_n = s["new_rows"].to_numpy()
    out["new_mrr"] = new_mrr
    out["new_customers"] = new_n
    with np.errstate(invalid="ignore", divide="ignore"):
        out["new_customer_arpa"] = np.where(new_n > 0, new_mrr / np.maximum(new_n, 1), np.nan)
    return out[by + ["value", "numerator", "denominator", "new_mrr", "new_customers",
                     "new_customer_arpa"]]


def logo_churn_rate(ss: SQLSubscriptions, period: PeriodLike, *, by=None, customers=None,
                    fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.retention.logo_churn_rate` (same frame)."""
    policy = get_policy(policy)
    s = _one(ss, period, by=by, customers=customers, fx_rates=None, policy=policy, convert=False)
    by = as_list(by)
    out = s[by].reset_index(drop=True).copy() if by else pd.DataFrame(index=[0])
    n_start = s["customers_start"].to_numpy()
    n_end = s["customers_end"].to_numpy()
    n_churn = (s["churned_from_start"] if policy.churn_exclude_new_in_period
               else s["customers_churned"]).to_numpy()
    den = n_start.astype(float) if policy.churn_denominator == "start" else (n_start + n_end) / 2.0
    out["customers_churned"] = n_churn
    out["churn_base"] = den
    out["customers_start"] = n_start
    out["customers_end"] = n_end
    out = ratio_frame(out, "customers_churned", "churn_base",
                      what="logo churn rate (no customers at period start)", by=by)
    return out[by + ["value", "numerator", "denominator", "customers_start", "customers_end",
                     "customers_churned"]]


def revenue_retention(ss: SQLSubscriptions, period: PeriodLike, *, by=None, customers=None,
                      fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.retention.revenue_retention`, cohort basis (the movements basis reads
    :func:`mrr_bridge`, which dispatches here by itself)."""
    policy = get_policy(policy)
    s = _one(ss, period, by=by, customers=customers, fx_rates=fx_rates, policy=policy)
    by = as_list(by)
    out = s[by].reset_index(drop=True).copy() if by else pd.DataFrame(index=[0])
    start, end = s["cohort_start"].to_numpy(), s["cohort_end"].to_numpy()
    retained, expanded = s["cohort_retained"].to_numpy(), s["cohort_expanded"].to_numpy()
    out["mrr_start"] = start / 100
    out["retained"] = retained / 100
    out["expanded"] = expanded / 100
    out["mrr_end_cohort"] = end / 100
    out["lost_gross"] = (start - retained) / 100
    out["lost_net"] = (start - end) / 100
    out["customers_start"] = s["cohort_customers"].to_numpy()
    return out


def mrr_movements(ss: SQLSubscriptions, *, start=None, end=None, customers=None, fx_rates=None,
                  by=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.mrr_movements` computed in the backend; the customer × month
    rows come back (this is the one function whose result is row level)."""
    policy = get_policy(policy)
    lo, hi = _window(start, end)
    grain, cust_cols = _split_by(ss.columns, by)
    g, prep = _grid(ss, lo=lo, hi=hi, grain=grain, fx_rates=fx_rates, policy=policy)
    g = _customer_columns(ss, g, customers, cust_cols)
    cols = prep.ent + cust_cols
    res = ss.fetch(g.select(*cols, "m", "mrr", "prev", "fx", "cat"))
    res = res.sort_values(prep.ent + ["m"], kind="stable").reset_index(drop=True)
    mrr_c = res["mrr"].to_numpy(dtype=np.float64)
    prev_c = res["prev"].to_numpy(dtype=np.float64)
    fx_c = res["fx"].to_numpy(dtype=np.float64)
    n = len(res)
    block = np.empty((5, n), dtype=np.float64)
    np.divide(mrr_c, 100.0, out=block[0])
    np.divide(prev_c, 100.0, out=block[1])
    np.subtract(mrr_c, prev_c, out=block[2])
    block[2] /= 100.0
    np.divide(fx_c, 100.0, out=block[3])
    np.subtract(block[2], block[3], out=block[4])
    np.rint(block[4] * 100.0, out=block[4])
    block[4] /= 100.0
    out = pd.DataFrame(block.T, columns=["mrr", "previous_mrr", "change", "fx_impact",
                                         "movement"], copy=False)
    extra = [c for c in cols if c != "customer_id"]
    out.insert(0, "customer_id", res["customer_id"].astype(object).to_numpy())
    out.insert(1, "month", _months_ts(res["m"].to_numpy()))
    for pos, col in enumerate(extra):
        out.insert(pos + 2, col, res[col].astype(object).to_numpy())
    out["category"] = pd.Categorical.from_codes(res["cat"].to_numpy(dtype=np.int8),
                                                categories=list(CATEGORIES), validate=False)
    return out


def _window(start, end) -> tuple[int | None, int | None]:
    def month(value, *, period_end=False):
        if value is None:
            return None
        if isinstance(value, Period):
            return _month_number(value.end if period_end else value.start, ceil=False)
        return _month_number(value, ceil=True)

    if isinstance(start, Period) and end is None:
        return month(start), month(start, period_end=True)
    if isinstance(end, Period):
        return month(start), month(end, period_end=True)
    return month(start), month(end)


def monthly_bridge(ss: SQLSubscriptions, *, start=None, end=None, by=None, customers=None,
                   fx_rates=None, policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """The frame of ``rk.bridge_from_movements(rk.mrr_movements(subs, start=, end=), by=)``
    (``freq="M"``), aggregated in the backend: ``period_start, [by], mrr_start, new, expansion,
    reactivation, contraction, churn, fx_impact, mrr_end``, one row per month × group of the
    span of months that have movements."""
    ibis = _ibis()
    policy = get_policy(policy)
    by = as_list(by)
    lo, hi = _window(start, end)
    grain, cust_cols = _split_by(ss.columns, by)
    cols = ["mrr_start", *_LINES, "fx_impact", "mrr_end"]
    prep = _prepare(ss, lo=lo, hi=hi, grain=grain, policy=policy, convert=True)
    if not prep.needs_fx:
        res = _monthly_from_events(ss, prep, by, cust_cols, customers, policy)
    else:
        g, prep = _grid(ss, lo=lo, hi=hi, grain=grain, fx_rates=fx_rates, policy=policy)
        g = _customer_columns(ss, g, customers, cust_cols)

        def s(cat, sign=1):
            return ibis.ifelse(g.cat == cat, sign * g.move, 0).sum()

        res = ss.fetch(g.group_by(["m"] + by).aggregate(
            mrr_start=g.prev.sum(), new=s(_NEW), expansion=s(_EXPANSION),
            reactivation=s(_REACTIVATION), contraction=s(_CONTRACTION, -1), churn=s(_CHURN, -1),
            fx_impact=g.fx.sum(), mrr_end=g.mrr.sum()))
    if res.empty:
        return pd.DataFrame(columns=["period_start"] + by + cols)
    m0, m1 = int(res["m"].min()), int(res["m"].max())
    months = np.arange(m0, m1 + 1)
    if by:
        groups = res[by].drop_duplicates().sort_values(by, kind="stable")
        spine = groups.merge(pd.DataFrame({"m": months}), how="cross")
        spine = spine.sort_values(["m"] + by, kind="stable")
    else:
        spine = pd.DataFrame({"m": months})
    out = spine.merge(res, on=["m"] + by, how="left").fillna({c: 0 for c in cols})
    out.insert(0, "period_start", _months_ts(out.pop("m").to_numpy()))
    for c in cols:
        out[c] = pd.to_numeric(out[c]).astype(np.int64) / 100
    return out.reset_index(drop=True)


def _monthly_from_events(ss, prep: _Prepared, by, cust_cols, customers, policy) -> pd.DataFrame:
    """The monthly bridge without expanding periods to months (no currency conversion needed).

    A customer's MRR only changes in the months where one of its periods starts or ends, so the
    bridge lines come from those **change points** alone: ``d`` = Σ cents starting − Σ cents
    ending per entity × month, its running sum per entity (one window, ordered by month) is the
    MRR from that month on (``N``; before it ``P = N − d``), and each change point is classified
    by the same ordered rule (first change point = new; N = 0 < P churn; P = 0 < N
    reactivation, or new after more than ``reactivation_window_months`` inactive months; else
    the sign of N − P). Unchanged months carry no movement; MRR at start and end of each month
    are running sums of ``d`` over months, taken in pandas from the per-month sums (change
    points before the window are summed into its first month's opening MRR). Rows fetched: one
    per month × group. Same frame as the expanded grid gives (checked in the tests).
    """
    ibis = _ibis()
    lo, hi, ent = prep.lo, prep.hi, prep.ent
    kept = prep.table
    starts = kept.select(*ent, m=kept.s, d=kept.cents)
    ends = kept.filter(kept.e < hi).select(*ent, m=kept.e, d=-kept.cents)
    ev = starts.union(ends)
    ev = ev.group_by(ent + ["m"]).aggregate(d=ev.d.sum())
    w = ibis.window(group_by=[ev[c] for c in ent], order_by=ev.m, rows=(None, 0))
    ev = ev.mutate(n=ev.d.sum().over(w), pm=ev.m.lag().over(ibis.window(
        group_by=[ev[c] for c in ent], order_by=ev.m)))
    ev = ev.mutate(p=ev.n - ev.d)
    window = policy.reactivation_window_months
    react = (ev.n > 0) & (ev.p == 0) & ev.pm.notnull()
    new = ev.pm.isnull()
    if window is not None:
        new = new | (react & ((ev.m - ev.pm) > window))
        react = react & ((ev.m - ev.pm) <= window)
    ev = ev.mutate(
        bucket=ibis.greatest(ev.m, lo - 1),
        l_new=ibis.ifelse(new, ev.n, 0), l_react=ibis.ifelse(react, ev.n, 0),
        l_churn=ibis.ifelse((ev.n == 0) & (ev.p > 0), ev.p, 0),
        l_exp=ibis.ifelse(~new & (ev.p > 0) & (ev.n > ev.p), ev.n - ev.p, 0),
        l_con=ibis.ifelse((ev.n > 0) & (ev.n < ev.p), ev.p - ev.n, 0))
    ev = _customer_columns(ss, ev, customers, cust_cols)
    inwin = ev.m >= lo
    res = ss.fetch(ev.group_by(["bucket"] + by).aggregate(
        d=ev.d.sum(), new=ibis.ifelse(inwin, ev.l_new, 0).sum(),
        expansion=ibis.ifelse(inwin, ev.l_exp, 0).sum(),
        reactivation=ibis.ifelse(inwin, ev.l_react, 0).sum(),
        contraction=ibis.ifelse(inwin, ev.l_con, 0).sum(),
        churn=ibis.ifelse(inwin, ev.l_churn, 0).sum()))
    lines = list(_LINES)
    months = np.arange(lo - 1, hi)
    if by:
        groups = res[by].drop_duplicates()
        spine = groups.merge(pd.DataFrame({"bucket": months}), how="cross")
    else:
        spine = pd.DataFrame({"bucket": months})
    full = spine.merge(res, on=["bucket"] + by, how="left").fillna({c: 0 for c in ["d"] + lines})
    for c in ["d"] + lines:
        full[c] = pd.to_numeric(full[c]).astype(np.int64)
    full = full.sort_values(by + ["bucket"], kind="stable").reset_index(drop=True)
    level = full.groupby(by, sort=False)["d"].cumsum() if by else full["d"].cumsum()
    full["mrr_end"] = level.to_numpy()
    full["mrr_start"] = full["mrr_end"] - full["d"]
    full = full[full["bucket"] >= lo].rename(columns={"bucket": "m"})
    full["fx_impact"] = 0
    values = full[["mrr_start", *lines, "mrr_end"]]
    nonzero = (values != 0).any(axis=1).to_numpy()
    months_nz = full["m"].to_numpy()[nonzero]
    if months_nz.size == 0:
        return full.iloc[:0][["m"] + by + ["mrr_start", *lines, "fx_impact", "mrr_end"]]
    keep = (full["m"] >= months_nz.min()) & (full["m"] <= months_nz.max())
    return full.loc[keep, ["m"] + by + ["mrr_start", *lines, "fx_impact", "mrr_end"]]


def mrr_series(ss: SQLSubscriptions, months, *, by=None, customers=None, fx_rates=None,
               policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.revenue.mrr_series` (MRR and active customers per month) in one query."""
    ibis = _ibis()
    policy = get_policy(policy)
    months = pd.DatetimeIndex(months)
    by = as_list(by)
    if len(months) == 0:
        return pd.DataFrame(columns=["month"] + by + ["mrr", "customers"])
    want = np.array([_month_number(m, ceil=False) for m in months], dtype=np.int64)
    lo = _month_number(months.min(), ceil=True)
    hi = _month_number(months.max() + pd.DateOffset(months=1), ceil=True)
    grain, cust_cols = _split_by(ss.columns, by)
    g, _ = _grid(ss, lo=lo, hi=hi, grain=grain, fx_rates=fx_rates, policy=policy)
    g = _customer_columns(ss, g, customers, cust_cols)
    res = ss.fetch(g.group_by(["m"] + by).aggregate(
        mrr=g.mrr.sum(), customers=ibis.ifelse(g.active, 1, 0).sum()))
    groups = _groups(ss, grain, cust_cols, customers, by)
    k = len(groups)
    spine = groups.reset_index(drop=True).loc[np.tile(np.arange(k), len(want))] \
        .reset_index(drop=True) if by else pd.DataFrame(index=range(len(want)))
    spine["m"] = np.repeat(want, k)
    out = spine.merge(res, on=["m"] + by, how="left")
    out.insert(0, "month", np.repeat(months.to_numpy(dtype="datetime64[ns]"), k))
    out = out.drop(columns="m")
    out["mrr"] = pd.to_numeric(out["mrr"]).fillna(0).astype(np.int64) / 100.0
    out["customers"] = pd.to_numeric(out["customers"]).fillna(0).astype(np.int64)
    return out


def cohort_retention(ss: SQLSubscriptions, *, freq: str = "M", end=None, by=None,
                     customers=None, fx_rates=None, max_age: int | None = None,
                     last_cohorts: int | None = None,
                     policy: MetricPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """:func:`revops_kit.cohorts.cohort_retention`: the cohort × age sums in the backend, the
    age axis completed and the rates taken in pandas (same frame)."""
    ibis = _ibis()
    policy = get_policy(policy)
    step = {"M": 1, "Q": 3}.get(freq)
    if step is None:
        raise RevOpsError(f"cohort_retention: freq must be 'M' or 'Q', got {freq!r}")
    by = as_list(by)
    if end is None:
        end_ts = None
    else:
        try:
            end_ts = as_period(end).end
        except Exception:  # a date
            end_ts = pd.Timestamp(end)
    hi = None if end_ts is None else _month_number(end_ts, ceil=True)
    g, prep = _grid(ss, lo=None, hi=hi, grain=[], fx_rates=fx_rates, policy=policy)
    first = prep.table.group_by("customer_id").aggregate(first=prep.table.s.min())
    first = first.mutate(coh=first["first"] - ((first["first"] % step) + step) % step)
    j = g.join(first.select("customer_id", "coh"), "customer_id")
    mod = ((j.m % step) + step) % step
    rows = j.filter((mod == step - 1) & (j.m >= j.coh) & (j.active | (j.mrr != 0)))
    rows = rows.mutate(age=((rows.m - rows.coh) / step).floor().cast("int64"))
    rows = _customer_columns(ss, rows, customers, by)
    grid = ss.fetch(rows.group_by(["coh"] + by + ["age"]).aggregate(
        active=ibis.ifelse(rows.active, 1, 0).sum(), mrr_c=rows.mrr.sum()))
    sized = _customer_columns(ss, first, customers, by)
    sizes = ss.fetch(sized.group_by(["coh"] + by).aggregate(customers=sized.count()))
    keys = ["cohort_m"] + by
    grid = grid.rename(columns={"coh": "cohort_m"})
    sizes = sizes.rename(columns={"coh": "cohort_m"}).sort_values(keys, kind="stable")
    last_obs = prep.hi - 1
    span = sizes.reset_index(drop=True)
    span["cohort_m"] = span["cohort_m"].astype(np.int64)
    span["customers"] = span["customers"].astype(np.int64)
    span["max_age"] = (last_obs - (span["cohort_m"] + step - 1)) // step
    span = span[span["max_age"] >= 0]
    if max_age is not None:
        span["max_age"] = span["max_age"].clip(upper=max_age)
    full = span.loc[span.index.repeat(span["max_age"] + 1)].copy()
    full["age"] = full.groupby(keys, observed=True, dropna=False).cumcount()
    grid["cohort_m"] = grid["cohort_m"].astype(np.int64)
    grid["age"] = grid["age"].astype(np.int64)
    out = full.merge(grid, on=keys + ["age"], how="left")
    out["active"] = pd.to_numeric(out["active"]).fillna(0).astype(np.int64)
    out["mrr"] = pd.to_numeric(out["mrr_c"]).fillna(0).astype(np.int64) / 100
    out = out.drop(columns=["mrr_c", "max_age"])
    initial = out[out["age"] == 0].set_index(keys)["mrr"].rename("mrr_initial")
    out = out.join(initial, on=keys)
    out["logo_retention"] = out["active"] / out["customers"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["revenue_retention"] = np.where(out["mrr_initial"] > 0,
                                            out["mrr"] / out["mrr_initial"].where(
                                                out["mrr_initial"] > 0, 1.0), np.nan)
    out["cohort"] = _months_ts(out["cohort_m"].to_numpy())
    if last_cohorts is not None:
        keep = np.sort(out["cohort_m"].unique())[-last_cohorts:]
        out = out[out["cohort_m"].isin(keep)]
    cols = ["cohort"] + by + ["age", "customers", "active", "logo_retention", "mrr",
                              "mrr_initial", "revenue_retention"]
    return out.sort_values(["cohort"] + by + ["age"]).reset_index(drop=True)[cols]


def unsupported(what: str):
    """Raise :class:`SQLEngineUnsupported` for a computation that needs the raw rows."""
    raise SQLEngineUnsupported(
        f"{what} needs the subscription rows in memory; the dataset holds subscriptions in a "
        f"database (engine='sql'). Load it with engine='pandas' for this.")


def _check_not_groupable(grain, what):  # pragma: no cover - kept for symmetry with pandas
    if grain:
        raise NotGroupableError(f"{what} is per customer; cannot group by subscription "
                                f"column(s) {grain}")


# ---------------------------------------------------------------------- loading with an engine
def load_with_engine(load, path, *, engine: str | None, tables=None, mapping=None, since=None,
                     until=None, period=None, schema=None, validate: bool = True):
    """The dataset of ``rk.load(path, engine=...)`` when the SQL engine is chosen, else ``None``
    (the caller then loads with pandas as usual).

    ``engine="sql"``: every table but ``subscriptions`` is loaded as usual (``load`` with
    ``tables=`` the others); ``subscriptions`` becomes an :class:`SQLSubscriptions` on the
    database (or a DuckDB scan of the folder's ``subscriptions.parquet``/``.csv``), its columns
    checked in the backend; a time window filters it there too. ``engine=None`` (auto): the same
    for a database URL or DuckDB file whose ``subscriptions`` has more than
    :data:`~revops_kit.engines.SQL_ROW_THRESHOLD` rows, with a note saying so.
    """
    from ..adapters.warehouse import is_database, make_window
    from ..schema import TABLE_NAMES
    from . import SQL_ROW_THRESHOLD, EngineError, check_engine

    engine = check_engine(engine)
    if engine == "pandas":
        return None
    source = str(path)
    wanted = list(tables) if tables is not None else list(TABLE_NAMES)
    if "subscriptions" not in wanted:
        return None
    auto_note = None
    if engine is None:
        if mapping is not None or not is_database(source):
            return None
        try:
            import ibis  # noqa: F401
        except ImportError:  # the [sql] extra is not installed: pandas it is
            return None
        n = count_rows(source, schema=schema)
        if n is None or n <= SQL_ROW_THRESHOLD:
            return None
        auto_note = (f"subscriptions has {n:,} rows (more than {SQL_ROW_THRESHOLD:,}): the month "
                     f"grid and its KPIs are computed in the database (engine='sql'); pass "
                     f"engine='pandas' to read the rows into memory instead")
    elif mapping is not None or source.lower().endswith((".yaml", ".yml")):
        raise EngineError("engine='sql' reads a database, a DuckDB file or a folder with "
                          "subscriptions.parquet/.csv; it does not apply a column mapping (use "
                          "a database view named subscriptions instead)")
    subs = open_subscriptions(source, schema=schema, validate=validate)
    window = make_window(since, until, period)
    if window:
        t = subs.table
        cond = []
        if window.until is not None:
            cond.append(t.start_date < window.until.to_pydatetime().date())
        if window.since is not None:
            cond.append(t.end_date.isnull() | (t.end_date > window.since.to_pydatetime().date()))
        subs = SQLSubscriptions(t.filter(*cond), source=subs.source, validate=False)
    others = [t for t in wanted if t != "subscriptions"]
    data = None
    if others:
        try:
            data = load(path, tables=others, since=since, until=until, period=period,
                        schema=schema, validate=validate, engine="pandas")
        except DataNotFoundError:
            data = None
    if data is None:
        from ..io import RevOpsData

        data = RevOpsData(source=subs.source)
    data.subscriptions = subs
    data.notes.append(auto_note or "subscriptions stay in the database (engine='sql'): the month "
                      "grid and its KPIs are computed there; KPIs that need the raw rows are "
                      "skipped with a note")
    if validate:
        data.notes.append("subscriptions checked in the database: customer_id and start_date "
                          "present, mrr finite and >= 0, end_date after start_date (cross-table "
                          "checks with customers are not run on engine='sql')")
    return data
