"""The base of every report section view and the note shown instead of a section whose data is missing."""

from __future__ import annotations

import pandas as pd

__all__ = ["missing_note", "SectionView"]


def missing_note(data, *tables: str, any_of: bool = False) -> pd.DataFrame | None:
    """A one-row ``note`` frame when ``data`` lacks the ``tables`` a report section needs (all of
    them, or with ``any_of`` at least one), shown instead of the section; ``None`` when present."""
    have = [t for t in tables if getattr(data, t, None) is not None]
    if (any_of and have) or (not any_of and len(have) == len(tables)):
        return None
    missing = [t for t in tables if t not in have]
    joined = " or ".join(missing) if any_of else ", ".join(missing)
    return pd.DataFrame({"note": [f"This section needs the table(s) {joined}, which the dataset "
                                  f"{data.source or '(in memory)'} does not have."]})


class SectionView:
    """Base of the per-section report views: each frame is computed once (``_get``) or replaced
    by a :func:`missing_note` when the dataset lacks its tables."""

    def __init__(self, data):
        self.data = data
        self._memo: dict = {}

    def _get(self, name: str, tables, build):
        if name not in self._memo:
            note = missing_note(self.data, *tables)
            self._memo[name] = note if note is not None else build()
        return self._memo[name]
