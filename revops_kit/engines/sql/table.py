"""The table handle of the SQL engine: :class:`SQLSubscriptions` (an Ibis table of subscription
periods, its columns checked in the backend, every fetched row counted)."""

from __future__ import annotations

import os

import pandas as pd

from ._core import _REQUIRED, SQLEngineError, _ibis, unsupported

__all__ = ["SQLSubscriptions", "FETCH_LOG_ENV"]

#: When set, every fetch appends ``<pid>\t<rows>`` to the file it names (the report sums the
#: rows its notebook kernels fetched: ``manifest.json`` ``sql_engine``).
FETCH_LOG_ENV = "REVOPS_SQL_FETCH_LOG"

#: Cache entries that do not depend on other objects' identity, carried to another process.
_PORTABLE = ("coverage", "info", "values")


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

    A handle opened from a source another process can reach (a database URL, a DuckDB file, a
    folder scanned by DuckDB: :func:`~revops_kit.engines.sql.open_subscriptions`) pickles as
    *how to reopen it*; the unpickled copy connects on its first query (the report's notebook
    kernels each reopen the table this way). A handle on an in-memory frame cannot be pickled.
    """

    def __init__(self, table, *, source: str = "", name: str = "subscriptions",
                 validate: bool = True, reopen: tuple | None = None):
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
        self._table = table
        self.name = name
        self.source = source
        self.rows_fetched = 0
        self.queries = 0
        self._cache: dict = {}
        self._len: int | None = None
        self._reopen = reopen
        if validate:
            self.validate()

    @property
    def table(self):
        """The Ibis table expression (a reopened handle connects here, on first use)."""
        if self._table is None:
            opener, kwargs = self._reopen
            self._table = opener(**kwargs).table
        return self._table

    def __reduce__(self):
        if self._reopen is None:
            raise SQLEngineError(
                f"{self.source or self.name}: this subscriptions table handle cannot be sent to "
                f"another process (it is not opened from a database URL, a DuckDB file or a "
                f"folder); open it with revops_kit.engines.sql.open_subscriptions(source)")
        cache = {k: v for k, v in self._cache.items()
                 if (k if isinstance(k, str) else k[0]) in _PORTABLE}
        return (_reopened, (self._reopen, self.name, self.source, self._len, cache))

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
        unsupported(f"pandas code reading subscriptions[{key!r}]", named=False)

    def __getattr__(self, name: str):
        # anything a DataFrame has (loc, copy, groupby ...) but a table handle has not: the
        # caller is pandas-only code, which needs the rows in memory
        if name.startswith("_") or name in ("table", "name", "source", "rows_fetched", "queries"):
            raise AttributeError(name)
        unsupported(f"pandas code using subscriptions.{name}", named=False)

    def has_values(self, column: str) -> bool:
        """Whether ``column`` exists and holds at least one non-null value (one query, cached):
        what the report checks before a section that needs an optional column."""
        if column not in self.columns:
            return False
        key = ("values", column)
        if key not in self._cache:
            t = self.table
            n = self.fetch(t.aggregate(n=t[column].notnull().sum()))["n"].iloc[0]
            self._cache[key] = bool(pd.notna(n) and int(n) > 0)
        return self._cache[key]

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
        log = os.environ.get(FETCH_LOG_ENV)
        if log:
            with open(log, "a", encoding="utf-8") as fh:  # one short append per query
                fh.write(f"{os.getpid()}\t{len(out)}\n")
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


def _reopened(reopen: tuple, name: str, source: str, length: int | None,
              cache: dict) -> SQLSubscriptions:
    """An unpickled handle: it reopens its table on first use (``reopen = (opener, kwargs)``)."""
    ss = SQLSubscriptions.__new__(SQLSubscriptions)
    ss._table = None
    ss._reopen = reopen
    ss.name = name
    ss.source = source
    ss.rows_fetched = 0
    ss.queries = 0
    ss._cache = dict(cache)
    ss._len = length
    return ss


def _supports_temp(con) -> bool:
    return con.name in ("duckdb", "postgres")

