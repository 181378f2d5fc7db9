"""The month grid: customer × month MRR in integer cents, previous month, movement category, FX.

:class:`MonthGrid` is the one intermediate behind every MRR KPI (revenue, retention, cohorts, CLV,
finance). It is built once per subscriptions frame, FX table and policy (and grain) and cached:
:func:`month_grid` returns the cached grid (restricted to a window of months), so a report that
asks for fifty revenue KPIs classifies each customer-month once. A :class:`MonthGrid` is public
and tested; its frame form (:meth:`MonthGrid.frame`, columns :data:`GRID_COLUMNS`) is the contract
the SQL engine reproduces.

Definitions
-----------
* **Month spine.** Months are month starts. A subscription period is active in month ``m`` when
  ``start_date <= m < end_date`` (half-open; an empty ``end_date`` is still running). So a period
  starting mid-month counts from the next month, and one ending mid-month still counts in the month
  it ends in.
* **MRR of a customer-month** = Σ ``mrr`` of its active subscription periods, in the reporting
  currency. Money is handled in **integer cents**: each period's ``mrr`` is rounded to the cent,
  a customer's month is summed per currency exactly, and converted once per customer × month ×
  currency (``round(local_cents × rate)``, half to even). Cents are whole numbers (held in
  int64 or float64; sums below 2**53 cents are exact either way). So no summation order can
  turn "unchanged" into a tiny expansion, and the MRR bridge identity holds exactly in cents.
* **Active** means local MRR > 0. A customer's **first active month** is its *new* month.
* **Category** of each customer-month, by one ordered rule (dbt mrr-playbook order)::

      new           active now, first active month ever
      churn         not active now, active the previous month
      reactivation  active now, not active the previous month, not the first month
      expansion     active both months, constant-currency change > 0
      contraction   active both months, constant-currency change < 0
      unchanged     otherwise

  ``policy.reactivation_window_months``: a return after more inactive months than this is *new*.
* **FX impact** (``policy.fx_mode == "period"``): for a customer active in both ``m-1`` and ``m``,
  ``fx_impact = Σ_currency round(L_{m-1} × r_m) − round(L_{m-1} × r_{m-1})``; the movement is
  ``mrr − previous_mrr − fx_impact`` (constant currency). New, reactivation and churn rows have
  ``fx_impact = 0``. With ``fx_mode == "fixed"`` every month uses one rate and ``fx_impact`` is 0;
  ``fx_in_movements=True`` (the dbt playbook preset) folds currency movement into the movements.
* **Grain.** Without grain a row is a customer; with subscription columns (``product``, ``plan``,
  ``currency``) an entity is customer × those columns.
* **Rows.** One row per entity-month in which the entity is active or was active the month before
  (so a churn is one row with MRR 0), from its first active month on.

The core is vectorised: one ``np.repeat`` to a flat entity × month array, ``np.bincount`` of cents
onto dense integer keys, a cumulative sum, a shifted array for the previous month and a lookup
table for the category; ``benchmarks/bench_mrr.py`` times it against DuckDB SQL.

Caching
-------
The cache is keyed on the identity of the ``subscriptions`` and ``fx_rates`` frame objects (held
weakly: it dies with them — for a :class:`~revops_kit.io.RevOpsData`, with the dataset), plus the
policy, grain and ``convert``; a changed length, column set or MRR/date checksum rebuilds it.
Treat frames as read-only once computed on (``copy()`` before editing in place).

Size
----
This module is longer than the ~600 lines a module is allowed by default, on purpose: it is one
model — the definitions above, the one vectorised build (:func:`_build`), the window with its
FX-rate check, and the cache — plus the month arithmetic and the period aggregates that the build
and its readers (revenue, retention, cohorts, finance) share. The build is one algorithm that
``benchmarks/bench_mrr.py`` times as a unit, and its invariants (integer cents, month numbers,
which rows exist) are stated once, here; splitting it would put the halves of one invariant in
two files.
"""

from __future__ import annotations

import weakref
from typing import Iterable

import numpy as np
import pandas as pd

from ._common import as_list, attach_columns, quiet
from .errors import RevOpsError
from .periods import Period
from .policies import DEFAULT_POLICY, MetricPolicy, get_policy

__all__ = [
    "CATEGORIES",
    "UNCHANGED", "NEW", "EXPANSION", "CONTRACTION", "CHURN", "REACTIVATION",
    "GRID_COLUMNS",
    "OPEN_MONTH",
    "MonthGrid",
    "MRRInputError",
    "month_grid",
    "month_number",
    "month_floor",
    "month_window",
    "mrr_cents",
    "check_subscriptions",
    "month_start",
    "as_month_number",
    "factorize_rows",
    "split_by",
    "period_grid",
    "group_codes",
    "group_frame",
    "bridge_cents",
]

#: Movement categories, in the order of the classification rule; codes index this tuple.
CATEGORIES = ("unchanged", "new", "expansion", "contraction", "churn", "reactivation")
UNCHANGED, NEW, EXPANSION, CONTRACTION, CHURN, REACTIVATION = range(6)
_UNCHANGED, _NEW, _EXPANSION, _CONTRACTION, _CHURN, _REACTIVATION = range(6)
_REQUIRED = ("customer_id", "start_date", "end_date", "mrr")

