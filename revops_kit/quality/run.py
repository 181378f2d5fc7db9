"""One run of every applicable check for a period, and the failing rows of a check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..periods import Period, as_period
from ..policies import get_policy
from .checks import Check, Outcome, checks_for
from .config import CHECK_COLUMNS, DIMENSIONS, UnknownCheckError
from .context import CheckContext

__all__ = [
    "QualityRun", "run_checks", "failing_rows_of", "unknown_check_error", "examples_frame",
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


def run_checks(data, period, config, policy, dimensions=DIMENSIONS) -> QualityRun:
    """Run every applicable check of ``dimensions`` for ``period`` once (checks with nothing in scope are left out)."""
    p = as_period(period)
    ctx = CheckContext(data, p, config, get_policy(policy))
    results = []
    for check in checks_for(data, dimensions):
        outcome = check.run(ctx)
        if outcome is None or len(outcome.rows) == 0:
            continue
        results.append((check, outcome))
    return QualityRun(p, ctx, results)


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
