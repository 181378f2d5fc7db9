"""Series input: a long table (``series_id, date, value``) split into date-indexed series."""

from __future__ import annotations

import pandas as pd

from ._core import _infer_freq
from .result import ForecastInputError

__all__ = ["series_from_long"]


def series_from_long(frame: pd.DataFrame, *, id_col: str = "series_id", date_col: str = "date",
                     value_col: str = "value") -> dict[str, pd.Series]:
    """Split a long table (``series_id, date, value``) into a dict of date-indexed Series.

    Dates are parsed; each series is sorted by date and given the frequency its dates imply.
    Raises :class:`ForecastInputError` naming a missing column or a duplicated (series, date).
    """
    missing = [c for c in (id_col, date_col, value_col) if c not in frame.columns]
    if missing:
        raise ForecastInputError(f"series table: missing column(s) {missing}; expected "
                                 f"{id_col}, {date_col}, {value_col} (got {list(frame.columns)})")
    dates = pd.to_datetime(frame[date_col])
    values = pd.to_numeric(frame[value_col], errors="coerce").astype("float64")
    tmp = pd.DataFrame({"id": frame[id_col].astype(str), "date": dates, "value": values})
    dup = tmp.duplicated(["id", "date"])
    if dup.any():
        first = tmp[dup].iloc[0]
        raise ForecastInputError(f"series table: {int(dup.sum())} duplicated ({id_col}, {date_col}) "
                                 f"row(s), e.g. {first['id']} {first['date'].date()}")
    out = {}
    for key, g in tmp.groupby("id", sort=False):
        s = g.set_index("date")["value"].sort_index()
        s.index.name = date_col
        s.name = key
        freq = _infer_freq(s.index)
        if freq is not None:
            s = s.asfreq(freq)
        out[key] = s
    return out