#: The frame form of a grid (:meth:`MonthGrid.frame`), column → dtype. Grain columns (if any)
#: follow ``customer_id``. Cents are int64; ``category`` is a categorical of :data:`CATEGORIES`.
GRID_COLUMNS = {
    "customer_id": "string",   # object or str dtype (pandas 2 / 3)
    "month": "datetime64[ns]",
    "mrr_cents": "int64",
    "previous_mrr_cents": "int64",
    "fx_impact_cents": "int64",
    "movement_cents": "int64",
    "category": "category",
    "active": "bool",
    "previous_active": "bool",
}


class MRRInputError(RevOpsError, ValueError):
    """Subscriptions or FX rates cannot be turned into MRR (missing column, bad value, no rate)."""


# ---------------------------------------------------------------------- month arithmetic
def month_number(values, *, ceil: bool = False) -> np.ndarray:
    """Months since 1970-01 (int64) of datetime values; ``ceil`` moves dates after a month's
    first instant to the next month start. NaT gives ``_OPEN``.

    Uses a day → month lookup table over the dates' range (a calendar conversion per element is
    several times slower on millions of rows).
    """
    v = np.asarray(values, dtype="datetime64[ns]").view(np.int64)
    out = np.full(v.shape, _OPEN, dtype=np.int64)
    nat = v == np.iinfo(np.int64).min
    if nat.all():
        return out
    days = v // _DAY_NS
    valid = days[~nat] if nat.any() else days
    dmin, dmax = int(valid.min()), int(valid.max())
    if dmax - dmin > 400_000:  # absurd range: fall back to the calendar conversion
        m = v.view("datetime64[ns]").astype("datetime64[M]")
        res = m.astype(np.int64)
        if ceil:
            res = res + (m.astype("datetime64[ns]").view(np.int64) != v)
        out[~nat] = res[~nat]
        return out
    span = np.arange(dmin, dmax + 1, dtype=np.int64)
    lut_m = span.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    any_nat = bool(nat.any())
    idx = days
    idx -= dmin
    if any_nat:
        idx[nat] = 0
    res = lut_m[idx]
    if ceil:
        lut_first = (lut_m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) == span)
        res += ~lut_first[idx] | (v % _DAY_NS != 0)
    if not any_nat:
        return res
    res[nat] = _OPEN
    return res


_DAY_NS = 86_400_000_000_000


def month_floor(values) -> np.ndarray:
    """Months since 1970-01 of datetime values (the month containing each), by a binary search
    in the table of month starts of their range: one output array, no per-element calendar
    work. Missing dates raise."""
    v = np.asarray(values, dtype="datetime64[ns]")
    if v.size == 0:
        return np.zeros(0, dtype=np.int64)
    lo_v, hi_v = v.min(), v.max()
    if np.isnat(lo_v) or np.isnat(hi_v):
        raise MRRInputError("movements: column 'month' has missing dates")
    m_lo = int(lo_v.astype("datetime64[M]").astype(np.int64))
    m_hi = int(hi_v.astype("datetime64[M]").astype(np.int64))
    table = np.arange(m_lo, m_hi + 1, dtype=np.int64).astype("datetime64[M]") \
        .astype("datetime64[ns]")
    out = np.searchsorted(table, v, side="right").astype(np.int64)
    out += m_lo - 1
    return out
OPEN_MONTH = _OPEN = np.iinfo(np.int64).max // 4
"""The month number of a missing (open) date."""


def cohort_ages(sizes: pd.DataFrame, keys: list[str], *, last_obs: int, step: int,
                max_age: int | None) -> pd.DataFrame:
    """Every (cohort, age) a cohort table shows: ``sizes`` (one row per cohort ``keys``, month
    ``cohort_m``, with its ``customers``) repeated for ages 0 .. the last age observed by month
    ``last_obs`` (``step`` months per age; capped at ``max_age``). Shared by
    :func:`revops_kit.cohorts.cohort_retention` and its SQL engine."""
    span = sizes.reset_index(drop=True)
    span["max_age"] = (last_obs - (span["cohort_m"] + step - 1)) // step
    span = span[span["max_age"] >= 0]
    if max_age is not None:
        span["max_age"] = span["max_age"].clip(upper=max_age)
    full = span.loc[span.index.repeat(span["max_age"] + 1)].drop(columns="max_age")
    full["age"] = full.groupby(keys, observed=True, dropna=False).cumcount()
    return full


