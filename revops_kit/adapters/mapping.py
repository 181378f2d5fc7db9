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
        sep: ";"                   # optional CSV options: sep (default: detected),
        encoding: cp1252           #   encoding (default: UTF-8 ± BOM, else cp1252, detected),
        decimal: ","               #   decimal: "," or "." for every number column, or per column
                                   #   {mrr: ","}; thousands: "." (implies decimal ",") likewise
        columns:                   # canonical column: source column
          customer_id: Account Number
          name: Account Name
          created_at: Created On
        values:                    # canonical column: {source value: canonical value}
          segment: {Small Business: SMB, Mid Market: Mid-Market}
        dates:                     # canonical column: the source's strftime format, or
          created_at: "%d.%m.%Y"   #   dayfirst / monthfirst (default: detected per column)
        scale:                     # canonical column: factor (percent → fraction, cents → units)
          probability: 0.01
        constants:                 # canonical column: the same value on every row
          currency: EUR
        fill:                      # canonical column: value for blank cells; a boolean column
          segment: Unknown         #   <column>_filled says which rows were filled
        join:                      # lookup files joined on a key before the columns are taken
          - file: teams.csv        #   (each key once in the lookup; unmatched keys are noted)
            on: sales_agent        #   source column in both files, or {left: x, right: y}
                                   #   (``key:`` is the same; YAML reads a bare ``on`` as true)
        crm:                       # opportunities (and opportunity_history) exports
          stages: {Won: won, Lost: lost, Engaging: open}   # every stage → open/won/lost:
                                                           #   sets is_closed and is_won
          lost_amount: unknown     # a 0 on a lost deal is unknown (default) or zero
          lost_amount_from: list_price   # a lost deal's missing/0 amount from this column
          open_amount_from: list_price   # an open deal's missing amount from this column
        exclude:                   # source rows left out, each listed in a note
          - {column: end_date, equals_column: start_date, because: zero-length period}

Source columns already named like a canonical column are taken as they are unless
``keep_unmatched: false``. Values that a value map, a date format or a scale cannot translate are
left as they were, so that validation reports them with their table, column and row — nothing is
silently coerced. Columns named in ``join``/``*_from`` may be joined lookup columns. Every fill,
join and CRM rule adds a note (``data.notes``) saying how many rows it changed. Tables the mapping does not list are read as usual (``<table>.csv`` in the
folder, the table of that name in a database).

