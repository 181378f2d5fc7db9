"""Loading a dataset: a folder of CSV or Parquet files named after the canonical tables.

``rk.load(path)`` returns a :class:`RevOpsData` with one attribute per table (``None`` when the
file is absent). Every column is read as text first and then parsed by its kind in the schema, so
nothing is coerced behind your back: a value that does not parse is a schema failure naming the
table, column and row, and a value that was repaired (``"$1,200"`` read as ``1200``) is listed in
``data.notes``. No row is ever dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .errors import DataNotFoundError, MissingTableError, PeriodError, SchemaError
from .periods import Period, PeriodLike, as_period
from .schema import TABLE_NAMES, TABLES, _failure, format_failures, validation_report

__all__ = ["RevOpsData", "load", "load_sample", "from_frames", "parse_table", "validation_summary",
           "SAMPLE_DIR"]

#: The committed sample dataset.
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"

# Values read as missing. "NA" is deliberately *not* here: it is North America in a region column.
_NA_VALUES = ["", "nan", "NaN", "null", "NULL", "None", "N/A", "n/a", "#N/A"]
_TRUE = {"true", "t", "yes", "y", "1", "1.0", "won", "closed"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
_MONEY_JUNK = re.compile(r"[\s,$€£¥]|USD|EUR|GBP")


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

    def latest_full_period(self, kind: str = "quarter") -> Period:
        """The last period of ``kind`` that ends on or before the data's last month ends."""
        _, last = self.date_range()
        p = Period.containing(last, kind)
        if last < p.end - pd.Timedelta(days=1) and (p.end - last).days > 31:
            p = p.previous()
        return p

    def __repr__(self) -> str:
        parts = [f"{n}={len(f)}" for n, f in self.tables().items()]
        return f"RevOpsData({self.source!r}: {', '.join(parts) or 'no tables'})"


# ---------------------------------------------------------------------- parsing
def _parse_dates(raw: pd.Series) -> pd.Series:
    text = raw.astype("string").str.strip()
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    if parsed.isna().sum() > text.isna().sum():  # other formats (e.g. 03/31/2025)
        retry = pd.to_datetime(text[parsed.isna() & text.notna()], errors="coerce", format="mixed", utc=True)
        parsed = parsed.fillna(retry) if len(retry) else parsed
    return parsed.dt.tz_convert(None).dt.normalize().astype("datetime64[ns]")


def _parse_money(raw: pd.Series) -> tuple[pd.Series, int]:
    text = raw.astype("string").str.strip()
    cleaned = text.str.replace(_MONEY_JUNK, "", regex=True)
    negative = cleaned.str.match(r"^\(.*\)$").fillna(False)
    cleaned = cleaned.str.strip("()")
    values = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    values = values.where(~negative.astype(bool), -values)
    repaired = int(((text != cleaned) & values.notna()).fillna(False).sum())
    return values, repaired


def _parse_bool(raw: pd.Series) -> pd.Series:
    text = raw.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False).astype(bool)] = True
    out[text.isin(_FALSE).fillna(False).astype(bool)] = False
    return out


def parse_table(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[dict], list[str]]:
    """Parse a raw table (text or already typed) by the schema's column kinds.

    Returns the parsed frame (same rows, same order, fresh RangeIndex), the parse failures in
    :func:`~revops_kit.schema.validation_report` format, and notes on repairs.
    """
    spec = TABLES[name]
    out = frame.reset_index(drop=True).copy()
    out.columns = [str(c).strip() for c in out.columns]
    failures: list[dict] = []
    notes: list[str] = []
    for col in spec.columns:
        if col.name not in out.columns:
            continue
        raw = out[col.name]
        present = raw.notna() & (raw.astype("string").str.strip() != "").fillna(False)
        if col.kind in ("id", "str", "currency", "period"):
            if pd.api.types.is_float_dtype(raw) and col.kind == "id":  # 1001.0 from a typed source
                raw = raw.map(lambda v: str(int(v)) if pd.notna(v) and float(v).is_integer() else v)
            text = raw.astype("string").str.strip()
            text = text.where(text != "", pd.NA)
            if col.kind == "currency":
                text = text.str.upper()
            out[col.name] = text.astype("str") if _PD3 else text.astype(object).where(text.notna(), np.nan)
            continue
        if col.kind == "date":
            parsed = raw if pd.api.types.is_datetime64_any_dtype(raw) else _parse_dates(raw)
            if getattr(parsed.dtype, "tz", None) is not None:
                parsed = parsed.dt.tz_convert(None)
            parsed = parsed.dt.normalize().astype("datetime64[ns]")
            bad = present & parsed.isna()
            check = "parse_date"
        elif col.kind == "bool":
            parsed = raw.astype("boolean") if pd.api.types.is_bool_dtype(raw) else _parse_bool(raw)
            bad = present & parsed.isna()
            check = "parse_bool"
        else:  # money, float, int
            if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
                parsed, repaired = raw.astype("float64"), 0
            elif col.kind == "money":
                parsed, repaired = _parse_money(raw)
            else:
                parsed = pd.to_numeric(raw.astype("string").str.strip(), errors="coerce").astype("float64")
                repaired = 0
            bad = present & parsed.isna()
            check = "parse_money" if col.kind == "money" else "parse_number"
            if repaired:
                notes.append(f"{name}.{col.name}: {repaired} value(s) read as numbers after "
                             "removing currency symbols, spaces or thousands separators")
            if col.kind == "int":
                frac = parsed.notna() & (parsed != parsed.round())
                if frac.any():
                    failures.append(_failure(name, col.name, "is_integer",
                                             (out.index[frac] + 1).tolist(), raw[frac].tolist(),
                                             n=int(frac.sum())))
        if bad.any():
            failures.append(_failure(name, col.name, check, (out.index[bad] + 1).tolist(),
                                     raw[bad].tolist(), n=int(bad.sum())))
        out[col.name] = parsed
    return out, failures, notes


