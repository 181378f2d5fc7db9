"""Shared pieces of the SQL engine: movement codes, month numbers, half-to-even rounding in SQL,
the engine's error and the "needs the rows in memory" refusal."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import RevOpsError
from .. import SQLEngineUnsupported


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


def unsupported(what: str, *, named: bool = True):
    """Raise :class:`SQLEngineUnsupported` for a computation that needs the raw rows. Its
    ``what`` attribute names the computation for the report's data notes (``None`` when
    ``named=False``: generic pandas code, which the caller names better)."""
    err = SQLEngineUnsupported(
        f"{what} needs the subscription rows in memory (engine=sql keeps them in the database; "
        f"load with engine='pandas' for this)")
    err.what = what if named else None
    raise err

