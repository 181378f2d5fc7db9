"""Reading the canonical tables straight from a warehouse: a DuckDB file or any SQLAlchemy URL.

``rk.load("warehouse.duckdb")``, ``rk.load("duckdb:///path/warehouse.duckdb")`` and
``rk.load("postgresql://user@host/db")`` read the tables **or views** named like the canonical
tables (``customers``, ``subscriptions`` ..., names compared case-insensitively, in the default
schema or in ``schema=``) and parse and validate them exactly like CSV files
(:func:`revops_kit.io.parse_table`, :func:`revops_kit.schema.validation_report`). A
``postgresql://`` URL uses psycopg 3 when psycopg2 is not installed. Views are the usual way to
expose a dbt model under the canonical names.

Time windows
------------
``load(source, since=..., until=...)`` (or ``period="2025-Q4"`` for its ``[start, end)``) keeps
only the rows relevant to ``[since, until)``:

=====================  ======================================================================
table                  rows kept (a missing date always keeps the row)
=====================  ======================================================================
subscriptions          overlapping the window: start_date < until and (end_date is empty or
                       end_date > since)
opportunities          open at some time in the window: created_at < until and not (is_closed
                       and close_date < since)
opportunity_history    changed_at < until, of the opportunities kept (earlier changes are kept
                       so that the stage at the window start is known)
customers              created_at < until (no lower bound: the account base)
invoices               issued_at < until and (issued_at ≥ since or unpaid at since:
                       paid_at empty or ≥ since)
support_tickets        opened_at < until and (opened_at ≥ since or still open at since)
leads, nps_responses,  date column in [since, until)
product_usage, costs,
forecast_submissions
fx_rates, quotas,      not filtered (small; fixed-rate FX needs the first month)
targets
=====================  ======================================================================

On a database these conditions are **pushed down** as ``WHERE`` clauses on columns typed DATE or
TIMESTAMP (and ``is_closed`` when typed BOOLEAN); what cannot be pushed down exactly — text-typed
date columns, and which opportunities an opportunity_history row belongs to — is filtered after
parsing. The same rules
filter a CSV folder after loading, so both give the same rows. KPIs that look before the window
(the previous period, trends, cohorts, churn models) need a wider window: a period's report needs
its history, which is why the report and the CLI read everything.

Validation of a windowed database read checks references against the full parent tables (ids
only), so rows outside the window do not make orphans.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..errors import DataNotFoundError, RevOpsError
from ..periods import Period, as_period
from ..schema import TABLE_NAMES, TABLES, _failure

__all__ = ["Window", "make_window", "apply_window", "is_database", "read_database_frames", "write_tables",
           "engine_url", "WarehouseError"]

_DB_SUFFIXES = (".duckdb", ".ddb")


class WarehouseError(RevOpsError, ValueError):
    """A database that cannot be read (driver, URL, schema)."""


# ---------------------------------------------------------------------- windows
@dataclass(frozen=True)
class Window:
    """A half-open time window ``[since, until)``; either bound may be ``None``."""

    since: pd.Timestamp | None = None
    until: pd.Timestamp | None = None

    def __bool__(self) -> bool:
        return self.since is not None or self.until is not None

    def __str__(self) -> str:
        a = self.since.date() if self.since is not None else "…"
        b = self.until.date() if self.until is not None else "…"
        return f"[{a}, {b})"


def make_window(since=None, until=None, period=None) -> Window:
    """Build a :class:`Window` from ``since``/``until`` dates or a ``period`` label."""
    if period is not None:
        if since is not None or until is not None:
            raise ValueError("load: give period= or since=/until=, not both")
        p = period if isinstance(period, Period) else as_period(period)
        return Window(p.start, p.end)
    s = pd.Timestamp(since).normalize() if since is not None else None
    u = pd.Timestamp(until).normalize() if until is not None else None
    if s is not None and u is not None and u <= s:
        raise ValueError(f"load: until ({u.date()}) must be after since ({s.date()})")
    return Window(s, u)


def _lt(col: pd.Series, bound) -> pd.Series:
    return (col.isna() | (col < bound)) if bound is not None else pd.Series(True, index=col.index)


def _ge(col: pd.Series, bound) -> pd.Series:
    return (col.isna() | (col >= bound)) if bound is not None else pd.Series(True, index=col.index)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")


def window_mask(table: str, frame: pd.DataFrame, window: Window,
                kept_opportunities: pd.Series | None = None) -> pd.Series:
    """Rows of a parsed ``table`` kept by ``window`` (see the module docstring)."""
    s, u = window.since, window.until
    every = pd.Series(True, index=frame.index)
    if not window or table in ("fx_rates", "quotas", "targets"):
        return every
    if table == "subscriptions":
        end = _col(frame, "end_date")
        return _lt(_col(frame, "start_date"), u) & ((end.isna() | (end > s)) if s is not None else every)
    if table == "opportunities":
        keep = _lt(_col(frame, "created_at"), u)
        if s is not None and "is_closed" in frame.columns:
            closed = frame["is_closed"].astype("boolean").fillna(False).astype(bool)
            keep &= ~(closed & (_col(frame, "close_date") < s))
        return keep
    if table == "opportunity_history":
        keep = _lt(_col(frame, "changed_at"), u)
        if kept_opportunities is not None:
            keep &= frame["opportunity_id"].isin(kept_opportunities.dropna().unique())
        return keep
    if table == "customers":
        return _lt(_col(frame, "created_at"), u)
    if table == "invoices":
        issued, paid = _col(frame, "issued_at"), _col(frame, "paid_at")
        return _lt(issued, u) & (_ge(issued, s) | _ge(paid, s) if s is not None else every)
    if table == "support_tickets":
        opened, closed = _col(frame, "opened_at"), _col(frame, "closed_at")
        return _lt(opened, u) & (_ge(opened, s) | _ge(closed, s) if s is not None else every)
    col = TABLES[table].date_column
    if col is None or col not in frame.columns:
        return every
    return _lt(frame[col], u) & _ge(frame[col], s)


def apply_window(tables: dict[str, pd.DataFrame], window: Window) -> dict[str, pd.DataFrame]:
    """The parsed ``tables`` restricted to ``window`` (new frames, fresh RangeIndex)."""
    if not window:
        return dict(tables)
    out = {}
    kept_opps = None
    if "opportunities" in tables:
        opp = tables["opportunities"]
        out["opportunities"] = opp.loc[window_mask("opportunities", opp, window)].reset_index(drop=True)
        kept_opps = out["opportunities"]["opportunity_id"]
    for name, frame in tables.items():
        if name == "opportunities":
            continue
        mask = window_mask(name, frame, window, kept_opps if name == "opportunity_history" else None)
        out[name] = frame.loc[mask].reset_index(drop=True)
    return {n: out[n] for n in tables}


# ---------------------------------------------------------------------- connections
def is_database(source) -> bool:
    """Whether ``source`` names a database (a URL with ``://`` or a ``.duckdb`` file)."""
    text = str(source)
    return "://" in text or Path(text).suffix.lower() in _DB_SUFFIXES


def engine_url(url: str) -> str:
    """The SQLAlchemy URL to connect with: ``postgresql://`` uses psycopg 3 when psycopg2 is absent."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _safe_url(url: str) -> str:
    """The URL with its password masked (for messages and ``data.source``)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def _duckdb_path(source: str) -> str | None:
    if source.startswith("duckdb:///"):
        return source[len("duckdb:///"):] or ":memory:"
    if source.startswith("duckdb://"):
        return source[len("duckdb://"):] or ":memory:"
    if "://" not in source and Path(source).suffix.lower() in _DB_SUFFIXES:
        return source
    return None


class _Reader:
    """Discover canonical tables/views and read them with a WHERE clause (DuckDB or SQLAlchemy)."""

    def __init__(self, source: str, schema: str | None):
        self.source, self.schema = source, schema
        self.label = _safe_url(source)
        path = _duckdb_path(source)
        if path is not None:
            import duckdb

            if path != ":memory:" and not Path(path).exists():
                raise DataNotFoundError(f"DuckDB file {path!r} does not exist")
            self.kind = "duckdb"
            try:
                self.con = duckdb.connect(path, read_only=path != ":memory:")
            except duckdb.Error as exc:
                from ..parsing import file_kind_name, read_head_tail, sniff_kind

                try:
                    held = file_kind_name(sniff_kind(*read_head_tail(Path(path))))
                except OSError:
                    held = "something unreadable"
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise WarehouseError(f"{path!r} is not a DuckDB database (it holds {held}): {first}") from None
            self.param = lambda name: f"${name}"
        else:
            import sqlalchemy as sa

            try:
                self.engine = sa.create_engine(engine_url(source))
                self.con = self.engine.connect()
            except ImportError as exc:
                raise WarehouseError(f"no database driver for {self.label}: {exc}") from None
            except Exception as exc:  # connection refused, unknown database ...
                raise WarehouseError(f"cannot connect to {self.label}: {exc}") from None
            self.kind = "sqlalchemy"
            self.param = lambda name: f":{name}"
            self.inspector = sa.inspect(self.con)  # caches the catalogue queries
        self._columns: dict[str, list[tuple[str, str]]] = {}

    def close(self) -> None:
        self.con.close()
        if self.kind == "sqlalchemy":
            self.engine.dispose()

    def quote(self, name: str) -> str:
        if self.kind == "sqlalchemy":
            return self.engine.dialect.identifier_preparer.quote(name)
        return '"' + name.replace('"', '""') + '"'

    def qualified(self, name: str) -> str:
        return f"{self.quote(self.schema)}.{self.quote(name)}" if self.schema else self.quote(name)

    def relations(self) -> dict[str, str]:
        """Lower-cased relation name → its name in the database (tables and views)."""
        if self.kind == "duckdb":
            schema = self.schema or self.con.execute("SELECT current_schema()").fetchone()[0]
            rows = self.con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                                    [schema]).fetchall()
            names = [r[0] for r in rows]
        else:
            insp = self.inspector
            names = list(insp.get_table_names(schema=self.schema)) + list(insp.get_view_names(schema=self.schema))
        out: dict[str, str] = {}
        for n in sorted(names):
            out.setdefault(n.lower(), n)
        return out

    def _describe(self, name: str) -> list[tuple[str, str]]:
        """``(column, kind)`` pairs in table order; kind is ``date``, ``bool`` or ``other``."""
        if name in self._columns:
            return self._columns[name]
        if self.kind == "duckdb":
            schema = self.schema or self.con.execute("SELECT current_schema()").fetchone()[0]
            rows = self.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position", [schema, name]).fetchall()

            def kind(t):
                t = str(t).upper()
                return "date" if t.startswith(("DATE", "TIMESTAMP")) else "bool" if t == "BOOLEAN" else "other"

            pairs = [(c, kind(t)) for c, t in rows]
        else:
            import sqlalchemy as sa

            def kind(t):
                if isinstance(t, (sa.Date, sa.DateTime)):
                    return "date"
                return "bool" if isinstance(t, sa.Boolean) else "other"

            pairs = [(c["name"], kind(c["type"])) for c in self.inspector.get_columns(name, schema=self.schema)]
        self._columns[name] = pairs
        return pairs

    def column_types(self, name: str) -> dict[str, str]:
        """Lower-cased column name → ``date``, ``bool`` or ``other``."""
        return {c.lower(): k for c, k in self._describe(name)}

    def columns(self, name: str) -> list[str]:
        return [c for c, _ in self._describe(name)]

    def read(self, sql: str, params: dict, *, dates: Iterable[str] = ()) -> pd.DataFrame:
        """Run ``sql``; ``dates`` are columns typed DATE/TIMESTAMP (parsed on the way in)."""
        if self.kind == "duckdb":
            return self.con.execute(sql, params).df() if params else self.con.execute(sql).df()
        if self.engine.dialect.name == "postgresql" and self.engine.dialect.driver == "psycopg":
            return self._copy_csv(sql, params)
        import sqlalchemy as sa

        return pd.read_sql(sa.text(sql), self.con, params=params or None, coerce_float=True,
                           parse_dates=list(dates) or None)

    def _copy_csv(self, sql: str, params: dict) -> pd.DataFrame:
        """PostgreSQL: stream ``COPY (sql) TO STDOUT`` as CSV and read it like a CSV file (several
        times faster than fetching rows as Python objects, and the very same parsing)."""
        import io as _io

        from ..parsing import NA_VALUES as _NA_VALUES

        for name, value in params.items():  # only dates we built ourselves: safe as literals
            if value is not None and not hasattr(value, "isoformat"):
                raise WarehouseError(f"internal: parameter {name} must be a date, got {value!r}")
            literal = "NULL" if value is None else f"DATE '{value.isoformat()}'"
            sql = re.sub(rf":{name}\b", literal, sql)
        buffer = _io.BytesIO()
        cursor = self.con.connection.driver_connection.cursor()
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
            for block in copy:
                buffer.write(block)
        cursor.close()
        buffer.seek(0)
        if buffer.getbuffer().nbytes == 0:
            return pd.DataFrame()
        return pd.read_csv(buffer, dtype=str, keep_default_na=False, na_values=_NA_VALUES)