>>> m = load_mapping({"tables": {"opportunities": {"file": "deals.csv",
...     "columns": {"opportunity_id": "Deal", "created_at": "Opened", "stage": "Phase", "amount": "Value"},
...     "values": {"stage": {"W": "Closed Won"}}, "dates": {"created_at": "%d/%m/%Y"}}}})
>>> raw = pd.DataFrame({"Deal": ["D1"], "Opened": ["31/01/2025"], "Phase": ["W"], "Value": ["10"]})
>>> apply_mapping(m.tables["opportunities"], raw)[0].values.tolist()
[['D1', '31/01/2025', 'Closed Won', '10']]
>>> m.tables["opportunities"].parse_options()
{'decimal': None, 'dates': {'created_at': '%d/%m/%Y'}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .. import parsing
from ..errors import DataNotFoundError, RevOpsError
from ..schema import TABLES

__all__ = ["MappingError", "TableMapping", "SourceMapping", "JoinSpec", "CrmOptions", "ExcludeRule", "load_mapping",
           "apply_mapping", "read_mapped"]

_TABLE_KEYS = {"file", "table", "sep", "encoding", "decimal", "thousands", "columns", "values", "dates",
               "scale", "constants", "keep_unmatched", "fill", "join", "crm", "exclude"}
_CRM_KEYS = {"stages", "lost_amount", "lost_amount_from", "open_amount_from"}
_OUTCOMES = {"open": (False, False), "won": (True, True), "lost": (True, False)}


class MappingError(RevOpsError, ValueError):
    """A mapping file that cannot be used (unknown table or column, wrong type, missing file)."""


@dataclass(frozen=True)
class JoinSpec:
    """A lookup file joined onto a source table on a key (``left`` in the source, ``right`` in the
    lookup); ``take`` limits the lookup columns added (default: all but the key)."""

    file: str
    left: str
    right: str
    take: tuple[str, ...] | None = None
    sep: str | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class ExcludeRule:
    """Leave out the source rows where ``column`` equals ``equals`` (a value) or ``equals_column``
    (another source column); ``because`` is said in the note listing the rows left out."""

    column: str
    equals: Any = None
    equals_column: str | None = None
    because: str = ""


@dataclass(frozen=True)
class CrmOptions:
    """The CRM rules of :func:`revops_kit.crm.map_crm_opportunities`, as mapping keys."""

    stages: Mapping[str, str] = field(default_factory=dict)
    lost_amount: str = "unknown"
    lost_amount_from: str | None = None
    open_amount_from: str | None = None


@dataclass(frozen=True)
class TableMapping:
    """How one canonical table is read from a source file or database table."""

    table: str
    file: str | None = None
    source_table: str | None = None
    sep: str | None = None
    encoding: str | None = None
    decimal: str | Mapping[str, str] | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    dates: Mapping[str, str] = field(default_factory=dict)
    scale: Mapping[str, float] = field(default_factory=dict)
    constants: Mapping[str, Any] = field(default_factory=dict)
    keep_unmatched: bool = True
    fill: Mapping[str, Any] = field(default_factory=dict)
    join: tuple[JoinSpec, ...] = ()
    crm: CrmOptions | None = None
    exclude: tuple[ExcludeRule, ...] = ()

    def parse_options(self) -> dict:
        """The conventions :func:`revops_kit.io.parse_table` applies to this table's columns."""
        return {"decimal": self.decimal, "dates": dict(self.dates)}


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


def _decimal_of(where: str, table: str, tspec: Mapping):
    """``decimal`` / ``thousands`` keys → one decimal convention (str) or one per column (dict)."""
    def one(dec, thou, what):
        if dec is not None and str(dec) not in (".", ","):
            _fail(where, f"table {table}: decimal{what} must be '.' or ',', got {dec!r}")
        if thou is not None and str(thou) not in (".", ",", " ", "'", ""):
            _fail(where, f"table {table}: thousands{what} must be '.', ',', ' ' or \"'\", got {thou!r}")
        implied = None if thou in (None, "", " ", "'") else ("," if thou == "." else ".")
        if dec is not None and implied is not None and str(dec) != implied:
            _fail(where, f"table {table}: decimal{what} {dec!r} and thousands {thou!r} contradict each other")
        return str(dec) if dec is not None else implied

    dec, thou = tspec.get("decimal"), tspec.get("thousands")
    if isinstance(dec, Mapping) or isinstance(thou, Mapping):
        dec_map = dec if isinstance(dec, Mapping) else {}
        thou_map = thou if isinstance(thou, Mapping) else {}
        cols = set(dec_map) | set(thou_map)
        bad = sorted(cols - set(TABLES[table].columns_of_kind("money", "float", "int")))
        if bad:
            _fail(where, f"table {table}: decimal/thousands name(s) {bad}, which are not number columns of {table}")
        return {c: one(dec_map.get(c, None if isinstance(dec, Mapping) else dec),
                       thou_map.get(c, None if isinstance(thou, Mapping) else thou), f" of {c!r}") for c in cols}
    return one(dec, thou, "")


def _join_specs(where: str, table: str, raw) -> tuple[JoinSpec, ...]:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if isinstance(item, Mapping):  # YAML 1.1 reads a bare `on:` key as the boolean True
            item = {("on" if k is True else "on" if k == "key" else k): v for k, v in item.items()}
        if not isinstance(item, Mapping) or "file" not in item or "on" not in item:
            _fail(where, f"table {table}: each join needs 'file' and 'on', got {item!r}")
        extra = sorted(set(item) - {"file", "on", "take", "sep", "encoding"})
        if extra:
            _fail(where, f"table {table}: join has unknown key(s) {extra}; expected file, on, take, sep, encoding")
        on = item["on"]
        if isinstance(on, Mapping):
            if set(on) != {"left", "right"}:
                _fail(where, f"table {table}: join 'on' must be a column name or {{left: ..., right: ...}}")
            left, right = str(on["left"]), str(on["right"])
        else:
            left = right = str(on)
        take = item.get("take")
        if take is not None and (not isinstance(take, list) or not all(isinstance(t, str) for t in take)):
            _fail(where, f"table {table}: join 'take' must be a list of lookup column names")
        out.append(JoinSpec(str(item["file"]), left, right, tuple(take) if take else None,
                            item.get("sep"), item.get("encoding")))
    return tuple(out)


def _exclude_rules(where: str, table: str, raw) -> tuple[ExcludeRule, ...]:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if not isinstance(item, Mapping) or "column" not in item or \
                ("equals" in item) == ("equals_column" in item):
            _fail(where, f"table {table}: each exclude rule needs 'column' and one of 'equals' / "
                         f"'equals_column', got {item!r}")
        extra = sorted(set(item) - {"column", "equals", "equals_column", "because"})
        if extra:
            _fail(where, f"table {table}: exclude has unknown key(s) {extra}")
        out.append(ExcludeRule(str(item["column"]), item.get("equals"),
                               None if item.get("equals_column") is None else str(item["equals_column"]),
                               str(item.get("because", ""))))
    return tuple(out)


def _crm_options(where: str, table: str, raw) -> CrmOptions | None:
    if raw is None:
        return None
    if table not in ("opportunities", "opportunity_history"):
        _fail(where, f"table {table}: 'crm' applies to opportunities and opportunity_history only")
    if not isinstance(raw, Mapping):
        _fail(where, f"table {table}: 'crm' must be a mapping with keys {sorted(_CRM_KEYS)}")
    extra = sorted(set(raw) - _CRM_KEYS)
    if extra:
        _fail(where, f"table {table}: crm has unknown key(s) {extra}; expected some of {sorted(_CRM_KEYS)}")
    stages = raw.get("stages") or {}
    if not isinstance(stages, Mapping):
        _fail(where, f"table {table}: crm.stages must map each stage name to open, won or lost")
    bad = sorted({str(v) for v in stages.values()} - set(_OUTCOMES))
    if bad:
        _fail(where, f"table {table}: crm.stages values must be open, won or lost, got {bad}")
    lost = str(raw.get("lost_amount", "unknown"))
    if lost not in ("unknown", "zero"):
        _fail(where, f"table {table}: crm.lost_amount must be 'unknown' or 'zero', got {lost!r}")
    if table == "opportunity_history" and (raw.get("lost_amount_from") or raw.get("open_amount_from")):
        _fail(where, "table opportunity_history: crm.*_amount_from applies to opportunities only")
    return CrmOptions({str(k): str(v) for k, v in stages.items()}, lost,
                      raw.get("lost_amount_from"), raw.get("open_amount_from"))


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
            text, _ = parsing.decode_bytes(path.read_bytes())
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise MappingError(f"mapping {path}: not valid YAML ({' '.join(str(exc).split())})") from None
        except OSError as exc:
            raise DataNotFoundError(f"mapping file {str(path)!r} cannot be read: {exc.strerror or exc}") from None
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
        for key in ("columns", "values", "dates", "scale", "constants", "fill"):
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
            if not isinstance(fmt, str) or ("%" not in fmt and fmt not in ("dayfirst", "monthfirst")):
                _fail(where, f"table {table}: date format of {col!r} must be a strftime format "
                             f"such as '%d.%m.%Y' (or dayfirst / monthfirst), got {fmt!r}")
            if TABLES[table].col(col).kind != "date":
                _fail(where, f"table {table}: dates names {col!r}, which is not a date column")
        if tspec.get("file") is not None and tspec.get("table") is not None:
            _fail(where, f"table {table}: give 'file' (a folder's file) or 'table' (a database table), not both")
        crm = _crm_options(where, table, tspec.get("crm"))
        if crm is not None and crm.stages and ({"is_closed", "is_won"} & set(tspec.get("columns") or {})):
            _fail(where, f"table {table}: crm.stages sets is_closed and is_won; do not also map them in columns")
        tables[table] = TableMapping(
            table=table, file=tspec.get("file"), source_table=tspec.get("table"),
            sep=None if tspec.get("sep") is None else str(tspec.get("sep")),
            encoding=None if tspec.get("encoding") is None else str(tspec.get("encoding")),
            decimal=_decimal_of(where, table, tspec),
            columns={k: str(v) for k, v in (tspec.get("columns") or {}).items()},
            values={k: dict(v) for k, v in (tspec.get("values") or {}).items()},
            dates=dict(tspec.get("dates") or {}), scale=dict(tspec.get("scale") or {}),
            constants=dict(tspec.get("constants") or {}),
            keep_unmatched=bool(tspec.get("keep_unmatched", True)),
            fill=dict(tspec.get("fill") or {}), join=_join_specs(where, table, tspec.get("join")), crm=crm,
            exclude=_exclude_rules(where, table, tspec.get("exclude")))
    source = spec.get("source")
    if source is not None and path is not None and "://" not in str(source):
        source = str((path.parent / str(source)).resolve())
    return SourceMapping(tables=tables, source=None if source is None else str(source), path=path)


def _blank(series: pd.Series) -> pd.Series:
    return (series.isna() | (series.astype("string").str.strip() == "").fillna(False)).astype(bool)


def _read_lookup(path: Path, js: JoinSpec, label: str) -> tuple[pd.DataFrame, list[str]]:
    if not path.is_file():
        raise DataNotFoundError(f"{label}join reads {str(path)!r}, which does not exist")
    try:
        return parsing.read_file(path, what=f"{label}join file {path.name}", sep=js.sep, encoding=js.encoding)
    except OSError as exc:
        raise DataNotFoundError(f"{label}join file {str(path)!r} cannot be read: {exc.strerror or exc}") from None


def _apply_join(raw: pd.DataFrame, js: JoinSpec, lookup: pd.DataFrame, label: str, table: str
                ) -> tuple[pd.DataFrame, str]:
    lookup = lookup.set_axis([str(c).strip() for c in lookup.columns], axis=1)
    if js.left not in raw.columns:
        raise MappingError(f"{label}table {table}: join key {js.left!r} is not a source column "
                           f"(the source has {list(raw.columns)})")
    if js.right not in lookup.columns:
        raise MappingError(f"{label}table {table}: join key {js.right!r} is not a column of {js.file} "
                           f"(it has {list(lookup.columns)})")
    keys = lookup[js.right].astype("string").str.strip()
    dup = keys[keys.duplicated(keep=False) & keys.notna()]
    if len(dup):
        raise MappingError(f"{label}table {table}: join file {js.file} has key {js.right!r} more than once: "
                           f"{sorted(set(dup))[:5]} (data rows {(dup.index[:5] + 1).tolist()}); each key must "
                           "appear once, or rows would be duplicated")
    take = list(js.take) if js.take else [c for c in lookup.columns if c != js.right]
    missing = [c for c in take if c not in lookup.columns]
    if missing:
        raise MappingError(f"{label}table {table}: join take names {missing}, not columns of {js.file}")
    clash = [c for c in take if c in raw.columns]
    if clash:
        raise MappingError(f"{label}table {table}: join file {js.file} column(s) {clash} are also source "
                           "columns; list the ones to add with take:")
    table_lookup = lookup.assign(_key=keys).drop_duplicates("_key").set_index("_key")[take]
    left = raw[js.left].astype("string").str.strip()
    joined = table_lookup.reindex(left.to_numpy())
    joined.index = raw.index
    out = pd.concat([raw, joined], axis=1)
    unmatched = left.notna() & ~left.isin(table_lookup.index)
    note = f"{table}: joined {', '.join(take)} from {js.file} on {js.left}"
    if unmatched.any():
        rows = (np.flatnonzero(unmatched.to_numpy()) + 1).tolist()[:5]
        note += (f"; {int(unmatched.sum())} row(s) have a {js.left} not in {js.file} (data rows {rows}, "
                 f"values {sorted(set(left[unmatched]))[:5]}): their joined columns are blank")
    return out, note


def _apply_exclude(raw: pd.DataFrame, rule: ExcludeRule, label: str, table: str
                   ) -> tuple[pd.DataFrame, str | None]:
    for col in (rule.column, rule.equals_column):
        if col is not None and col not in raw.columns:
            raise MappingError(f"{label}table {table}: exclude names {col!r}, not a source column "
                               f"(the source has {list(raw.columns)})")
    left = raw[rule.column].astype("string").str.strip()
    if rule.equals_column is not None:
        right = raw[rule.equals_column].astype("string").str.strip()
        what = f"{rule.column} equals {rule.equals_column}"
    else:
        right = pd.Series(str(rule.equals), index=raw.index, dtype="string")
        what = f"{rule.column} is {rule.equals!r}"
    hit = (left == right).fillna(False).astype(bool)
    if not hit.any():
        return raw, None
    rows = (np.flatnonzero(hit.to_numpy()) + 1).tolist()
    shown = ", ".join(map(str, rows[:10])) + (" ..." if len(rows) > 10 else "")
    note = (f"{table}: left out {len(rows)} source row(s) where {what}"
            f"{' (' + rule.because + ')' if rule.because else ''}: source data rows {shown}; row numbers "
            f"in messages about {table} count the rows kept")
    return raw.loc[~hit].reset_index(drop=True), note


def apply_mapping(tm: TableMapping, raw: pd.DataFrame, *, where: str = "",
                  base: Path | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Turn a raw source frame into the canonical table ``tm.table``; returns the frame (text
    values; parsing and validation happen afterwards, as for any file) and notes on what the
    fill, join and CRM rules changed. ``base`` is the folder join files are read from."""
    label = f"{where}: " if where else ""
    notes: list[str] = []
    columns = [str(c).strip() for c in raw.columns]
    raw = raw.set_axis(columns, axis=1).reset_index(drop=True)
    for js in tm.join:
        path = Path(js.file) if Path(js.file).is_absolute() or base is None else Path(base) / js.file
        lookup, lookup_notes = _read_lookup(path, js, label)
        notes.extend(lookup_notes)
        raw, note = _apply_join(raw, js, lookup, label, tm.table)
        notes.append(note)
    for rule in tm.exclude:
        raw, note = _apply_exclude(raw, rule, label, tm.table)
        if note:
            notes.append(note)
    columns = list(raw.columns)
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
    for canonical, factor in tm.scale.items():
        if canonical in out.columns:
            dec = tm.decimal.get(canonical) if isinstance(tm.decimal, Mapping) else tm.decimal
            number = parsing.parse_numbers(out[canonical], decimal=dec).values
            scaled = (number * float(factor)).astype(object)
            out[canonical] = scaled.where(number.notna(), out[canonical].astype(object))
    if tm.crm is not None:
        out, crm_notes = _apply_crm(tm, out, raw, label)
        notes.extend(crm_notes)
    for canonical, value in tm.fill.items():
        col = out[canonical] if canonical in out.columns else pd.Series(np.nan, index=out.index, dtype=object)
        blank = _blank(col)
        fill_value = value
        fmt = tm.dates.get(canonical)
        if fmt and "%" in fmt and not isinstance(value, str):
            fill_value = pd.Timestamp(value).strftime(fmt)
        elif fmt and "%" in fmt:
            try:
                pd.to_datetime(value, format=fmt)
            except (ValueError, TypeError):
                fill_value = pd.Timestamp(value).strftime(fmt)
        out[canonical] = col.astype(object).where(~blank, fill_value)
        out[f"{canonical}_filled"] = blank.to_numpy()
        if blank.any():
            rows = (np.flatnonzero(blank.to_numpy()) + 1).tolist()[:5]
            notes.append(f"{tm.table}.{canonical}: filled {int(blank.sum())} blank value(s) with {value!r} "
                         f"(data rows {rows}{' ...' if blank.sum() > 5 else ''}); flagged in {canonical}_filled")
    return out.reset_index(drop=True), notes


def _apply_crm(tm: TableMapping, out: pd.DataFrame, raw: pd.DataFrame, label: str
               ) -> tuple[pd.DataFrame, list[str]]:
    crm, table = tm.crm, tm.table
    notes: list[str] = []
    outcome = None
    if crm.stages:
        if "stage" not in out.columns:
            raise MappingError(f"{label}table {table}: crm.stages needs a stage column (map it in columns)")
        stages = out["stage"].astype("string").str.strip()
        outcome = stages.map(lambda v: crm.stages.get(v) if pd.notna(v) else None)
        unmapped = stages.notna() & outcome.isna()
        if unmapped.any():
            rows = (np.flatnonzero(unmapped.to_numpy()) + 1).tolist()[:5]
            raise MappingError(f"{label}table {table}: stage(s) {sorted(set(stages[unmapped]))} are not in "
                               f"crm.stages (data rows {rows}); add each as open, won or lost")
        out["is_closed"] = outcome.map(lambda o: None if o is None or pd.isna(o) else _OUTCOMES[o][0]).astype(object)
        out["is_won"] = outcome.map(lambda o: None if o is None or pd.isna(o) else _OUTCOMES[o][1]).astype(object)
    elif {"is_closed", "is_won"} <= set(out.columns):
        closed = parsing.parse_bools(out["is_closed"]).values
        won = parsing.parse_bools(out["is_won"]).values
        outcome = pd.Series(np.where(closed.fillna(False), np.where(won.fillna(False), "won", "lost"), "open"),
                            index=out.index).where(closed.notna(), None)
    if table != "opportunities" or "amount" not in out.columns and not crm.open_amount_from:
        return out, notes
    if outcome is None:
        raise MappingError(f"{label}table {table}: the crm amount rules need crm.stages or is_closed/is_won")
    if "amount" not in out.columns:
        out["amount"] = np.nan
    dec = tm.decimal.get("amount") if isinstance(tm.decimal, Mapping) else tm.decimal
    amount = parsing.parse_numbers(out["amount"], decimal=dec, money=True).values
    blank = _blank(out["amount"])

    def source_col(name: str) -> pd.Series:
        if name in raw.columns:
            return raw[name]
        if name in out.columns:
            return out[name]
        raise MappingError(f"{label}table {table}: crm amount column {name!r} is neither a source nor a "
                           f"joined column (available: {list(raw.columns)})")

    text = out["amount"].astype(object)
    filled = pd.Series(False, index=out.index)
    for rule, which, cond in (("open_amount_from", "open", blank),
                              ("lost_amount_from", "lost", blank | (amount == 0))):
        name = getattr(crm, rule)
        if not name:
            continue
        other = source_col(name)
        use = (outcome == which).fillna(False).astype(bool) & cond & ~_blank(other)
        text = text.where(~use, other.astype(object))
        filled |= use
        if use.any():
            notes.append(f"{table}.amount: {int(use.sum())} {which} deal(s) without an amount took it from "
                         f"{name} (flagged in amount_filled)")
    out["amount"] = text
    out["amount_filled"] = filled.to_numpy()
    amount = parsing.parse_numbers(out["amount"], decimal=dec, money=True).values
    zero_lost = (outcome == "lost").fillna(False).astype(bool) & (amount == 0) & ~filled
    if crm.lost_amount == "unknown":
        out["amount"] = out["amount"].where(~zero_lost, None)
        if zero_lost.any():
            notes.append(f"{table}.amount: {int(zero_lost.sum())} lost deal(s) with amount 0 read as unknown "
                         "(crm.lost_amount: unknown; flagged in amount_was_zero_lost)")
    out["amount_was_zero_lost"] = (zero_lost & (crm.lost_amount == "unknown")).to_numpy()
    return out, notes


def read_mapped(mapping: SourceMapping, folder: str | Path
                ) -> tuple[dict[str, pd.DataFrame], set[str], list[str]]:
    """Read the mapped tables whose ``file`` lives in ``folder``; returns the canonical frames,
    the names of the files used (join files included) and notes."""
    folder = Path(folder)
    frames, used, notes = {}, set(), []
    base = mapping.path.parent if mapping.path is not None else folder
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
        for js in tm.join:
            used.add(Path(js.file).name)
        try:
            raw, file_notes = parsing.read_file(path, what=f"mapping {mapping.name}: table {table}: file {path.name}",
                                                label=table, sep=tm.sep, encoding=tm.encoding)
        except parsing.EmptyFileError:
            raise MappingError(f"mapping {mapping.name}: table {table}: file {path.name} is empty "
                               "(no header row)") from None
        except OSError as exc:
            raise DataNotFoundError(f"mapping {mapping.name}: table {table}: file {str(path)!r} cannot be "
                                    f"read: {exc.strerror or exc}") from None
        notes.extend(file_notes)
        join_base = folder if all((folder / js.file).exists() for js in tm.join) else base
        frames[table], map_notes = apply_mapping(tm, raw, where=f"mapping {mapping.name}", base=join_base)
        notes.extend(map_notes)
    return frames, used, notes
