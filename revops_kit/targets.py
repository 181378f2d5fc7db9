"""Targets and the executive scorecard: attainment, pace, baseline, status, key messages.

A target row (table ``targets``: ``kpi, period, target``, optional ``segment, owner, baseline``)
is **SMART** when its KPI id is in the catalogue (specific), its target is a finite number
(measurable), it names an owner (assignable) and its period parses (time-bound);
:func:`check_targets` lists every violation and :func:`validate_targets` raises them at once.

Definitions used by :func:`scorecard`:

* **attainment** respects the KPI's good direction (catalogue ``good``): ``actual ÷ target`` when
  higher is better, ``target ÷ actual`` when lower is better. When the ratio is meaningless (target
  ≤ 0, or a lower-is-better actual ≤ 0 — e.g. a negative NPS target) it is
  ``1 + (actual − target) ÷ |target|`` (higher is better) or ``1 + (target − actual) ÷ |target|``
  (lower is better). Neutral KPIs have no attainment.
* **status** of a finished period: *on track* when attainment ≥ 1, *at risk* when it is within
  ``band`` (default 5 %) below, *off track* otherwise; *no data* without an actual, *no target*
  without a target, *not computed* when the dataset lacks what the KPI needs (a table or column:
  the reason is the row's ``note``), *unknown KPI* for an id the catalogue does not know, *check target* when
  actual and target differ more than tenfold (a target on another scale, e.g. 0.98 for a 0-100 score).
* **pace** inside a running period (``period.start < as_of < period.end``; the data are taken to end
  at ``as_of``): for cumulative KPIs (sums over the period, :data:`CUMULATIVE_KPIS`) the actual to
  date is compared with ``target × elapsed fraction`` (elapsed = days from the period start to
  ``as_of`` ÷ days in the period); other KPIs (levels such as MRR, ratios such as NRR) are compared
  with the full target.
* **baseline**: what "normal" was before this period — the target row's ``baseline`` when given,
  else the mean of the KPI over the four periods before the scorecard period (trailing four
  periods whose value is fully known). "vs baseline" is the change of the actual against it.
* **unknown**: a KPI whose inputs are partly unknown (a sum over deals some of which have no amount,
  ``n_missing_amount``) keeps its known part as ``actual`` with ``n_unknown`` and status *partly
  unknown*; no attainment, gap or change is computed from it, and a period with unknown amounts
  is left out of another period's change, the baseline and the trend. Nothing known is NaN ("—").
"""

from __future__ import annotations

import html
import math
import threading
import warnings
from contextlib import contextmanager
from typing import Iterable

import numpy as np
import pandas as pd

from .catalog import LONG_COLUMNS, compute_kpis, cumulative_kpis, get_kpi, list_kpis
from .errors import RevOpsError, RevOpsWarning, UnknownKPIError
from .formatting import UNKNOWN, format_change, format_points, format_value
from .periods import PeriodLike, as_period
from .policies import get_policy

__all__ = [
    "CUMULATIVE_KPIS",
    "TargetError",
    "check_targets",
    "validate_targets",
    "attainment",
    "target_status",
    "elapsed_fraction",
    "kpi_history",
    "scorecard",
    "sparkline_svg",
    "scorecard_html",
    "show_scorecard",
    "messages_html",
    "show_messages",
    "format_kpi_value",
    "display_actual",
    "unknown_items",
    "key_messages",
    "weakest_areas",
    "diagnosis",
    "account_risk",
    "shared_kpi_results",
    "kpi_result",
]

def __getattr__(name: str):
    # CUMULATIVE_KPIS: the KPIs whose value is a sum over the period (registered with
    # aggregation="sum"), so a period in progress is judged against the pro-rated target (pace).
    # Derived from the catalogue on access (every KPI module is registered by then).
    if name == "CUMULATIVE_KPIS":
        return cumulative_kpis()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

STATUSES = ("on track", "at risk", "off track", "partly unknown", "no data", "no target", "not computed",
            "unknown KPI", "check target")

#: Attainment outside [1/SCALE_CHECK, SCALE_CHECK] almost always means the target is on another scale
#: than the KPI (0.98 against a score of 99): such rows get the status "check target".
SCALE_CHECK = 10.0


class TargetError(RevOpsError, ValueError):
    """A targets table is not SMART (unknown KPI id, non-numeric target, no owner, bad period)."""


# ---------------------------------------------------------------------- SMART checks
def check_targets(targets: pd.DataFrame) -> pd.DataFrame:
    """Every SMART violation in ``targets``, one row each (empty when all rows are fine).

    Columns: ``row`` (1-based data row), ``kpi``, ``period``, ``check`` (specific / measurable /
    assignable / time-bound) and ``problem`` (for an unknown id, with close matches).
    """
    problems = []
    owner = targets["owner"] if "owner" in targets.columns else pd.Series(np.nan, index=targets.index)
    for i, (kpi, period, target, own) in enumerate(zip(targets["kpi"], targets["period"],
                                                        targets["target"], owner), start=1):
        def add(check, problem):
            problems.append({"row": i, "kpi": kpi, "period": period, "check": check, "problem": problem})

        try:
            get_kpi(kpi)
        except UnknownKPIError as exc:
            add("specific", str(exc))
        try:
            value = float(target)
            if not math.isfinite(value):
                raise ValueError
        except (TypeError, ValueError):
            add("measurable", f"target must be a finite number, got {target!r}")
        if own is None or (isinstance(own, float) and np.isnan(own)) or str(own).strip() == "":
            add("assignable", "no owner")
        try:
            as_period(str(period))
        except RevOpsError as exc:
            add("time-bound", str(exc))
    return pd.DataFrame(problems, columns=["row", "kpi", "period", "check", "problem"])