def _where(reader: _Reader, table: str, real: str, window: Window, params: dict) -> list[str]:
    """SQL conditions for ``table`` (a superset of :func:`window_mask`, exact on typed columns)."""
    if not window or table in ("fx_rates", "quotas", "targets"):
        return []
    types = reader.column_types(real)
    cols = {c.lower(): c for c in reader.columns(real)}
    q = reader.quote
    params["since"], params["until"] = (window.since.date() if window.since is not None else None,
                                        window.until.date() if window.until is not None else None)
    s = window.since is not None
    u = window.until is not None

    def dated(name):
        return name in cols and types.get(name) == "date"

    def lt(name):  # col < until or null
        return f"({q(cols[name])} IS NULL OR {q(cols[name])} < {reader.param('until')})"

    def ge(name):
        return f"({q(cols[name])} IS NULL OR {q(cols[name])} >= {reader.param('since')})"

    conds = []
    if table == "subscriptions":
        if u and dated("start_date"):
            conds.append(lt("start_date"))
        if s and dated("end_date"):
            conds.append(f"({q(cols['end_date'])} IS NULL OR {q(cols['end_date'])} > {reader.param('since')})")
    elif table == "opportunities":
        conds += _opportunity_conditions(reader, cols, types, window)
    elif table == "opportunity_history":
        # only the date: a sub-query on opportunities would not keep the rows' order (DuckDB joins
        # in parallel); rows of opportunities outside the window are dropped after reading
        if u and dated("changed_at"):
            conds.append(lt("changed_at"))
    elif table == "customers":
        if u and dated("created_at"):
            conds.append(lt("created_at"))
    elif table in ("invoices", "support_tickets"):
        first, second = ("issued_at", "paid_at") if table == "invoices" else ("opened_at", "closed_at")
        if u and dated(first):
            conds.append(lt(first))
        if s and dated(first) and dated(second):
            conds.append(f"({ge(first)} OR {ge(second)})")
    else:
        col = TABLES[table].date_column
        if col and dated(col):
            if u:
                conds.append(lt(col))
            if s:
                conds.append(ge(col))
    return conds