def cohort_rates(out: pd.DataFrame, keys: list[str], by: list[str], *,
                 last_cohorts: int | None) -> pd.DataFrame:
    """Finish a cohort table (``cohort_m``, ``age``, ``customers``, ``active``, ``mrr`` per cohort
    ``keys``): ``mrr_initial`` (age 0), ``logo_retention`` = active ÷ customers,
    ``revenue_retention`` = mrr ÷ mrr_initial (NaN when the cohort started at 0), the ``cohort``
    month start, the last ``last_cohorts`` cohorts, in the documented column order."""
    initial = out[out["age"] == 0].set_index(keys)["mrr"].rename("mrr_initial")
    out = out.join(initial, on=keys)
    out["logo_retention"] = out["active"] / out["customers"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["revenue_retention"] = np.where(out["mrr_initial"] > 0,
                                            out["mrr"] / out["mrr_initial"].where(
                                                out["mrr_initial"] > 0, 1.0), np.nan)
    out["cohort"] = month_start(out["cohort_m"].to_numpy())
    if last_cohorts is not None:
        keep = np.sort(out["cohort_m"].unique())[-last_cohorts:]
        out = out[out["cohort_m"].isin(keep)]
    cols = ["cohort"] + by + ["age", "customers", "active", "logo_retention", "mrr",
                              "mrr_initial", "revenue_retention"]
    return out.sort_values(["cohort"] + by + ["age"]).reset_index(drop=True)[cols]


def month_start(m: np.ndarray) -> np.ndarray:
    """Month starts (datetime64[ns]) of month ints, through a lookup table of their range."""
    m = np.asarray(m, dtype=np.int64)
    if m.size < 1000:
        return m.astype("datetime64[M]").astype("datetime64[ns]")
    lo, hi = int(m.min()), int(m.max())
    table = np.arange(lo, hi + 1, dtype=np.int64).astype("datetime64[M]").astype("datetime64[ns]")
    return table[m - lo]


def as_month_number(value) -> int | None:
    """Month number of a period's start or of a date (a date after a month's first instant
    counts from the next month); ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, Period):
        return int(month_number([value.start], ceil=False)[0])
    return int(month_number([pd.Timestamp(value)], ceil=True)[0])


def month_window(start, end) -> tuple[int | None, int | None]:
    """Month numbers ``(lo, hi)`` of a half-open window (a Period alone: its months; dates are
    rounded up to the next month start; ``None`` stays open)."""
    if isinstance(start, Period) and end is None:
        return as_month_number(start), int(month_number([start.end], ceil=False)[0])
    if isinstance(end, Period):
        end = end.end
    return as_month_number(start), as_month_number(end)


# ---------------------------------------------------------------------- the model
class MonthGrid:
    """Customer (× grain) × month MRR in integer cents, previous month, FX impact and category.

    Flat arrays, one element per entity-month row (see the module docstring for which rows exist
    and how each is classified); rows are sorted by entity, then month.

    Attributes
    ----------
    ent : ndarray of int
        Entity code of each row (indexes :attr:`entities`).
    month : ndarray of int
        Month number of each row (months since 1970-01, see :func:`month_number`).
    mrr, prev, fx : ndarray of float64
        MRR, previous month's MRR and FX impact in whole cents of the reporting currency.
    cat : ndarray of int8
        Category code (indexes :data:`CATEGORIES`).
    active, prev_active : ndarray of bool
        Local MRR > 0 this month / the month before.
    entities : DataFrame
        One row per entity code: ``customer_id`` (+ grain columns), sorted.
    lo, hi : int
        The grid's months are ``[lo, hi)``.
    local : ndarray or None
        ``(rows, currencies)`` local cents when a conversion was needed, else ``None``.
    start_rates : ndarray or None
        Rates of month ``lo - 1`` per currency (when converted): constant-currency revaluation.
    grain, policy, convert, currencies
        How it was built.

    Build one with :func:`month_grid` (cached) or :meth:`build`; restrict it with
    :meth:`window`; read it as a frame with :meth:`frame`.
    """

    __slots__ = ("ent", "month", "mrr", "prev", "fx", "cat", "active", "prev_active", "entities",
                 "lo", "hi", "local", "start_rates", "grain", "policy", "convert", "currencies",
                 "_fx_rates", "_end", "_bad_now", "_bad_before")

    def __init__(self, *, ent, month, mrr, prev, fx, cat, active, prev_active, entities, lo, hi,
                 local=None, start_rates=None, grain=(), policy=DEFAULT_POLICY, convert=True,
                 currencies=(), fx_rates=None, end=None, bad_now=None, bad_before=None):
        self.ent, self.month, self.mrr, self.prev, self.fx = ent, month, mrr, prev, fx
        self.cat, self.active, self.prev_active = cat, active, prev_active
        self.entities, self.lo, self.hi = entities, int(lo), int(hi)
        self.local, self.start_rates = local, start_rates
        self.grain, self.policy, self.convert = tuple(grain), policy, convert
        self.currencies = tuple(currencies)
        self._fx_rates = fx_rates
        self._end = int(hi if end is None else end)  # rows exist up to here (>= hi)
        self._bad_now, self._bad_before = bad_now, bad_before

    def __len__(self) -> int:
        return len(self.month)

    def __repr__(self) -> str:
        first, last = (month_start(np.array([self.lo, self.hi - 1])).astype("datetime64[M]")
                       if self.hi > self.lo else ("-", "-"))
        return (f"MonthGrid({len(self)} rows, {len(self.entities)} entities, months {first}.."
                f"{last}, grain={list(self.grain)}, currencies={list(self.currencies)})")

    # -------------------------------------------------------------- construction
    @classmethod
    def build(cls, subscriptions: pd.DataFrame, *, fx_rates: pd.DataFrame | None = None,
              policy: MetricPolicy | str = DEFAULT_POLICY, grain: Iterable[str] = (),
              convert: bool = True, through=None) -> "MonthGrid":
        """Build a grid (uncached; :func:`month_grid` is the cached entry point).

        ``through`` (a month-like or Period) extends the grid to that month, exclusive, when it
        is later than the month after the last change (running subscriptions stay active).
        """
        _, hi = month_window(None, through)
        return _build(subscriptions, grain=tuple(grain), fx_rates=fx_rates,
                      policy=get_policy(policy), convert=convert, through=hi)

    # -------------------------------------------------------------- access
    def window(self, start=None, end=None) -> "MonthGrid":
        """The rows of months ``[start, end)`` (a Period alone: its months).

        Categories depend on the whole history, so the window only limits the rows. ``start``
        defaults to the first month, ``end`` to the month after the last change. Raises
        :class:`MRRInputError` when a row of the window needs an FX rate that is unknown.
        """
        lo_req, hi_req = month_window(start, end)
        lo = self.lo if lo_req is None else lo_req
        hi = self.hi if hi_req is None else hi_req
        if hi > self._end:
            raise ValueError(f"MonthGrid.window: end month {hi} is beyond the grid ({self._end}); "
                             f"build it with through=end (month_grid does)")
        if len(self.month) == 0:
            lo = hi
        if lo == self.lo and hi == self._end:
            sel = None
        else:
            keep = self.month >= lo
            keep &= self.month < hi
            sel = None if keep.all() else np.flatnonzero(keep)
        self._check_window(lo, hi)
        start_rates = None
        if self.local is not None:
            start_rates = _rate_matrix(self._fx_rates, list(self.currencies), lo - 1, lo,
                                       self.policy)[0]
        if sel is None:
            arrays = (self.ent, self.month, self.mrr, self.prev, self.fx, self.cat, self.active,
                      self.prev_active, self.local)
        else:
            fx = (np.broadcast_to(np.float64(0.0), sel.shape) if self.fx.strides == (0,)
                  else self.fx[sel])
            arrays = (self.ent[sel], self.month[sel], self.mrr[sel], self.prev[sel], fx,
                      self.cat[sel], self.active[sel], self.prev_active[sel],
                      None if self.local is None else self.local[sel])
        ent, month, mrr, prev, fx, cat, active, prev_active, local = arrays
        return MonthGrid(ent=ent, month=month, mrr=mrr, prev=prev, fx=fx, cat=cat, active=active,
                         prev_active=prev_active, entities=self.entities, lo=lo, hi=hi,
                         local=local, start_rates=start_rates, grain=self.grain,
                         policy=self.policy, convert=self.convert, currencies=self.currencies,
                         fx_rates=self._fx_rates, end=hi)

    def _check_window(self, lo: int, hi: int) -> None:
        for bad, shift in ((self._bad_now, 0), (self._bad_before, 1)):
            if bad is None:
                continue
            rows, mask = bad
            m = self.month[rows]
            hit = (m >= lo) & (m < hi)
            if hit.any():
                _raise_missing_rates(np.flatnonzero(hit), mask[hit], m[hit] - shift,
                                     list(self.currencies), self.policy, self._fx_rates)

    def frame(self) -> pd.DataFrame:
        """The grid as a frame: :data:`GRID_COLUMNS` (grain columns after ``customer_id``)."""
        out = pd.DataFrame({"customer_id": self.entities["customer_id"].to_numpy()[self.ent]})
        for col in self.grain:
            out[col] = self.entities[col].to_numpy()[self.ent]
        out["month"] = month_start(self.month)
        out["mrr_cents"] = self.mrr.astype(np.int64)
        out["previous_mrr_cents"] = self.prev.astype(np.int64)
        out["fx_impact_cents"] = np.asarray(self.fx).astype(np.int64)
        out["movement_cents"] = out["mrr_cents"] - out["previous_mrr_cents"] - out["fx_impact_cents"]
        out["category"] = pd.Categorical.from_codes(self.cat.astype(np.int8),
                                                    categories=list(CATEGORIES))
        out["active"] = self.active
        out["previous_active"] = self.prev_active
        return out


# ---------------------------------------------------------------------- cache
_CACHE: dict[int, "_Entry"] = {}


class _Entry:
    __slots__ = ("subs", "fx", "grids", "__weakref__")

    def __init__(self, subs, fx):
        self.subs = weakref.ref(subs)
        self.fx = None if fx is None else weakref.ref(fx)
        self.grids: dict = {}


def _fingerprint(frame: pd.DataFrame | None, cols: tuple[str, ...]):
    if frame is None:
        return None
    parts: list = [len(frame), tuple(map(str, frame.columns))]
    for col in cols:
        if col in frame.columns:
            values = frame[col].to_numpy()
            if values.dtype.kind == "M":
                values = values.view(np.int64)
            elif values.dtype.kind not in "iuf":
                values = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy()
            with np.errstate(all="ignore"):
                parts.append(float(np.nansum(values.astype(np.float64))))
    return tuple(parts)


def _cache_drop(key: int) -> None:
    _CACHE.pop(key, None)


def month_grid(subscriptions: pd.DataFrame, *, fx_rates: pd.DataFrame | None = None,
               policy: MetricPolicy | str = DEFAULT_POLICY, grain: Iterable[str] = (),
               convert: bool = True, start=None, end=None) -> MonthGrid:
    """The (cached) :class:`MonthGrid` of ``subscriptions``, restricted to months ``[start, end)``.

    Built once per subscriptions frame × FX table × policy × grain × ``convert`` (see the module
    docstring on caching); later calls for any window reuse it.

    Examples
    --------
    >>> import pandas as pd
    >>> subs = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "start_date": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-02-01"]),
    ...     "end_date": pd.to_datetime(["2025-03-01", "2025-04-01", "2025-03-01"]),
    ...     "mrr": [100.0, 150.0, 50.0]})
    >>> g = month_grid(subs)
    >>> g.frame()[["customer_id", "mrr_cents", "category"]].values.tolist()[:3]
    [['a', 10000, 'new'], ['a', 10000, 'unchanged'], ['a', 15000, 'expansion']]
    >>> month_grid(subs) is g
    True
    """
    policy = get_policy(policy)
    grain = tuple(grain)
    _, hi_req = month_window(start, end)
    key = id(subscriptions)
    entry = _CACHE.get(key)
    if entry is None or entry.subs() is not subscriptions:
        entry = _Entry(subscriptions, None)
        _CACHE[key] = entry
        weakref.finalize(subscriptions, _cache_drop, key)
    gkey = (id(fx_rates), policy, grain, convert)
    hit = entry.grids.get(gkey)
    stamp = (_fingerprint(subscriptions, ("mrr", "start_date", "end_date") + grain),
             _fingerprint(fx_rates, ("rate",)))
    if hit is not None:
        fx_ref, hit_stamp, grid = hit
        if (fx_ref is None) != (fx_rates is None) or (fx_ref is not None and fx_ref() is not fx_rates) \
                or hit_stamp != stamp or (hi_req is not None and hi_req > grid._end):
            hit = None
    if hit is None:
        through = hi_req
        if gkey in entry.grids and hi_req is not None:  # extending: keep the later of both ends
            through = max(hi_req, entry.grids[gkey][2]._end)
        def build():
            return _build(subscriptions, grain=grain, fx_rates=fx_rates, policy=policy,
                          convert=convert, through=through)

        grid, ok = quiet(build)
        if ok:  # a build that warned is not cached (see _common.quiet)
            entry.grids[gkey] = (None if fx_rates is None else weakref.ref(fx_rates), stamp, grid)
        else:
            grid = build()
    else:
        grid = hit[2]
    if start is None and end is None and grid._end == grid.hi:
        return grid
    return grid.window(start, end)


# ---------------------------------------------------------------------- period aggregates
def split_by(subscriptions: pd.DataFrame, by) -> tuple[list[str], list[str]]:
    """``by`` columns → (grain columns found in subscriptions, customer columns)."""
    by = as_list(by)
    grain = [c for c in by if c in subscriptions.columns and c != "customer_id"]
    return grain, [c for c in by if c not in grain]


def period_grid(subscriptions: pd.DataFrame, period: Period, *, by, customers, fx_rates, policy,
                convert: bool = True) -> tuple[MonthGrid, pd.DataFrame, list[str]]:
    """The cached grid restricted to ``period``'s months, the entities frame with the ``by``
    columns (customer columns looked up in ``customers``) and the ``by`` list."""
    policy = get_policy(policy)
    grain, cust_cols = split_by(subscriptions, by)
    g = month_grid(subscriptions, start=period.start, end=period.end, grain=grain, fx_rates=fx_rates,
                   policy=policy, convert=convert)
    ents = g.entities
    if cust_cols:
        ents = attach_columns(ents, customers, cust_cols, table="subscriptions")
    return g, ents, as_list(by)


def group_codes(ents: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Group code per entity and the groups frame (sorted)."""
    if not by:
        return np.zeros(len(ents), dtype=np.int64), pd.DataFrame(index=[0])
    codes, groups = factorize_rows(ents[by])
    return codes.astype(np.int64), groups


