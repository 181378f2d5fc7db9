"""Loading a dataset: a folder of CSV or Parquet files named after the canonical tables.

``rk.load(path)`` returns a :class:`RevOpsData` with one attribute per table (``None`` when the
file is absent). Every column is read as text first and then parsed by its kind in the schema, so
nothing is coerced behind your back: a value that does not parse is a schema failure naming the
table, column and row, and a value that was repaired (``"$1,200"`` read as ``1200``) is listed in
``data.notes``. No row is ever dropped.

Size
----
Over 600 lines because it holds the three things every load path meets: :class:`RevOpsData` (the
dataset and its derived-frame cache), :func:`load` (the one public entry, folders, files,
databases and mappings, with its full docstring) and ``_assemble``, the only place a
``RevOpsData`` is built and validated. The readers of each format are in :mod:`parsing` and
:mod:`adapters`; moving ``RevOpsData`` into a module of its own is the next split if it grows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from . import parsing
from .errors import DataNotFoundError, MissingTableError, PeriodError, SchemaError
from .parsing import NA_VALUES as _NA_VALUES
from .periods import Period, PeriodLike, as_period
from .schema import TABLE_NAMES, TABLES, _failure, format_failures, validation_report

__all__ = ["RevOpsData", "load", "load_sample", "load_export", "from_frames", "parse_table", "validation_summary",
           "SAMPLE_DIR"]

#: Loaders of other engines, registered by them (``revops_kit.engines`` registers "sql"), so that
#: io does not import the layer above it: ``loader(load, path, engine=, **load_kwargs)`` returns
#: a dataset, or ``None`` to let the pandas engine load it.
ENGINE_LOADERS: dict = {}

#: The committed sample dataset.
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"



@dataclass
class RevOpsData:
    """A dataset of canonical tables; each attribute is a DataFrame or ``None``.

    Attributes
    ----------
    source : str
        Where it was loaded from.
    notes : list of str
        What the loader repaired or ignored (unknown files, parsed money strings ...).
    """

    customers: pd.DataFrame | None = None
    subscriptions: pd.DataFrame | None = None
    invoices: pd.DataFrame | None = None
    opportunities: pd.DataFrame | None = None
    opportunity_history: pd.DataFrame | None = None
    leads: pd.DataFrame | None = None
    costs: pd.DataFrame | None = None
    support_tickets: pd.DataFrame | None = None
    nps_responses: pd.DataFrame | None = None
    product_usage: pd.DataFrame | None = None
    quotas: pd.DataFrame | None = None
    forecast_submissions: pd.DataFrame | None = None
    targets: pd.DataFrame | None = None
    fx_rates: pd.DataFrame | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    def derived(self, key: tuple, frames: tuple, build):
        """``build()`` once per ``key`` for this dataset (catalogue adapters compute many KPIs from
        the same intermediate, e.g. the opportunity timeline). The entry remembers the frames it
        was built from and is reused only while the dataset still holds those very objects, so
        replacing a table rebuilds it. The cache lives and dies with the dataset."""
        hit = self._derived.get(key)
        if hit is None or len(hit[0]) != len(frames) or any(a is not b for a, b in zip(hit[0], frames)):
            hit = self._derived[key] = (frames, build())
        return hit[1]

    def adopt_derived(self, other: "RevOpsData") -> int:
        """Take over the :meth:`derived` entries of ``other``, a copy of this dataset (the same
        tables, e.g. read again from a report's context cache), rebound to this dataset's tables
        of the same names. Entries this dataset has already, or built from frames that are not
        ``other``'s tables, are left out. Returns how many entries were taken."""
        names = {id(getattr(other, n)): n for n in TABLE_NAMES if getattr(other, n, None) is not None}
        taken = 0
        for key, (frames, value) in other._derived.items():
            if key in self._derived or any(id(f) not in names for f in frames):
                continue
            self._derived[key] = (tuple(getattr(self, names[id(f)]) for f in frames), value)
            taken += 1
        return taken

    # ------------------------------------------------------------------ access
    def tables(self) -> dict[str, pd.DataFrame]:
        """The present tables by name, in canonical order (in-memory frames only: a table kept in
        a database by ``engine="sql"`` is checked there, see :mod:`revops_kit.engines.sql`)."""
        return {n: getattr(self, n) for n in TABLE_NAMES
                if isinstance(getattr(self, n), pd.DataFrame)}

    def has(self, *names: str) -> bool:
        return all(getattr(self, n, None) is not None for n in names)

    def require(self, *names: str, what: str = "this computation") -> None:
        """Raise :class:`MissingTableError` naming every absent table that ``what`` needs."""
        missing = [n for n in names if getattr(self, n, None) is None]
        if missing:
            raise MissingTableError(
                f"{what} needs table(s) {', '.join(missing)}, which the dataset "
                f"{self.source or '(in memory)'} does not have"
            )

    def validate(self) -> None:
        """Validate every present table (raises :class:`SchemaError` listing all failures)."""
        report = validation_report(self.tables())
        if len(report):
            raise SchemaError(format_failures(report), failures=report)

    def validation_report(self) -> pd.DataFrame:
        return validation_report(self.tables())

    # ------------------------------------------------------------------ coverage
    def coverage(self) -> pd.DataFrame:
        """Rows, columns and date range of every canonical table (absent ones marked)."""
        rows = []
        for name in TABLE_NAMES:
            frame = getattr(self, name)
            spec = TABLES[name]
            if frame is None:
                rows.append({"table": name, "present": False, "rows": 0, "columns": 0,
                             "date_column": spec.date_column, "first": pd.NaT, "last": pd.NaT})
                continue
            if not isinstance(frame, pd.DataFrame):  # kept in a database (engine="sql")
                rows.append({"table": name, "present": True, **frame.coverage()})
                continue
            col = spec.date_column
            dates = frame[col] if col and col in frame.columns else pd.Series([], dtype="datetime64[ns]")
            rows.append({"table": name, "present": True, "rows": len(frame),
                         "columns": frame.shape[1], "date_column": col,
                         "first": dates.min(), "last": dates.max()})
        return pd.DataFrame(rows)

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Earliest and latest date over every table's main date column."""
        cov = self.coverage()
        cov = cov[cov["present"]]
        first, last = cov["first"].min(), cov["last"].max()
        if pd.isna(first):
            raise PeriodError(f"dataset {self.source or '(in memory)'} has no dated rows")
        return pd.Timestamp(first), pd.Timestamp(last)

    def check_period(self, period: PeriodLike, *, fiscal_year_start: int = 1) -> Period:
        """Parse ``period`` and raise :class:`PeriodError` if it lies outside the data."""
        p = as_period(period, fiscal_year_start=fiscal_year_start)
        first, last = self.date_range()
        if p.end <= first or p.start > last:
            raise PeriodError(
                f"period {p} ({p.start.date()}..{p.end.date()} exclusive) is outside the data, "
                f"which covers {first.date()}..{last.date()}"
            )
        return p

    def _dated_rows(self) -> pd.DataFrame:
        """table, row (1-based), column, date of every row's main date column."""
        parts = []
        for name, frame in self.tables().items():
            col = TABLES[name].date_column
            if not col or col not in frame.columns or not pd.api.types.is_datetime64_any_dtype(frame[col]):
                continue
            d = frame[col]
            keep = d.notna().to_numpy()
            parts.append(pd.DataFrame({"table": name, "row": np.flatnonzero(keep) + 1, "column": col,
                                       "date": d[keep].to_numpy()}))
        if not parts:
            return pd.DataFrame(columns=["table", "row", "column", "date"])
        return pd.concat(parts, ignore_index=True)

    def data_extent(self) -> dict:
        """Where the bulk of the data ends, and the far-future outlier rows left out of it.

        Rows are outliers when they lie more than 12 months after the next earlier dated row of
        the dataset and are few (at most 5, or 0.1 % of the dated rows). Returns ``{"last": date,
        "decided_by": (table, row, column), "outliers": frame of table/row/column/date}``.
        """
        rows = self._dated_rows()
        if rows.empty:
            raise PeriodError(f"dataset {self.source or '(in memory)'} has no dated rows")
        rows = rows.sort_values("date", kind="stable").reset_index(drop=True)
        limit = max(5, int(len(rows) * 0.001))
        cut = len(rows)
        months = rows["date"].dt.year * 12 + rows["date"].dt.month
        i = len(rows) - 1
        while i > 0 and len(rows) - i <= limit:
            if months.iloc[i] - months.iloc[i - 1] > 12:
                cut = i
            i -= 1
        bulk, outliers = rows.iloc[:cut], rows.iloc[cut:]
        last = bulk.iloc[-1]
        return {"last": pd.Timestamp(last["date"]), "decided_by": (last["table"], int(last["row"]), last["column"]),
                "outliers": outliers.reset_index(drop=True)}

    def latest_full_period(self, kind: str = "quarter") -> Period:
        """The last period of ``kind`` that ends on or before the last month of the *bulk* of the
        data ends (a few far-future rows do not move it; see :meth:`data_extent`)."""
        last = self.data_extent()["last"]
        p = Period.containing(last, kind)
        if last < p.end - pd.Timedelta(days=1) and (p.end - last).days > 31:
            p = p.previous()
        return p

    def default_period_note(self, kind: str = "quarter") -> str:
        """One or two sentences saying which period is the default and which rows decided it."""
        ext = self.data_extent()
        p = self.latest_full_period(kind)
        table, row, col = ext["decided_by"]
        text = (f"default period {p}: the last full {kind} of the data, whose bulk ends "
                f"{ext['last'].date()} ({table} row {row}, {col})")
        out = ext["outliers"]
        if len(out):
            shown = ", ".join(f"{r.table} row {r.row} ({r.column} {pd.Timestamp(r.date).date()})"
                              for r in out.head(5).itertuples(index=False))
            text += (f"; {len(out)} far-future row(s) left out of the default: {shown}"
                     f"{' ...' if len(out) > 5 else ''} — check them, or pass --period")
        return text

    # ------------------------------------------------------------------ writing
    def save(self, folder: str | Path) -> dict[str, int]:
        """Write every present table to ``folder/<table>.csv`` (dates ``YYYY-MM-DD``, booleans
        ``true``/``false``, numbers exactly); ``rk.load(folder)`` reads the same values back.

        Returns the number of rows written per table. The files are written to a temporary
        folder beside ``folder`` and moved in when all are written.
        """
        import os
        import shutil
        import tempfile

        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise DataNotFoundError(f"save: {str(folder)!r} is a file, not a folder")
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".revops-save-", dir=folder.parent))
        counts = {}
        try:
            for name, frame in self.tables().items():
                out = frame.copy()
                for col in out.columns:
                    s = out[col]
                    if pd.api.types.is_datetime64_any_dtype(s):
                        out[col] = s.dt.strftime("%Y-%m-%d").where(s.notna(), "")
                    elif pd.api.types.is_bool_dtype(s) or str(s.dtype) == "boolean":
                        out[col] = s.astype(object).map(lambda v: "" if pd.isna(v) else ("true" if v else "false"))
                out.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
                counts[name] = len(frame)
            folder.mkdir(exist_ok=True)
            for file in tmp.iterdir():
                os.replace(file, folder / file.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return counts

    def __repr__(self) -> str:
        parts = [f"{n}={len(f)}" for n, f in self.tables().items()]
        return f"RevOpsData({self.source!r}: {', '.join(parts) or 'no tables'})"


# ---------------------------------------------------------------------- parsing
def _id_text(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(raw):  # 1001.0 from a typed source
        raw = raw.map(lambda v: str(int(v)) if pd.notna(v) and np.isfinite(v) and float(v).is_integer() else v)
    return raw


def _parse_options(options: Mapping | None, column: str) -> dict:
    """Per-column parse options: ``{"decimal": ",", "dates": {col: fmt}, "dayfirst": ...}``; a
    top-level ``decimal`` applies to every number column, ``{"decimal": {col: ","}}`` to one."""
    if not options:
        return {}
    out = {}
    dec = options.get("decimal")
    if isinstance(dec, Mapping):
        dec = dec.get(column)
    if dec is not None:
        out["decimal"] = dec
    fmt = (options.get("dates") or {}).get(column)
    if fmt is not None:
        if fmt in ("dayfirst", "D/M/Y", "day_first"):
            out["dayfirst"] = True
        elif fmt in ("monthfirst", "M/D/Y", "month_first"):
            out["dayfirst"] = False
        else:
            out["format"] = fmt
    return out


def parse_table(name: str, frame: pd.DataFrame, *, options: Mapping | None = None,
                ) -> tuple[pd.DataFrame, list[dict], list[str]]:
    """Parse a raw table (text or already typed) by the schema's column kinds.

    Returns the parsed frame (same rows, same order, fresh RangeIndex), the parse failures in
    :func:`~revops_kit.schema.validation_report` format, and notes on repairs. ``options`` carries
    the conventions a mapping sets (``decimal``, ``dates`` formats); without them each column's
    convention is detected from its values (see :mod:`revops_kit.parsing`), and a value that could
    be read two ways is a failure, not a guess.
    """
    spec = TABLES[name]
    out = frame.reset_index(drop=True).copy()
    out.columns = [str(c).strip() for c in out.columns]
    dups = sorted({c for c in out.columns if list(out.columns).count(c) > 1})
    if dups:
        raise SchemaError(f"table {name}: duplicate column(s) {dups}; rename or remove one of each")
    failures: list[dict] = []
    notes: list[str] = []
    for col in spec.columns:
        if col.name not in out.columns:
            continue
        raw = out[col.name]
        opts = _parse_options(options, col.name)
        if col.kind in ("id", "str", "currency", "period"):
            if col.kind == "id":
                raw = _id_text(raw)
            text = raw.astype("string").str.strip()
            text = text.where(text != "", pd.NA)
            if col.kind == "currency":
                text = text.str.upper()
            out[col.name] = text.astype("str") if _PD3 else text.astype(object).where(text.notna(), np.nan)
            continue
        if col.kind == "date":
            result = parsing.parse_dates(raw, **{k: v for k, v in opts.items() if k in ("format", "dayfirst")})
        elif col.kind == "bool":
            result = parsing.parse_bools(raw)
        else:  # money, float, int
            result = parsing.parse_numbers(raw, decimal=opts.get("decimal"), money=col.kind == "money")
            if col.kind == "int":
                v = result.values
                frac = v.notna() & np.isfinite(v.fillna(0)) & (v != v.round())
                if frac.any():
                    failures.append(_failure(name, col.name, "is_integer",
                                             (out.index[frac] + 1).tolist(), raw[frac].tolist(),
                                             n=int(frac.sum())))
        if result.note:
            notes.append(f"{name}.{col.name}: {result.note}")
        bad = result.bad
        if bad.any():
            failures.append(_failure(name, col.name, result.check, (out.index[bad] + 1).tolist(),
                                     raw[bad].tolist(), n=int(bad.sum()),
                                     detail=result.reasons[0] if result.reasons else ""))
        out[col.name] = result.values
    return out, failures, notes


_PD3 = int(pd.__version__.split(".")[0]) >= 3


# ---------------------------------------------------------------------- loading
def _os_problem(path: Path, exc: OSError, what: str = "file") -> DataNotFoundError:
    import errno

    if exc.errno == errno.ELOOP:
        return DataNotFoundError(f"{what} {str(path)!r} is a symbolic link loop (it points back to itself)")
    if isinstance(exc, PermissionError):
        return DataNotFoundError(f"{what} {str(path)!r} cannot be read: permission denied")
    if isinstance(exc, IsADirectoryError):
        return DataNotFoundError(f"{what} {str(path)!r} is a folder, not a table file")
    return DataNotFoundError(f"{what} {str(path)!r} cannot be read: {exc.strerror or exc}")


def read_table_file(path: str | Path, table: str, *, sep: str | None = None,
                    encoding: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read one table file (CSV or Parquet, told apart by content, not only by name).

    Returns the raw frame (CSV as text) and notes (encoding and separator when not the default).
    Raises :class:`~revops_kit.parsing.FileFormatError` naming the table and file when the content
    is not what the extension says, the Parquet file is truncated, or the CSV layout is broken.
    """
    path = Path(path)
    try:
        return parsing.read_file(path, what=f"table {table}: file {path.name}", label=table, sep=sep,
                                 encoding=encoding)
    except parsing.EmptyFileError:
        raise SchemaError(
            f"table {table}: file {path.name} is empty (no header row); write at least the header "
            f"with the required columns {', '.join(TABLES[table].required_columns)}") from None
    except OSError as exc:
        raise _os_problem(path, exc, f"table {table}: file") from None


def _parse_money(values: pd.Series) -> tuple[pd.Series, int]:
    """Money text → floats and the number of values repaired (kept for :mod:`revops_kit.crm`)."""
    result = parsing.parse_numbers(values, money=True)
    return result.values, int(result.values.notna().sum()) if result.note else 0


def _read_file(path: Path, table: str) -> pd.DataFrame:  # kept for callers of the old helper
    return read_table_file(path, table)[0]


def from_frames(frames: dict[str, pd.DataFrame], *, source: str = "(in memory)",
                validate: bool = True, options: Mapping[str, Mapping] | None = None) -> RevOpsData:
    """Build a :class:`RevOpsData` from raw or typed frames keyed by table name (parsed like files).

    ``options`` maps a table name to its parse options (``decimal``, ``dates``), as a mapping sets
    them. This is the one place a dataset is assembled: files, databases and the CRM/billing
    adapters all hand their frames to it.
    """
    return _assemble(frames, source=source, validate=validate, options=options)


def _assemble(frames: Mapping[str, pd.DataFrame | None], *, source: str, validate: bool = True,
              options: Mapping[str, Mapping] | None = None, notes: Iterable[str] = (),
              window=None, reconcile=None) -> RevOpsData:
    unknown = sorted(set(frames) - set(TABLE_NAMES))
    if unknown:
        raise SchemaError(f"unknown table name(s) {unknown}; expected some of {list(TABLE_NAMES)}")
    data = RevOpsData(source=source)
    data.notes.extend(notes)
    failures: list[dict] = []
    parsed: dict[str, pd.DataFrame] = {}
    for name, frame in frames.items():
        if frame is None:
            continue
        table, fails, table_notes = parse_table(name, frame, options=(options or {}).get(name))
        parsed[name] = table
        failures.extend(fails)
        data.notes.extend(table_notes)
    if window:
        from .adapters.warehouse import apply_window

        parsed = apply_window(parsed, window)
    for name, table in parsed.items():
        setattr(data, name, table)
    if validate:
        report = validation_report(data.tables())
        if reconcile is not None:
            report = reconcile(report, parsed)
        # a value that did not parse is missing now: don't report it a second time as a null
        # (only when every null of that column is such a value; otherwise both are real)
        unparsed = {(f["table"], f["column"]): f["n_failing"] for f in failures}
        echo = report["check"].eq("not_nullable") & pd.Series(
            [unparsed.get((t, c)) == n for t, c, n in zip(report["table"], report["column"], report["n_failing"])],
            index=report.index, dtype=bool)
        report = report[~echo]
        all_fail = pd.concat([pd.DataFrame(failures, columns=report.columns), report], ignore_index=True) \
            if failures else report
        if len(all_fail):
            raise SchemaError(f"dataset {source}: " + format_failures(all_fail), failures=all_fail)
    return data


def _table_files(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError as exc:
        raise _os_problem(folder, exc, "data folder") from None


def _check_source_path(path: Path, what: str = "data folder") -> None:
    """Raise a clear DataNotFoundError for a missing path, a symlink loop or a dangling link."""
    import errno

    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _os_problem(path, exc, what) from None
        if path.is_symlink():
            raise DataNotFoundError(f"{what} {str(path)!r} is a symbolic link to "
                                    f"{str(Path(path).readlink())!r}, which does not exist") from None
        if isinstance(exc, FileNotFoundError):
            raise DataNotFoundError(f"{what} {str(path)!r} does not exist") from None
        raise _os_problem(path, exc, what) from None


def load(path: str | Path = SAMPLE_DIR, *, validate: bool = True,
         tables: Iterable[str] | None = None, mapping=None, since=None, until=None,
         period: PeriodLike | None = None, schema: str | None = None,
         engine: str | None = None) -> RevOpsData:
    """Load a dataset from a folder of table files, a DuckDB file, a database URL or a mapping.

    Parameters
    ----------
    path : str or Path
        Where the tables are (defaults to the committed sample, ``data/sample``):

        * a folder of ``<table>.csv`` / ``<table>.parquet`` files;
        * a DuckDB file (``*.duckdb``) or ``duckdb:///path``, or any SQLAlchemy URL
          (``postgresql://user@host/db``): the tables or views named like the canonical tables
          (see :mod:`revops_kit.adapters.warehouse`);
        * a mapping YAML file with a ``source:`` key (see :mod:`revops_kit.adapters.mapping`).
    validate : bool
        Run the schema and cross-table checks (default). Failures raise one ``SchemaError``.
    tables : iterable of str, optional
        Load only these tables.
    mapping : str, Path or dict, optional
        A declarative column mapping (YAML file) for tables whose files or columns are not named
        like the canonical ones.
    since, until : date-like, optional
        Keep only the rows relevant to ``[since, until)``: subscriptions overlapping it, open
        opportunities, events inside it ... (the rules are in
        :mod:`revops_kit.adapters.warehouse`). On a database the conditions are pushed down as
        ``WHERE`` clauses; on a folder they filter after loading (same rows either way).
    period : str or Period, optional
        Shorthand for ``since=period.start, until=period.end``.
    schema : str, optional
        Database schema holding the tables (default: the connection's default schema).
    engine : {"pandas", "sql"} or None
        ``"pandas"`` reads every table into memory. ``"sql"`` keeps ``subscriptions`` in the
        database (or scans the folder's Parquet file with DuckDB) and computes the month grid
        and its KPIs there (:mod:`revops_kit.engines.sql`). ``None`` (default): pandas, except
        for a database whose subscriptions table has more than
        ``revops_kit.engines.SQL_ROW_THRESHOLD`` rows (SQL, with a note saying so).

    Returns
    -------
    RevOpsData
        ``data.notes`` lists unknown files, repaired values and what a window kept.

    Raises
    ------
    DataNotFoundError
        If the folder, file or database does not exist or holds no table.
    SchemaError
        If a value does not parse or a schema check fails (every failure at once).

    Examples
    --------
    >>> data = load()            # the sample
    >>> data.customers is not None
    True
    >>> len(load(tables=["subscriptions"], period="2025-Q4").subscriptions) < len(data.subscriptions)
    True
    """
    from .adapters.mapping import load_mapping, read_mapped
    from .adapters.warehouse import is_database, make_window, read_database_frames

    if engine != "pandas" and ENGINE_LOADERS:  # the SQL engine hook (revops_kit.engines)
        data = ENGINE_LOADERS["sql"](load, path, engine=engine, tables=tables, mapping=mapping,
                                since=since, until=until, period=period, schema=schema,
                                validate=validate)
        if data is not None:
            return data
    window = make_window(since, until, period)
    source = str(path)
    mapped = load_mapping(mapping) if mapping is not None else None
    if "://" not in source and Path(source).suffix.lower() in (".yaml", ".yml"):
        if mapped is not None:
            raise ValueError(f"load: {source} is a mapping file; do not also pass mapping=")
        mapped = load_mapping(source)
        if mapped.source is None:
            raise DataNotFoundError(f"mapping {source} has no 'source:' (the folder or database URL to read); "
                                    "add one, or pass the data location with mapping=")
        source = mapped.source
    if mapped is not None and tables is not None:
        mapped = type(mapped)(tables={k: v for k, v in mapped.tables.items() if k in set(tables)},
                              source=mapped.source, path=mapped.path)
    options = {t: tm.parse_options() for t, tm in mapped.tables.items()} if mapped is not None else {}
    if is_database(source):
        if "://" not in source:
            _check_source_path(Path(source), "DuckDB file")
        raw, label, notes, reconcile = read_database_frames(source, tables=tables, window=window,
                                                            schema=schema, mapping=mapped,
                                                            validate=validate)
        return _assemble(raw, source=label, validate=validate, options=options, notes=notes,
                         window=window, reconcile=reconcile)
    folder = Path(source)
    _check_source_path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"{str(folder)!r} is not a folder of table files, a DuckDB file "
                                "(*.duckdb), a database URL or a mapping (*.yaml)")
    wanted = set(tables) if tables is not None else set(TABLE_NAMES)
    frames: dict[str, pd.DataFrame] = {}
    used: set[str] = set()
    notes: list[str] = []
    if mapped is not None:
        frames, used, map_notes = read_mapped(mapped, folder)
        notes.extend(map_notes)
    found: dict[str, Path] = {}
    for file in _table_files(folder):
        name = file.name
        if name.startswith(".") or name.lower() in ("readme.md", "provenance.md"):
            continue
        if name in used or (mapped is not None and mapped.path is not None
                            and file.resolve() == mapped.path.resolve()):
            continue
        stem, suffix = file.stem, file.suffix.lower()
        if suffix in (".yaml", ".yml"):  # mapping files live beside the data
            continue
        if stem not in TABLE_NAMES or suffix not in (".csv", ".parquet", ".txt", ".tsv"):
            if file.is_dir():
                continue
            notes.append(f"ignored unknown file {name} (not a canonical table name)")
            continue
        if stem not in wanted or stem in (mapped.tables if mapped is not None else {}):
            continue
        _check_source_path(file, f"table {stem}: file")
        if file.is_dir():
            raise DataNotFoundError(f"table {stem}: {str(file)!r} is a folder, not a table file")
        if stem in found:
            raise SchemaError(f"table {stem}: both {found[stem].name} and {name} are present in {folder}; "
                              "keep one")
        found[stem] = file
        frames[stem], file_notes = read_table_file(file, stem)
        notes.extend(file_notes)
    if not frames:
        raise DataNotFoundError(
            f"data folder {str(folder)!r} holds no table file; expected files such as "
            f"customers.csv, subscriptions.csv (one per table: {', '.join(TABLE_NAMES)})"
        )
    if mapped is not None:
        notes.insert(0, f"read {', '.join(sorted(mapped.tables))} through mapping {mapped.name}")
    data = _assemble(frames, source=str(folder), validate=validate, options=options, notes=notes)
    if window:  # a folder is validated whole, then windowed (references hold over the full tables)
        from .adapters.warehouse import apply_window

        for name, frame in apply_window(data.tables(), window).items():
            setattr(data, name, frame)
        data.notes.append(f"kept the rows relevant to {window} (rules: revops_kit.adapters.warehouse)")
    return data


EXPORT_ADAPTERS = ("salesforce", "hubspot", "stripe")


def load_export(kind: str, folder: str | Path, *, validate: bool = True, **kwargs) -> RevOpsData:
    """Load a folder of CRM or billing exports (``kind`` = ``"salesforce"``, ``"hubspot"`` or
    ``"stripe"``) as a validated :class:`RevOpsData`; ``kwargs`` go to the adapter's ``to_frames``
    (for example ``owners=`` for HubSpot, ``id_field=`` for Stripe). The adapter's notes are kept
    in ``data.notes``."""
    import importlib
    import inspect

    if kind not in EXPORT_ADAPTERS:
        raise ValueError(f"load_export: kind must be one of {EXPORT_ADAPTERS}, got {kind!r}")
    adapter = importlib.import_module(f".adapters.{kind}", __package__)
    notes: list[str] = []
    if "notes" in inspect.signature(adapter.to_frames).parameters:
        kwargs.setdefault("notes", notes)
    frames = adapter.to_frames(folder, **kwargs)
    return _assemble(frames, source=f"{kind}:{folder}", validate=validate, notes=notes)


def load_sample() -> RevOpsData:
    """The committed sample dataset (``data/sample``), loaded and validated."""
    return load(SAMPLE_DIR)


def validation_summary(data: RevOpsData) -> pd.DataFrame:
    """One row per present table: rows, failed checks and status, then the loader's notes."""
    report = data.validation_report()
    rows = []
    for name, frame in data.tables().items():
        mine = report[report["table"] == name]
        rows.append({"table": name, "rows": len(frame), "failed_checks": len(mine),
                     "failing_rows": int(mine["n_failing"].sum()) if len(mine) else 0,
                     "status": "passed" if mine.empty else "failed"})
    for note in data.notes:
        rows.append({"table": "(note)", "rows": None, "failed_checks": None, "failing_rows": None,
                     "status": note})
    return pd.DataFrame(rows)


def _field_names() -> list[str]:  # used by tests to check the dataclass matches the schema
    return [f.name for f in fields(RevOpsData) if f.name not in ("source", "notes", "_derived")]
