"""The base of every report section view and the note shown instead of a section whose data is missing.

A *note* is a one-row DataFrame with a single ``note`` column holding one plain sentence ("This
section needs the table `quotas`."). Views return it in place of a frame they cannot build; the
display helpers (:func:`revops_kit.views.display.show`, the plotting functions) show the sentence.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from ..engines import SQLEngineUnsupported
from ..errors import RevOpsError

__all__ = ["missing_note", "needs", "note_frame", "is_note", "note_text", "sql_unsupported_note",
           "SectionView", "ContextView"]


def _tick(names: Iterable[str]) -> list[str]:
    return [f"`{n}`" for n in names]


def _join(items: list[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def needs(data, tables: Iterable[str] = (), *, columns: Mapping[str, Iterable[str]] | None = None,
          any_of: bool = False) -> str | None:
    """The one sentence saying what ``data`` lacks for a section, or ``None`` when it has it all.

    ``tables`` must all be present (``any_of``: at least one). ``columns`` maps a table to optional
    columns the section needs; a column counts as missing when absent or entirely empty.

    >>> from revops_kit.io import RevOpsData
    >>> needs(RevOpsData(), ["quotas"])
    'This section needs the table `quotas`.'
    >>> needs(RevOpsData(), ["leads", "costs"])
    'This section needs the tables `leads` and `costs`.'
    """
    tables = list(tables)
    missing = [t for t in tables if getattr(data, t, None) is None]
    if any_of and len(missing) < len(tables):
        missing = []
    if missing:
        word = "or" if any_of else "and"
        noun = "table" if len(missing) == 1 else ("tables" if not any_of else "table")
        return f"This section needs the {noun} {_join(_tick(missing), word)}."
    for table, cols in (columns or {}).items():
        frame = getattr(data, table, None)
        cols = list(cols)
        if frame is None:
            return (f"This section needs the table `{table}` with "
                    f"{'a column' if len(cols) == 1 else 'columns'} {_join(_tick(cols))}.")
        absent = [c for c in cols if not _has_values(frame, c)]
        if absent:
            article = "an" if absent[0][:1].lower() in "aeiou" else "a"
            what = (f"{article} {_tick(absent)[0]} column" if len(absent) == 1
                    else f"the columns {_join(_tick(absent))}")
            return f"This section needs {what} on {table}."
    return None


def _has_values(frame, column: str) -> bool:
    if not isinstance(frame, pd.DataFrame):  # a table kept in a database (engine="sql")
        return frame.has_values(column)
    return column in frame.columns and not frame[column].isna().all()


def sql_unsupported_note(exc, notes=None, *, what: str | None = None) -> pd.DataFrame:
    """The note shown instead of a frame that needs the subscription rows in memory while they
    stay in a database (:class:`~revops_kit.engines.SQLEngineUnsupported`); the same sentence
    goes to the page's data notes (``notes``) once. ``what`` names the figure (default: what the
    error names)."""
    what = what or getattr(exc, "what", None) or "this figure"
    label = f"{what[:1].upper()}{what[1:]}"
    if notes is not None:
        notes.add(f"{label}: not computed, it needs the subscription rows in memory (engine=sql).",
                  key=("sql_unsupported", what), once=True)
    return note_frame(f"{label}: not computed, it needs the subscription rows in memory "
                      "(engine=sql); see the data notes.")


def note_frame(text: str) -> pd.DataFrame:
    """A note: a one-row frame whose only column, ``note``, holds ``text``."""
    return pd.DataFrame({"note": [str(text)]})


def is_note(obj) -> bool:
    """True for a note frame (see :func:`note_frame`)."""
    return isinstance(obj, pd.DataFrame) and list(obj.columns) == ["note"]


def note_text(obj) -> str:
    """The sentence of a note frame."""
    return str(obj["note"].iloc[0]) if len(obj) else ""


def missing_note(data, *tables: str, any_of: bool = False,
                 columns: Mapping[str, Iterable[str]] | None = None) -> pd.DataFrame | None:
    """A note frame when ``data`` lacks the ``tables`` (all of them, or with ``any_of`` at least
    one) or the optional ``columns`` a report section needs; ``None`` when it has them."""
    text = needs(data, tables, columns=columns, any_of=any_of)
    return None if text is None else note_frame(text)


def _error_note(exc: Exception) -> pd.DataFrame:
    msg = str(exc).strip().rstrip(".")
    return note_frame(f"Not computed on this dataset: {msg}.")


class SectionView:
    """Base of the per-section report views: each frame is computed once (``_get``) or replaced
    by a note when the dataset lacks its tables or columns, or when the data cannot give it (a
    :class:`~revops_kit.errors.RevOpsError` such as a missing table deeper down). Any other
    exception is a bug and propagates."""

    def __init__(self, data):
        self.data = data
        self._memo: dict = {}

    def _get(self, name: str, tables, build, *, columns: Mapping[str, Iterable[str]] | None = None,
             any_of: bool = False):
        if name not in self._memo:
            note = missing_note(self.data, *tables, any_of=any_of, columns=columns)
            if note is None:
                try:
                    note = build()
                except SQLEngineUnsupported as exc:  # engine="sql": a note, also in the data notes
                    ctx = getattr(self, "ctx", None)
                    note = sql_unsupported_note(exc, getattr(ctx, "notes", None),
                                                what=getattr(exc, "what", None) or getattr(self, "sql_what", None)
                                                or name.replace("_", " "))
                except RevOpsError as exc:
                    note = _error_note(exc)
            self._memo[name] = note
        return self._memo[name]


class PeriodView(SectionView):
    """A section view of ``data`` for ``period`` that also works on its own (``ctx=None``, the
    public ``sales_view(data, period)``); inside a report context the warnings raised while a
    frame is computed become the page's data notes."""

    def __init__(self, data, period, *, policy=None, ctx=None):
        from ..periods import as_period
        from ..policies import get_policy

        super().__init__(data)
        self.period = as_period(period)
        self.policy = get_policy(policy)
        self.ctx = ctx

    def _get(self, name, tables, build, **kw):
        if self.ctx is None or name in self._memo:
            return super()._get(name, tables, build, **kw)
        with self.ctx.notes.capture():
            return super()._get(name, tables, build, **kw)


class ContextView(PeriodView):
    """A section view built from a :class:`~revops_kit.views.context.ReportContext`: the period,
    policy (with the reporting currency) and dataset come from it, and the warnings raised while a
    frame is computed become the page's data notes."""

    def __init__(self, ctx):
        super().__init__(ctx.data, ctx.period, policy=ctx.policy, ctx=ctx)

    @property
    def kw(self) -> dict:
        """``customers``, ``fx_rates`` and ``policy`` keyword arguments of the KPI functions."""
        return dict(customers=self.data.customers, fx_rates=self.data.fx_rates, policy=self.policy)