def bridge_cents(g: MonthGrid, ents: pd.DataFrame, by: list[str], period: Period):
    """Per group: start, new, expansion, reactivation, contraction, churn, fx, end (int cents) and
    customer counts (distinct entities)."""
    gcode, groups = group_codes(ents, by)
    k = len(groups)
    first_m = int(month_number([period.start], ceil=False)[0])
    last_m = int(month_number([period.last_month], ceil=False)[0])
    rg = gcode[g.ent] if len(g.ent) else np.zeros(0, dtype=np.int64)
    move = g.mrr - g.prev - g.fx

    def gsum(mask, values):
        return np.bincount(rg[mask], weights=values[mask].astype(np.float64), minlength=k)

    out = {
        "mrr_start": gsum(g.month == first_m, g.prev),
        "new": gsum(g.cat == NEW, move),
        "expansion": gsum(g.cat == EXPANSION, move),
        "reactivation": gsum(g.cat == REACTIVATION, move),
        "contraction": -gsum(g.cat == CONTRACTION, move),
        "churn": -gsum(g.cat == CHURN, move),
        "fx_impact": gsum(np.ones(len(move), dtype=bool), g.fx),
        "mrr_end": gsum(g.month == last_m, g.mrr),
    }
    out = {key: np.rint(v).astype(np.int64) for key, v in out.items()}

    def gcount(mask):
        ents_hit = np.unique(g.ent[mask])
        return np.bincount(gcode[ents_hit], minlength=k)

    counts = {
        "customers_start": gcount((g.month == first_m) & g.prev_active),
        "customers_new": gcount(g.cat == NEW),
        "customers_reactivated": gcount(g.cat == REACTIVATION),
        "customers_churned": gcount(g.cat == CHURN),
        "customers_end": gcount((g.month == last_m) & g.active),
    }
    return groups, out, counts


