"""Helpers shared by the source adapters: column lookup by aliases, epoch dates, value maps."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .. import parsing
from ..errors import DataNotFoundError, RevOpsError

__all__ = ["AdapterError", "column_key", "find_column", "take", "epoch_to_date", "map_values",
           "read_export", "find_file", "domain_from"]


class AdapterError(RevOpsError, ValueError):
    """An export lacks a column the adapter needs, or holds a value it cannot translate."""


def column_key(name: str) -> str:
    """Lowercase with every non-alphanumeric character removed: ``"Owner.Name"`` → ``"ownername"``,
    ``"price[unit_amount]"`` → ``"priceunitamount"``, ``"Close Date"`` → ``"closedate"``."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def find_column(frame: pd.DataFrame, aliases: Iterable[str]) -> str | None:
    """The first column of ``frame`` matching one of ``aliases`` (compared with :func:`column_key`)."""
    keys: dict[str, str] = {}
    for col in frame.columns:
        keys.setdefault(column_key(col), col)
    for alias in aliases:
        hit = keys.get(column_key(alias))
        if hit is not None:
            return hit
    return None


def take(frame: pd.DataFrame, spec: Mapping[str, tuple[str, ...]], *, export: str,
         required: Iterable[str] = ()) -> pd.DataFrame:
    """A frame with one column per ``spec`` key, read from the first matching alias.

    Absent optional columns are left out; an absent required one raises :class:`AdapterError`
    naming the export, the canonical column, the names looked for and the columns found.
    """
    out = {}
    for canonical, aliases in spec.items():
        col = find_column(frame, aliases)
        if col is None:
            if canonical in required:
                raise AdapterError(
                    f"{export}: no column for {canonical!r}; expected one of {list(aliases)}, "
                    f"found {list(map(str, frame.columns))}"
                )
            continue
        out[canonical] = frame[col].to_numpy()
    return pd.DataFrame(out, index=range(len(frame)))


def epoch_to_date(values: pd.Series, *, unit: str = "s") -> pd.Series:
    """Unix timestamps (``unit`` = ``"s"`` or ``"ms"``) to dates; ISO strings pass through parsed.

    Blank values stay missing. Timestamps are UTC and truncated to the date.
    """
    raw = pd.Series(values).reset_index(drop=True)
    text = raw.astype("string").str.strip()
    numeric = pd.to_numeric(text.where(text.str.fullmatch(r"-?\d+(\.\d+)?").fillna(False)), errors="coerce")
    out = pd.to_datetime(numeric, unit=unit, utc=True, errors="coerce")
    rest = text.notna() & numeric.isna()
    if rest.any():
        parsed = pd.to_datetime(text[rest], utc=True, errors="coerce", format="mixed")
        out = out.astype(parsed.dtype)
        out[rest] = parsed
    return out.dt.tz_convert(None).dt.normalize().astype("datetime64[ns]")


def map_values(values: pd.Series, mapping: Mapping[str, str], *, key=column_key) -> pd.Series:
    """Translate values through ``mapping`` (keys compared with ``key``); unknown values stay as
    they are, so that the schema names them if they are not allowed."""
    lookup = {key(k): v for k, v in mapping.items()}
    text = pd.Series(values).astype("string").str.strip()
    mapped = text.map(lambda v: lookup.get(key(v), v) if pd.notna(v) else pd.NA)
    return mapped.astype(object).where(mapped.notna(), np.nan)


def domain_from(values: pd.Series, *, ignore: Iterable[str] = ()) -> pd.Series:
    """Web domain from a website URL or an e-mail address (lowercase, no scheme/www/path)."""
    from ..quality import normalize_domain

    out = normalize_domain(pd.Series(values), ignore=tuple(ignore))
    return out.astype(object).where(out.notna(), np.nan)


def find_file(folder: Path, names: Iterable[str]) -> Path | None:
    """The first file of ``folder`` whose stem matches one of ``names`` (case and separators
    ignored) with a .csv, .parquet or .json suffix."""
    wanted = [column_key(n) for n in names]
    files = {}
    for f in sorted(folder.iterdir()):
        if f.is_file() and f.suffix.lower() in (".csv", ".parquet", ".json"):
            files.setdefault(column_key(f.stem), f)
    for key in wanted:
        if key in files:
            return files[key]
    return None


def read_export(path: str | Path) -> pd.DataFrame:
    """Read an export as text (CSV), as stored (Parquet) or as records (JSON list or
    ``{"data": [...]}`` / ``{"results": [...]}`` as returned by the vendors' APIs, flattened with
    dots: ``price.unit_amount``)."""
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"export file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".json":
        import json

        try:
            payload = json.loads(parsing.decode_bytes(path.read_bytes())[0])
        except json.JSONDecodeError as exc:
            raise AdapterError(f"{path.name}: not valid JSON ({exc})") from None
        if isinstance(payload, dict):
            payload = payload.get("data", payload.get("results", payload))
        if not isinstance(payload, list):
            raise AdapterError(f"{path.name}: expected a JSON list of records or an object with "
                               f"'data' or 'results', got {type(payload).__name__}")
        return pd.json_normalize(payload)
    try:  # CSV or Parquet, told apart by content; encoding and separator detected
        return parsing.read_file(path, what=f"export {path.name}")[0]
    except OSError as exc:
        raise DataNotFoundError(f"export file {str(path)!r} cannot be read: {exc.strerror or exc}") from None
