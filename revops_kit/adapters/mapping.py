"""Declarative column mapping (YAML) for sources that have no adapter.

A mapping file says, for each canonical table, which source file (or database table) holds it,
which source column feeds each canonical column, how values and dates are written, and which
numbers need scaling. Use it with ``rk.load(DIR, mapping="mapping.yaml")`` or
``revops validate --data DIR --mapping mapping.yaml`` (every command that takes ``--data`` takes
``--mapping``). A mapping with a ``source`` key can also be given as the dataset itself:
``rk.load("mapping.yaml")`` / ``--data mapping.yaml``.

.. code-block:: yaml

    # mapping.yaml
    source: exports/               # optional: folder or database URL, relative to this file
    tables:
      customers:
        file: Accounts.csv         # file in the data folder (csv, parquet); `table:` for a database
        sep: ";"                   # optional CSV options: sep, encoding, decimal (e.g. ",")
        columns:                   # canonical column: source column
          customer_id: Account Number
          name: Account Name
          created_at: Created On
        values:                    # canonical column: {source value: canonical value}
          segment: {Small Business: SMB, Mid Market: Mid-Market}
        dates:                     # canonical column: the source's strftime format
          created_at: "%d.%m.%Y"
        scale:                     # canonical column: factor (percent → fraction, cents → units)
          probability: 0.01
        constants:                 # canonical column: the same value on every row
          currency: EUR

Source columns already named like a canonical column are taken as they are unless
``keep_unmatched: false``. Values that a value map, a date format or a scale cannot translate are
left as they were, so that validation reports them with their table, column and row — nothing is
silently coerced. Tables the mapping does not list are read as usual (``<table>.csv`` in the
folder, the table of that name in a database).

>>> m = load_mapping({"tables": {"opportunities": {"file": "deals.csv",
...     "columns": {"opportunity_id": "Deal", "created_at": "Opened", "stage": "Phase", "amount": "Value"},
...     "values": {"stage": {"W": "Closed Won"}}, "dates": {"created_at": "%d/%m/%Y"}}}})
>>> raw = pd.DataFrame({"Deal": ["D1"], "Opened": ["31/01/2025"], "Phase": ["W"], "Value": ["10"]})
>>> apply_mapping(m.tables["opportunities"], raw).values.tolist()
[['D1', '2025-01-31', 'Closed Won', '10']]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..errors import DataNotFoundError, RevOpsError
from ..schema import TABLES

__all__ = ["MappingError", "TableMapping", "SourceMapping", "load_mapping", "apply_mapping", "read_mapped"]

_TABLE_KEYS = {"file", "table", "sep", "encoding", "decimal", "columns", "values", "dates", "scale",
               "constants", "keep_unmatched"}


class MappingError(RevOpsError, ValueError):
    """A mapping file that cannot be used (unknown table or column, wrong type, missing file)."""


@dataclass(frozen=True)
class TableMapping:
    """How one canonical table is read from a source file or database table."""

    table: str
    file: str | None = None
    source_table: str | None = None
    sep: str = ","
    encoding: str = "utf-8"
    decimal: str = "."
    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    dates: Mapping[str, str] = field(default_factory=dict)
    scale: Mapping[str, float] = field(default_factory=dict)
    constants: Mapping[str, Any] = field(default_factory=dict)
    keep_unmatched: bool = True


@dataclass(frozen=True)
class SourceMapping:
    """A parsed mapping file: the optional ``source`` and one :class:`TableMapping` per table."""

    tables: Mapping[str, TableMapping]
    source: str | None = None
    path: Path | None = None

    @property
    def name(self) -> str:
        return str(self.path) if self.path else "(mapping)"


def _fail(where: str, message: str):
    raise MappingError(f"mapping {where}: {message}")


def load_mapping(mapping: str | Path | Mapping | SourceMapping) -> SourceMapping:
    """Read and check a mapping (a YAML file path, or the same structure as a dict).

    Raises :class:`MappingError` naming the file, table and key for unknown tables, unknown
    canonical columns, unknown keys and values of the wrong type.
    """
    if isinstance(mapping, SourceMapping):
        return mapping
    path = None
    if isinstance(mapping, (str, Path)):
        import yaml

        path = Path(mapping)
        if not path.is_file():
            raise DataNotFoundError(f"mapping file {str(path)!r} does not exist")
        try:
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise MappingError(f"mapping {path}: not valid YAML ({exc})") from None
    else:
        spec = mapping
    where = str(path) if path else "(dict)"
    if not isinstance(spec, Mapping) or not isinstance(spec.get("tables"), Mapping):
        _fail(where, "expected a mapping with a 'tables:' section (table name → how to read it)")
    unknown_top = sorted(set(spec) - {"tables", "source"})
    if unknown_top:
        _fail(where, f"unknown top-level key(s) {unknown_top}; expected 'source' and 'tables'")
    tables = {}
    for table, tspec in spec["tables"].items():
        if table not in TABLES:
            _fail(where, f"unknown table {table!r}; expected one of {list(TABLES)}")
        if not isinstance(tspec, Mapping):
            _fail(where, f"table {table}: expected keys such as file/columns/values, got {tspec!r}")
        extra = sorted(set(tspec) - _TABLE_KEYS)
        if extra:
            _fail(where, f"table {table}: unknown key(s) {extra}; expected some of {sorted(_TABLE_KEYS)}")
        canonical = set(TABLES[table].column_names)
        for key in ("columns", "values", "dates", "scale", "constants"):
            section = tspec.get(key) or {}
            if not isinstance(section, Mapping):
                _fail(where, f"table {table}: '{key}' must map canonical columns to values, got {section!r}")
            bad = sorted(set(section) - canonical)
            if bad:
                _fail(where, f"table {table}: '{key}' names unknown column(s) {bad}; the columns of "
                             f"{table} are {TABLES[table].column_names}")
        for col, vmap in (tspec.get("values") or {}).items():
            if not isinstance(vmap, Mapping):
                _fail(where, f"table {table}: values of {col!r} must be a {{source: canonical}} map")
        for col, factor in (tspec.get("scale") or {}).items():
            if isinstance(factor, bool) or not isinstance(factor, (int, float)):
                _fail(where, f"table {table}: scale of {col!r} must be a number, got {factor!r}")
        for col, fmt in (tspec.get("dates") or {}).items():
            if not isinstance(fmt, str) or "%" not in fmt:
                _fail(where, f"table {table}: date format of {col!r} must be a strftime format "
                             f"such as '%d.%m.%Y', got {fmt!r}")
        if tspec.get("file") is not None and tspec.get("table") is not None:
            _fail(where, f"table {table}: give 'file' (a folder's file) or 'table' (a database table), not both")
        tables[table] = TableMapping(
            table=table, file=tspec.get("file"), source_table=tspec.get("table"),
            sep=str(tspec.get("sep", ",")), encoding=str(tspec.get("encoding", "utf-8")),
            decimal=str(tspec.get("decimal", ".")),
            columns={k: str(v) for k, v in (tspec.get("columns") or {}).items()},
            values={k: dict(v) for k, v in (tspec.get("values") or {}).items()},
            dates=dict(tspec.get("dates") or {}), scale=dict(tspec.get("scale") or {}),
            constants=dict(tspec.get("constants") or {}),
            keep_unmatched=bool(tspec.get("keep_unmatched", True)))
    source = spec.get("source")
    if source is not None and path is not None and "://" not in str(source):
        source = str((path.parent / str(source)).resolve())
    return SourceMapping(tables=tables, source=None if source is None else str(source), path=path)


def apply_mapping(tm: TableMapping, raw: pd.DataFrame, *, where: str = "") -> pd.DataFrame:
    """Turn a raw source frame into the canonical table ``tm.table`` (text values; parsing and
    validation happen afterwards, as for any file)."""
    label = f"{where}: " if where else ""
    columns = [str(c).strip() for c in raw.columns]
    raw = raw.set_axis(columns, axis=1)
    missing = sorted({src for src in tm.columns.values() if src not in columns})
    if missing:
        raise MappingError(f"{label}table {tm.table}: source column(s) {missing} not found; the source has "
                           f"{columns}")
    out = pd.DataFrame(index=raw.index)
    for canonical in TABLES[tm.table].column_names:
        if canonical in tm.columns:
            out[canonical] = raw[tm.columns[canonical]]
        elif tm.keep_unmatched and canonical in columns and canonical not in tm.columns.values():
            out[canonical] = raw[canonical]
    for canonical, value in tm.constants.items():
        out[canonical] = value
    for canonical, vmap in tm.values.items():
        if canonical in out.columns:
            lookup = {str(k): v for k, v in vmap.items()}
            text = out[canonical].astype("string").str.strip()
            out[canonical] = text.map(lambda v: lookup.get(v, v) if pd.notna(v) else v).astype(object)
    for canonical, fmt in tm.dates.items():
        if canonical in out.columns and not pd.api.types.is_datetime64_any_dtype(out[canonical]):
            text = out[canonical].astype("string").str.strip()
            parsed = pd.to_datetime(text, format=fmt, errors="coerce")
            ok = parsed.notna()
            # translated dates become ISO text; the rest stay as written so that validation names them
            out[canonical] = text.where(~ok, parsed.dt.strftime("%Y-%m-%d")).astype(object)
    if tm.decimal != ".":  # "1.234,5" -> "1234.5" in number columns
        for canonical in TABLES[tm.table].columns_of_kind("money", "float", "int"):
            if canonical in out.columns and not pd.api.types.is_numeric_dtype(out[canonical]):
                text = out[canonical].astype("string").str.strip()
                text = text.str.replace(".", "", regex=False).str.replace(tm.decimal, ".", regex=False)
                out[canonical] = text.astype(object).where(text.notna(), None)
    for canonical, factor in tm.scale.items():
        if canonical in out.columns:
            text = out[canonical].astype("string").str.strip()
            number = pd.to_numeric(text, errors="coerce")
            scaled = (number * float(factor)).astype(object)
            out[canonical] = scaled.where(number.notna(), out[canonical].astype(object))
    return out.reset_index(drop=True)


def read_mapped(mapping: SourceMapping, folder: str | Path) -> tuple[dict[str, pd.DataFrame], set[str]]:
    """Read the mapped tables whose ``file`` lives in ``folder``; returns the canonical frames and
    the names of the files used."""
    from ..io import _NA_VALUES

    folder = Path(folder)
    frames, used = {}, set()
    for table, tm in mapping.tables.items():
        if tm.file is None:
            if tm.source_table is not None:
                raise MappingError(f"mapping {mapping.name}: table {table} reads database table "
                                   f"{tm.source_table!r}, but the data {str(folder)!r} is a folder; use 'file:'")
            name = f"{table}.csv"
        else:
            name = tm.file
        path = Path(name) if Path(name).is_absolute() else folder / name
        if not path.is_file():
            raise DataNotFoundError(f"mapping {mapping.name}: table {table} reads {str(path)!r}, which does not exist")
        used.add(path.name)
        if path.suffix.lower() == ".parquet":
            raw = pd.read_parquet(path)
        else:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=_NA_VALUES, sep=tm.sep,
                              encoding=tm.encoding)
        frames[table] = apply_mapping(tm, raw, where=f"mapping {mapping.name}")
    return frames, used

