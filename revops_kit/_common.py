"""Shared helpers for KPI modules: safe ratios, grouping columns, currency conversion.

Use these instead of re-writing them in a domain module.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import NotGroupableError, RevOpsError, warn_zero_denominator
from .policies import MetricPolicy

__all__ = ["safe_divide", "ratio_frame", "attach_columns", "to_reporting_currency", "as_list", "frame_cache", "group_agg",
           "isin", "quiet", "kept_if_quiet"]


def as_list(by) -> list[str]:
    """``None`` → ``[]``; ``"segment"`` → ``["segment"]``; lists unchanged."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def safe_divide(numerator, denominator, *, what: str, where: str = ""):
    """``numerator / denominator`` with NaN and a :class:`ZeroDenominatorWarning` where it is 0.

    Works on scalars and aligned arrays/Series. One warning per call names the groups affected.

    >>> safe_divide(3.0, 4.0, what="demo")
    0.75
    """
    num = np.asarray(numerator, dtype="float64")
    den = np.asarray(denominator, dtype="float64")
    zero = den == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(zero, np.nan, num / np.where(zero, 1.0, den))
    if np.any(zero):
        warn_zero_denominator(what, where, stacklevel=3)
    if isinstance(numerator, pd.Series):
        return pd.Series(out, index=numerator.index)
    if np.ndim(out) == 0:
        return float(out)
    return out


def ratio_frame(frame: pd.DataFrame, numerator: str, denominator: str, *, what: str,
                by: list[str] | None = None) -> pd.DataFrame:
    """Add ``numerator``, ``denominator`` and ``value`` columns (copies ``frame``)."""
    out = frame.copy()
    out["numerator"] = out[numerator].astype("float64")
    out["denominator"] = out[denominator].astype("float64")
    zero = out["denominator"] == 0
    where = ""
    if zero.any() and by:
        where = "groups " + ", ".join(
            "/".join(str(v) for v in row) for row in out.loc[zero, by].itertuples(index=False)
        )[:300]
    out["value"] = safe_divide(out["numerator"], out["denominator"], what=what, where=where)
    return out


def arpa_frame(out: pd.DataFrame, new_mrr, new_customers, *, by: list[str]) -> pd.DataFrame:
    """The ARPA frame from ``out`` (``by`` columns, ``mrr``, ``customers``): ``value`` = mrr ÷
    customers (NaN with a warning at 0) with ``numerator, denominator``, and the new customers'
    ``new_mrr``, ``new_customers`` and ``new_customer_arpa`` (NaN without new customers). Shared
    by :func:`revops_kit.revenue.arpa` and its SQL engine."""
    out = ratio_frame(out, "mrr", "customers", what="ARPA (no active customers)", by=by)
    new_mrr, new_n = np.asarray(new_mrr, dtype=np.float64), np.asarray(new_customers)
    out["new_mrr"] = new_mrr
    out["new_customers"] = new_n
    with np.errstate(invalid="ignore", divide="ignore"):
        out["new_customer_arpa"] = np.where(new_n > 0, new_mrr / np.maximum(new_n, 1), np.nan)
    return out[by + ["value", "numerator", "denominator", "new_mrr", "new_customers",
                     "new_customer_arpa"]]


def attach_columns(frame: pd.DataFrame, customers: pd.DataFrame | None, by: list[str],
                   *, key: str = "customer_id", table: str = "frame") -> pd.DataFrame:
    """Return ``frame`` with the ``by`` columns it lacks looked up in ``customers`` by ``key``.

    Raises a ValueError naming the column when it is neither in ``frame`` nor in ``customers``.
    Customers without a value get ``"(missing)"`` so that no row drops out of a groupby.
    """
    by = list(dict.fromkeys(by))  # the same column asked twice is grouped once
    missing = [c for c in by if c not in frame.columns]
    if not missing:
        out = frame
    else:
        if customers is None or any(c not in customers.columns for c in missing):
            avail = sorted(set(frame.columns) | set(customers.columns if customers is not None else []))
            raise GroupingError(
                f"cannot group {table} by {missing}: not a column of {table} or customers "
                f"(available: {', '.join(avail)})"
            )
        lookup = customers.drop_duplicates(key).set_index(key)[missing]
        out = frame.join(lookup, on=key)
    out = out.copy() if out is frame else out
    for c in by:
        if out[c].isna().any():
            out[c] = out[c].astype(object).where(out[c].notna(), "(missing)")
    return out


class GroupingError(NotGroupableError):
    """A ``by=`` column exists neither in the table nor in ``customers``."""


