"""Targets of the synthetic company, set from the KPIs the package itself computes on the sample.

The actual value of every KPI in every quarter of the window comes from
:func:`revops_kit.catalog.compute_kpis` on the generated tables (parsed exactly as ``load`` reads
the written CSVs), so a target is always relative to the number the report shows, never to a
second formula. Targets then follow a planner's rule of thumb, using only actuals known before
the target quarter:

* level KPIs (``mrr``, ``arr``, ``bookings``, ``customers_new``) are planned from the latest actuals
  with a 4% stretch: stock KPIs compound the latest quarterly growth, seasonal ones grow the same
  quarter a year earlier by the latest year-on-year rate;
* rate KPIs take the mean of the four previous quarters, nudged the good way (``nrr``/``grr``
  +0.005, ``win_rate`` +0.02, ``logo_churn_rate`` and ``cac_payback_months`` x0.9, ``nps`` +4,
  ``gross_margin`` +0.01, ``dso`` -3 days, ``forecast_accuracy`` +0.02 capped at 0.92); plus
  ``nrr`` for Enterprise (+0.01) and ``logo_churn_rate`` for SMB (x0.9);
* two targets are policies, not derived from actuals: ``pipeline_coverage`` 3.0x and a
  ``crm_quality_score`` that ramps from 88 to 98.

The rule uses no random draws, so the other tables do not depend on it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..catalog import compute_kpis
from ..errors import RevOpsWarning
from ..io import RevOpsData, from_frames
from .output import normalise, sort_table, to_text
from .state import SampleState

__all__ = ["KPI_TARGETS", "OWNERS", "quarterly_actuals", "target_frame"]

#: KPI ids that get a target per quarter.
KPI_TARGETS = (
    "mrr", "arr", "nrr", "grr", "logo_churn_rate", "customers_new", "bookings", "win_rate",
    "pipeline_coverage", "cac_payback_months", "nps", "gross_margin", "dso", "forecast_accuracy",
    "crm_quality_score",
)
#: Owner (a title) of each KPI's target.
OWNERS = {
    "mrr": "CFO", "arr": "CFO", "nrr": "VP Customer Success", "grr": "VP Customer Success",
    "logo_churn_rate": "VP Customer Success", "customers_new": "VP Sales", "bookings": "VP Sales",
    "win_rate": "VP Sales", "pipeline_coverage": "VP Sales", "cac_payback_months": "VP Marketing",
    "nps": "VP Customer Success", "gross_margin": "CFO", "dso": "CFO",
    "forecast_accuracy": "Head of RevOps", "crm_quality_score": "Head of RevOps",
}
_LEVEL = ("mrr", "arr", "customers_new", "bookings")
_SEASONAL = ("bookings", "customers_new")
_POLICY = ("pipeline_coverage", "crm_quality_score")
_NUDGE = {
    "nrr": lambda ref: ref + 0.005, "grr": lambda ref: ref + 0.005, "win_rate": lambda ref: ref + 0.02,
    "logo_churn_rate": lambda ref: ref * 0.9, "cac_payback_months": lambda ref: ref * 0.9,
    "nps": lambda ref: ref + 4, "gross_margin": lambda ref: ref + 0.01, "dso": lambda ref: ref - 3,
    "forecast_accuracy": lambda ref: min(0.92, ref + 0.02),
}
#: (kpi, segment, nudge) of the per-segment targets.
_SEGMENT_TARGETS = (
    ("nrr", "Enterprise", lambda ref: ref + 0.01),
    ("logo_churn_rate", "SMB", lambda ref: ref * 0.9),
)
_DERIVED = tuple(k for k in KPI_TARGETS if k not in _POLICY)


def quarterly_actuals(data: RevOpsData, labels: list[str]
                      ) -> tuple[dict[str, np.ndarray], dict[tuple[str, str], np.ndarray]]:
    """Actual value of every derived target KPI per quarter, overall and for the segment targets.

    Values come from :func:`~revops_kit.catalog.compute_kpis`; a KPI without a value in a quarter
    (e.g. NRR in the first quarter, with no customers at its start) is NaN.
    """
    actual = {k: np.full(len(labels), np.nan) for k in _DERIVED}
    seg_kpis = sorted({k for k, _, _ in _SEGMENT_TARGETS})
    by_segment = {(k, s): np.full(len(labels), np.nan) for k, s, _ in _SEGMENT_TARGETS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RevOpsWarning)  # zero denominators early in the window
        for j, label in enumerate(labels):
            long = compute_kpis(data, label, _DERIVED)
            for row in long[long["group"] == "all"].itertuples():
                actual[row.kpi][j] = row.value
            long = compute_kpis(data, label, seg_kpis, by="segment")
            for (kpi, segment), values in by_segment.items():
                hit = long[(long["kpi"] == kpi) & (long["group"] == f"segment={segment}")]
                if len(hit):
                    values[j] = float(hit["value"].iloc[0])
    return actual, by_segment


def _reference(hist: np.ndarray, known: int, *, fallback: bool) -> float:
    """Mean of the (up to) four actual quarters before index ``known``; NaN if none is known."""
    prev = hist[max(0, known - 4):known]
    prev = prev[~np.isnan(prev)]
    if not len(prev) and fallback:
        prev = hist[~np.isnan(hist)][:1]
    return float(np.mean(prev)) if len(prev) else np.nan


def _plan(hist: np.ndarray, j: int, seasonal: bool) -> float:
    """Plan of a level KPI for quarter ``j`` (index into ``hist``, the actual quarters).

    The plan only uses actuals known before quarter ``j`` and adds a 4% stretch: seasonal KPIs
    (bookings, new customers) grow the same quarter a year earlier by the latest year-on-year
    rate; stock KPIs (MRR, ARR) compound the latest quarterly growth rate from the latest actual.
    """
    hist = np.asarray(hist, dtype=float)
    last = min(j - 1, len(hist) - 1)
    if last < 0 or np.isnan(hist[last]):
        ok = hist[~np.isnan(hist)]
        return float(ok[0] * 1.04) if len(ok) else 0.0
    if seasonal:
        if last >= 7 and np.nansum(hist[last - 7:last - 3]) > 0:
            yoy = np.nansum(hist[last - 3:last + 1]) / np.nansum(hist[last - 7:last - 3])
        else:
            yoy = 1.5
        yoy = min(1.8, max(1.0, yoy))
        base = hist[j - 4] if 0 <= j - 4 < len(hist) and not np.isnan(hist[j - 4]) else hist[last]
        if j - 4 > last:  # more than a year ahead: grow the planned year-ago quarter
            base = _plan(hist, j - 4, seasonal)
        return float(base * yoy * 1.04)
    if last >= 4 and hist[last - 4] > 0:
        qg = (hist[last] / hist[last - 4]) ** 0.25 - 1
    elif last >= 1 and hist[last - 1] > 0:
        qg = hist[last] / hist[last - 1] - 1
    else:
        qg = 0.1
    qg = min(0.25, max(0.0, qg))
    return float(hist[last] * (1 + qg) ** (j - last) * 1.04)


def _target(kpi: str, hist: np.ndarray, jq: int, j: int) -> float:
    """Target of ``kpi`` for the ``j``-th target quarter, index ``jq`` among the actual quarters."""
    if kpi in _LEVEL:
        target = _plan(hist, jq, kpi in _SEASONAL)
        return round(target, -3) if kpi in ("mrr", "arr", "bookings") else round(target)
    if kpi == "pipeline_coverage":
        return 3.0
    if kpi == "crm_quality_score":
        return round(min(98.0, 88.0 + 1.0 * j), 1)  # 0-100 score
    ref = _reference(hist, min(jq, len(hist)), fallback=True)
    return round(float(_NUDGE[kpi](ref)), 1 if kpi in ("nps", "dso", "cac_payback_months") else 4)


def target_frame(state: SampleState, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The ``targets`` table: one row per KPI and quarter from the second year of data to a year
    after the end, plus the segment targets (``tables``: the other generated tables)."""
    cal = state.cal
    labels = [label for label, _, _ in cal.quarters(cal.q_first, cal.q_last)]
    data = from_frames({name: to_text(name, normalise(name, sort_table(name, frame)))
                        for name, frame in tables.items()}, source="(sample)", validate=False)
    actual, by_segment = quarterly_actuals(data, labels)
    t_first = (cal.first_month.year + 1) * 4
    tq = cal.quarters(t_first, (cal.last_year + 1) * 4 + 3)
    rows = []
    for kpi in KPI_TARGETS:
        hist = actual.get(kpi, np.full(len(labels), np.nan))
        for j, (label, _, _) in enumerate(tq):
            target = _target(kpi, hist, t_first + j - cal.q_first, j)
            if not np.isnan(target):  # a KPI without any actual yet gets no target
                rows.append((kpi, label, target, None, OWNERS[kpi]))
    for j, (label, _, _) in enumerate(tq):
        jq = t_first + j - cal.q_first
        for kpi, segment, nudge in _SEGMENT_TARGETS:
            ref = _reference(by_segment[(kpi, segment)], min(jq, len(labels)), fallback=False)
            if not np.isnan(ref):
                rows.append((kpi, label, round(float(nudge(ref)), 4), segment, OWNERS[kpi]))
    targets = pd.DataFrame(rows, columns=["kpi", "period", "target", "segment", "owner"])
    targets["baseline"] = np.nan
    return targets
