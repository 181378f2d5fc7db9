"""Errors and warnings raised by revops-kit.

Every error is a :class:`RevOpsError` and also inherits the builtin it resembles, so callers can
catch either. Every warning is a :class:`RevOpsWarning`.
"""

from __future__ import annotations

import warnings

__all__ = [
    "RevOpsError",
    "SchemaError",
    "MissingTableError",
    "MissingColumnError",
    "PeriodError",
    "DataNotFoundError",
    "UnknownKPIError",
    "NotGroupableError",
    "RevOpsWarning",
    "ZeroDenominatorWarning",
    "DataRepairWarning",
    "ModelFallbackWarning",
    "warn_zero_denominator",
]


class RevOpsError(Exception):
    """Base class of every error raised by revops-kit."""


class SchemaError(RevOpsError, ValueError):
    """A table does not satisfy the canonical schema.

    ``failures`` is a DataFrame with one row per failing (table, column, check) and the offending
    row numbers and values, so a program can act on it; ``str(error)`` is the readable table.
    """

    def __init__(self, message: str, failures=None):
        super().__init__(message)
        self.failures = failures


class MissingTableError(RevOpsError, LookupError):
    """A computation needs a table the dataset does not have."""


class MissingColumnError(RevOpsError, KeyError):
    """A computation needs an optional column that the dataset's table does not have
    (for example ``subscriptions.committed_end_date`` for the revenue backlog)."""

    def __init__(self, message: str, *, table: str | None = None, column: str | None = None):
        super().__init__(message)
        self.table, self.column = table, column

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class PeriodError(RevOpsError, ValueError):
    """A period label cannot be parsed or lies outside the data."""


class DataNotFoundError(RevOpsError, FileNotFoundError):
    """The data folder, file or database does not exist."""


class UnknownKPIError(RevOpsError, KeyError):
    """A KPI id is not in the catalogue."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class NotGroupableError(RevOpsError, ValueError):
    """A KPI cannot be split by the requested ``by=`` column (absent from its tables)."""


class RevOpsWarning(UserWarning):
    """Base class of every warning emitted by revops-kit."""


class ZeroDenominatorWarning(RevOpsWarning):
    """A ratio had a zero denominator; its value is NaN."""


class DataRepairWarning(RevOpsWarning):
    """Loading repaired a value (for example ``"$1,200"`` read as 1200)."""


class ModelFallbackWarning(RevOpsWarning):
    """A model could not be fitted and a simpler one was used instead."""


def warn_zero_denominator(what: str, where: str = "", stacklevel: int = 3) -> None:
    """Emit a :class:`ZeroDenominatorWarning` naming the ratio and the group/period affected."""
    suffix = f" ({where})" if where else ""
    warnings.warn(
        f"{what}: denominator is zero{suffix}; the value is NaN",
        ZeroDenominatorWarning,
        stacklevel=stacklevel,
    )