def group_frame(groups: pd.DataFrame, by: list[str], **cols) -> pd.DataFrame:
    """The groups frame (or one row without ``by``) with ``cols`` added."""
    out = groups.reset_index(drop=True).copy() if by else pd.DataFrame(index=[0])
    for key, v in cols.items():
        out[key] = v
    return out


# ---------------------------------------------------------------------- the core
def _lookup_table() -> np.ndarray:
    # key = active + 2*prev_active + 4*first + 8*(sign(move)+1)
    table = np.full(24, _UNCHANGED, dtype=np.int8)
    for key in range(24):
        act, prev, first, sign = key & 1, (key >> 1) & 1, (key >> 2) & 1, (key >> 3) - 1
        if act and first:
            table[key] = _NEW
        elif not act and prev:
            table[key] = _CHURN
        elif act and not prev:
            table[key] = _REACTIVATION
        elif act and prev and sign > 0:
            table[key] = _EXPANSION
        elif act and prev and sign < 0:
            table[key] = _CONTRACTION
    return table


_CATEGORY_TABLE = _lookup_table()


def check_subscriptions(subs: pd.DataFrame, grain: list[str] = ()) -> None:
    """Raise :class:`MRRInputError` unless ``subs`` is a frame with the MRR columns (+ ``grain``)."""
    grain = list(grain)
    if not isinstance(subs, pd.DataFrame):
        raise MRRInputError(f"subscriptions must be a DataFrame, got {type(subs).__name__}")
    missing = [c for c in list(_REQUIRED) + grain if c not in subs.columns]
    if missing:
        raise MRRInputError(
            f"subscriptions: missing column(s) {missing}; expected {list(_REQUIRED)} "
            f"(got {list(subs.columns)})")


