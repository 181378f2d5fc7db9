"""Reading values as the file meant them: numbers, dates, booleans, text encodings and CSV layout.

A leaf module (it imports only :mod:`revops_kit.errors`): :mod:`revops_kit.io` and the adapters
use it, nothing here knows about tables or datasets.

Every parser works on one column at a time and returns a :class:`Parsed`: the values, a mask of
the values that could not be read, and a note when the column needed a convention that is worth
saying (a decimal comma, day-first dates). A value that could be read two ways is never guessed:
it is reported as ambiguous, and the caller (the mapping) can set the convention.

Numbers
    ``1234.5``, ``1,234.50``, ``1.234,50``, ``1 234,50``, ``$1,200``, ``(300)`` (negative),
    ``1e3``. The decimal separator is decided **per column** from the values that show it
    (``1.234,50`` has both separators; ``12,5`` can only be a decimal comma; ``1,234,567`` only
    thousands). A value such as ``1,234`` (thousands, or 1.234 with a decimal comma) follows the
    column's convention, and is an error when the column shows none.

    >>> parse_numbers(pd.Series(["1.234,50", "12", "1.000"])).values.tolist()
    [1234.5, 12.0, 1000.0]
    >>> r = parse_numbers(pd.Series(["1,234", "7"]))
    >>> r.bad.tolist(), r.reasons[0]
    ([True, False], "ambiguous: '1,234' reads as 1234 (thousands) or 1.234 (decimal comma); set decimal: in the mapping")

Dates
    ISO 8601 (``2024-03-05``, ``2024-03-05T10:00:00Z``) and ``D/M/YYYY`` or ``M/D/YYYY`` (also
    with ``.`` or ``-``, an optional time). One convention per column, decided by the values whose
    first or second field exceeds 12; with no such value and at least one value such as
    ``05/03/2024`` the column is ambiguous. Years outside 1900–2100 are errors, not overflows.

    >>> parse_dates(pd.Series(["31/12/2023", "05/03/2024", "2024-01-02"])).values.dt.strftime("%Y-%m-%d").tolist()
    ['2023-12-31', '2024-03-05', '2024-01-02']
"""

from __future__ import annotations

import csv
import io as _io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import RevOpsError

__all__ = ["Parsed", "NA_VALUES", "TRUE_VALUES", "FALSE_VALUES", "DATE_MIN_YEAR", "DATE_MAX_YEAR",
           "MAX_ABS_NUMBER", "parse_numbers", "parse_dates", "parse_bools", "decode_bytes",
           "sniff_kind", "read_csv_text", "read_file", "FileFormatError", "EmptyFileError"]

#: Values read as missing. "NA" is deliberately *not* here: it is North America in a region column.
NA_VALUES = ["", "nan", "NaN", "null", "NULL", "None", "N/A", "n/a", "#N/A"]
TRUE_VALUES = {"true", "t", "yes", "y", "1", "1.0", "won", "closed"}
FALSE_VALUES = {"false", "f", "no", "n", "0", "0.0"}
DATE_MIN_YEAR, DATE_MAX_YEAR = 1900, 2100
#: Numbers beyond this magnitude are validation errors (no revenue figure is that large; 1e308 is
#: a typo or an overflow, and it would swamp every sum).
MAX_ABS_NUMBER = 1e15


class FileFormatError(RevOpsError, ValueError):
    """A file whose bytes are not what its name says, or whose CSV layout is broken."""


class EmptyFileError(FileFormatError):
    """A CSV file without even a header row."""


@dataclass
class Parsed:
    """The result of parsing one column."""

    values: pd.Series
    bad: pd.Series  # True where a present value could not be read
    reasons: list[str] = field(default_factory=list)  # one per bad value, in row order
    note: str | None = None
    check: str = "parse"


def _text(raw: pd.Series) -> pd.Series:
    text = raw.astype("string").str.strip()
    return text.where(text != "", pd.NA)


# ---------------------------------------------------------------------- numbers
_CURRENCY_JUNK = re.compile(r"^(?P<sign>[+-]?)\s*(?:[A-Z]{3}|[$€£¥])\s*|\s*(?:[A-Z]{3}|[$€£¥])$")
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_NONFINITE = re.compile(r"^[+-]?(inf|infinity)$", re.I)


