"""Engines that build the month grid and what derives from it.

``engine="pandas"`` (the default) is the in-memory numpy core of :mod:`revops_kit.revenue`.
``engine="sql"`` (:mod:`revops_kit.engines.sql`) builds the same grid as an Ibis expression over
a subscriptions table wherever it lives — DuckDB (embedded; Parquet/CSV folders, DuckDB files),
PostgreSQL, PySpark, and through Ibis BigQuery, Snowflake, Databricks or Trino — and computes the
bridge, MRR, customer counts, churn and retention in that backend; only aggregated frames come
back to pandas.

A dataset loaded with ``rk.load(source, engine="sql")`` holds its subscriptions as an
:class:`~revops_kit.engines.sql.SQLSubscriptions` (a table handle, not a DataFrame); the public
grid-derived functions (``rk.mrr_bridge``, ``rk.mrr``, ``rk.nrr``, ``rk.cohort_retention`` ...)
dispatch on it. ``engine=None`` (auto) picks SQL for a database URL or DuckDB file whose
subscriptions table has more than :data:`SQL_ROW_THRESHOLD` rows, and says so in
``data.notes``.
"""

from __future__ import annotations

__all__ = ["ENGINES", "SQL_ROW_THRESHOLD", "is_sql", "check_engine", "SQLEngineUnsupported"]

from ..errors import MissingTableError, RevOpsError

#: The engine names accepted by ``rk.load(engine=...)`` and ``--engine``.
ENGINES = ("pandas", "sql")

#: Above this many subscription rows a database source picks ``engine="sql"`` by itself.
SQL_ROW_THRESHOLD = 5_000_000


class SQLEngineUnsupported(MissingTableError):
    """A computation needs the subscription rows in memory, but the dataset holds them in a
    database (``engine="sql"``). A subclass of :class:`MissingTableError`, so ``compute_kpis``
    and report sections skip it with this message instead of failing."""


class EngineError(RevOpsError, ValueError):
    """An unknown engine name, or an engine that cannot run (missing Ibis backend)."""


def check_engine(engine: str | None) -> str | None:
    """Validate an engine name (``None`` = automatic)."""
    if engine is None or engine == "auto":
        return None
    if engine not in ENGINES:
        raise EngineError(f"engine must be one of {ENGINES} or 'auto'/None, got {engine!r}")
    return engine


def _load_with_engine(*args, **kwargs):
    from .sql import load_with_engine

    return load_with_engine(*args, **kwargs)


def _register() -> None:
    from .. import io

    io.ENGINE_LOADERS["sql"] = _load_with_engine


_register()


def is_sql(subscriptions) -> bool:
    """Whether ``subscriptions`` is a database table handle for the SQL engine."""
    from .sql import SQLSubscriptions

    return isinstance(subscriptions, SQLSubscriptions)
