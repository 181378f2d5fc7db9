"""Forecasting models, accuracy metrics and backtests."""

from __future__ import annotations

__all__: list[str] = []