_FORMS = {
    "plain": r"\d+",
    "exp": r"(\d+\.?\d*|\.\d+)[eE][+-]?\d+",
    "amb_point": r"[1-9]\d{0,2}\.\d{3}",
    "amb_comma": r"[1-9]\d{0,2},\d{3}",
    "point": r"\d{1,3}(,\d{3})+\.\d*|\d*\.\d+|\d+\.|\d{1,3}(,\d{3}){2,}",
    "comma": r"\d{1,3}(\.\d{3})+,\d*|\d*,\d+|\d+,|\d{1,3}(\.\d{3}){2,}",
}


def _classify(body: pd.Series) -> pd.Series:
    """What each digits-and-separators string says about the decimal separator.

    ``point`` / ``comma``: it shows the decimal separator; ``amb_point`` ("1.234") and
    ``amb_comma`` ("1,234"): three digits after a single separator, either reading possible;
    ``plain`` / ``exp``: no separator question; ``bad``: not a number.
    """
    kind = pd.Series("bad", index=body.index, dtype=object)
    for name in ("point", "comma", "amb_point", "amb_comma", "exp", "plain"):  # later wins
        kind[body.str.fullmatch(_FORMS[name]).fillna(False).astype(bool)] = name
    return kind


def parse_numbers(raw: pd.Series, *, decimal: str | None = None, money: bool = False) -> Parsed:
    """Parse a column of numbers written as text (see the module docstring).

    ``decimal`` (``"."`` or ``","``) sets the convention instead of detecting it; ``money`` also
    strips currency symbols and codes. Already numeric columns pass through.
    """
    check = "parse_money" if money else "parse_number"
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return Parsed(raw.astype("float64"), pd.Series(False, index=raw.index), check=check)
    if decimal not in (None, ".", ","):
        raise ValueError(f"parse_numbers: decimal must be '.' or ',', got {decimal!r}")
    text = _text(raw)
    present = text.notna()
    fast = pd.to_numeric(text, errors="coerce").astype("float64") if present.any() else \
        pd.Series(np.nan, index=raw.index, dtype="float64")
    suspicious = present & (fast.isna() | text.str.fullmatch(_FORMS["amb_point"]).fillna(False).astype(bool)
                            )
    if decimal != "," and not suspicious.any():
        return Parsed(fast, pd.Series(False, index=raw.index), check=check)
    work = text.fillna("")
    stripped = work.str.replace(_CURRENCY_JUNK, lambda m: m.group("sign") or "", regex=True) if money else work
    stripped = stripped.str.replace(_SPACES, "", regex=True)
    negative = stripped.str.fullmatch(r"\(.*\)").fillna(False).astype(bool)
    body = stripped.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    minus = body.str.startswith("-")
    body = body.str.replace(r"^[+-]", "", regex=True)
    kind = _classify(body).where(present, "missing")
    nonfinite = present & work.str.fullmatch(_NONFINITE.pattern, case=False).fillna(False).astype(bool)
    kind[nonfinite] = "nonfinite"
    reasons: dict = {}
    detected = decimal is None
    if decimal is None:
        n_point, n_comma = int((kind == "point").sum()), int((kind == "comma").sum())
        if n_point and n_comma:  # two conventions in one column: the minority is an error
            decimal = "." if n_point > n_comma else "," if n_comma > n_point else None
            wrong = kind.isin(["point", "comma"]) if decimal is None else kind == ("comma" if decimal == "." else "point")
            for i in kind.index[wrong]:
                reasons[i] = (f"{text[i]!r}: the column mixes decimal points and decimal commas "
                              "(set decimal: in the mapping)")
        elif n_comma:
            decimal = ","
        elif n_point:
            decimal = "."
    number = pd.Series(pd.NA, index=raw.index, dtype="string")
    simple = kind.isin(["plain", "exp"])
    number[simple] = body[simple]
    if decimal == ".":
        ok = kind.isin(["point", "amb_comma", "amb_point"]) & ~kind.index.isin(list(reasons))
        number[ok] = body[ok].str.replace(",", "", regex=False)
        clash = kind == "comma"
    elif decimal == ",":
        ok = kind.isin(["comma", "amb_comma", "amb_point"]) & ~kind.index.isin(list(reasons))
        number[ok] = body[ok].str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        clash = kind == "point"
    else:
        clash = pd.Series(False, index=raw.index)
        for i in kind.index[kind.isin(["amb_comma", "amb_point"])]:
            b = body[i]
            sep = "," if kind[i] == "amb_comma" else "."
            reasons[i] = (f"ambiguous: {text[i]!r} reads as {b.replace(sep, '')} (thousands) or "
                          f"{b.replace(sep, '.')} (decimal {'comma' if sep == ',' else 'point'}); "
                          "set decimal: in the mapping")
    for i in kind.index[clash]:
        reasons.setdefault(i, f"{text[i]!r} does not follow the column's decimal "
                              f"{'comma' if decimal == ',' else 'point'}")
    for i in kind.index[kind == "bad"]:
        reasons[i] = f"not a number: {text[i]!r}"
    values = pd.to_numeric(number, errors="coerce").astype("float64")
    values[nonfinite] = np.inf
    values = values.where(~(negative | minus.fillna(False).astype(bool)), -values)
    bad = pd.Series(False, index=raw.index)
    bad[list(reasons)] = True
    bad = bad | (present & values.isna())
    for i in bad.index[bad & ~bad.index.isin(list(reasons))]:
        reasons[i] = f"not a number: {text[i]!r}"
    values[bad] = np.nan
    note = None
    separators = kind.isin(["comma", "amb_comma", "amb_point", "point"]) & ~bad
    if decimal == "," and separators.any():
        note = ("read with a decimal comma" + (" (detected from the values)" if detected else "")
                + " and '.' or spaces as thousands separators")
    elif (present & ~bad & ((stripped != work) | body.str.contains(",", regex=False))).any():
        note = "read as numbers after removing currency symbols, spaces or thousands separators"
    return Parsed(values, bad.astype(bool), [reasons[i] for i in bad.index[bad]], note, check)