def _opportunity_conditions(reader: _Reader, cols, types, window: Window) -> list[str]:
    q = reader.quote
    conds = []
    if window.until is not None and types.get("created_at") == "date" and "created_at" in cols:
        conds.append(f"({q(cols['created_at'])} IS NULL OR {q(cols['created_at'])} < {reader.param('until')})")
    if (window.since is not None and types.get("is_closed") == "bool" and types.get("close_date") == "date"
            and "is_closed" in cols and "close_date" in cols):
        conds.append(f"NOT ({q(cols['is_closed'])} IS TRUE AND {q(cols['close_date'])} IS NOT NULL "
                     f"AND {q(cols['close_date'])} < {reader.param('since')})")
    return conds


def _canonical_columns(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Rename columns that match canonical ones case-insensitively (Snowflake upper-cases)."""
    canon = {c.lower(): c for c in TABLES[table].column_names}
    return frame.rename(columns={c: canon[str(c).lower()] for c in frame.columns
                                 if str(c).lower() in canon and c != canon[str(c).lower()]})


def read_database_frames(source: str | Path, *, tables: Iterable[str] | None = None,
                         window: Window = Window(), schema: str | None = None, mapping=None,
                         validate: bool = True):
    """Read the canonical tables (or views) of a database as raw frames.

    Returns ``(frames, label, notes, reconcile)``: the frames keyed by canonical table name, the
    source label (password masked), notes, and — for a windowed read — a function that re-checks
    orphan failures against the full parent id lists. :func:`revops_kit.io.load` parses, windows
    and validates them (adapters return frames; only ``io`` builds a ``RevOpsData``).

    See the module docstring for the window rules and what is pushed down. ``mapping`` (a
    :class:`~revops_kit.adapters.mapping.SourceMapping`) reads tables listed with ``table:`` from
    that database table and applies the mapping; they are filtered after parsing.
    """
    from .mapping import apply_mapping

    source = str(source)
    reader = _Reader(source, schema)
    started = time.perf_counter()
    notes: list[str] = []
    try:
        relations = reader.relations()
        wanted = list(tables) if tables is not None else list(TABLE_NAMES)
        raw: dict[str, pd.DataFrame] = {}
        pushed: list[str] = []
        mapped = dict(mapping.tables) if mapping is not None else {}
        for table in wanted:
            if table in mapped:
                tm = mapped[table]
                name = tm.source_table or tm.file or table
                real = relations.get(str(name).lower())
                if real is None:
                    raise DataNotFoundError(f"mapping {mapping.name}: table {table} reads {name!r}, which is not "
                                            f"a table or view of {reader.label}")
                frame = reader.read(f"SELECT * FROM {reader.qualified(real)}", {})
                raw[table], map_notes = apply_mapping(tm, frame, where=f"mapping {mapping.name}",
                                                      base=mapping.path.parent if mapping.path else None)
                notes.extend(map_notes)
                continue
            real = relations.get(table)
            if real is None:
                continue
            params: dict = {}
            conds = _where(reader, table, real, window, params)
            sql = f"SELECT * FROM {reader.qualified(real)}"
            if conds:
                sql += " WHERE " + " AND ".join(conds)
                pushed.append(table)
            used = {k: v for k, v in params.items() if reader.param(k) in sql}
            typed_dates = [c for c, k in reader.column_types(real).items() if k == "date"]
            real_cols = {c.lower(): c for c in reader.columns(real)}
            raw[table] = _canonical_columns(
                reader.read(sql, used, dates=[real_cols[c] for c in typed_dates if c in real_cols]), table)
        if not raw:
            raise DataNotFoundError(
                f"database {reader.label} has no table or view named like a canonical table "
                f"({', '.join(TABLE_NAMES)}){' in schema ' + schema if schema else ''}")
        parent_ids = {}
        if window and validate:
            for parent, key in (("customers", "customer_id"), ("opportunities", "opportunity_id")):
                real = relations.get(parent)
                if real is not None and parent not in mapped:
                    col = {c.lower(): c for c in reader.columns(real)}.get(key)
                    if col is not None:
                        ids = reader.read(f"SELECT DISTINCT {reader.quote(col)} AS id FROM {reader.qualified(real)}", {})
                        parent_ids[parent] = ids["id"].dropna().astype(str).unique()
    finally:
        reader.close()
    seconds = time.perf_counter() - started
    if window:
        notes.append(
            f"read rows relevant to {window} from {reader.label} in {seconds:.2f} s; pushed down to the "
            f"database for: {', '.join(pushed) or 'no table'} (see revops_kit.adapters.warehouse)")
    reconcile = (lambda report, parsed: _reconcile_orphans(report, parsed, parent_ids)) if window else None
    return raw, reader.label, notes, reconcile


def _reconcile_orphans(report: pd.DataFrame, tables: dict[str, pd.DataFrame], parent_ids: dict) -> pd.DataFrame:
    """Re-check ``*_exists`` failures of a windowed read against the full parent id lists."""
    keep = []
    for r in report.to_dict(orient="records"):
        if r["check"] not in ("customer_exists", "opportunity_exists"):
            keep.append(r)
            continue
        parent = "customers" if r["check"] == "customer_exists" else "opportunities"
        if parent not in parent_ids:
            keep.append(r)
            continue
        child = tables[r["table"]]
        values = child[r["column"]]
        bad = values.notna() & ~values.astype(str).isin(parent_ids[parent])
        if bad.any():
            idx = child.index[bad]
            keep.append(_failure(r["table"], r["column"], r["check"], [int(i) + 1 for i in idx],
                                 values[bad].tolist(), n=int(bad.sum())))
    return pd.DataFrame(keep, columns=report.columns)


# ---------------------------------------------------------------------- writing
_SQL_KIND = {"date": "date", "money": "float", "float": "float", "int": "float", "bool": "bool"}


def write_tables(data, url: str | Path, *, schema: str | None = None, if_exists: str = "replace") -> dict[str, int]:
    """Write a dataset's tables to a database under their canonical names, with SQL types from the
    schema (DATE, DOUBLE PRECISION, BOOLEAN, TEXT). ``data`` is a RevOpsData or a dict of parsed
    frames. Returns the row count per table.

    Used to load the sample into a warehouse (``rk.load`` reads it back identically):

    >>> import tempfile, os, revops_kit as rk
    >>> path = os.path.join(tempfile.mkdtemp(), "demo.duckdb")
    >>> write_tables(rk.load(rk.SAMPLE_DIR, tables=["fx_rates"]), path)
    {'fx_rates': 120}
    """
    frames = data.tables() if hasattr(data, "tables") else dict(data)
    path = _duckdb_path(str(url))
    counts = {}
    if path is not None:
        import duckdb

        con = duckdb.connect(path)
        try:
            if schema:
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            for name, frame in frames.items():
                target = f'"{schema}"."{name}"' if schema else f'"{name}"'
                typed = _typed(name, frame)
                con.register("_revops_frame", typed)
                if if_exists == "replace":
                    con.execute(f"DROP TABLE IF EXISTS {target}")
                con.execute(f"CREATE TABLE {target} AS SELECT * FROM _revops_frame")
                con.unregister("_revops_frame")
                counts[name] = len(frame)
        finally:
            con.close()
        return counts
    import sqlalchemy as sa

    engine = sa.create_engine(engine_url(str(url)))
    try:
        with engine.begin() as con:
            if schema:
                con.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {engine.dialect.identifier_preparer.quote(schema)}"))
            for name, frame in frames.items():
                typed = _typed(name, frame)
                dtypes = {}
                for col in typed.columns:
                    spec = TABLES[name].col(col)
                    kind = _SQL_KIND.get(spec.kind) if spec else None
                    dtypes[col] = {"date": sa.Date(), "float": sa.Float(53), "bool": sa.Boolean()}.get(kind, sa.Text())
                if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
                    # COPY: fast, and no limit on the number of bound parameters
                    typed.head(0).to_sql(name, con, schema=schema, if_exists=if_exists, index=False, dtype=dtypes)
                    prep = engine.dialect.identifier_preparer
                    target = f"{prep.quote(schema)}.{prep.quote(name)}" if schema else prep.quote(name)
                    cols = ", ".join(prep.quote(c) for c in typed.columns)
                    cursor = con.connection.driver_connection.cursor()
                    with cursor.copy(f"COPY {target} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
                        copy.write(typed.to_csv(index=False, header=False, lineterminator="\n"))
                else:
                    typed.to_sql(name, con, schema=schema, if_exists=if_exists, index=False, dtype=dtypes,
                                 chunksize=10_000)
                counts[name] = len(frame)
    finally:
        engine.dispose()
    return counts


def _typed(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with dates as datetime64, booleans as nullable booleans and text as object."""
    out = frame.copy()
    for col in out.columns:
        spec = TABLES[name].col(col)
        if spec is None:
            continue
        if spec.kind == "date":
            out[col] = pd.to_datetime(out[col]).dt.date.astype(object).where(out[col].notna(), None)
        elif spec.kind == "bool":
            out[col] = out[col].astype("boolean").astype(object).where(out[col].notna(), None)
        elif spec.kind in ("money", "float", "int"):
            out[col] = out[col].astype("float64")
        else:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out

