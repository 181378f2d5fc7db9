"""Churn prediction: point-in-time features, models, evaluation and scoring."""

from __future__ import annotations

__all__: list[str] = []