# ---------------------------------------------------------------------- dates
_ISO = re.compile(r"^(?P<y>[+-]?\d{1,6})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?P<time>[T ].*)?$")
_DMY = re.compile(r"^(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})"
                  r"(?P<time>[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?[AaPp][Mm])?)?$")
_YMD_SLASH = re.compile(r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?P<time>[ T].*)?$")
_TZ = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def _build(y: pd.Series, m: pd.Series, d: pd.Series) -> pd.Series:
    frame = pd.DataFrame({"year": y.astype("int64"), "month": m.astype("int64"), "day": d.astype("int64")})
    return pd.to_datetime(frame, errors="coerce")


def parse_dates(raw: pd.Series, *, format: str | None = None, dayfirst: bool | None = None) -> Parsed:
    """Parse a column of dates (see the module docstring); the result is timezone-naive dates.

    ``format`` is a strftime format for every value; ``dayfirst`` fixes the D/M vs M/D convention.
    """
    index = raw.index
    if pd.api.types.is_datetime64_any_dtype(raw):
        values = raw.dt.tz_convert(None) if getattr(raw.dtype, "tz", None) is not None else raw
        years = values.dt.year
        oor = (values.notna() & ((years < DATE_MIN_YEAR) | (years > DATE_MAX_YEAR))).astype(bool)
        values = values.where(~oor)
        return Parsed(values.dt.normalize().astype("datetime64[ns]"), oor,
                      [f"date {v} is outside {DATE_MIN_YEAR}-{DATE_MAX_YEAR}" for v in raw[oor]],
                      check="parse_date")
    if raw.dtype == object and len(raw) and raw.map(lambda v: hasattr(v, "year")).any():
        raw = raw.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
    text = _text(raw)
    present = text.notna()
    if format is None and present.any():
        fast = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        if not (present & fast.isna()).any():
            lo, hi = fast.min(), fast.max()
            if lo.year >= DATE_MIN_YEAR and hi.year <= DATE_MAX_YEAR:
                return Parsed(fast.astype("datetime64[ns]"), pd.Series(False, index=index), check="parse_date")
    out = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    bad = pd.Series(False, index=index)
    reasons: dict = {}
    note = None
    years = pd.Series(np.nan, index=index)

    def out_of_range(mask: pd.Series, y: pd.Series) -> pd.Series:
        yy = pd.to_numeric(y, errors="coerce")
        oor = mask & ((yy < DATE_MIN_YEAR) | (yy > DATE_MAX_YEAR))
        for i in oor.index[oor]:
            bad[i] = True
            reasons[i] = f"date {text[i]!r} is outside {DATE_MIN_YEAR}-{DATE_MAX_YEAR}"
        years[mask] = yy[mask]
        return mask & ~oor

    given = dayfirst is not None
    if format is not None:
        year_guess = text.str.extract(r"(\d{4,})", expand=False)
        ok = out_of_range(present & year_guess.notna(), year_guess) | (present & year_guess.isna())
        parsed = pd.to_datetime(text[ok], format=format, errors="coerce")
        out[ok] = parsed.dt.normalize()
        for i in ok.index[ok & out.isna()]:
            bad[i] = True
            reasons[i] = f"{text[i]!r} does not match the date format {format!r}"
        return Parsed(out, bad, [reasons[i] for i in bad.index[bad]], None, "parse_date")

    iso = text.str.extract(_ISO)
    is_iso = present & iso["y"].notna()
    ok = out_of_range(is_iso, iso["y"])
    if ok.any():
        with_tz = ok & iso["time"].fillna("").str.contains(_TZ.pattern)
        naive = ok & ~with_tz
        out[naive] = _build(iso["y"][naive], iso["m"][naive], iso["d"][naive])
        if with_tz.any():
            stamped = pd.to_datetime(text[with_tz], errors="coerce", utc=True, format="ISO8601")
            out[with_tz] = stamped.dt.tz_convert(None).dt.normalize().astype("datetime64[ns]")
    ymd = text.str.extract(_YMD_SLASH)
    is_ymd = present & ~is_iso & ymd["y"].notna()
    ok = out_of_range(is_ymd, ymd["y"])
    if ok.any():
        out[ok] = _build(ymd["y"][ok], ymd["m"][ok], ymd["d"][ok])
    dmy = text.str.extract(_DMY)
    is_dmy = present & ~is_iso & ~is_ymd & dmy["a"].notna()
    ok = out_of_range(is_dmy, dmy["y"])
    if ok.any():
        a = dmy["a"][ok].astype(int)
        b = dmy["b"][ok].astype(int)
        day_first = a.index[(a > 12) & (b <= 12)]
        month_first = a.index[(b > 12) & (a <= 12)]
        if dayfirst is None:
            if len(day_first) and len(month_first):
                dayfirst = len(day_first) > len(month_first)
                wrong = month_first if dayfirst else day_first
                if len(day_first) == len(month_first):
                    wrong = day_first.union(month_first)
                for i in wrong:
                    bad[i] = True
                    reasons[i] = (f"{text[i]!r} contradicts the column's other dates (some are day-first, "
                                  "some month-first); set dates: in the mapping")
                ok = ok & ~bad
            elif len(day_first):
                dayfirst = True
            elif len(month_first):
                dayfirst = False
        if dayfirst is not None:
            first = (day_first if dayfirst else month_first)
            convention = "D/M/YYYY (day first)" if dayfirst else "M/D/YYYY (month first)"
            if given:
                note = f"read dates as {convention}, as the mapping says"
            elif len(first) and first[0] in text.index:
                note = f"read dates as {convention}, as value {text[first[0]]!r} shows"
            else:
                note = f"read dates as {convention}"
            d = (dmy["a"] if dayfirst else dmy["b"])[ok]
            m = (dmy["b"] if dayfirst else dmy["a"])[ok]
            out[ok] = _build(dmy["y"][ok], m, d)
        else:
            same_fields = (dmy["a"] == dmy["b"]).fillna(False).astype(bool)
            amb = ok & ~same_fields
            for i in amb.index[amb]:
                bad[i] = True
                reasons[i] = (f"ambiguous date {text[i]!r}: day-first or month-first, and no other value "
                              "of the column decides; set dates: in the mapping (e.g. '%d/%m/%Y')")
            same = ok & same_fields
            out[same] = _build(dmy["y"][same], dmy["a"][same], dmy["a"][same])
    other = present & ~is_iso & ~is_ymd & ~is_dmy & ~bad
    if other.any():  # month names ("5 Mar 2024", "March 5, 2024"): unambiguous
        words = other & text.str.contains(r"[A-Za-z]{3}") & text.str.contains(r"\d{4}")
        year_guess = text.str.extract(r"(\d{4})", expand=False)
        words = out_of_range(words, year_guess)
        for i in words.index[words]:
            try:
                out[i] = pd.Timestamp(text[i]).tz_localize(None).normalize() if pd.Timestamp(text[i]).tzinfo \
                    else pd.Timestamp(text[i]).normalize()
            except (ValueError, TypeError, OverflowError):
                pass
    unread = present & out.isna() & ~bad
    for i in unread.index[unread]:
        bad[i] = True
        reasons[i] = f"not a date: {text[i]!r}"
    return Parsed(out.astype("datetime64[ns]"), bad, [reasons[i] for i in bad.index[bad]], note,
                  "parse_date")


