"""Shared by the revenue modules: the bridge lines, category codes and the SQL engine on first use
(private to :mod:`revops_kit.revenue`)."""

from __future__ import annotations

from ..grid import CHURN, CONTRACTION, EXPANSION, NEW, REACTIVATION, UNCHANGED


_BRIDGE_LINES = ("new", "expansion", "reactivation", "contraction", "churn")
_UNCHANGED, _NEW, _EXPANSION, _CONTRACTION, _CHURN, _REACTIVATION = (
    UNCHANGED, NEW, EXPANSION, CONTRACTION, CHURN, REACTIVATION)


def _sql():
    """The SQL engine (imported on first use: it needs Ibis, the [sql] extra)."""
    from ..engines import sql

    return sql
