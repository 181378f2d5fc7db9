"""One run of every applicable check for a period, and the failing rows of a check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._common import frame_cache, kept_if_quiet, quiet
from ..periods import Period, as_period
from ..policies import get_policy
from .checks import Check, Outcome, checks_for
from .config import CHECK_COLUMNS, DIMENSIONS, UnknownCheckError
from .context import CheckContext

__all__ = [
    "QualityRun", "run_checks", "checks_frame", "outcome_memo", "failing_rows_of", "unknown_check_error", "examples_frame",
    "with_detail",
]


@dataclass
class QualityRun:
    """The outcome of every applicable check for one period (shared by the derived tables)."""

    p: Period
    ctx: CheckContext
    results: list

    def __post_init__(self) -> None:
        self.by_id = {c.id: (c, o) for c, o in self.results}
        rows = []
        for check, out in self.results:
            checked = len(out.rows)
            failed = int(out.failed.sum())
            rows.append({"check": check.id, "dimension": check.dimension, "table": check.table,
                         "column": check.column, "description": check.description, "crm": check.crm,
                         "checked": checked, "failed": failed, "passed": checked - failed,
                         "value": (checked - failed) / checked})
        self.checks = pd.DataFrame(rows, columns=CHECK_COLUMNS)


class _Outcomes:
    """The outcome of each check already run on one dataset for one period, config and policy,
    with the :class:`CheckContext` they share (its scopes and duplicate clusters)."""

    def __init__(self, data, p: Period, config, policy):
        self.ctx = CheckContext(data, p, config, policy)
        self.by_id: dict = {}

    def outcome(self, check: Check):
        if check.id in self.by_id:
            return self.by_id[check.id]
        out, ok = quiet(lambda: check.run(self.ctx))
        if not ok:  # a check that warned runs again for each caller, so each sees its warnings
            return check.run(self.ctx)
        self.by_id[check.id] = out
        return out


def outcome_memo(data, p: Period, config, policy) -> _Outcomes:
    """The memo of check outcomes of ``data`` for ``p``, ``config`` and ``policy``: every check
    runs once per dataset and period however many public functions (the six dimension KPIs, the
    score, the summary, the trend, a report's scorecard) ask for it. It lives with the dataset's
    frames (see :func:`revops_kit._common.frame_cache`) and is rebuilt when a table is replaced."""
    frames = tuple(data.tables().values()) if hasattr(data, "tables") else ()
    if not frames:
        return _Outcomes(data, p, config, policy)
    return frame_cache("dq_outcomes", frames, (p, config, policy), lambda: _Outcomes(data, p, config, policy))


def run_checks(data, period, config, policy, dimensions=DIMENSIONS) -> QualityRun:
    """Run every applicable check of ``dimensions`` for ``period`` (checks with nothing in scope are
    left out). Each check runs once per dataset, period, config and policy: later runs, of any
    dimensions, reuse its outcome."""
    p = as_period(period)
    memo = outcome_memo(data, p, config, get_policy(policy))
    results = []
    for check in checks_for(data, dimensions):
        outcome = memo.outcome(check)
        if outcome is None or len(outcome.rows) == 0:
            continue
        results.append((check, outcome))
    return QualityRun(p, memo.ctx, results)


def checks_frame(data, period, config, policy, dimensions=DIMENSIONS) -> pd.DataFrame:
    """``run_checks(...).checks`` (a copy), kept with the dataset (:meth:`RevOpsData.derived`) so
    that it travels with it: a report's notebooks receive the pass rates the report computed for
    its scorecard instead of running the checks of every trend period again."""
    p = as_period(period)
    pol = get_policy(policy)
    dims = tuple(dimensions)
    build = lambda: run_checks(data, p, config, pol, dims).checks  # noqa: E731
    if not hasattr(data, "derived"):
        return build()
    key, frames = ("dq_checks", p, config, pol, dims), tuple(data.tables().values())
    return kept_if_quiet(lambda b: data.derived(key, frames, b), build).copy()


def failing_rows_of(check: Check, out: Outcome) -> pd.DataFrame:
    """The failing rows of one check's outcome, with its explanation columns and the 1-based ``row``."""
    rows = with_detail(out.rows.loc[out.failed.to_numpy()], out.detail)
    if out.table_rows:
        rows.insert(0, "row", [int(i) + 1 if isinstance(i, (int, np.integer)) else i for i in rows.index])
    return rows.reset_index(drop=True)


def unknown_check_error(data, check: str) -> UnknownCheckError:
    """An :class:`UnknownCheckError` for ``check`` naming close matches among the checks of ``data``."""
    import difflib

    ids = [c.id for c in checks_for(data)]
    close = difflib.get_close_matches(check, ids, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return UnknownCheckError(f"unknown data-quality check {check!r} for this dataset{hint} "
                             f"(see rk.dq_checks(data, period)['check'])")


def examples_frame(run: QualityRun, data, check: str, columns, n, sort_by, ascending) -> pd.DataFrame:
    """Up to ``n`` failing rows of ``check`` from ``run`` for display (a ``note`` row when it does not apply)."""
    if check in run.by_id:
        rows = failing_rows_of(*run.by_id[check])
    elif check in {c.id for c in checks_for(data)}:  # applies, but nothing in scope this period
        rows = pd.DataFrame()
    else:
        table = check.split(".", 1)[0]
        why = f"table {table} is absent" if getattr(data, table, None) is None else "a column it needs is absent"
        return pd.DataFrame({"note": [f"check {check} does not apply to this dataset: {why}"]})
    if sort_by is not None and sort_by in rows.columns:
        rows = rows.sort_values(sort_by, ascending=ascending, kind="stable", na_position="last")
    if columns is not None:
        rows = rows[[c for c in columns if c in rows.columns]]
    return rows.head(n).reset_index(drop=True)


def with_detail(rows: pd.DataFrame, detail: pd.DataFrame | None) -> pd.DataFrame:
    """``rows`` with the check's explanation columns appended (clashing names get ``_check``)."""
    if detail is None:
        return rows.copy()
    extra = detail.loc[rows.index]
    extra = extra.rename(columns={c: f"{c}_check" for c in extra.columns if c in rows.columns})
    return pd.concat([rows, extra], axis=1)