# ---------------------------------------------------------------------- booleans
def parse_bools(raw: pd.Series) -> Parsed:
    """``true/false``, ``yes/no``, ``1/0``, ``t/f``, ``y/n`` (any case); others are bad."""
    if pd.api.types.is_bool_dtype(raw):
        return Parsed(raw.astype("boolean"), pd.Series(False, index=raw.index), check="parse_bool")
    text = _text(raw).str.lower()
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out[text.isin(TRUE_VALUES).fillna(False).astype(bool)] = True
    out[text.isin(FALSE_VALUES).fillna(False).astype(bool)] = False
    bad = (text.notna() & out.isna()).astype(bool)
    return Parsed(out, bad, [f"not a boolean: {v!r}" for v in raw[bad]], check="parse_bool")


# ---------------------------------------------------------------------- files
_PARQUET_MAGIC = b"PAR1"


def sniff_kind(head: bytes, tail: bytes) -> str:
    """``parquet``, ``parquet_truncated``, ``duckdb``, ``sqlite``, ``zip``, ``binary`` or ``text``."""
    if head[:4] == _PARQUET_MAGIC:
        return "parquet" if tail[-4:] == _PARQUET_MAGIC else "parquet_truncated"
    if head[8:12] == b"DUCK":
        return "duckdb"
    if head[:16] == b"SQLite format 3\x00":
        return "sqlite"
    if head[:4] == b"PK\x03\x04":
        return "zip"  # xlsx is a zip
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf16"
    sample = head[:8192]
    if b"\x00" in sample:
        return "binary"
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if sample and control > len(sample) * 0.05:
        return "binary"
    return "text"


