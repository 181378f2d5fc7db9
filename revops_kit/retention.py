"""Retention and churn KPIs: logo and revenue churn, GRR, NRR, renewals, cohorts and survival."""

from __future__ import annotations

__all__: list[str] = []
