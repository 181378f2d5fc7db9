"""The data-quality check machinery: a check, its outcome, and the registry of check builders.

Every dimension module (:mod:`.completeness`, :mod:`.validity`, :mod:`.consistency`,
:mod:`.accuracy`, :mod:`.uniqueness`, :mod:`.integrity`, :mod:`.timeliness`) registers functions
``builder(data) -> list[Check]`` with :func:`register_checks`; :func:`checks_for` collects the
checks that apply to a dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import pandas as pd

from .config import DIMENSIONS

__all__ = ["Outcome", "Check", "register_checks", "checks_for"]


@dataclass
class Outcome:
    """What a check found: the rows it looked at and which of them fail."""

    rows: pd.DataFrame                     # rows in scope (a subset of the table, or derived rows)
    failed: pd.Series                      # boolean, aligned with rows.index
    detail: pd.DataFrame | None = None     # extra columns explaining failures, aligned with rows
    table_rows: bool = True                # rows are rows of the check's table (index = row label)


@dataclass(frozen=True)
class Check:
    """A data-quality check: its id (``table.column:name``), dimension, description and ``run(ctx)``;
    ``crm`` marks the checks that count towards the CRM quality score."""

    id: str
    dimension: str
    table: str
    column: str
    description: str
    run: Callable[["CheckContext"], Outcome | None] = field(repr=False, compare=False)
    crm: bool = False


_BUILDERS: dict[str, list[Callable]] = {d: [] for d in DIMENSIONS}


def register_checks(dimension: str):
    """Decorator registering ``builder(data) -> list[Check]`` as a source of ``dimension``'s checks.

    Builders of one dimension run in registration order (the order the dimension modules are
    imported by :mod:`revops_kit.quality`), so the order of :func:`checks_for` is stable.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"register_checks: unknown data-quality dimension {dimension!r}; "
                         f"expected one of {DIMENSIONS}")

    def decorator(builder: Callable) -> Callable:
        _BUILDERS[dimension].append(builder)
        return builder

    return decorator


def checks_for(data, dimensions: Iterable[str] = DIMENSIONS) -> list[Check]:
    """Every check of ``dimensions`` that applies to ``data`` (its tables and columns are present)."""
    out = []
    for d in dimensions:
        if d not in _BUILDERS:
            raise ValueError(f"unknown data-quality dimension {d!r}; expected one of {DIMENSIONS}")
        for builder in _BUILDERS[d]:
            out += builder(data)
    return out