def decode_bytes(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode CSV bytes; returns ``(text, encoding used)``.

    Without ``encoding``: UTF-8 (with or without BOM), else cp1252 (Excel on Windows), else
    Latin-1 (which decodes any byte). With ``encoding`` given it is used as is.
    """
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise FileFormatError(f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise FileFormatError(f"is not valid {encoding} (byte {exc.start + 1}: {data[exc.start:exc.start + 1]!r})") \
                from None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _sniff_sep(header: str) -> str:
    counts = {sep: _count_outside_quotes(header, sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def _count_outside_quotes(line: str, sep: str) -> int:
    n, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            n += 1
    return n


def read_csv_text(text: str, *, sep: str | None = None, what: str = "file") -> tuple[pd.DataFrame, str]:
    """Read CSV text as strings; returns ``(frame, separator)``.

    Raises :class:`FileFormatError` for duplicate or empty headers, ragged rows and unterminated
    quotes, naming the data row (1-based, header excluded).
    """
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if sep is None:
        sep = _sniff_sep(first_line)
    if '"' in text or "\r" in text.replace("\r\n", ""):
        records = _scan_records(text, sep, what)
        header = records[0] if records else []
    else:
        header = next(csv.reader([first_line], delimiter=sep)) if first_line else []
        records = None
    names = [h.strip() for h in header]
    if not names or names == [""]:
        raise FileFormatError(f"{what} is empty (no header row)")
    seen: dict[str, list[int]] = {}
    for pos, name in enumerate(names, start=1):
        seen.setdefault(name, []).append(pos)
    dups = {n: p for n, p in seen.items() if len(p) > 1}
    if dups:
        shown = "; ".join(f"{n!r} in columns {', '.join(map(str, p))}" for n, p in dups.items())
        raise FileFormatError(f"{what} has duplicate column header(s): {shown}; rename or remove one of each")
    blank = seen.get("")
    if blank:
        raise FileFormatError(f"{what} has a column without a header (column {blank[0]})")
    if records is not None:
        _check_ragged(records, len(names), what)
    else:  # no quotes: every line's field count is its separator count + 1
        width = len(names)
        for n, line in enumerate(text.split("\n")[1:], start=1):
            if line.strip("\r") == "":
                continue
            fields = line.count(sep) + 1
            if fields != width:
                raise FileFormatError(
                    f"{what}: data row {n} has {fields} field(s) but the header has {width}"
                    + (" (is the file separated by another character?)" if fields == 1 else ""))
    try:
        frame = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, na_values=NA_VALUES,
                            sep=sep, quoting=csv.QUOTE_MINIMAL if records is not None else csv.QUOTE_NONE,
                            skip_blank_lines=True, engine="c")
    except pd.errors.ParserError:
        records = _scan_records(text, sep, what)
        _check_ragged(records, len(names), what)
        raise
    frame.columns = names
    return frame, sep


def _scan_records(text: str, sep: str, what: str) -> list[list[str]]:
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines, delimiter=sep, strict=True)
    records: list[list[str]] = []
    starts: list[int] = []
    try:
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            if row == []:
                continue
            records.append(row)
            starts.append(start)
    except csv.Error as exc:
        row_no = len(records)  # records so far include the header: this is data row len(records)
        raise FileFormatError(
            f"{what}: unterminated or misplaced quote in data row {row_no} (line {reader.line_num}): {exc}"
        ) from None
    # a quoted field that swallowed whole lines of records: an unterminated quote closed much later
    if records:
        width = len(records[0])
        for n, row in enumerate(records[1:], start=1):
            for col, value in enumerate(row):
                if "\n" in value:
                    inner = value.split("\n")
                    if sum(1 for part in inner if part.count(sep) >= max(1, width - 2)) >= 1 and len(inner) > 1:
                        column = records[0][col] if col < width else f"#{col + 1}"
                        raise FileFormatError(
                            f"{what}: unterminated quote in data row {n}, column {column!r}: the quoted "
                            f"value runs over {len(inner)} lines that look like records (line {starts[n]} on)")
    return records


def _check_ragged(records: list[list[str]], width: int, what: str) -> None:
    for n, row in enumerate(records[1:], start=1):
        if len(row) != width:
            raise FileFormatError(
                f"{what}: data row {n} has {len(row)} field(s) but the header has {width}"
                + (" (is the file separated by another character?)" if len(row) == 1 else ""))


def file_kind_name(kind: str) -> str:
    return {"parquet": "a Parquet file", "parquet_truncated": "a truncated Parquet file",
            "duckdb": "a DuckDB database", "sqlite": "an SQLite database", "zip": "a zip archive (Excel .xlsx?)",
            "binary": "binary data", "text": "text (CSV)", "utf16": "UTF-16 text"}.get(kind, kind)


def read_head_tail(path: Path, n: int = 8192) -> tuple[bytes, bytes]:
    with open(path, "rb") as fh:
        head = fh.read(n)
        try:
            fh.seek(-4, 2)
        except OSError:
            fh.seek(0)
        tail = fh.read(4)
    return head, tail


def read_file(path: Path, *, what: str | None = None, label: str | None = None, sep: str | None = None,
              encoding: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a CSV or Parquet file, told apart by content (the extension is checked against it).

    Returns ``(frame, notes)``; CSV values are text. ``what`` names the file in messages,
    ``label`` in notes. OSError (permission, symlink loop) propagates for the caller to word.
    """
    path = Path(path)
    what = what or f"file {path.name}"
    label = label or path.stem
    suffix = path.suffix.lower()
    head, tail = read_head_tail(path)
    kind = sniff_kind(head, tail)
    notes: list[str] = []
    if suffix == ".parquet" and kind != "parquet":
        if kind == "parquet_truncated":
            raise FileFormatError(f"{what} is a truncated Parquet file (no end marker); copy or export it again")
        raise FileFormatError(f"{what} is named .parquet but holds {file_kind_name(kind)}"
                              + ("; rename it to .csv" if kind == "text" else ""))
    if suffix != ".parquet" and kind in ("parquet", "parquet_truncated"):
        raise FileFormatError(f"{what} is named {path.suffix} but holds {file_kind_name(kind)}; "
                              f"rename it to {path.stem}.parquet")
    if kind == "parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for corrupt files
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise FileFormatError(f"{what} cannot be read as Parquet ({type(exc).__name__}: {first})") from None
        cols = [str(c) for c in frame.columns]
        dups = sorted({c for c in cols if cols.count(c) > 1})
        if dups:
            raise FileFormatError(f"{what} has duplicate column(s) {dups}")
        return frame, notes
    if kind != "text" and not (kind == "utf16" and encoding):
        raise FileFormatError(f"{what} is not a CSV text file: it holds {file_kind_name(kind)}")
    data = path.read_bytes()
    try:
        text, used = decode_bytes(data, encoding)
    except FileFormatError as exc:
        raise FileFormatError(f"{what} {exc}") from None
    if used not in ("utf-8", "utf-8-sig") and encoding is None:
        notes.append(f"{label}: read {path.name} as {used} (it is not valid UTF-8; Excel on Windows "
                     "writes cp1252); set encoding: in a mapping to override")
    if not text.strip():
        raise EmptyFileError(f"{what} is empty (no header row)")
    frame, used_sep = read_csv_text(text, sep=sep, what=what)
    if sep is None and used_sep != ",":
        notes.append(f"{label}: {path.name} is separated by {used_sep!r}, not ','")
    return frame, notes
