"""Per-period reports: run every notebook with papermill and write ``reports/<period>/``.

Output (see DESIGN.md "Reports"): ``index.html`` (scorecard + links), one self-contained HTML per
notebook (code hidden, figures embedded), the executed notebooks, ``kpis.csv`` and ``kpis.json``
(long format: period, kpi, group, value, numerator, denominator, target, previous) and
``manifest.json`` (versions, parameters, input hashes, timings).

The run is atomic: everything is written to a temporary folder beside the target and renamed into
place only when every notebook succeeded, so a failed run leaves the previous report intact. The
executed copy of a failed notebook, with its error, is kept in ``reports/<period>.failed/``.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from .catalog import LONG_COLUMNS, list_kpis
from .errors import RevOpsError, RevOpsWarning
from .io import SAMPLE_DIR, RevOpsData, load
from .periods import Period
from .policies import get_policy

__all__ = ["run_report", "ReportError", "kpi_table", "write_kpis", "neutralise_formula",
           "NOTEBOOK_DIR", "html_page"]

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
KPI_COLUMNS = ["period", "kpi", "group", "value", "numerator", "denominator", "unit", "target",
               "previous"]


class ReportError(RevOpsError, RuntimeError):
    """A report run failed (a notebook raised, or the inputs were unusable)."""


# ---------------------------------------------------------------------- KPI export
def neutralise_formula(value):
    """Prefix text that a spreadsheet would run as a formula (``= + - @``, tab, CR) with ``'``."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _targets_for(data: RevOpsData, period: Period) -> pd.DataFrame:
    if data.targets is None:
        return pd.DataFrame(columns=["kpi", "group", "target"])
    t = data.targets[data.targets["period"].astype(str) == str(period)].copy()
    seg = t["segment"] if "segment" in t.columns else pd.Series(np.nan, index=t.index)
    t["group"] = np.where(seg.isna(), "all", "segment=" + seg.astype(str))
    return t[["kpi", "group", "target"]].drop_duplicates(["kpi", "group"])