def validate_targets(targets: pd.DataFrame, *, require_owner: bool = True) -> None:
    """Raise :class:`TargetError` listing every SMART violation of ``targets``.

    >>> validate_targets(pd.DataFrame({"kpi": ["nrr_x"], "period": ["2025-Q1"],
    ...                                "target": [1.0], "owner": ["CFO"]}))  # doctest: +SKIP
    Traceback (most recent call last):
    TargetError: targets: 1 problem(s): row 1 (nrr_x, 2025-Q1) specific: unknown KPI id 'nrr_x'; ...
    """
    problems = check_targets(targets)
    if not require_owner:
        problems = problems[problems["check"] != "assignable"]
    if len(problems):
        lines = [f"row {r.row} ({r.kpi}, {r.period}) {r.check}: {r.problem}"
                 for r in problems.itertuples(index=False)]
        raise TargetError(f"targets: {len(problems)} problem(s): " + "; ".join(lines[:20]))


# ---------------------------------------------------------------------- attainment, status, pace
def attainment(actual, target, good: str):
    """Attainment of ``actual`` against ``target`` in the KPI's good direction (see module doc).

    >>> attainment(110.0, 100.0, "up"), attainment(0.04, 0.05, "down")
    (1.1, 1.25)
    >>> round(attainment(-10.0, -20.0, "up"), 3)   # NPS -10 against a target of -20
    1.5
    """
    a = np.asarray(actual, dtype="float64")
    t = np.asarray(target, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        if good == "up":
            ratio = np.where(t > 0, a / t, 1 + (a - t) / np.abs(t))
        elif good == "down":
            ratio = np.where((t > 0) & (a > 0), t / a, 1 + (t - a) / np.abs(t))
        else:
            ratio = np.full(np.broadcast(a, t).shape, np.nan)
    ratio = np.where(np.isfinite(ratio), ratio, np.nan)
    return float(ratio) if ratio.ndim == 0 else ratio


def target_status(attain, *, has_actual: bool = True, has_target: bool = True, band: float = 0.05) -> str:
    """``on track`` (≥ 1), ``at risk`` (≥ 1 − band), ``off track``, ``no data`` or ``no target``."""
    if not has_target:
        return "no target"
    if not has_actual or attain is None or pd.isna(attain):
        return "no data"
    if attain >= 1:
        return "on track"
    return "at risk" if attain >= 1 - band else "off track"


def elapsed_fraction(period: PeriodLike, as_of) -> float:
    """Share of ``period`` elapsed at ``as_of`` (exclusive): 0 before it, 1 from its end on."""
    p = as_period(period)
    if as_of is None:
        return 1.0
    t = pd.Timestamp(as_of)
    total = (p.end - p.start).days
    return float(min(max((t - p.start).days / total, 0.0), 1.0))


# ---------------------------------------------------------------------- shared KPI results
_SHARED = threading.local()


@contextmanager
def shared_kpi_results():
    """Inside the block (in this thread), :func:`kpi_result` computes each KPI once per dataset,
    period, grouping and policy: a report's scorecard (:func:`kpi_history` over the trend periods)
    and its KPI export (every KPI for the period and the previous one) share what they both need.
    A shared result raises its warnings again at every use, so each caller records what it would
    have recorded computing it."""
    outer = getattr(_SHARED, "store", None)
    _SHARED.store = {} if outer is None else outer
    try:
        yield
    finally:
        _SHARED.store = outer


def kpi_result(kpi: str, data, period: PeriodLike, *, by: str | list[str] | None = None,
               policy=None) -> tuple[pd.DataFrame | None, object]:
    """``(frame, None)``: KPI ``kpi`` for ``period`` in long format with the extra columns
    (``compute_kpis(..., extra_columns=True)``), or ``(None, skipped)`` when it cannot be computed
    (the :class:`~revops_kit.catalog.SkippedKPI` naming why: a missing table or column, any data
    error). Shared inside :func:`shared_kpi_results`."""
    p, pol = as_period(period), get_policy(policy)
    by_key = tuple([by] if isinstance(by, str) else (by or ()))

    def compute():
        skipped: list = []
        frame = compute_kpis(data, p, [kpi], by=by, policy=pol, skipped=skipped, skip_errors=True,
                             extra_columns=True)
        return (None, skipped[0]) if skipped else (frame, None)

    store = getattr(_SHARED, "store", None)
    if store is None:
        return compute()
    key = (id(data), kpi, p, by_key, pol)
    if key not in store:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = compute()
        store[key] = (result, [(w.message, w.category, w.filename, w.lineno) for w in caught], data)
    (frame, skipped), caught, _ = store[key]
    for message, category, filename, lineno in caught:
        warnings.warn_explicit(message, category, filename, lineno)
    return (None if frame is None else frame.copy()), skipped


# ---------------------------------------------------------------------- history
def _group_label(segment) -> str:
    return "all" if segment is None or pd.isna(segment) or str(segment) == "" else f"segment={segment}"


def kpi_history(data, periods: Iterable[PeriodLike], kpis: Iterable[str], *, policy=None,
                segments: bool | Iterable[str] = False) -> pd.DataFrame:
    """Each KPI's value over ``periods``, never raising: failures become a ``note``.

    Returns ``period, kpi, group, value, n_unknown, note, computed`` (groups ``all`` and, with
    ``segments=True`` or for the KPI ids listed in ``segments``, ``segment=...``). A period outside
    the data gives NaN with the note "outside the data"; a missing table or a zero denominator gives
    NaN with the reason. Warnings are recorded in ``note`` instead of being emitted. ``computed`` is
    False where the KPI could not be computed at all (outside the data, an unknown id, a missing
    table or column, a data error): NaN there is "not computed", not "no data".

    ``n_unknown`` counts the rows whose amount is unknown (the KPI's ``n_missing_amount``; 0 when it
    has none): ``value`` is then only the known part of a sum. A sum of 0 with unknown amounts is
    nothing known at all, so its value is NaN.
    """
    pol = get_policy(policy)
    kpis = list(kpis)
    seg_ids = set(kpis) if segments is True else set(segments or ())
    rows = []
    for q in periods:
        q = as_period(q)
        try:
            data.check_period(q)
            inside = True
        except RevOpsError:
            inside = False
        for k in kpis:
            for by in ([None, "segment"] if k in seg_ids else [None]):
                if not inside:
                    rows.append({"period": str(q), "kpi": k, "group": "all", "value": np.nan,
                                 "n_unknown": 0.0, "note": "outside the data", "computed": False})
                    break
                try:
                    get_kpi(k)
                except UnknownKPIError as exc:
                    rows.append({"period": str(q), "kpi": k, "group": "all", "value": np.nan,
                                 "n_unknown": 0.0, "note": str(exc), "computed": False})
                    break
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", RevOpsWarning)
                    frame, skipped = kpi_result(k, data, q, by=by, policy=pol)
                    if frame is not None:
                        note = "; ".join(dict.fromkeys(_plain_note(w.message) for w in caught
                                                       if issubclass(w.category, RevOpsWarning)))
                    else:
                        note = skipped.reason
                if frame is None:
                    if by is None:
                        rows.append({"period": str(q), "kpi": k, "group": "all", "value": np.nan,
                                     "n_unknown": 0.0, "note": note, "computed": False})
                    continue
                missing = _missing_amounts(frame)
                for r, n_unknown in zip(frame.itertuples(index=False), missing):
                    value = float(r.value)
                    if n_unknown > 0 and value == 0:
                        value = np.nan
                    rows.append({"period": str(q), "kpi": k, "group": r.group, "value": value,
                                 "n_unknown": n_unknown, "note": note, "computed": True})
    out = pd.DataFrame(rows, columns=["period", "kpi", "group", "value", "n_unknown", "note", "computed"])
    out["computed"] = out["computed"].astype(bool)
    out["n_unknown"] = out["n_unknown"].astype("float64").fillna(0.0)
    return out


def _plain_note(message) -> str:
    """A warning as a scorecard note: "…: denominator is zero; the value is NaN" reads "…: the
    denominator is zero, so the value is unknown (—)" (the page's words, not NumPy's)."""
    text = str(message).strip()
    return text.replace("denominator is zero; the value is NaN",
                        "the denominator is zero, so the value is unknown (—)").replace(
        "; the value is NaN", ", so the value is unknown (—)")


def _missing_amounts(frame: pd.DataFrame) -> list[float]:
    """Per row of a long KPI frame: how many of its rows have an unknown amount (0 if none)."""
    if "n_missing_amount" in frame.columns:
        vals = frame["n_missing_amount"].astype("float64").tolist()
    else:
        vals = frame.attrs.get("n_missing_amount") or [0.0] * len(frame)
    return [0.0 if pd.isna(v) else float(v) for v in vals]


# ---------------------------------------------------------------------- scorecard
def scorecard(data, period: PeriodLike, *, as_of=None, policy=None, targets: pd.DataFrame | None = None,
              include_headline: bool = True, n_history: int = 8, band: float = 0.05,
              cumulative: Iterable[str] | None = None) -> pd.DataFrame:
    """The executive scorecard of ``period``: every KPI with a target, plus the headline KPIs.

    For each (KPI, segment) it gives ``actual``, ``target``, ``attainment`` (good-direction aware),
    ``gap`` (actual − target), ``previous`` and ``vs_previous``, ``year_ago`` and ``vs_year_ago``
    (relative change, or the difference in points for ratios and scores), ``baseline`` (+ ``baseline_source``),
    ``status``, ``trend`` (the last ``n_history`` period values, oldest first, for the sparkline),
    ``owner`` and ``note``. See the module docstring for every definition.

    ``targets`` defaults to ``data.targets``. Target rows on KPI ids the catalogue does not know
    are kept with status ``unknown KPI`` and the suggestion in ``note``; nothing here raises for
    one bad KPI.
    """
    p = as_period(period)
    pol = get_policy(policy)
    tg = data.targets if targets is None else targets
    cumulative = set(cumulative_kpis() if cumulative is None else cumulative)
    rows = []
    if tg is not None and len(tg):
        cur = tg[tg["period"].astype(str) == str(p)]
        for r in cur.to_dict(orient="records"):
            seg = r.get("segment")
            rows.append({"kpi": str(r["kpi"]), "segment": None if pd.isna(seg) else seg,
                         "group": _group_label(seg), "target": pd.to_numeric(r["target"], errors="coerce"),
                         "owner": r.get("owner"), "baseline": pd.to_numeric(r.get("baseline"), errors="coerce")})
    have = {(r["kpi"], r["group"]) for r in rows}
    if include_headline:
        for k in list_kpis():
            if k.headline and (k.id, "all") not in have:
                rows.append({"kpi": k.id, "segment": None, "group": "all", "target": np.nan,
                             "owner": None, "baseline": np.nan})
    cols = ["kpi", "label", "unit", "good", "group", "owner", "actual", "target", "attainment", "gap",
            "n_unknown", "previous", "vs_previous", "year_ago", "vs_year_ago", "baseline", "baseline_source",
            "status", "elapsed", "trend", "note"]
    if not rows:
        empty = pd.DataFrame(columns=cols)
        empty.attrs.update(period=str(p), period_kind=_KIND_WORD.get(p.kind, "period"),
                           currency=pol.reporting_currency)
        return empty
    sc = pd.DataFrame(rows)
    known = [k for k in dict.fromkeys(sc["kpi"]) if _known(k)]
    hist_periods = p.trailing(max(int(n_history), 5))
    extra = [p.year_ago()] if p.year_ago() not in hist_periods else []
    seg_ids = set(sc.loc[sc["group"] != "all", "kpi"])
    hist = kpi_history(data, hist_periods + extra, known, policy=pol, segments=seg_ids)
    look = {(r.period, r.kpi, r.group): (r.value, r.note) for r in hist.itertuples(index=False)}
    unknown = {(r.period, r.kpi, r.group): r.n_unknown for r in hist.itertuples(index=False)}
    not_computed = {(r.period, r.kpi, r.group) for r in hist.itertuples(index=False) if not r.computed}

    def known(q, k, g):
        """The value of period ``q`` when it is fully known (no unknown amounts), else NaN."""
        key = (str(q), k, g)
        return np.nan if unknown.get(key, 0) > 0 else look.get(key, (np.nan, ""))[0]

    frac = elapsed_fraction(p, as_of)
    cur = pol.reporting_currency
    out = []
    for r in sc.to_dict(orient="records"):
        k, g = r["kpi"], r["group"]
        if not _known(k):
            try:
                get_kpi(k)
            except UnknownKPIError as exc:
                note = str(exc)
            out.append({**r, "label": k, "unit": "", "good": "", "actual": np.nan, "attainment": np.nan,
                        "gap": np.nan, "previous": np.nan, "vs_previous": np.nan, "year_ago": np.nan,
                        "vs_year_ago": np.nan, "n_unknown": 0.0, "baseline_source": "", "status": "unknown KPI",
                        "elapsed": frac, "trend": [], "note": note})
            continue
        kpi = get_kpi(k)
        actual, note = look.get((str(p), k, g), (np.nan, "not computed for this group"))
        n_unknown = float(unknown.get((str(p), k, g), 0.0))
        partial = n_unknown > 0 and pd.notna(actual)
        previous = look.get((str(p.previous()), k, g), (np.nan, ""))[0]
        year_ago = look.get((str(p.year_ago()), k, g), (np.nan, ""))[0]
        # a change, a baseline or a trend point is only computed from fully known values
        prev_known, year_known = known(p.previous(), k, g), known(p.year_ago(), k, g)
        trend = [known(q, k, g) for q in hist_periods[-int(n_history):]]
        base_vals = [known(q, k, g) for q in p.trailing(5)[:-1]]
        if pd.notna(r["baseline"]):
            baseline, source = float(r["baseline"]), "target table"
        else:
            vals = [v for v in base_vals if pd.notna(v)]
            baseline = float(np.mean(vals)) if vals else np.nan
            source = f"mean of {len(vals)} prior period(s)" if vals else ""
        target = r["target"]
        has_target = pd.notna(target)
        judged = target * frac if (has_target and k in cumulative and frac < 1) else target
        att = (attainment(actual, judged, kpi.good) if has_target and pd.notna(actual) and not partial
               else np.nan)
        status = target_status(att, has_actual=pd.notna(actual), has_target=has_target, band=band)
        if has_target and kpi.good == "neutral" and pd.notna(actual):
            status = "no target"
        if partial:
            status = "partly unknown"
        if (str(p), k, g) in not_computed:
            status = "not computed"  # the dataset lacks what it needs: the reason is the note
        if n_unknown > 0:
            what = unknown_items(kpi, n_unknown)
            note = "; ".join(x for x in (note, (
                f"{what} no amount: {format_kpi_value(actual, kpi.unit, cur)} is the known part; no change "
                f"or attainment is computed from it" if partial else
                f"{what} no amount: the value is unknown")) if x)
        unknown_before = [q for q in (p.previous(), p.year_ago())
                          if unknown.get((str(q), k, g), 0) > 0]
        if unknown_before and not partial and pd.notna(actual):
            note = "; ".join(x for x in (note, "amounts partly unknown in " +
                                         ", ".join(str(q) for q in unknown_before) +
                                         ": no change computed against it") if x)
        if pd.notna(att) and not (1 / SCALE_CHECK <= att <= SCALE_CHECK):
            status = "check target"
            note = "; ".join(x for x in (note, f"actual {format_kpi_value(actual, kpi.unit, cur)} and target "
                                               f"{format_kpi_value(target, kpi.unit, cur)} differ more than "
                                               f"{SCALE_CHECK:g}-fold: is the target on the KPI's scale "
                                               f"({kpi.unit})?") if x)
        if frac < 1 and has_target and k in cumulative:
            note = "; ".join(x for x in (note, f"pace: {frac:.0%} of the period elapsed, judged "
                                               f"against {frac:.0%} of the target") if x)
        out.append({**r, "label": kpi.label, "unit": kpi.unit, "good": kpi.good, "actual": actual,
                    "attainment": att, "gap": actual - target if has_target and not partial else np.nan,
                    "n_unknown": n_unknown, "previous": previous,
                    "vs_previous": np.nan if partial else _change(actual, prev_known, kpi.unit),
                    "year_ago": year_ago,
                    "vs_year_ago": np.nan if partial else _change(actual, year_known, kpi.unit),
                    "baseline": baseline, "baseline_source": source, "status": status,
                    "elapsed": frac, "trend": trend, "note": note or ""})
    res = pd.DataFrame(out)
    res["_order"] = res["target"].isna().astype(int)
    res = res.sort_values(["_order", "kpi", "group"], kind="stable").drop(columns="_order")
    res = res[cols].reset_index(drop=True)
    res.attrs.update(period=str(p), period_kind=_KIND_WORD.get(p.kind, "period"), currency=cur,
                     trend_periods=[str(q) for q in hist_periods[-int(n_history):]])
    return res


_KIND_WORD = {"month": "month", "quarter": "quarter", "year": "year", "fiscal_quarter": "quarter",
              "fiscal_year": "year"}


def unknown_items(kpi, n: float) -> str:
    """``"817 open deals have"`` / ``"1 row has"``: what lacks an amount, for notes."""
    n = int(n)
    noun = ("open deal" if kpi.id.startswith("pipeline") else "deal") if "opportunities" in kpi.tables \
        else "row"
    return f"{n:,} {noun}{'s' if n != 1 else ''} {'have' if n != 1 else 'has'}"


def display_actual(row, currency: str | None = "USD") -> str:
    """A scorecard row's actual as text: ``"USD 3.10M known"`` when amounts are partly unknown."""
    text = format_kpi_value(row["actual"], row.get("unit") or "", currency)
    n = row.get("n_unknown")
    if n is not None and pd.notna(n) and n > 0 and pd.notna(row["actual"]):
        text += " known"
    return text


def _currency_of(frame: pd.DataFrame) -> str:
    """The reporting currency a scorecard was computed in (``attrs``), USD for older frames."""
    return str(frame.attrs.get("currency") or "USD")


def _catalogued() -> set:
    return {k.id for k in list_kpis()}


def _known(kpi_id: str) -> bool:
    try:
        get_kpi(kpi_id)
        return True
    except UnknownKPIError:
        return False


#: Units whose changes are differences, not relative changes: rates (in fraction points) and scores
#: on a bounded scale (NPS −100..100, the CRM quality score 0..100: a relative change of an NPS
#: near 0 means nothing, and it flips sign with it).
POINT_UNITS = ("ratio", "score")


def _change(actual, reference, unit: str) -> float:
    """Difference for ratios (in fraction points) and scores (in score points), relative change
    otherwise."""
    if pd.isna(actual) or pd.isna(reference):
        return np.nan
    if unit in POINT_UNITS:
        return float(actual - reference)
    if reference == 0:
        return np.nan
    return float(actual / abs(reference) - np.sign(reference))


# ---------------------------------------------------------------------- views
def format_kpi_value(value, unit: str, currency: str = "USD") -> str:
    """A KPI value as text by unit: ratio → ``87.3%``, currency → ``USD 1.23M``, days → ``38.4 days``;
    unknown → ``—`` (:func:`revops_kit.formatting.format_value`, the one formatter)."""
    return format_value(value, unit, currency)


def _format_change(change, unit: str) -> str:
    """A change in percentage points for ratios, in points for scores, relative otherwise;
    unknown → ``—``."""
    if unit == "score":
        return format_points(change / 100 if pd.notna(change) else change)
    return format_points(change) if unit == "ratio" else format_change(change)


def sparkline_svg(values, *, width: int = 110, height: int = 26, color: str = "#1f5aa6") -> str:
    """An inline SVG line of ``values`` (NaN gaps skipped) with the last point marked.

    Pure markup generated from numbers (no text from the data), safe to embed as HTML.
    """
    vals = [float(v) if v is not None and not pd.isna(v) else None for v in values]
    pts = [(i, v) for i, v in enumerate(vals) if v is not None]
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="trend">')
    if not pts:
        return head + "</svg>"
    lo = min(v for _, v in pts)
    hi = max(v for _, v in pts)
    span = hi - lo or 1.0
    n = max(len(vals) - 1, 1)

    def xy(i, v):
        return 2 + (width - 4) * i / n, height - 3 - (height - 6) * (v - lo) / span

    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in pts))
    lx, ly = xy(*pts[-1])
    return (head + f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{coords}"/>'
            f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.2" fill="{color}"/></svg>')


_STATUS_CLASS = {"on track": "good", "at risk": "warn", "off track": "bad"}


def scorecard_html(frame: pd.DataFrame, *, currency: str | None = None) -> str:
    """The scorecard as an HTML table; every text cell is escaped, sparklines are inline SVG.
    Money in ``currency`` (default: the currency the scorecard was computed in)."""
    currency = currency or _currency_of(frame)
    head = ("<table class=\"rk-scorecard\"><tr><th>KPI</th><th>Segment</th><th>Actual</th>"
            "<th>Target</th><th>Attainment</th><th>vs previous</th><th>vs a year ago</th>"
            "<th>Baseline</th><th>Status</th><th>Trend</th><th>Owner</th></tr>")
    out = [head]
    esc = html.escape
    for r in frame.to_dict(orient="records"):
        unit = r.get("unit") or ""
        seg = "" if r["group"] == "all" else str(r["group"]).split("=", 1)[-1]
        att = UNKNOWN if pd.isna(r["attainment"]) else f"{r['attainment'] * 100:.0f}%"
        status = str(r["status"])
        cls = _STATUS_CLASS.get(status, "muted")
        title = f' title="{esc(str(r["note"]))}"' if r.get("note") else ""
        owner = "" if r.get("owner") is None or pd.isna(r.get("owner")) else str(r["owner"])
        out.append(
            f"<tr><td>{esc(str(r['label']))} <span class=\"muted\">{esc(str(r['kpi']))}</span></td>"
            f"<td>{esc(seg)}</td><td>{esc(display_actual(r, currency))}</td>"
            f"<td>{esc(format_kpi_value(r['target'], unit, currency))}</td><td>{esc(att)}</td>"
            f"<td>{esc(_format_change(r['vs_previous'], unit))}</td>"
            f"<td>{esc(_format_change(r['vs_year_ago'], unit))}</td>"
            f"<td>{esc(format_kpi_value(r['baseline'], unit, currency))}</td>"
            f"<td class=\"{cls}\"{title}>{esc(status)}</td>"
            f"<td>{sparkline_svg(r['trend'] if isinstance(r['trend'], list) else [])}</td>"
            f"<td>{esc(owner)}</td></tr>")
    out.append("</table>")
    notes = [f"{r['kpi']}: {r['note']}" for r in frame.to_dict(orient="records")
             if r["status"] in ("unknown KPI", "no data", "check target", "partly unknown")
             and r.get("note")]
    if notes:
        out.append("<ul class=\"muted\">" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    return "".join(out)


def show_scorecard(frame: pd.DataFrame, *, caption: str | None = None, currency: str | None = None):
    """Display :func:`scorecard_html` in a notebook (text escaped, sparklines as SVG)."""
    from IPython.display import HTML

    style = ("<style>.rk-scorecard td,.rk-scorecard th{padding:3px 8px;text-align:right}"
             ".rk-scorecard td{white-space:nowrap}.rk-scorecard td:first-child{white-space:normal}"
             ".rk-scorecard td:first-child{text-align:left}.rk-scorecard .good{color:#2e7d32}"
             ".rk-scorecard .warn{color:#b26a00}.rk-scorecard .bad{color:#c62828}"
             ".rk-scorecard .muted{color:#6b7785;font-size:11px}</style>")
    cap = f"<p><b>{html.escape(caption)}</b></p>" if caption else ""
    return HTML(style + cap + scorecard_html(frame, currency=currency))


def messages_html(messages: pd.DataFrame) -> str:
    """:func:`key_messages` as an ordered list (each message escaped)."""
    items = "".join(f"<li>{html.escape(str(m))}</li>" for m in messages["message"])
    return f"<ol>{items}</ol>" if items else "<p class=\"muted\">Nothing stands out this period.</p>"


def show_messages(messages: pd.DataFrame, *, caption: str | None = None):
    """Display :func:`key_messages` in a notebook as a numbered list."""
    from IPython.display import HTML

    cap = f"<p><b>{html.escape(caption)}</b></p>" if caption else ""
    return HTML(cap + messages_html(messages))


# ---------------------------------------------------------------------- words
_ALIASES = {"arr": "mrr"}  # the same number in other units: tell it once
def _direction_word(change: float, unit: str) -> str:
    return "rose" if change > 0 else "fell"


def key_messages(frame: pd.DataFrame, *, n: int = 5, currency: str | None = None,
                 period_word: str | None = None) -> pd.DataFrame:
    """The ``n`` largest movements and risks of a :func:`scorecard`, in plain words.

    Candidates, each with a size used for ranking:

    * a **risk** for every KPI off track (size = shortfall 1 − attainment, + 1 so risks rank first)
      or at risk (size = shortfall);
    * a **movement** for every KPI with a previous value: size = |relative change| (for ratios and
      scores the change in points ÷ 10 points, so a 1-point move in NRR or NPS weighs like a 10 %
      move in MRR).

    A KPI appears at most once (its larger item; ARR counts as MRR). Risks and movements alternate,
    each in order of size, so both kinds are told. No change is stated that was computed from
    unknown values: a KPI whose amounts are partly unknown (status *partly unknown*) gives an
    **unknown** item instead ("Open pipeline: USD 3.10M known; 817 open deals have no amount …"),
    told only when slots are left. Returns ``rank, kind, kpi, group, size, message``.
    """
    period_word = period_word or frame.attrs.get("period_kind", "period")
    currency = currency or _currency_of(frame)
    items = []
    for r in frame.to_dict(orient="records"):
        unit, label = r.get("unit") or "", str(r["label"])
        seg = "" if r["group"] == "all" else f" ({str(r['group']).split('=', 1)[-1]})"
        fmt = lambda v: format_kpi_value(v, unit, currency)  # noqa: E731
        better = {"up": "higher", "down": "lower"}.get(r.get("good"), "")
        if r["status"] in ("off track", "at risk") and pd.notna(r["attainment"]):
            short = 1 - r["attainment"]
            pace = " so far" if r.get("elapsed", 1) < 1 and r["kpi"] in cumulative_kpis() else ""
            items.append({
                "kind": "risk", "kpi": r["kpi"], "group": r["group"],
                "size": short + (1 if r["status"] == "off track" else 0),
                "message": f"{label}{seg} is {r['status']}{pace}: {fmt(r['actual'])} against a target of "
                           f"{fmt(r['target'])} ({r['attainment'] * 100:.0f}% attainment; "
                           f"{better} is better).",
            })
        n_unknown = r.get("n_unknown")
        if n_unknown is not None and pd.notna(n_unknown) and n_unknown > 0:
            if pd.notna(r["actual"]) and r.get("kpi") in _catalogued():
                what = unknown_items(get_kpi(r["kpi"]), n_unknown)
                items.append({
                    "kind": "unknown", "kpi": r["kpi"], "group": r["group"], "size": 0.0,
                    "message": f"{label}{seg}: {fmt(r['actual'])} known; {what} no amount, so no "
                               f"change or attainment is stated.",
                })
            continue
        if pd.notna(r["vs_previous"]) and r["vs_previous"] != 0 and pd.notna(r["previous"]):
            ch = r["vs_previous"]
            size = abs(ch) / 0.10 if unit == "ratio" else abs(ch) / 10 if unit == "score" else abs(ch)
            good_move = (ch > 0) == (r.get("good") == "up") if r.get("good") in ("up", "down") else None
            verdict = "" if good_move is None else (" — an improvement" if good_move else " — a deterioration")
            yoy = ""
            if pd.notna(r["vs_year_ago"]):
                yoy = f"; {_format_change(r['vs_year_ago'], unit)} on a year ago"
            items.append({
                "kind": "movement", "kpi": r["kpi"], "group": r["group"], "size": size,
                "message": f"{label}{seg} {_direction_word(ch, unit)} {_format_change(ch, unit).lstrip('+-')} "
                           f"to {fmt(r['actual'])} from {fmt(r['previous'])} the previous {period_word}"
                           f"{yoy}{verdict}.",
            })
    if not items:
        return pd.DataFrame(columns=["rank", "kind", "kpi", "group", "size", "message"])
    df = pd.DataFrame(items).sort_values("size", ascending=False, kind="stable")
    df["_same"] = df["kpi"].map(lambda k: _ALIASES.get(k, k))
    df = df.drop_duplicates(["_same", "group"], keep="first").drop(columns="_same")
    risks = df[df["kind"] == "risk"].to_dict(orient="records")
    moves = df[df["kind"] == "movement"].to_dict(orient="records")
    unknowns = df[df["kind"] == "unknown"].to_dict(orient="records")
    picked = []
    while len(picked) < int(n) and (risks or moves):  # alternate: risk, movement, risk, ...
        for pool in (risks, moves):
            if pool and len(picked) < int(n):
                picked.append(pool.pop(0))
    picked += unknowns[: max(int(n) - len(picked), 0)]
    out = pd.DataFrame(picked, columns=["kind", "kpi", "group", "size", "message"])
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


def weakest_areas(frame: pd.DataFrame, *, n: int = 3, distinct_families: bool = True,
                  currency: str | None = None) -> pd.DataFrame:
    """The ``n`` weakest KPIs of a scorecard — only KPIs that are worse than they should be: KPIs
    below their target (attainment < 100 %, lowest first), then KPIs without a target that got
    worse against their baseline (good-direction aware, largest deterioration first). A KPI on or
    above target, better than its baseline, partly unknown, or whose target is on another scale
    (*check target*) is never named. With ``distinct_families`` (default) each area (KPI family:
    revenue, retention, ...) is named once, by its weakest KPI.

    Returns ``kpi, group, label, family, status, basis, score, reason`` where ``basis`` is
    ``target`` or ``baseline`` and ``score`` the attainment against it (< 1) — lower is weaker.
    """
    cur = currency or _currency_of(frame)
    rows = []
    for r in frame.to_dict(orient="records"):
        if r["status"] in ("unknown KPI", "partly unknown", "check target") or pd.isna(r["actual"]):
            continue
        n_unknown = r.get("n_unknown")
        if n_unknown is not None and pd.notna(n_unknown) and n_unknown > 0:
            continue
        kpi = get_kpi(r["kpi"])
        if pd.notna(r["attainment"]):
            basis = "target"
            score = float(r["attainment"])
            if score >= 1:
                continue
            reason = (f"{format_kpi_value(r['actual'], kpi.unit, cur)} vs target "
                      f"{format_kpi_value(r['target'], kpi.unit, cur)} ({score * 100:.0f}%)")
        elif pd.notna(r["baseline"]) and kpi.good in ("up", "down") and r["baseline"] != 0:
            basis = "baseline"
            score = float(attainment(r["actual"], r["baseline"], kpi.good))
            if not score < 1:  # as good as or better than the baseline (or not comparable)
                continue
            change = _format_change(_change(r["actual"], r["baseline"], kpi.unit), kpi.unit)
            reason = (f"{format_kpi_value(r['actual'], kpi.unit, cur)} vs baseline "
                      f"{format_kpi_value(r['baseline'], kpi.unit, cur)} ({change}; "
                      f"{'higher' if kpi.good == 'up' else 'lower'} is better)")
        else:
            continue
        rows.append({"kpi": r["kpi"], "group": r["group"], "label": kpi.label, "family": kpi.family,
                     "status": r["status"], "basis": basis, "score": score, "reason": reason})
    out = pd.DataFrame(rows, columns=["kpi", "group", "label", "family", "status", "basis", "score",
                                      "reason"])
    out["_order"] = (out["basis"] == "baseline").astype(int)
    out = out.sort_values(["_order", "score"], kind="stable").drop(columns="_order")
    if distinct_families:
        out = out.drop_duplicates("family", keep="first")
    return out.head(int(n)).reset_index(drop=True)


# ---------------------------------------------------------------------- the ten-minute diagnostic
def diagnosis(data, period: PeriodLike, *, as_of=None, policy=None, currency: str | None = None,
              n_weakest: int = 3, width: int = 100) -> str:
    """A one-screen health check of ``period``: the scorecard KPIs against baseline and target, the
    ``n_weakest`` weakest areas named, and the targets that could not be judged.

    Text only (what ``revops diagnose`` prints), in ``currency`` (default: the policy's reporting
    currency) converted through cross rates. The **baseline** is what "normal" was before
    the period: the target table's ``baseline`` when given, else the mean of the KPI over the four
    prior periods (fully known ones only). "vs base" and "vs prev" are the changes against the
    baseline and the previous period (relative, or in points for rates and scores); attainment and status are
    as in :func:`scorecard`. No change is printed that was computed from unknown values; the
    weakest areas are only KPIs below target or worse than baseline (:func:`weakest_areas`).
    """
    from .catalog import money_kpis
    from .fx import with_reporting_currency

    p = as_period(period)
    # the numbers in ``currency``, not only the labels (fx_rates rebased through cross rates,
    # money targets converted from the fx base currency they are set in)
    data, policy = with_reporting_currency(data, currency, policy, money_kpis=money_kpis())
    currency = policy.reporting_currency
    sc = scorecard(data, p, as_of=as_of, policy=policy, n_history=5)
    judged = sc[sc["status"] != "unknown KPI"]
    head = (f"{'KPI':<38}{'actual':>13}{'target':>13}{'attain':>8}{'vs base':>11}"
            f"{'vs prev':>11}  status")
    lines = [f"RevOps diagnosis {p} ({p.start.date()} – {p.end.date()} exclusive)"
             + (f", as of {pd.Timestamp(as_of).date()}" if as_of is not None and elapsed_fraction(p, as_of) < 1
                else ""), "", head, "-" * min(width, len(head) + 12)]
    for r in judged.to_dict(orient="records"):
        unit = r["unit"]
        label = str(r["label"]) + ("" if r["group"] == "all" else f" ({str(r['group']).split('=', 1)[-1]})")
        att = UNKNOWN if pd.isna(r["attainment"]) else f"{r['attainment'] * 100:.0f}%"
        partial = r["status"] == "partly unknown"
        vs_base = _format_change(np.nan if partial else _change(r["actual"], r["baseline"], unit), unit)
        actual = format_kpi_value(r["actual"], unit, currency) + ("*" if partial else "")
        lines.append(f"{label[:37]:<38}{actual:>13}"
                     f"{format_kpi_value(r['target'], unit, currency):>13}{att:>8}{vs_base:>11}"
                     f"{_format_change(r['vs_previous'], unit):>11}  {r['status']}")
    counts = judged.loc[judged["target"].notna(), "status"].value_counts()
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if s in counts)
    lines += ["", f"Targets: {summary or 'none for this period'}."]
    for r in sc[sc["status"] == "partly unknown"].to_dict(orient="records"):
        seg = "" if r["group"] == "all" else f" ({str(r['group']).split('=', 1)[-1]})"
        what = unknown_items(get_kpi(r["kpi"]), r["n_unknown"])
        lines.append(f"* {r['label']}{seg}: {format_kpi_value(r['actual'], r['unit'], currency)} known; "
                     f"{what} no amount (no change or attainment computed).")
    weak = weakest_areas(sc, n=n_weakest, currency=currency)
    if len(weak):
        lines.append(f"Weakest {len(weak)} area(s) (below target or worse than baseline):")
        for i, w in enumerate(weak.itertuples(index=False), start=1):
            seg = "" if w.group == "all" else f" ({str(w.group).split('=', 1)[-1]})"
            lines.append(f"  {i}. {w.label}{seg} [{w.family}] — {w.reason}")
    else:
        lines.append("Weakest areas: none — no KPI is below its target or worse than its baseline.")
    lines.append("Baseline: the target table's baseline, else the mean of the four prior periods.")
    unknown = sc[sc["status"] == "unknown KPI"]
    if len(unknown):
        lines.append("Targets on unknown KPI ids (not judged): "
                     + "; ".join(f"{k}" for k in unknown["kpi"]))
    no_data = sc[(sc["status"] == "no data") & sc["target"].notna()]
    if len(no_data):
        lines.append("No data this period: " + ", ".join(no_data["kpi"]))
    return "\n".join(lines)


# ---------------------------------------------------------------------- accounts at risk (view)
def account_risk(data, period: PeriodLike, *, as_of=None, use_model: bool = True, kind: str = "logistic",
                 min_score: float = 40, min_probability: float = 0.3, policy=None) -> pd.DataFrame:
    """Per-account health at the end of ``period`` (or at ``as_of``), from the churn model where it
    can be fitted, else from the documented rules (:func:`revops_kit.success.account_health`).

    The model is ``rk.churn.risk_table`` (probability of churning within three months); an account
    is at risk when that probability ≥ ``min_probability``. If the model cannot be fitted on this
    dataset (too little history, missing tables) the rule-based score is used and ``attrs["note"]``
    says why. ``attrs["source"]`` is ``"model"`` or ``"rules"``.
    """
    from . import churn
    from .success import account_health

    p = as_period(period)
    t = pd.Timestamp(as_of) if as_of is not None else p.end
    pol = get_policy(policy)
    data.require("subscriptions", what="account_risk")
    scores, note = None, ""
    if use_model:
        try:
            scores = churn.risk_table(data, t, kind=kind, policy=pol)[["customer_id", "probability"]]
        except (RevOpsError, ValueError) as exc:
            note = f"churn model not available ({exc}); rule-based health score used"
    out = account_health(data.subscriptions, t, product_usage=data.product_usage,
                         support_tickets=data.support_tickets, nps_responses=data.nps_responses,
                         invoices=data.invoices, customers=data.customers, fx_rates=data.fx_rates,
                         scores=scores, min_score=min_score, min_probability=min_probability, policy=pol)
    out.attrs.update(source="model" if scores is not None else "rules", note=note)
    return out