def mrr_cents(subs: pd.DataFrame) -> np.ndarray:
    """Each row's ``mrr`` in whole cents (int64); raises :class:`MRRInputError` on a bad value."""
    values = pd.to_numeric(subs["mrr"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        rows = np.flatnonzero(bad)[:5]
        raise MRRInputError(
            f"subscriptions: column 'mrr' must be a finite amount >= 0; got "
            f"{subs['mrr'].iloc[rows].tolist()} at data row(s) {(rows + 1).tolist()} (1-based, header "
            "excluded, as validate numbers them)")
    return np.rint(values * 100.0).astype(np.int64)


def _rate_matrix(fx_rates: pd.DataFrame | None, currencies: list, m0: int, m1: int,
                 policy: MetricPolicy) -> np.ndarray:
    """Rates for months ``m0..m1-1`` (rows) × ``currencies`` (columns); NaN where unknown."""
    policy = get_policy(policy)
    n = max(m1 - m0, 0)
    out = np.full((n, len(currencies)), np.nan)
    for j, cur in enumerate(currencies):
        if cur == policy.reporting_currency:
            out[:, j] = 1.0
    foreign = [j for j, c in enumerate(currencies) if c != policy.reporting_currency]
    if not foreign or fx_rates is None:
        return out
    months = month_number(fx_rates["month"].to_numpy(), ceil=False)
    cur = fx_rates["currency"].to_numpy()
    rate = pd.to_numeric(fx_rates["rate"], errors="coerce").to_numpy(dtype="float64")
    if policy.fx_mode == "fixed":
        fixed = as_month_number(policy.fx_fixed_month) if policy.fx_fixed_month else int(months.min())
        for j in foreign:
            hit = (months == fixed) & (cur == currencies[j])
            if hit.any():
                out[:, j] = rate[hit][-1]
        return out
    for j in foreign:
        hit = (cur == currencies[j]) & (months >= m0) & (months < m1)
        out[months[hit] - m0, j] = rate[hit]
    return out


def _build(subscriptions: pd.DataFrame, *, grain: tuple[str, ...], fx_rates: pd.DataFrame | None,
           policy: MetricPolicy, convert: bool, through: int | None) -> MonthGrid:
    """Build the whole grid: every entity-month from the first active month to the month after the
    last change (or to ``through``, exclusive, when that is later).

    ``convert=False`` skips currency conversion (activity and categories on local amounts only;
    ``mrr``/``prev``/``fx`` are then local cents summed over currencies and ``fx`` is 0).
    A missing FX rate is recorded, not raised: :meth:`MonthGrid.window` raises it for a window
    that needs that rate (so a dataset whose rates start later can still be read there).
    """
    grain = list(grain)
    check_subscriptions(subscriptions, grain)
    subs = subscriptions
    cents = mrr_cents(subs)
    s = month_number(subs["start_date"].to_numpy(), ceil=True)
    e = month_number(subs["end_date"].to_numpy(), ceil=True)
    if np.isnat(np.asarray(subs["start_date"].to_numpy(), dtype="datetime64[ns]")).any():
        raise MRRInputError("subscriptions: column 'start_date' has missing dates")

    # entities: customer (× grain columns); codes sorted by customer_id then grain values
    if grain:
        keys = subs[["customer_id"] + grain]
        codes, uniques = factorize_rows(keys)
        entities = uniques
    else:
        codes, uniq = pd.factorize(subs["customer_id"], sort=True)
        entities = pd.DataFrame({"customer_id": uniq})
    codes = codes.astype(np.int64)
    if (codes < 0).any():
        raise MRRInputError("subscriptions: column 'customer_id' has missing values"
                            + (f" (or {grain} do)" if grain else ""))

    finite_e = e[(e != _OPEN) & (cents > 0)]
    cand = [s[cents > 0].max() + 1 if (cents > 0).any() else 0]
    if finite_e.size:
        cand.append(finite_e.max() + 1)
    data_hi = int(max(cand))
    hi = data_hi if through is None else max(data_hi, int(through))
    keep = (cents > 0) & (s < e) & (s < hi)
    ent, s, e, cents = codes[keep], s[keep], np.minimum(e[keep], hi), cents[keep]
    cur_codes = None
    currencies: list = [policy.reporting_currency]
    if "currency" in subs.columns:
        codes_c, uniq_c = pd.factorize(subs["currency"], sort=True)
        currencies = [str(c) for c in uniq_c]
        if (codes_c < 0).any():  # missing currency = reporting currency
            if policy.reporting_currency not in currencies:
                currencies.append(policy.reporting_currency)
            codes_c = np.where(codes_c < 0, currencies.index(policy.reporting_currency), codes_c)
        if len(currencies) > 1:
            cur_codes = codes_c[keep]
            used = np.unique(cur_codes)
            if used.size <= 1:  # one currency among the rows that matter
                currencies = [currencies[int(used[0])]] if used.size else [policy.reporting_currency]
                cur_codes = None
        elif not currencies:
            currencies = [policy.reporting_currency]
    n_cur = len(currencies)
    n_ent = len(entities)

    big = np.iinfo(np.int64).max
    first = np.full(n_ent, big, dtype=np.int64)
    last = np.full(n_ent, -1, dtype=np.int64)
    np.minimum.at(first, ent, s)
    np.maximum.at(last, ent, e)
    present = last >= 0
    length = np.where(present, last - first + 1, 0)
    off = np.zeros(n_ent + 1, dtype=np.int64)
    np.cumsum(length, out=off[1:])
    n = int(off[-1])
    lo = hi if n == 0 else int(first[present].min())

    # difference array on dense keys (flat row × currency), then cumulative sum → local cents
    base = off[:-1][ent] - first[ent]
    ks, ke = base + s, base + e
    if cur_codes is not None:
        ks, ke = ks * n_cur + cur_codes, ke * n_cur + cur_codes
    # cents are whole numbers far below 2**53, so float64 sums of them are exact
    w = cents.astype(np.float64)
    local = np.bincount(np.concatenate([ks, ke]), weights=np.concatenate([w, -w]),
                        minlength=n * n_cur).astype(np.float64, copy=False).reshape(n, n_cur)
    del ks, ke, w
    np.cumsum(local, axis=0, out=local)

    idt = np.int32 if n < 2**31 - 1 and hi < 2**31 - 1 else np.int64
    month = np.arange(n, dtype=idt)
    month -= np.repeat((off[:-1] - first).astype(idt), length)
    is_start = np.zeros(n, dtype=bool)
    is_start[off[:-1][present]] = True
    total_local = local.sum(axis=1) if n_cur > 1 else local[:, 0]
    active = total_local > 0
    prev_active = np.zeros(n, dtype=bool)
    prev_active[1:] = active[:-1]
    prev_active &= ~is_start

    # grid rows: active now or the month before (prev comes from row i - 1), before hi
    need = active | prev_active
    need &= month < hi
    sel = np.flatnonzero(need)
    del need
    mon = month[sel]
    act, pact = active[sel], prev_active[sel]
    first_row = is_start[sel]
    has_prev = ~first_row
    ent_rows = np.repeat(np.arange(n_ent, dtype=idt), length)[sel]

    needs_fx = convert and (cur_codes is not None or currencies[0] != policy.reporting_currency)
    l_now = None
    bad_now = bad_before = None
    if not needs_fx:
        cur_now = total_local[sel]
        cur_prev = total_local[sel - 1]
        cur_prev[first_row] = 0
        fx = np.broadcast_to(np.float64(0.0), sel.shape)  # no FX: a zero-stride view
    else:
        rates = _rate_matrix(fx_rates, currencies, lo - 1, hi, policy)
        r_now = rates[mon - (lo - 1)]          # (rows, currencies)
        r_before = rates[mon - 1 - (lo - 1)]
        l_now = local[sel]
        l_prev = np.where(has_prev[:, None], local[sel - 1], 0)
        bad_now = _missing_rates(r_now, l_now)
        bad_before = _missing_rates(r_before, l_prev)
        with np.errstate(invalid="ignore"):
            cur_now = _convert(l_now, r_now)
            cur_prev = _convert(l_prev, r_before)
            prev_at_now = _convert(l_prev, r_now)
        fx = np.where(act & pact, prev_at_now - cur_prev, 0)
        if policy.fx_in_movements:
            fx = np.zeros_like(fx)
    move = cur_now - cur_prev
    move -= fx
    key = act.astype(np.uint8)
    key |= pact.view(np.uint8) << 1
    key |= first_row.view(np.uint8) << 2
    key |= (1 + (move > 0).view(np.uint8) - (move < 0).view(np.uint8)) << 3
    cat = _CATEGORY_TABLE[key]
    window = policy.reactivation_window_months
    if window is not None:
        react = np.flatnonzero(cat == _REACTIVATION)
        if react.size:
            last_act = np.maximum.accumulate(np.where(active, np.arange(n), -1))
            gap = sel[react] - last_act[sel[react] - 1] - 1  # inactive months before the return
            cat[react[gap > window]] = _NEW
    return MonthGrid(ent=ent_rows, month=mon, mrr=cur_now, prev=cur_prev, fx=fx, cat=cat,
                     active=act, prev_active=pact, entities=entities, lo=lo, hi=data_hi,
                     local=l_now, grain=tuple(grain), policy=policy, convert=convert,
                     currencies=tuple(currencies), fx_rates=fx_rates if l_now is not None else None,
                     end=hi, bad_now=bad_now, bad_before=bad_before)


def _convert(local: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Σ over currencies of round(local cents × rate) (half to even), whole cents as float64."""
    conv = np.rint(local * np.nan_to_num(rates, nan=0.0))
    return conv.sum(axis=1)


def _missing_rates(rates: np.ndarray, local: np.ndarray):
    """(row indices, their currency mask) where a needed rate is unknown, or ``None``."""
    missing = np.isnan(rates) & (local != 0)
    rows = np.flatnonzero(missing.any(axis=1))
    return (rows, missing[rows]) if rows.size else None


def _raise_missing_rates(rows: np.ndarray, mask: np.ndarray, months: np.ndarray, currencies,
                         policy: MetricPolicy, fx_rates) -> None:
    r, cols = np.nonzero(mask)
    rows = rows[r]
    curs = sorted({currencies[c] for c in cols})
    mons = sorted(set(pd.DatetimeIndex(month_start(months)).strftime("%Y-%m")))
    raise MRRInputError(missing_rate_message(curs, mons, policy, fx_rates))


def missing_rate_message(currencies: list[str], months: list[str], policy: MetricPolicy, fx_rates) -> str:
    """Why subscriptions in ``currencies`` cannot be converted (no ``fx_rates`` at all, or no rate
    in ``months`` / the fixed month): the one message of both engines."""
    if fx_rates is None:
        return (f"subscriptions: MRR in {currencies} cannot be converted to {policy.reporting_currency}: "
                f"no fx_rates table was given")
    detail = (f"fixed month {policy.fx_fixed_month or 'first month of fx_rates'}"
              if policy.fx_mode == "fixed" else f"month(s) {months[:6]}")
    return (f"fx_rates: no rate for currency {currencies} in {detail} "
            f"(needed to convert subscriptions to {policy.reporting_currency})")


def factorize_rows(frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Codes of the distinct rows of ``frame`` (sorted lexicographically) and those rows."""
    combo = np.zeros(len(frame), dtype=np.int64)
    uniques = []
    for col in frame.columns:
        values = frame[col].astype(object).where(frame[col].notna(), "(missing)")
        c, u = pd.factorize(values, sort=True)
        uniques.append(u)
        combo = combo * max(len(u), 1) + c
    codes, combos = pd.factorize(combo, sort=True)
    cols = {}
    rest = np.asarray(combos, dtype=np.int64)
    for col, u in zip(reversed(list(frame.columns)), reversed(uniques)):
        size = max(len(u), 1)
        cols[col] = np.asarray(u, dtype=object)[rest % size]
        rest = rest // size
    ent = pd.DataFrame({c: cols[c] for c in frame.columns})
    return codes, ent
