"""Completeness checks: a column that should be filled is blank (one check per expected column).

The expected columns are :data:`~.config.EXPECTED_COLUMNS` (only those present in a table are checked).
"""

from __future__ import annotations

import pandas as pd

from .checks import Check, Outcome, register_checks
from .config import CRM_TABLES, EXPECTED_COLUMNS

__all__ = []


@register_checks("completeness")
def _completeness_checks(data) -> list[Check]:
    checks = []
    for table, cols in EXPECTED_COLUMNS.items():
        frame = getattr(data, table)
        if frame is None:
            continue
        for col in cols:
            if col not in frame.columns:
                continue

            def run(ctx, table=table, col=col):
                rows = ctx.scope(table)
                values = rows[col]
                blank = values.isna()
                if values.dtype == object or pd.api.types.is_string_dtype(values):
                    blank = blank | (values.astype("string").str.strip() == "").fillna(False)
                return Outcome(rows, blank.astype(bool))

            checks.append(Check(f"{table}.{col}:not_blank", "completeness", table, col,
                                f"{table}.{col} is filled", run, table in CRM_TABLES))
    return checks
