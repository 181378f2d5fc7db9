"""The report context: one object per report that every notebook and ``report.py`` build the same way.

``ctx = rk.open_report(data, period, policy=..., currency=..., as_of=..., fiscal_year_start=...)``
loads and validates the dataset once, fixes the period (default: the data's last full quarter),
applies the policy and the reporting currency (``fx_rates`` rebased onto it through cross rates,
:func:`revops_kit.fx.rebase_fx_rates`), knows which tables and optional columns exist, and hands
each report section its view (``ctx.sales``, ``ctx.revenue`` ...). A view's frame is either
computed or a one-sentence note naming what the data lacks.

In a report run, ``report.py`` builds the context once and writes it to a cache file keyed by the
hash of the input files; the notebooks it runs find the file (environment variable
``REVOPS_REPORT_CACHE``) and reuse the loaded, validated dataset and its intermediates instead of
loading again. Outside a report (JupyterLab), ``open_report`` simply loads.

With ``engine="sql"`` the dataset's subscriptions are a database table handle
(:class:`~revops_kit.engines.sql.SQLSubscriptions`): the cache file carries how to reopen it (the
URL or path, schema and window), and each notebook kernel reopens it on its first query. Inside a
report run the cached context, and so its engine, is the one every notebook uses.

Inside a notebook, ``open_report`` also prepares the page: plot style and display options
(:func:`~revops_kit.notebook.setup_notebook`) and warnings routed to the page's "Data notes" box
(:class:`~revops_kit.views.notes.DataNotes`) instead of stderr.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import os
import pickle
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from ..errors import RevOpsError
from ..periods import Period, PeriodLike, as_period
from ..policies import MetricPolicy, get_policy
from ._base import is_note, needs, note_frame, note_text
from .notes import DataNotes

__all__ = ["ReportContext", "open_report", "CACHE_ENV", "input_hash"]

CACHE_ENV = "REVOPS_REPORT_CACHE"
_CACHE_VERSION = 1


def input_hash(data_ref: str) -> str:
    """sha256 over the input files of ``data_ref`` (a folder, a file, or a database URL's text)."""
    digest = hashlib.sha256()
    if "://" in str(data_ref):
        digest.update(str(data_ref).encode())
        return digest.hexdigest()
    path = Path(data_ref)
    files = [path] if path.is_file() else sorted(f for f in path.iterdir()
                                                 if f.is_file() and not f.name.startswith("."))
    for f in files:
        digest.update(f.name.encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _cache_key(data_ref: str, period: str | None, policy: str, currency: str, fys: int) -> tuple:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("revops-kit")
    except PackageNotFoundError:  # pragma: no cover
        v = "0"
    return (_CACHE_VERSION, v, str(data_ref), input_hash(data_ref), str(period), policy, currency, int(fys))


class ReportContext:
    """Everything a report page needs to know before it computes anything.

    Attributes
    ----------
    data : RevOpsData
        The validated dataset, ``fx_rates`` rebased onto the reporting currency.
    period : Period
    policy : MetricPolicy
        The named policy with ``reporting_currency = currency``.
    currency : str
    as_of : pandas.Timestamp or None
        The scoring / snapshot date when given (sections default to the period end).
    notes : DataNotes
        The page's caveats, shown by :meth:`data_notes`.
    """

    def __init__(self, data, period: Period, *, policy: MetricPolicy, currency: str, as_of=None,
                 fiscal_year_start: int = 1, data_ref: str | None = None):
        self.data = data
        self.period = period
        self.policy = policy
        self.currency = currency
        self.as_of = None if as_of in (None, "", "None") else pd.Timestamp(as_of)
        self.fiscal_year_start = int(fiscal_year_start)
        self.data_ref = data_ref
        self.notes = DataNotes()
        self._notes_shown: set[str] = set()  # a section's note is shown once per page
        self._views: dict = {}
        self._shared: dict = {}  # frames computed once for the whole report (e.g. the scorecard)

    # ------------------------------------------------------------------ what the data holds
    @property
    def tables(self) -> list[str]:
        """Names of the tables the dataset has."""
        return list(self.data.tables())

    def has(self, *tables: str) -> bool:
        return self.data.has(*tables)

    def has_column(self, table: str, column: str) -> bool:
        """True when ``table`` exists and ``column`` holds at least one value."""
        frame = getattr(self.data, table, None)
        if frame is not None and not isinstance(frame, pd.DataFrame):  # in a database (engine="sql")
            return frame.has_values(column)
        return frame is not None and column in frame.columns and bool(frame[column].notna().any())

    def needs(self, tables: Iterable[str] = (), *, columns: Mapping[str, Iterable[str]] | None = None,
              any_of: bool = False) -> str | None:
        """The one-sentence note of what a section lacks, or ``None`` (see :func:`~revops_kit.views.needs`)."""
        return needs(self.data, tables, columns=columns, any_of=any_of)

    @property
    def as_of_date(self) -> pd.Timestamp:
        """``as_of`` or, when not given, the period end."""
        return self.as_of if self.as_of is not None else self.period.end

    # ------------------------------------------------------------------ periods the data covers
    def first_date(self, tables: Iterable[str] | None = None) -> pd.Timestamp | None:
        """The earliest main date over ``tables`` (all tables when ``None``)."""
        cov = self.data.coverage()
        cov = cov[cov["present"]]
        if tables is not None:
            cov = cov[cov["table"].isin(list(tables))]
        first = cov["first"].min() if len(cov) else pd.NaT
        return None if pd.isna(first) else pd.Timestamp(first)

    def trailing(self, n: int, *, tables: Iterable[str] | None = None, what: str = "Trends") -> list[Period]:
        """The ``n`` periods ending with the report period, starting no earlier than the first
        period the data covers (a data note says so when periods were cut)."""
        periods = self.period.trailing(n)
        first = self.first_date(tables)
        if first is None:
            return periods
        kept = [q for q in periods if q.end > first]
        if len(kept) < len(periods) and kept:
            self.notes.add(f"{what} start at {kept[0]}, the first period the data covers "
                           f"({len(periods) - len(kept)} earlier period(s) left out).",
                           key=("trailing", what, str(kept[0])), once=True)
        if not kept:
            self.notes.add(f"{what}: {self.period} lies before the first period the data covers "
                           f"(it starts {pd.Timestamp(first):%Y-%m-%d}); only {self.period} is shown.",
                           key=("trailing-before", what), once=True)
        return kept or periods[-1:]

    def trailing_months(self, n: int, *, tables: Iterable[str] | None = None, what: str = "Trends"):
        """The ``n`` month starts ending with the report period's last month, from the first month
        the data covers (a data note says so when months were cut)."""
        months = list(self.period.trailing_months(n))
        first = self.first_date(tables)
        if first is None:
            return months
        first_month = pd.Timestamp(first).to_period("M").to_timestamp()
        kept = [m for m in months if pd.Timestamp(getattr(m, "start", m)) >= first_month]
        if len(kept) < len(months) and kept:
            label = pd.Timestamp(getattr(kept[0], "start", kept[0])).strftime("%Y-%m")
            self.notes.add(f"{what} start at {label}, the first month the data covers "
                           f"({len(months) - len(kept)} earlier month(s) left out).",
                           key=("trailing_months", what, label), once=True)
        if not kept:
            self.notes.add(f"{what}: {self.period} lies before the first month the data covers "
                           f"(it starts {pd.Timestamp(first):%Y-%m-%d}); only its last month is shown.",
                           key=("trailing-months-before", what), once=True)
        return kept or months[-1:]

    # ------------------------------------------------------------------ sections
    def _view(self, name: str, make):
        if name not in self._views:
            self._views[name] = make()
        return self._views[name]

    @property
    def overview(self):
        from .overview import OverviewView

        return self._view("overview", lambda: OverviewView(self))

    @property
    def executive(self):
        from .executive import ExecutiveView

        return self._view("executive", lambda: ExecutiveView(self))

    @property
    def revenue(self):
        from .revenue import RevenueView

        return self._view("revenue", lambda: RevenueView(self))

    @property
    def sales(self):
        from .sales import SalesView

        return self._view("sales", lambda: SalesView(self.data, self.period, policy=self.policy, ctx=self))

    @property
    def marketing(self):
        from .marketing import MarketingView

        return self._view("marketing", lambda: MarketingView(self.data, self.period, policy=self.policy, ctx=self))

    @property
    def success(self):
        from .success import SuccessView

        return self._view("success", lambda: SuccessView(self))

    @property
    def churn(self):
        from .churn import ChurnView

        return self._view("churn", lambda: ChurnView(self))

    @property
    def forecast(self):
        from .forecast import ForecastView

        return self._view("forecast", lambda: ForecastView(self.data, self.period, policy=self.policy, ctx=self))

    @property
    def finance(self):
        from .finance import FinanceView

        return self._view("finance", lambda: FinanceView(self))

    @property
    def quality(self):
        from .quality import QualitySection

        return self._view("quality", lambda: QualitySection(self))

    # ------------------------------------------------------------------ shared frames
    def shared(self, name: str, build):
        """A frame computed once per report (and carried to every notebook in the cache)."""
        if name not in self._shared:
            self._shared[name] = build()
        return self._shared[name]

    def precompute(self, name: str, build) -> bool:
        """Compute the shared frame ``name`` now (the report process does it before the notebooks
        that show it start) unless computing it warned: then the notebook computes it itself and
        its warnings reach its page's data notes (see :func:`revops_kit._common.quiet`). True when
        the frame is shared."""
        from .._common import quiet

        if name in self._shared:
            return True
        value, ok = quiet(build)
        if ok:
            self._shared[name] = value
        return ok

    def headline(self, kpis: Iterable[str]) -> pd.DataFrame:
        """The period's values of the ``kpis`` whose tables the dataset has (long format), or a
        note naming what is missing when none can be computed."""
        from ..catalog import compute_kpis, get_kpi
        from ..engines import SQLEngineUnsupported

        kpis = list(kpis)
        ok = [k for k in kpis if self.data.has(*get_kpi(k).tables)]
        if not ok:
            tables = sorted({t for k in kpis for t in get_kpi(k).tables})
            return note_frame(needs(self.data, tables, any_of=True) or "None of these KPIs applies to this dataset.")
        frames = []
        with self.notes.capture():
            for k in ok:
                try:
                    frames.append(compute_kpis(self.data, self.period, [k], policy=self.policy))
                except SQLEngineUnsupported:  # engine="sql": the rows stay in the database
                    self.notes.add(f"{get_kpi(k).label}: not computed, it needs the subscription rows "
                                   f"in memory (engine=sql).", key=("kpi_error", k))
                except RevOpsError as exc:
                    msg = str(exc).strip().rstrip(".")
                    self.notes.add(f"{get_kpi(k).label} is not computed on this dataset: {msg}.",
                                   key=("kpi_error", k))
        if not frames:
            return note_frame("None of these KPIs can be computed on this dataset (see the data notes).")
        return pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------------ display
    def show(self, obj, *, caption: str | None = None, units: Mapping[str, str] | None = None,
             max_rows: int = 30):
        """Display a frame (escaped, no index, counts as integers, unknown as —) or a note (in full
        once per page: the tables and charts that lack the same data after it point to it)."""
        from IPython.display import HTML

        from ..notebook import show

        if self._repeated_note(obj):
            return HTML(_SEE_ABOVE)
        return show(obj, caption=caption, units=units, currency=self.currency, max_rows=max_rows)

    def plot(self, func, obj, *args, **kwargs):
        """Draw ``func(obj, ...)``; a note, an empty frame or a chart with nothing to draw is a
        sentence instead of an empty figure. Warnings go to the data notes."""
        from IPython.display import HTML

        if is_note(obj):
            if self._repeated_note(obj):
                return HTML(_SEE_ABOVE)
            return HTML(f"<p class=\"rk-note\"><i>{html.escape(note_text(obj))}</i></p>")
        if isinstance(obj, pd.DataFrame) and obj.empty:
            return HTML("<p class=\"rk-note\"><i>Nothing to draw for this period.</i></p>")
        if isinstance(obj, dict) and not obj:
            return HTML("<p class=\"rk-note\"><i>Nothing to draw: too little history.</i></p>")
        with self.notes.capture():
            return func(obj, *args, **kwargs)

    def _repeated_note(self, obj) -> bool:
        """True when ``obj`` is a note this page has already shown (and records it otherwise)."""
        if not is_note(obj):
            return False
        text = note_text(obj)
        if text in self._notes_shown:
            return True
        self._notes_shown.add(text)
        return False

    def data_notes(self):
        """The page's "Data notes" box: every caveat met while computing it, in plain words, counted."""
        from IPython.display import HTML

        return HTML(self.notes.html(sections_not_computed=len(self._notes_shown)))

    def __repr__(self) -> str:
        return (f"ReportContext(period={self.period}, currency={self.currency}, policy={self.policy.name}, "
                f"tables={self.tables})")

    # ------------------------------------------------------------------ cache
    def save(self, path: str | Path, key: tuple) -> Path:
        """Write the context (dataset, intermediates, shared frames) for the report's notebooks."""
        path = Path(path)
        state = {"key": key, "data": self.data, "period": self.period, "policy": self.policy,
                 "currency": self.currency, "as_of": self.as_of, "fys": self.fiscal_year_start,
                 "data_ref": self.data_ref, "shared": self._shared}
        tmp = path.with_name(path.name + f".{os.getpid()}.part")
        with open(tmp, "wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        return path

    @classmethod
    def _from_cache(cls, key: tuple) -> "ReportContext | None":
        path = os.environ.get(CACHE_ENV)
        if not path or not Path(path).is_file():
            return None
        state = _cached_state(path)
        if state is None or state.get("key") != key:
            return None
        ctx = cls(state["data"], state["period"], policy=state["policy"], currency=state["currency"],
                  as_of=state["as_of"], fiscal_year_start=state["fys"], data_ref=state["data_ref"])
        ctx._shared = state.get("shared", {})
        return ctx


#: What a table or chart shows when its section's note was already shown on the page.
_SEE_ABOVE = "<p class=\"rk-note\"><i>Not computed: the same reason as above.</i></p>"

#: The cache file last read in this process, by path: (file signature, state). The report runs its
#: notebooks one after another in a few kernels; the notebooks of one kernel share the loaded
#: dataset object, so the intermediates cached on its frames (month grid, opportunity timeline,
#: churn features, data-quality outcomes ...) are built once per kernel, not once per notebook.
#: Each notebook still gets a context of its own (its page's notes and views).
_STATE: dict[str, tuple] = {}


def _cached_state(path: str) -> dict | None:
    """The state in the cache file ``path``, read once per version of the file. When the report
    rewrote the file (adding the frames it computed for the notebooks: the scorecard ...), the
    dataset already loaded stays, and takes over the new frames."""
    try:
        st = os.stat(path)
        sig = (st.st_mtime_ns, st.st_size, st.st_ino)
        hit = _STATE.get(path)
        if hit is not None and hit[0] == sig:
            return hit[1]
        with open(path, "rb") as fh:
            state = pickle.load(fh)
    except Exception:  # a cache that cannot be read is ignored: load normally
        return None
    if hit is not None and hit[1].get("key") == state.get("key"):
        old = hit[1]
        old["data"].adopt_derived(state["data"])
        for name, frame in state.get("shared", {}).items():
            old.setdefault("shared", {}).setdefault(name, frame)
        state = old
    _STATE[path] = (sig, state)
    return state


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        ip = get_ipython()
        return ip is not None and type(ip).__name__ != "TerminalInteractiveShell"
    except ImportError:  # pragma: no cover
        return False


def open_report(data=None, period: PeriodLike | None = None, *, policy: str | MetricPolicy = "default",
                currency: str = "USD", as_of=None, fiscal_year_start: int = 1,
                setup: bool | None = None, engine: str | None = None) -> ReportContext:
    """The report context for ``period`` on ``data`` (a path, URL or loaded ``RevOpsData``).

    Parameters
    ----------
    data : str, Path or RevOpsData, optional
        The dataset (default: the committed sample). Loaded and validated once.
    period : str or Period, optional
        Default: the data's last full quarter. A period outside the data raises ``PeriodError``.
    policy : str or MetricPolicy
    currency : str
        Reporting currency: ``fx_rates`` is rebased onto it (cross rates) and every section
        converts to it.
    as_of : date-like, optional
        Scoring / snapshot date (default: the period end).
    fiscal_year_start : int
        Month the fiscal year starts (for ``FY`` period labels).
    setup : bool, optional
        Prepare a notebook page (plot style, display options, warnings → data notes). Default:
        when running inside a Jupyter kernel.
    engine : {"pandas", "sql"} or None
        How subscriptions are loaded (``rk.load(..., engine=)``; ``None``/``"auto"``: SQL for a
        large database). With ``"sql"`` they stay in the database and the grid-derived KPIs are
        computed there; what needs the rows in memory says so in the data notes.

    Examples
    --------
    >>> ctx = open_report(period="2025-Q4")  # doctest: +SKIP
    >>> ctx.sales.by_stage  # doctest: +SKIP
    """
    from ..io import SAMPLE_DIR, RevOpsData, load

    pol = get_policy(policy)
    currency = str(currency or pol.reporting_currency).upper()
    if setup is None:
        setup = _in_notebook()
    ctx = None
    if isinstance(data, RevOpsData):
        dataset, data_ref = data, data.source
    else:
        data_ref = str(data) if data is not None and "://" in str(data) else str(Path(data or SAMPLE_DIR).resolve())
        if os.environ.get(CACHE_ENV):
            try:
                ctx = ReportContext._from_cache(_cache_key(data_ref, None if period is None else str(period),
                                                           pol.name, currency, fiscal_year_start))
            except OSError:
                ctx = None
        dataset = None if ctx is not None else load(data_ref, engine=engine)
    if ctx is None:
        if period is None:
            p = dataset.latest_full_period("quarter")
            first, last = dataset.date_range()
            if p.end <= first:  # less than a full quarter of data: its (partial) quarter
                p = Period.containing(last, "quarter")
        else:
            p = dataset.check_period(period, fiscal_year_start=fiscal_year_start)
        from ..catalog import money_kpis
        from ..fx import with_reporting_currency

        dataset, rep_policy = with_reporting_currency(dataset, currency, pol, money_kpis=money_kpis())
        ctx = ReportContext(dataset, p, policy=rep_policy, currency=currency,
                            as_of=as_of, fiscal_year_start=fiscal_year_start, data_ref=data_ref)
    elif as_of not in (None, "", "None"):
        ctx.as_of = pd.Timestamp(as_of)
    if setup:
        from ..notebook import setup_notebook

        setup_notebook()
        ctx.notes.install()
    return ctx
