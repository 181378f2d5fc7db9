"""Data notes: the caveats of one report page, collected instead of printed.

A report page never shows stderr. Warnings raised while a page is computed (zero denominators,
model fallbacks, repaired values, third-party library warnings) are recorded here, merged by kind
and counted, and shown once per page as a "Data notes" box in plain words. Notes a view adds
itself (a trend cut to the periods the data covers, deal amounts unknown) go to the same box.
"""

from __future__ import annotations

import html
import re
import warnings
from contextlib import contextmanager

import pandas as pd

from ..errors import DataRepairWarning, ModelFallbackWarning, RevOpsWarning, ZeroDenominatorWarning

__all__ = ["DataNotes", "plain_warning"]

_ZERO = re.compile(r"^(?P<what>.*?): denominator is zero(?: \((?P<where>.*)\))?; the value is NaN$", re.S)


def _label(kpi: str) -> str:
    try:
        from ..catalog import get_kpi

        return get_kpi(kpi).label
    except Exception:  # not a KPI id: a free-form ratio name
        return kpi.replace("_", " ")


def plain_warning(category: type, message: str, module: str = "") -> tuple[tuple, str]:
    """``(key, sentence)`` for a warning: warnings with the same key are one note, counted."""
    message = str(message).strip()
    if issubclass(category, ZeroDenominatorWarning):
        m = _ZERO.match(message)
        what = m.group("what") if m else message
        return ("zero", what), (f"{_label(what)} has nothing to divide by (zero denominator) in some "
                                "period or group; it is shown as — there, not as 0.")
    if issubclass(category, ModelFallbackWarning):
        return ("model", message), f"Model: {message}"
    if issubclass(category, DataRepairWarning):
        return ("repair", message), f"Loading: {message}"
    if issubclass(category, RevOpsWarning):
        return ("revops", message), message
    pkg = (module or "a library").split(".")[0]
    name = category.__name__
    if "Convergence" in name:
        what = "a model fit did not fully converge; the figures shown use its best fit"
    elif issubclass(category, RuntimeWarning):
        what = "a calculation met an invalid or infinite value (e.g. an empty group); those cells are —"
    else:
        what = "it reported a problem it worked around"
    return ("library", pkg, name), f"{pkg} (a library the computation uses): {what}."


class DataNotes:
    """The page's caveats: ``add`` a sentence, or ``capture()`` warnings while computing."""

    def __init__(self):
        self._items: dict[tuple, list] = {}

    def add(self, text: str, *, key: tuple | None = None, count: int = 1, once: bool = False) -> None:
        """Record one caveat (same ``key`` or text again: its count goes up, unless ``once``)."""
        key = key or ("text", text)
        if key in self._items and once:
            return
        if key in self._items:
            self._items[key][1] += count
        else:
            self._items[key] = [text, count]

    def record_warning(self, message, category, filename="", lineno=0, file=None, line=None) -> None:
        """A ``warnings.showwarning`` replacement: the warning becomes a note."""
        module = ""
        if filename:
            m = re.search(r"site-packages/([^/]+)/", str(filename).replace("\\", "/"))
            module = m.group(1) if m else ("revops_kit" if "revops_kit" in str(filename) else "")
        key, text = plain_warning(category, str(message), module)
        self.add(text, key=key)

    def install(self) -> None:
        """Route every warning of this process to the notes (used in report notebooks); notices
        about future library versions are not about the data and are dropped."""
        warnings.simplefilter("always", RevOpsWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.showwarning = self.record_warning

    @contextmanager
    def capture(self):
        """Record the warnings raised inside the block as notes."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RevOpsWarning)
            yield self
        for w in caught:
            if not issubclass(w.category, (DeprecationWarning, FutureWarning)):
                self.record_warning(w.message, w.category, w.filename, w.lineno)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def total(self) -> int:
        """Occurrences over all notes."""
        return int(sum(c for _, c in self._items.values()))

    def frame(self) -> pd.DataFrame:
        """``note, count`` per distinct caveat, in the order first met."""
        return pd.DataFrame([(t, c) for t, c in self._items.values()], columns=["note", "count"])

    def html(self, *, sections_not_computed: int = 0) -> str:
        """The box; ``sections_not_computed`` (how many distinct section notes the page showed)
        keeps an empty box from claiming that everything on the page was computed."""
        items = []
        for text, count in self._items.values():
            times = f" <span class=\"rk-count\">({count}×)</span>" if count > 1 else ""
            items.append(f"<li>{html.escape(text)}{times}</li>")
        if not items and sections_not_computed:
            body = ("<p>None beyond the sections not computed (their notes above say what they need): "
                    "everything else on this page was computed from complete inputs.</p>")
        elif not items:
            body = "<p>None: every figure on this page was computed from complete inputs.</p>"
        else:
            body = f"<ul>{''.join(items)}</ul>"
        return ("<div class=\"rk-data-notes\" style=\"border:1px solid #d9c27a;background:#fffbea;"
                "padding:8px 14px;margin:12px 0;border-radius:4px\">"
                f"<p style=\"margin:4px 0\"><b>Data notes ({len(items)})</b></p>{body}</div>")

    def _repr_html_(self) -> str:
        return self.html()