def to_reporting_currency(frame: pd.DataFrame, amount: str, date: str, fx_rates: pd.DataFrame | None,
                          policy: MetricPolicy, *, currency: str = "currency",
                          table: str = "frame") -> pd.Series:
    """``frame[amount]`` converted to ``policy.reporting_currency`` with ``fx_rates``.

    The rate of the month of ``frame[date]`` is used (``policy.fx_mode == "period"``), or the
    rate of ``policy.fx_fixed_month`` / the first month of ``fx_rates`` (``"fixed"``). Rows whose
    currency is missing or already the reporting currency are unchanged. A currency or month
    without a rate raises a ValueError naming the table, currency and months.
    """
    values = frame[amount].astype("float64")
    if currency not in frame.columns:
        return values
    cur = frame[currency]
    foreign = cur.notna() & (cur != policy.reporting_currency)
    if not foreign.any():
        return values
    if fx_rates is None:
        raise RevOpsError(
            f"{table}: {int(foreign.sum())} row(s) are in {sorted(cur[foreign].unique())} but there is "
            f"no fx_rates table to convert them to {policy.reporting_currency}"
        )
    rates = fx_rates.copy()
    rates["month"] = rates["month"].dt.to_period("M").dt.to_timestamp()
    if policy.fx_mode == "fixed":
        month = (pd.Timestamp(policy.fx_fixed_month) if policy.fx_fixed_month else rates["month"].min())
        fixed = rates[rates["month"] == month].set_index("currency")["rate"]
        r = cur[foreign].map(fixed)
    else:
        months = frame.loc[foreign, date].dt.to_period("M").dt.to_timestamp()
        key = pd.MultiIndex.from_arrays([months, cur[foreign]])
        table_rates = rates.set_index(["month", "currency"])["rate"]
        r = pd.Series(table_rates.reindex(key).to_numpy(), index=months.index)
    if r.isna().any():
        bad = frame.loc[r.index[r.isna()]]
        raise RevOpsError(
            f"{table}: no fx rate for {sorted(bad[currency].unique())} in month(s) "
            f"{sorted(bad[date].dt.strftime('%Y-%m').unique())[:5]}"
        )
    out = values.copy()
    out.loc[foreign] = values[foreign] * r.to_numpy()
    return out


# ---------------------------------------------------------------------- intermediates cache
#: Warnings about library versions and interpreter housekeeping, not about the data: they do not
#: stop a value from being cached (a report page's data notes drop them, see ``views.notes``).
_NOT_ABOUT_DATA = (DeprecationWarning, PendingDeprecationWarning, FutureWarning, ImportWarning,
                   ResourceWarning)


def quiet(build):
    """``(build(), True)`` when ``build()`` raised no warning, else ``(None, False)``.

    The rule of every cache in the package: only a value whose computation warned nothing is kept.
    A value that warned is computed again by the caller, where its warnings reach the caller (a
    report page's data notes): a cache never hides from one caller a warning another one saw.
    Notices about library versions (:data:`_NOT_ABOUT_DATA`) do not count.
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = build()
    if any(not issubclass(w.category, _NOT_ABOUT_DATA) for w in caught):
        return None, False
    for w in caught:  # the version notices go on to the caller's filters, as without the recorder
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return value, True


class _Warned(Exception):
    """Raised inside a cache's builder when the value warned (see :func:`quiet`): not stored."""


def kept_if_quiet(store, build):
    """``store(builder)`` where ``store`` keeps what ``builder()`` returns (e.g.
    :meth:`RevOpsData.derived <revops_kit.io.RevOpsData.derived>`), for a ``build`` that is kept only
    when it warned nothing (:func:`quiet`); otherwise ``build()`` again, uncached, warnings and all."""
    def builder():
        value, ok = quiet(build)
        if not ok:
            raise _Warned
        return value

    try:
        return store(builder)
    except _Warned:
        return build()


_FRAME_CACHE: dict[int, dict] = {}


def _frame_stamp(frame) -> tuple | None:
    if frame is None:
        return None
    return (id(frame), len(frame), tuple(map(str, frame.columns)))


def frame_cache(name: str, frames: tuple, key: tuple, build):
    """``build()`` once per (``name``, the identity of each of ``frames``, ``key``).

    The entry hangs off the first frame (held weakly: it dies with the frame, e.g. with its
    :class:`~revops_kit.io.RevOpsData`) and is rebuilt when any frame is replaced or changes
    length or columns. Callers must treat the result as read-only. This is how intermediates
    (the opportunity timeline, funnel dates) are built once per dataset and policy without a
    cache parameter in any public signature. A ``build()`` that warned is not kept (:func:`quiet`).
    """
    import weakref

    owner = frames[0]
    if owner is None:
        return build()
    slot = _FRAME_CACHE.get(id(owner))
    if slot is None or slot["ref"]() is not owner:
        slot = {"ref": weakref.ref(owner), "entries": {}}
        _FRAME_CACHE[id(owner)] = slot
        weakref.finalize(owner, _FRAME_CACHE.pop, id(owner), None)
    stamp = tuple(_frame_stamp(f) for f in frames)
    hit = slot["entries"].get((name, key))
    if hit is not None and hit[0] == stamp and all(
            (r is None and f is None) or (r is not None and r() is f) for r, f in zip(hit[1], frames)):
        return hit[2]
    value, ok = quiet(build)
    if not ok:
        return build()
    refs = tuple(None if f is None else weakref.ref(f) for f in frames)
    slot["entries"][(name, key)] = (stamp, refs, value)
    return value


def isin(values: pd.Series, pool) -> np.ndarray:
    """``values.isin(pool)`` as a boolean array (fast for Arrow-backed strings too)."""
    index = pd.Index(pd.unique(pd.Series(list(pool) if isinstance(pool, (set, tuple, list)) else pool)))
    return index.get_indexer(values) >= 0


def group_agg(frame: pd.DataFrame, by: list[str], agg: dict) -> pd.DataFrame:
    """``frame.groupby(by).agg(**agg)`` with one row over everything when ``by`` is empty.

    The one grouping helper of the KPI modules: over no rows, a sum, size, count or nunique is 0
    (nothing was counted) and every other aggregate (mean, median, min, ...) is NaN — an empty
    group has no average, never a 0.
    """
    if by:
        return frame.groupby(by, observed=True, dropna=False).agg(**agg).reset_index()
    if len(frame):
        return frame.assign(_all=0).groupby("_all").agg(**agg).reset_index(drop=True)
    return pd.DataFrame([{k: (0.0 if how in ("sum", "size", "count", "nunique") else np.nan)
                          for k, (_, how) in agg.items()}])