_PD3 = int(pd.__version__.split(".")[0]) >= 3


# ---------------------------------------------------------------------- loading
def _read_file(path: Path, table: str) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=_NA_VALUES)
    except pd.errors.EmptyDataError:
        raise SchemaError(
            f"table {table}: file {path.name} is empty (no header row); write at least the header "
            f"with the required columns {', '.join(TABLES[table].required_columns)}"
        ) from None


def from_frames(frames: dict[str, pd.DataFrame], *, source: str = "(in memory)",
                validate: bool = True) -> RevOpsData:
    """Build a :class:`RevOpsData` from raw or typed frames keyed by table name (parsed like files)."""
    unknown = sorted(set(frames) - set(TABLE_NAMES))
    if unknown:
        raise SchemaError(f"unknown table name(s) {unknown}; expected some of {list(TABLE_NAMES)}")
    data = RevOpsData(source=source)
    failures: list[dict] = []
    for name, frame in frames.items():
        if frame is None:
            continue
        parsed, fails, notes = parse_table(name, frame)
        setattr(data, name, parsed)
        failures.extend(fails)
        data.notes.extend(notes)
    if validate:
        report = validation_report(data.tables())
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
    from .adapters.warehouse import apply_window, is_database, make_window, read_database

    if engine != "pandas":  # the SQL engine hook (revops_kit.engines.sql)
        from .engines.sql import load_with_engine

        data = load_with_engine(load, path, engine=engine, tables=tables, mapping=mapping,
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
    if is_database(source):
        return read_database(source, tables=tables, window=window, schema=schema, mapping=mapped,
                             validate=validate)
    folder = Path(source)
    if not folder.exists():
        raise DataNotFoundError(f"data folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise DataNotFoundError(f"{str(folder)!r} is not a folder of table files, a DuckDB file "
                                "(*.duckdb), a database URL or a mapping (*.yaml)")
    wanted = set(tables) if tables is not None else set(TABLE_NAMES)
    frames: dict[str, pd.DataFrame] = {}
    used: set[str] = set()
    if mapped is not None:
        frames, used = read_mapped(mapped, folder)
    notes: list[str] = []
    for file in sorted(folder.iterdir()):
        if file.name.startswith(".") or file.is_dir() or file.name.lower() in ("readme.md", "provenance.md"):
            continue
        if file.name in used or (mapped is not None and mapped.path is not None
                                 and file.resolve() == mapped.path.resolve()):
            continue
        stem, suffix = file.stem, file.suffix.lower()
        if suffix in (".yaml", ".yml"):  # mapping files live beside the data
            continue
        if suffix not in (".csv", ".parquet") or stem not in TABLE_NAMES:
            notes.append(f"ignored unknown file {file.name} (not a canonical table name)")
            continue
        if stem not in wanted or stem in (mapped.tables if mapped is not None else {}):
            continue
        if stem in frames:
            raise SchemaError(f"table {stem}: both a CSV and a Parquet file are present in {folder}")
        frames[stem] = _read_file(file, stem)
    if not frames:
        raise DataNotFoundError(
            f"data folder {str(folder)!r} holds no table file; expected files such as "
            f"customers.csv, subscriptions.csv (one per table: {', '.join(TABLE_NAMES)})"
        )
    data = from_frames(frames, source=str(folder), validate=validate)
    data.notes[:0] = notes
    if mapped is not None:
        data.notes.insert(0, f"read {', '.join(sorted(mapped.tables))} through mapping {mapped.name}")
    if window:
        kept = apply_window(data.tables(), window)
        for name, frame in kept.items():
            setattr(data, name, frame)
        data.notes.append(f"kept the rows relevant to {window} (rules: revops_kit.adapters.warehouse)")
    return data


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