def _compute_each(data: RevOpsData, period: Period, *, by, policy,
                  skipped: list[str] | None) -> pd.DataFrame:
    """Every catalogue KPI for ``period`` (``compute_kpis`` over the catalogue, one KPI at a time
    through :func:`~revops_kit.targets.kpi_result`, so that inside
    :func:`~revops_kit.targets.shared_kpi_results` the values the scorecard computed are reused);
    a KPI that cannot be computed on this dataset (missing table or column, not groupable, any
    data error) is left out and named in ``skipped`` — one KPI never sinks the report."""
    from .targets import kpi_result

    frames = []
    for kpi in list_kpis():
        frame, skip = kpi_result(kpi.id, data, period, by=by, policy=policy)
        if frame is None:
            if skipped is not None:
                skipped.append(skip)
        else:
            frames.append(frame[LONG_COLUMNS])
    if not frames:
        return pd.DataFrame(columns=LONG_COLUMNS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # concat of all-NaN columns
        return pd.concat(frames, ignore_index=True)


def kpi_table(data: RevOpsData, period: Period, *, policy=None, by: str | None = None,
              skipped: list[str] | None = None) -> pd.DataFrame:
    """All catalogue KPIs for ``period`` with the previous period's value and the target.

    KPIs that cannot be computed on this dataset are skipped (their id and reason appended to
    ``skipped``).
    """
    policy = get_policy(policy)
    current = _compute_each(data, period, by=by, policy=policy, skipped=skipped)
    prev_period = period.previous()
    try:
        data.check_period(prev_period)
        previous = _compute_each(data, prev_period, by=by, policy=policy, skipped=None)
        previous = previous[["kpi", "group", "value"]].rename(columns={"value": "previous"})
    except RevOpsError:
        previous = pd.DataFrame(columns=["kpi", "group", "previous"])
    out = current.merge(previous, on=["kpi", "group"], how="left")
    out = out.merge(_targets_for(data, period), on=["kpi", "group"], how="left")
    out["previous"] = out["previous"].astype("float64")
    out["target"] = out["target"].astype("float64")
    return out[KPI_COLUMNS].sort_values(["kpi", "group"], kind="stable").reset_index(drop=True)


def write_kpis(table: pd.DataFrame, folder: Path, *, skipped: list[str] | None = None,
               period: Period | str | None = None) -> None:
    """Write ``kpis.csv`` and ``kpis.json`` deterministically (sorted rows, fixed float format).

    A KPI named in ``skipped`` (``"kpi: reason"``, from :func:`kpi_table`) gets a row too, its
    value empty (unknown, not 0) and the reason in the last column, ``note`` (empty for the
    computed rows)."""
    safe = table.copy()
    safe["note"] = ""
    if skipped:
        from .catalog import get_kpi

        label = str(period) if period is not None else (str(table["period"].iloc[0]) if len(table) else "")
        rows = []
        for entry in skipped:
            kpi, _, reason = entry.partition(": ")
            try:
                unit = get_kpi(kpi).unit
            except Exception:  # not a catalogue id: keep the row, unit unknown
                unit = ""
            rows.append({"period": label, "kpi": kpi, "group": "all", "unit": unit,
                         "note": reason.strip() or "not computed"})
        extra = pd.DataFrame(rows).reindex(columns=safe.columns)
        for col in ("value", "numerator", "denominator", "target", "previous"):
            extra[col] = extra[col].astype("float64")
        safe = pd.concat([safe, extra], ignore_index=True).sort_values(["kpi", "group"], kind="stable")
    table = safe.reset_index(drop=True)
    safe = table.copy()
    for col in ("period", "kpi", "group", "unit", "note"):
        safe[col] = safe[col].astype(object).map(neutralise_formula)
    safe.to_csv(folder / "kpis.csv", index=False, float_format="%.10g", lineterminator="\n")
    records = []
    for row in table.to_dict(orient="records"):
        records.append({k: (None if isinstance(v, float) and not np.isfinite(v) else
                            float(f"{v:.10g}") if isinstance(v, float) else v)
                        for k, v in row.items()})
    (folder / "kpis.json").write_text(json.dumps(records, indent=1, sort_keys=True,
                                                 ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------- HTML
_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
header{background:#1f2d3d;color:#fff;padding:14px 28px}header a{color:#cfe0f5;margin-right:14px;text-decoration:none}
header h1{margin:0 0 6px 0;font-size:20px}main{max-width:1100px;margin:0 auto;padding:18px 28px;background:#fff}
table{border-collapse:collapse;font-size:13px;margin:8px 0 16px 0}th,td{padding:4px 10px;border-bottom:1px solid #e3e6ea;text-align:right}
th{background:#f0f2f5}td:first-child,th:first-child{text-align:left}img{max-width:100%}
h1{font-size:22px}h2{font-size:18px;border-bottom:2px solid #1f5aa6;padding-bottom:3px;margin-top:28px}
pre{background:#f4f4f4;padding:8px;overflow-x:auto;font-size:12px}.muted{color:#6b7785;font-size:12px}
.good{color:#2e7d32}.warn{color:#b26a00}.bad{color:#c62828}
.rk-scorecard{display:block;overflow-x:auto;max-width:100%}.rk-scorecard td{white-space:nowrap}.rk-scorecard td:first-child,.rk-scorecard td:last-child{white-space:normal}.jp-RenderedHTMLCommon{overflow-x:auto}
footer{max-width:1100px;margin:0 auto;padding:10px 28px;color:#6b7785;font-size:12px}
"""


def html_page(title: str, body: str, nav: list[tuple[str, str]], footer: str = "") -> str:
    """A self-contained page (inline CSS, no scripts, no external resources)."""
    links = "".join(f'<a href="{html.escape(href)}">{html.escape(label)}</a>' for label, href in nav)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><nav>{links}</nav></header>"
        f"<main>{body}</main><footer>{footer}</footer></body></html>\n"
    )


def _notebook_html(nb_path: Path) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    nb = nbformat.read(nb_path, as_version=4)
    # Hide the parameter cells' outputs (they have none) and papermill's injected cell.
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    # A page never shows stderr: warnings are in the page's data notes, library logs nowhere.
    for c in nb.cells:
        if c.get("cell_type") == "code":
            c["outputs"] = [o for o in c.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    body, _ = exporter.from_notebook_node(nb)
    return body


def _scorecard_section(ctx) -> str:
    """The executive scorecard (the same frame the executive summary notebook shows: computed once
    and shared through the report context) and its key messages."""
    from .targets import key_messages, messages_html, scorecard_html
    from .views import is_note, note_text

    ex = ctx.executive
    sc = ex.scorecard
    if is_note(sc):
        return f"<h2>Scorecard</h2><p class=\"muted\">{html.escape(note_text(sc))}</p>"
    currency = ctx.currency
    msgs = key_messages(sc, n=5, currency=currency)
    items = messages_html(msgs) if len(msgs) else ""
    trend = sc.attrs.get("trend_periods") or []
    span = (f"Trend: {html.escape(trend[0])} to {html.escape(trend[-1])}. ") if trend else ""
    legend = ("<p class=\"muted\">Attainment respects each KPI's good direction (lower is better for "
              "churn, DSO, CAC payback). Status: on track ≥ 100 %, at risk within 5 % below, off track "
              "otherwise. Changes are relative, or in points for rates and scores (NPS, quality score). "
              f"{span}Baseline: the target table's, else the mean of the four prior periods.</p>")
    moves = f"<h2>Largest movements and risks</h2>{items}" if items else ""
    return f"<h2>Scorecard</h2>{scorecard_html(sc, currency=currency)}{legend}{moves}"


# ---------------------------------------------------------------------- running
@dataclass
class _NotebookRun:
    name: str
    seconds: float
    error: str | None  # "ExceptionType: message (cell N)" when the notebook failed
    body: str | None = None  # the page's HTML body, rendered as soon as the notebook finished


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _input_hashes(data_ref: str, database: bool) -> dict[str, str]:
    """sha256 of every input file; a database is recorded by its (password-masked) URL."""
    if database and "://" in data_ref:
        from .adapters.warehouse import _safe_url

        return {"database": _safe_url(data_ref)}
    path = Path(data_ref)
    if path.is_file():
        return {path.name: _sha256(path)}
    return {f.name: _sha256(f) for f in sorted(path.iterdir())
            if f.is_file() and not f.name.startswith(".")}


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("revops-kit", "pandas", "numpy", "matplotlib", "seaborn", "statsmodels",
                "scikit-learn", "scipy", "papermill", "nbconvert", "pandera"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


#: Thread pools of the numerical libraries, one thread each in report kernels (unless the caller's
#: environment sets them): the report already runs ``-j`` kernels beside the KPI export, and a
#: second BLAS/OpenMP thread per kernel spin-waits on a busy machine (the win-probability fits of
#: the forecast page took twice the CPU). The package's own model fits run on one thread anyway
#: (:func:`revops_kit.churn.model.single_threaded`).
_ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _quiet_kernel_manager(cwd: Path | None = None):
    """A kernel manager whose kernel process writes its own log (e.g. "Kernel is running over TCP
    without encryption", "KeyboardInterrupt caught in kernel") to nowhere instead of our terminal.
    The cells' output still reaches the notebook through the kernel's messages.

    The kernel starts in ``cwd`` through its own process, not through papermill's ``cwd=``, which
    changes the working directory of the whole Python process: with notebooks executed in threads
    (``-j 2``) or two in-process reports at once, those changes interleave and leave the caller in
    a temporary folder. Its numerical libraries use one thread (:data:`_ONE_THREAD`)."""
    import subprocess

    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        #: The client that the next ``client()`` call returns (a reused kernel's caller keeps it to
        #: stop its channels after the notebook: nbclient leaves a kernel it does not own running,
        #: and its client's channels open)
        handoff = None

        def client(self, **kwargs):
            kc, self.handoff = self.handoff, None
            return kc if kc is not None else super().client(**kwargs)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            env = kw.get("env")
            if env is not None:
                for var in _ONE_THREAD:
                    env.setdefault(var, "1")
            kw["stdout"] = subprocess.DEVNULL
            kw["stderr"] = subprocess.DEVNULL
            if cwd is not None:
                kw["cwd"] = str(cwd)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return QuietKernelManager


def _failure_text(exc: Exception, executed: Path | None = None) -> str:
    """``ExceptionType: message (cell N)`` for a failed notebook; N counts the cells of the
    notebook file (markdown included, from 1), not papermill's injected parameters cell."""
    ename = getattr(exc, "ename", None)
    if ename:
        evalue = str(getattr(exc, "evalue", "") or "").strip().splitlines()
        where = ""
        index = getattr(exc, "cell_index", None)
        if index is not None:
            injected = 0
            if executed is not None and executed.exists():
                import nbformat

                # papermill wrote the copy with an error banner inserted first: the cells before
                # the failing one are at 1..index
                cells = nbformat.read(executed, as_version=4).cells
                injected = sum(1 for c in cells[1:index + 1]
                               if "injected-parameters" in c.get("metadata", {}).get("tags", []))
            where = f" (cell {index + 1 - injected})"
        return f"{ename}: {evalue[0] if evalue else ''}{where}"
    first = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {first[0] if first else ''}"


#: What nbclient passes to the kernels it starts itself (history in memory, not in ~/.ipython).
_KERNEL_ARGS = ["--HistoryManager.hist_file=:memory:"]

#: Run in a reused kernel before each notebook but its first: the state a new kernel starts with
#: (empty namespace, execution count 1, no output history). Imported modules stay imported.
_FRESH_STATE = "get_ipython().reset(new_session=True)"

#: Run in a report's kernels as soon as they start, while the report loads the data.
_WARM_UP = "import revops_kit"


class _KernelSlot:
    """One kernel that a report worker runs its notebooks in, one after another.

    Starting a kernel and importing the package, pandas, matplotlib, scipy, scikit-learn and
    statsmodels costs about 1.5-2.5 s of CPU per kernel; a worker pays it once instead of once per
    notebook. Before each notebook but the first the kernel's state is reset to a new kernel's
    (:data:`_FRESH_STATE`): every notebook starts from an empty namespace and execution count 1,
    as in a kernel of its own. A kernel that died is replaced by a new one. ``env`` (the report's
    variables for its kernels, such as the context cache; filled once the data is loaded) is put
    in the kernel's environment before each notebook: the kernel may have started before.
    """

    def __init__(self, cwd: Path, env: dict | None = None):
        self.cwd = cwd
        self.env = env
        self.km = None
        self.runs = 0

    @staticmethod
    def _run(result):
        """Wait for ``result`` (a coroutine of the async kernel manager or client, or a value) on
        this thread's event loop, the one nbclient runs the notebook on."""
        from jupyter_core.utils import ensure_async, run_sync

        return run_sync(ensure_async)(result)

    def _ensure(self, cwd: Path) -> None:
        """A live kernel started in ``cwd``."""
        if self.km is not None and (cwd != self.cwd or not self._run(self.km.is_alive())):
            self.close()
        self.cwd = cwd
        if self.km is None:
            self.km = _quiet_kernel_manager(self.cwd)(kernel_name="python3")
            self._run(self.km.start_kernel(extra_arguments=list(_KERNEL_ARGS)))
            self.runs = 0

    def _silent(self, code: str) -> bool:
        """Run ``code`` in the kernel without output or history; True when it succeeded."""
        kc = self.km.client()
        kc.start_channels()
        try:
            self._run(kc.wait_for_ready(timeout=60))
            reply = self._run(kc.execute_interactive(code, silent=True, store_history=False, timeout=60))
            return reply["content"].get("status") == "ok"
        except Exception:  # pragma: no cover - a broken kernel
            return False
        finally:
            kc.stop_channels()

    def warm(self, cwd: Path) -> None:
        """Start the kernel now and import the package in it (:data:`_WARM_UP`), while the
        report still loads the data: the first notebook then starts, like every later one, in a
        kernel that has it imported, reset to a new kernel's state."""
        try:
            self._ensure(cwd)
            self._silent(_WARM_UP)
            self.runs = max(self.runs, 1)  # the next notebook starts from a reset
        except Exception:  # pragma: no cover - the first notebook starts a kernel itself
            self.close()

    def client(self, cwd: Path):
        """A client for the next notebook, of a live kernel started in ``cwd`` and in the state of a
        new one (nbclient starts the client)."""
        self._ensure(cwd)
        fresh = (f"import os as _os\n_os.environ.update({dict(self.env)!r})\n" if self.env else "") + _FRESH_STATE
        if self.runs and not self._silent(fresh):  # pragma: no cover - a broken kernel
            self.close()
            return self.client(cwd)
        self.runs += 1
        kc = self.km.handoff = self.km.client()  # nbclient takes this one (and starts it)
        return kc

    def close(self) -> None:
        if self.km is not None:
            try:
                self._run((self.km.shutdown_kernel(now=True)))
            except Exception:  # pragma: no cover - already gone
                pass
            self.km = None


_ENGINE = "revops-report"


@functools.lru_cache(maxsize=None)
def _register_engine() -> str:
    """papermill's nbclient engine, writing the executed notebook when it ends instead of after
    every cell's start and end: papermill's own saves re-encode the growing notebook (figures
    included) some fifty times per page, ~0.5 s of CPU per notebook in the report process. The
    executed notebook is the same: papermill writes it at the end, with the error banner when a
    cell failed, and this engine writes it when the engine itself fails (a kernel that died keeps
    the outputs it had, as papermill's per-cell saves kept them)."""
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.iorw import write_ipynb

    class FinalSaveEngine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, **kwargs):
            try:
                return super().execute_notebook(nb, kernel_name, output_path=None, **kwargs)
            except Exception:
                if output_path:
                    write_ipynb(nb, output_path)
                raise

    papermill_engines.register(_ENGINE, FinalSaveEngine)
    return _ENGINE


def _execute(nb: Path, dest: Path, parameters: dict, cwd: Path, env_cache: str | None,
             slot: _KernelSlot | None = None) -> _NotebookRun:
    """Execute ``nb`` into ``dest`` with papermill: in a kernel of its own, or in ``slot``'s."""
    import papermill as pm

    t0 = time.perf_counter()
    kc = None
    try:
        if slot is None:
            kernel = dict(kernel_manager_class=_quiet_kernel_manager(cwd))
        else:
            kc = slot.client(cwd)
            kernel = dict(km=slot.km)
        pm.execute_notebook(str(nb), str(dest), parameters=parameters, kernel_name="python3",
                            engine_name=_register_engine(), progress_bar=False, log_output=False, **kernel)
        error = None
    except Exception as exc:  # papermill raises PapermillExecutionError with the cell's traceback
        error = _failure_text(exc, dest)
    finally:
        if kc is not None:
            kc.stop_channels()
    return _NotebookRun(nb.name, time.perf_counter() - t0, error)


#: Run the slow notebooks first so that the parallel workers finish together; the executive
#: summary last.
_ORDER = ("50_forecast", "45_churn", "40_customer_success", "10_revenue", "70_data_quality", "20_sales",
          "60_finance", "30_marketing", "00_overview", "00_executive_summary")

#: Notebooks that start only once the report has computed the scorecard and put it in the context
#: cache: the executive summary shows that scorecard, the data-quality page's trend is the
#: scorecard's data-quality pass rates of the same periods, and the overview shows the validation
#: summary of the dataset the report validated (:func:`_precompute_shared`). Without the wait they
#: would compute the same frames again in their kernels.
_WAIT_FOR_SHARED = ("00_executive_summary", "70_data_quality", "00_overview")


def _precompute_shared(ctx) -> None:
    """Frames the report computes once for the notebooks (beside the scorecard)."""
    from .io import validation_summary
    from .views.overview import VALIDATION

    ctx.precompute(VALIDATION, lambda: validation_summary(ctx.data))


def _schedule(nbs: list[Path]) -> list[Path]:
    rank = {name: i for i, name in enumerate(_ORDER)}
    return sorted(nbs, key=lambda nb: (rank.get(nb.stem, len(_ORDER) // 2), nb.name))


class _Workers:
    """``jobs`` worker threads that run notebooks (see :meth:`run`). With reused kernels each
    worker starts its kernel as soon as it is created and, with ``warm``, imports the package in
    it (:meth:`_KernelSlot.warm`): the report creates the workers before it loads and validates
    the data, so the kernels start meanwhile. :meth:`cancel` stops them when the report fails
    before running anything."""

    def __init__(self, jobs: int, n: int, *, reuse_kernels: bool, cwd: Path, warm: bool = False,
                 env: dict | None = None):
        self._go = threading.Event()
        self._cancelled = False
        self._job = None
        self._threads = [threading.Thread(target=self._worker, args=(reuse_kernels, cwd, warm, env), daemon=True,
                                          name=f"report-worker-{i}")
                         for i in range(max(1, min(int(jobs), n)))]
        for t in self._threads:
            t.start()

    def _worker(self, reuse_kernels: bool, cwd: Path, warm: bool, env: dict | None) -> None:
        slot = _KernelSlot(cwd, env) if reuse_kernels else None
        try:
            if slot is not None and warm:
                slot.warm(cwd)
            self._go.wait()
            if self._cancelled:
                return
            take, run_one, done = self._job
            while (nb := take()) is not None:
                try:
                    done.put((run_one(nb, slot), None))
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    done.put((None, exc))
        finally:
            if slot is not None:
                slot.close()

    def cancel(self) -> None:
        self._cancelled = True
        self._go.set()
        for t in self._threads:
            t.join()

    def run(self, order: list[Path], run_one, ready: threading.Event, on_done) -> list:
        """``run_one(nb, slot)`` for every notebook of ``order``, taking them in order; a notebook
        of :data:`_WAIT_FOR_SHARED` is taken only once ``ready`` is set (meanwhile a free worker
        takes the next notebook that need not wait). ``on_done(result)`` is called in the caller's
        thread as each one finishes."""
        import queue

        pending = list(order)
        lock = threading.Lock()
        done: queue.Queue = queue.Queue()

        def take():
            while True:
                with lock:
                    if not pending:
                        return None
                    nb = next((n for n in pending if ready.is_set() or n.stem not in _WAIT_FOR_SHARED), None)
                    if nb is not None:
                        pending.remove(nb)
                        return nb
                ready.wait(0.05)

        self._job = (take, run_one, done)
        self._go.set()
        results, error = [], None
        for _ in order:
            result, exc = done.get()
            if exc is not None:
                error = error or exc
                continue
            results.append(result)
            on_done(result)
        for t in self._threads:
            t.join()
        if error is not None:
            raise error
        return results


def _run_scheduled(order: list[Path], run_one, jobs: int, ready: threading.Event, on_done,
                   reuse_kernels: bool = False) -> list:
    """:meth:`_Workers.run` on new workers (no warm-up)."""
    return _Workers(jobs, len(order), reuse_kernels=reuse_kernels, cwd=order[0].parent).run(
        order, run_one, ready, on_done)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _clean_stale(out_root: Path, max_age_hours: float = 12.0) -> list[str]:
    """Remove ``.tmp-*`` / ``.old-*`` folders left by runs that were killed: their process is gone
    (the pid is in the name) or they are older than ``max_age_hours``. A running report's folder is
    kept."""
    removed = []
    now = time.time()
    for d in out_root.glob(".tmp-*"):
        removed += _maybe_remove(d, now, max_age_hours)
    for d in out_root.glob(".old-*"):
        removed += _maybe_remove(d, now, max_age_hours)
    return removed


def _maybe_remove(d: Path, now: float, max_age_hours: float) -> list[str]:
    if not d.is_dir():
        return []
    pid = None
    for part in d.name.split("-"):
        if part.startswith("pid") and part[3:].isdigit():
            pid = int(part[3:])
    try:
        age_h = (now - d.stat().st_mtime) / 3600
    except OSError:
        return []
    if pid == os.getpid():  # this process's own run (another thread): never stale
        return []
    stale = pid is None or not _pid_alive(pid) or age_h > max_age_hours
    if stale:
        shutil.rmtree(d, ignore_errors=True)
        return [d.name]
    return []


class _Lock:
    """An exclusive lock on ``<out>/.<period>.lock`` (POSIX ``flock``) held while a run swaps its
    folder into place, so that two runs finishing at once take turns instead of colliding."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = None

    def __enter__(self):
        self.fh = open(self.path, "a+")
        try:
            import fcntl

            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows: the rename retry below still applies
            pass
        return self

    def __exit__(self, *exc):
        try:
            import fcntl

            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
        except ImportError:  # pragma: no cover
            pass
        self.fh.close()


def _render_pages(folder: Path, runs: list[_NotebookRun], nav, p: Period, footer: str) -> list[tuple[str, str]]:
    pages = []
    for r in runs:
        if r.error is not None or not (folder / r.name).exists():
            continue
        name = r.name.replace(".ipynb", "")
        href = f"{name}.html"
        body = r.body if r.body is not None else _notebook_html(folder / r.name)
        (folder / href).write_text(html_page(f"{_title(name)} — {p}", body, nav, footer), encoding="utf-8")
        pages.append((name, href))
    return pages


def run_report(period: str | Period | None = None, *, data: str | Path = SAMPLE_DIR,
               out: str | Path = "reports", policy: str = "default", as_of: str | None = None,
               currency: str = "USD", fiscal_year_start: int = 1, jobs: int = 1,
               notebooks: list[Path] | None = None, progress: bool = True,
               engine: str | None = None, reuse_kernels: bool = True) -> Path:
    """Run the report for ``period`` and return the report folder.

    The dataset is loaded, validated and put in the reporting currency once
    (:func:`~revops_kit.views.context.open_report`); the notebooks receive that context through a
    cache file keyed by the input hash instead of loading again.

    Parameters
    ----------
    period : str or Period, optional
        Defaults to the data's last full quarter.
    data : path
        Dataset folder (validated before anything is written).
    out : path
        Parent folder of the per-period report folders.
    jobs : int
        Notebooks executed in parallel.
    engine : {"auto", "pandas", "sql"} or None
        ``"sql"`` keeps subscriptions in the database (``rk.load(..., engine="sql")``): each
        notebook kernel reopens the table and computes the month grid and its KPIs there; what
        needs the rows in memory is a data note, and ``kpis.csv`` leaves it out (listed in the
        index and ``manifest.json`` ``kpis_skipped``). ``manifest.json`` ``sql_engine`` counts
        the rows every process fetched from the subscriptions table.
    reuse_kernels : bool
        Run each worker's notebooks one after another in one kernel, reset to a new kernel's state
        before each notebook (empty namespace, execution count 1; the imported modules stay), instead
        of starting a kernel per notebook: the executed notebooks are the same, and the report
        saves the kernel start and the imports of every notebook but the first of each worker.
        ``False`` gives each notebook a kernel of its own.

    Raises
    ------
    SchemaError, PeriodError
        Bad data or period; nothing is written.
    ReportError
        A notebook failed: the previous report is left intact; the pages that succeeded, an index
        listing the failures and the failed notebooks' executed copies are in
        ``<out>/<period>.failed/``. ``error.failures`` lists ``(notebook, "Type: message (cell N)")``.
    """
    t_start = time.perf_counter()
    # A database URL stays a string; a folder, DuckDB or mapping file becomes an absolute path so
    # that notebooks (run with their own working directory) find it.
    data_ref = str(data) if "://" in str(data) else str(Path(data).resolve())
    pol = get_policy(policy)
    nb_dir = NOTEBOOK_DIR
    nbs = sorted(notebooks) if notebooks is not None else sorted(nb_dir.glob("[0-9]*.ipynb"))
    order = _schedule(nbs)
    # The workers' kernels start, and import the package, while the data is loaded and validated;
    # the environment the report sets for its kernels afterwards (the context cache ...) reaches
    # them through kernel_env.
    kernel_env: dict = {}
    workers = _Workers(jobs, len(order), reuse_kernels=reuse_kernels, cwd=order[0].parent, warm=True,
                       env=kernel_env) if order else None
    try:
        return _run(workers, order, nbs, nb_dir, data_ref, period, pol, currency, as_of, fiscal_year_start,
                    out, t_start, progress, engine, kernel_env)
    finally:
        if workers is not None:
            workers.cancel()  # a run that failed before its notebooks: stop the kernels started


def _run(workers, order, nbs, nb_dir, data_ref, period, pol, currency, as_of, fiscal_year_start, out,
         t_start, progress, engine, kernel_env: dict) -> Path:
    """:func:`run_report` once its workers exist (they start their kernels meanwhile)."""
    from .adapters.warehouse import is_database
    from .views.context import CACHE_ENV, _cache_key, open_report

    ctx = open_report(data_ref, period, policy=pol, currency=currency, as_of=as_of,
                      fiscal_year_start=fiscal_year_start, setup=False, engine=engine)
    dataset, p = ctx.data, ctx.period
    if not nbs:
        raise ReportError(f"no notebooks found in {nb_dir}")
    parameters = {"period": str(p), "data": data_ref, "as_of": as_of or str(p.end.date()),
                  "policy": pol.name, "currency": ctx.currency, "fiscal_year_start": int(fiscal_year_start)}

    out_root = Path(out).resolve()
    out_root.mkdir(parents=True, exist_ok=True)
    stale = _clean_stale(out_root)
    final = out_root / str(p)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{p}-pid{os.getpid()}-", dir=out_root))
    cache_file = tmp / ".context.pkl"
    key = _cache_key(data_ref, str(p), pol.name, ctx.currency, fiscal_year_start)
    ctx.save(cache_file, key)
    sql_log = _SQLFetchLog(dataset, tmp)
    old_env = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(cache_file)  # kernels inherit the environment when they start
    # the workers' kernels started before: they get the report's variables before each notebook
    kernel_env.update({k: os.environ[k] for k in (CACHE_ENV, sql_log.env) if k in os.environ})
    try:
        runs: list[_NotebookRun] = []
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(nbs), desc=f"report {p}", unit="notebook", file=sys.stderr)
        skipped: list[str] = []
        kpi_result: dict = {}
        shared_ready = threading.Event()

        def kpis_job():
            # The index's scorecard and the KPI export, computed in their own thread while the
            # notebooks run (they take no notebook slot), sharing the KPI values both need. The
            # scorecard goes into the cache first: the notebooks of _WAIT_FOR_SHARED start once it
            # is there.
            from .targets import shared_kpi_results

            try:
                with shared_kpi_results(), warnings.catch_warnings(record=True) as caught_score:
                    warnings.simplefilter("always")
                    try:
                        kpi_result["score_html"] = _scorecard_section(ctx)
                    except RevOpsError as exc:
                        kpi_result["score_html"] = f"<h2>Scorecard</h2><p class=\"muted\">Not computed: {html.escape(str(exc))}</p>"
                    _precompute_shared(ctx)
                    ctx.save(cache_file, key)
                    shared_ready.set()
                    with warnings.catch_warnings(record=True) as caught_table:
                        warnings.simplefilter("always")
                        kpi_result["table"] = kpi_table(dataset, p, policy=ctx.policy, skipped=skipped)
                kpi_result["warnings"] = list(dict.fromkeys(
                    str(w.message) for w in [*caught_table, *caught_score] if issubclass(w.category, RevOpsWarning)))
            except BaseException as exc:  # noqa: BLE001 - re-raised by the main thread
                kpi_result["error"] = exc
            finally:
                shared_ready.set()

        def run_one(nb: Path, slot) -> _NotebookRun:
            run = _execute(nb, tmp / nb.name, parameters, nb.parent, str(cache_file), slot)
            if run.error is None and (tmp / nb.name).exists():
                run.body = _notebook_html(tmp / nb.name)  # while the other notebooks still run
            return run

        def on_done(run: _NotebookRun) -> None:
            runs.append(run)
            if bar is not None:
                bar.set_postfix_str(f"{run.name} {'failed' if run.error else 'ok'}")
                bar.update(1)

        kthread = threading.Thread(target=kpis_job, daemon=True, name="report-kpis")
        kthread.start()
        workers.run(order, run_one, shared_ready, on_done)
        kthread.join()
        if "error" in kpi_result:
            raise kpi_result["error"]
        if bar is not None:
            bar.close()
        runs.sort(key=lambda r: r.name)
        failed = [r for r in runs if r.error]

        nav_runs = [r for r in runs if not r.error]
        nav = [("Index", "index.html")] + [(_title(r.name.replace(".ipynb", "")), r.name.replace(".ipynb", ".html"))
                                           for r in nav_runs]
        footer = html.escape(f"revops-kit {_versions()['revops-kit']} · data {dataset.source} · "
                             f"policy {pol.name} · currency {ctx.currency} · period {p} "
                             f"({p.start.date()} – {p.end.date()} exclusive)")
        pages = _render_pages(tmp, runs, nav, p, footer)
        table = kpi_result["table"]
        write_kpis(table, tmp, skipped=skipped, period=p)
        index_body = _index_body(p, kpi_result["score_html"], pages, skipped,
                                 [(r.name, r.error) for r in failed])
        title = f"RevOps report {p}" + (" — FAILED" if failed else "")
        (tmp / "index.html").write_text(html_page(title, index_body, nav, footer), encoding="utf-8")
        manifest = {
            "period": str(p),
            "period_start": str(p.start.date()),
            "period_end_exclusive": str(p.end.date()),
            "parameters": parameters,
            "policy": pol.to_dict(),
            "reporting_currency": ctx.currency,
            "tables": ctx.tables,
            "versions": _versions(),
            "inputs": _input_hashes(data_ref, is_database(data_ref)),
            "notebooks": [{"name": r.name, "seconds": round(r.seconds, 2), "error": r.error} for r in runs],
            "kpis_skipped": skipped,
            "kpi_warnings": kpi_result.get("warnings", []),
            "load_notes": dataset.notes,
            **sql_log.manifest(),
            "stale_folders_removed": stale,
            "seconds_total": round(time.perf_counter() - t_start, 2),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n",
                                           encoding="utf-8")
        cache_file.unlink(missing_ok=True)
        with _Lock(out_root / f".{p}.lock"):
            if failed:
                failed_dir = out_root / f"{p}.failed"
                _swap_into_place(tmp, failed_dir)
                lines = [f"{r.name}: {r.error}" for r in failed]
                err = ReportError(
                    f"report {p}: {len(failed)} notebook(s) failed:\n  " + "\n  ".join(lines) +
                    f"\nThe pages that succeeded and the failed notebooks (with the error) are in "
                    f"{failed_dir}; the previous report in {final} is unchanged.")
                err.failures = [(r.name, r.error) for r in failed]
                err.folder = failed_dir
                raise err
            _swap_into_place(tmp, final)
            shutil.rmtree(out_root / f"{p}.failed", ignore_errors=True)
        return final
    finally:
        sql_log.close()
        if old_env is None:
            os.environ.pop(CACHE_ENV, None)
        else:
            os.environ[CACHE_ENV] = old_env
        shutil.rmtree(tmp, ignore_errors=True)


class _SQLFetchLog:
    """With subscriptions in a database (engine="sql"): every process of the run (this one and
    the notebook kernels, which inherit the environment) logs the rows each query fetched, and
    the manifest records the totals (``sql_engine``: queries, rows fetched, the largest single
    fetch after loading, processes; the queries this process ran while loading, before the log
    existed, are one line from its counters). Nothing happens on the pandas engine."""

    def __init__(self, dataset: RevOpsData, folder: Path):
        from .engines import is_sql
        from .engines.sql.table import FETCH_LOG_ENV

        self.env = FETCH_LOG_ENV
        self.subs = dataset.subscriptions if is_sql(dataset.subscriptions) else None
        self.path = folder / ".sql-fetches.tsv" if self.subs is not None else None
        self.old = os.environ.get(self.env)
        if self.path is not None:
            os.environ[self.env] = str(self.path)
            with open(self.path, "w", encoding="utf-8") as fh:  # the loading queries, as one line
                fh.write(f"{os.getpid()}\t{self.subs.rows_fetched}\t{self.subs.queries}\n")

    def manifest(self) -> dict:
        if self.subs is None:
            return {"engine": "pandas"}
        lines = [line.split("\t") for line in
                 (self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else [])]
        single = [int(f[1]) for f in lines if len(f) == 2]  # one line per query
        loading = [(int(f[1]), int(f[2])) for f in lines if len(f) == 3]  # rows, queries
        return {"engine": "sql", "sql_engine": {
            "source": self.subs.source, "rows_in_table": len(self.subs),
            "queries": len(single) + sum(q for _, q in loading),
            "rows_fetched": sum(single) + sum(r for r, _ in loading),
            "largest_fetch_after_loading": max(single, default=0),
            "processes": len({f[0] for f in lines})}}

    def close(self) -> None:
        if self.path is None:
            return
        if self.old is None:
            os.environ.pop(self.env, None)
        else:
            os.environ[self.env] = self.old


def _title(name: str) -> str:
    words = name.split("_", 1)[-1].replace("_", " ")
    return words[:1].upper() + words[1:]


def _skipped_html(skipped: list[str]) -> str:
    """The KPIs not computed, grouped by what they lack (:attr:`~revops_kit.catalog.SkippedKPI.needs`:
    "need the table `subscriptions`: mrr, arr, ..."), other reasons listed one per KPI."""
    if not skipped:
        return ""
    groups: dict[str, list[str]] = {}
    for entry in skipped:
        kpi, _, reason = entry.partition(": ")
        needs = getattr(entry, "needs", "")
        key = f"need {needs}" if needs else (reason.strip() or "not computed")
        groups.setdefault(key, []).append(kpi)
    items = "".join(f"<li>{html.escape(key)}: {html.escape(', '.join(ids))}</li>"
                    for key, ids in sorted(groups.items(), key=lambda kv: -len(kv[1])))
    return (f"<h2>Not computed ({len(skipped)} KPIs)</h2><p class=\"muted\">The dataset lacks what these "
            f"KPIs need; everything else in this report is computed.</p><ul class=\"muted\">{items}</ul>")


def _index_body(p: Period, score_html: str, pages: list[tuple[str, str]], skipped: list[str],
                failures: list[tuple[str, str]] | None = None) -> str:
    links = "".join(f'<li><a href="{html.escape(href)}">{html.escape(_title(n))}</a></li>'
                    for n, href in pages)
    failed_html = ""
    if failures:
        items = "".join(f"<li><b>{html.escape(n)}</b>: {html.escape(e or '')} — its executed copy with the "
                        f"error is in this folder.</li>" for n, e in failures)
        failed_html = (f"<h2>Failed</h2><p>These notebooks failed; the report was not published and the "
                       f"previous one is unchanged.</p><ul>{items}</ul>")
    skipped_html = _skipped_html(skipped)
    return (f"{failed_html}<p class=\"muted\">Period {html.escape(str(p))}: {p.start.date()} to {p.end.date()} "
            "(exclusive). Values are at period end or over the period; changes are against the "
            f"previous period.</p>{score_html}"
            f"<h2>Sections</h2><ul>{links}</ul>"
            "<p class=\"muted\">Also here: kpis.csv, kpis.json (every KPI with numerator and "
            "denominator) and manifest.json (versions, parameters, input hashes, timings).</p>"
            f"{skipped_html}")


def _swap_into_place(tmp: Path, final: Path) -> None:
    """Replace ``final`` by ``tmp`` (callers hold the period's lock). A folder another process put
    back in between is moved aside too, so the rename never meets a non-empty target."""
    olds = []
    for attempt in range(5):
        if final.exists():
            old = final.with_name(f".old-{final.name}-pid{os.getpid()}-{attempt}-{time.time_ns()}")
            try:
                final.rename(old)
                olds.append(old)
            except FileNotFoundError:
                pass
        try:
            tmp.rename(final)
            break
        except OSError:
            if attempt == 4:
                if olds and not final.exists():
                    olds[-1].rename(final)
                    olds.pop()
                raise
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)
