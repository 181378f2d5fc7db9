"""Source adapters: CRM and billing exports to canonical tables."""

from __future__ import annotations

__all__: list[str] = []
