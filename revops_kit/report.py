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

import hashlib
import html
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from .catalog import compute_kpis
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
    """Every catalogue KPI for ``period``; a KPI that cannot be computed on this dataset (missing
    table or column, not groupable, any data error) is left out and named in ``skipped`` — one
    KPI never sinks the report."""
    return compute_kpis(data, period, by=by, policy=policy, skipped=skipped,
                        skip_errors=(RevOpsError,))


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


def write_kpis(table: pd.DataFrame, folder: Path) -> None:
    """Write ``kpis.csv`` and ``kpis.json`` deterministically (sorted rows, fixed float format)."""
    safe = table.copy()
    for col in ("period", "kpi", "group", "unit"):
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
.rk-scorecard td{white-space:nowrap}.rk-scorecard td:first-child{white-space:normal}.jp-RenderedHTMLCommon{overflow-x:auto}
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
    body, _ = exporter.from_notebook_node(nb)
    return body


def _scorecard_section(data: RevOpsData, p: Period, *, as_of, policy, currency: str) -> str:
    """The executive scorecard (same as the executive summary notebook) and its key messages."""
    from .targets import key_messages, messages_html, scorecard, scorecard_html

    sc = scorecard(data, p, as_of=as_of, policy=policy)
    msgs = key_messages(sc, n=5, currency=currency)
    items = messages_html(msgs) if len(msgs) else ""
    trend = sc.attrs.get("trend_periods") or []
    span = (f"Trend: {html.escape(trend[0])} to {html.escape(trend[-1])}. ") if trend else ""
    legend = ("<p class=\"muted\">Attainment respects each KPI's good direction (lower is better for "
              "churn, DSO, CAC payback). Status: on track ≥ 100 %, at risk within 5 % below, off track "
              "otherwise. Changes are relative, or in percentage points for rates. "
              f"{span}Baseline: the target table's, else the mean of the four prior periods.</p>")
    moves = f"<h2>Largest movements and risks</h2>{items}" if items else ""
    return f"<h2>Scorecard</h2>{scorecard_html(sc, currency=currency)}{legend}{moves}"


# ---------------------------------------------------------------------- running
@dataclass
class _NotebookRun:
    name: str
    seconds: float
    error: str | None


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


def _execute(nb: Path, dest: Path, parameters: dict, cwd: Path) -> _NotebookRun:
    import papermill as pm

    t0 = time.perf_counter()
    try:
        pm.execute_notebook(str(nb), str(dest), parameters=parameters, kernel_name="python3",
                            progress_bar=False, cwd=str(cwd), log_output=False)
        error = None
    except Exception as exc:  # papermill raises PapermillExecutionError with the cell's traceback
        error = f"{type(exc).__name__}: {exc}"
    return _NotebookRun(nb.name, time.perf_counter() - t0, error)


def run_report(period: str | Period | None = None, *, data: str | Path = SAMPLE_DIR,
               out: str | Path = "reports", policy: str = "default", as_of: str | None = None,
               currency: str = "USD", fiscal_year_start: int = 1, jobs: int = 1,
               notebooks: list[Path] | None = None, progress: bool = True,
               engine: str | None = None) -> Path:
    """Run the report for ``period`` and return the report folder.

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
    engine : {"pandas", "sql"} or None
        How the dataset is loaded for the KPI export and scorecard (see ``rk.load``); passed to
        the notebooks as the parameter ``engine`` when given.

    Raises
    ------
    SchemaError, PeriodError
        Bad data or period; nothing is written.
    ReportError
        A notebook failed; the previous report is left intact and the failed notebook's executed
        copy is kept in ``<out>/<period>.failed/``.
    """
    t_start = time.perf_counter()
    from .adapters.warehouse import is_database

    # A database URL stays a string; a folder, DuckDB or mapping file becomes an absolute path so
    # that notebooks (run with their own working directory) find it.
    data_ref = str(data) if "://" in str(data) else str(Path(data).resolve())
    dataset = load(data_ref, engine=engine)  # engine="sql": KPI export computed in the database
    pol = get_policy(policy)
    if period is None:
        p = dataset.latest_full_period("quarter")
    else:
        p = dataset.check_period(period, fiscal_year_start=fiscal_year_start)
    nb_dir = NOTEBOOK_DIR
    nbs = sorted(notebooks) if notebooks is not None else sorted(nb_dir.glob("[0-9]*.ipynb"))
    if not nbs:
        raise ReportError(f"no notebooks found in {nb_dir}")
    parameters = {"period": str(p), "data": data_ref, "as_of": as_of or str(p.end.date()),
                  "policy": pol.name, "currency": currency, "fiscal_year_start": int(fiscal_year_start)}
    if engine is not None:  # notebooks that declare an `engine` parameter load with it
        parameters["engine"] = engine

    out_root = Path(out).resolve()
    out_root.mkdir(parents=True, exist_ok=True)
    final = out_root / str(p)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{p}-", dir=out_root))
    try:
        runs: list[_NotebookRun] = []
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(nbs), desc=f"report {p}", unit="notebook", file=sys.stderr)
        with ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
            futures = {pool.submit(_execute, nb, tmp / nb.name, parameters, nb.parent): nb for nb in nbs}
            for fut in as_completed(futures):
                run = fut.result()
                runs.append(run)
                if bar is not None:
                    bar.set_postfix_str(f"{run.name} {'failed' if run.error else 'ok'}")
                    bar.update(1)
        if bar is not None:
            bar.close()
        runs.sort(key=lambda r: r.name)
        failed = [r for r in runs if r.error]
        if failed:
            failed_dir = out_root / f"{p}.failed"
            shutil.rmtree(failed_dir, ignore_errors=True)
            failed_dir.mkdir()
            for r in failed:
                if (tmp / r.name).exists():
                    shutil.copy2(tmp / r.name, failed_dir / r.name)
            msg = "; ".join(f"{r.name}: {r.error.splitlines()[0] if r.error else ''}" for r in failed)
            raise ReportError(
                f"report {p}: {len(failed)} notebook(s) failed ({msg[:800]}). Executed copies with "
                f"the error are in {failed_dir}; the previous report in {final} is unchanged."
            )

        pages = [(r.name.replace(".ipynb", ""), r.name.replace(".ipynb", ".html")) for r in runs]
        nav = [("Index", "index.html")] + [(_title(n), href) for n, href in pages]
        footer = html.escape(f"revops-kit {_versions()['revops-kit']} · data {dataset.source} · "
                             f"policy {pol.name} · period {p} ({p.start.date()} – {p.end.date()} exclusive)")
        for name, href in pages:
            body = _notebook_html(tmp / f"{name}.ipynb")
            (tmp / href).write_text(html_page(f"{_title(name)} — {p}", body, nav, footer), encoding="utf-8")

        skipped: list[str] = []
        # A report records our warnings (zero denominators ...) in the manifest instead of
        # printing them: the numbers concerned are NaN in kpis.csv and "no data" in the scorecard.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RevOpsWarning)
            table = kpi_table(dataset, p, policy=pol, skipped=skipped)
            write_kpis(table, tmp)
            score_html = _scorecard_section(dataset, p, as_of=parameters["as_of"], policy=pol,
                                            currency=currency)
        kpi_warnings = list(dict.fromkeys(str(w.message) for w in caught
                                          if issubclass(w.category, RevOpsWarning)))
        index_body = _index_body(p, score_html, pages, skipped)
        (tmp / "index.html").write_text(html_page(f"RevOps report {p}", index_body, nav, footer),
                                        encoding="utf-8")
        manifest = {
            "period": str(p),
            "period_start": str(p.start.date()),
            "period_end_exclusive": str(p.end.date()),
            "parameters": parameters,
            "policy": pol.to_dict(),
            "versions": _versions(),
            "inputs": _input_hashes(data_ref, is_database(data_ref)),
            "notebooks": [{"name": r.name, "seconds": round(r.seconds, 2)} for r in runs],
            "kpis_skipped": skipped,
            "kpi_warnings": kpi_warnings,
            "load_notes": dataset.notes,
            "seconds_total": round(time.perf_counter() - t_start, 2),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n",
                                           encoding="utf-8")
        _swap_into_place(tmp, final)
        shutil.rmtree(out_root / f"{p}.failed", ignore_errors=True)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _title(name: str) -> str:
    words = name.split("_", 1)[-1].replace("_", " ")
    return words[:1].upper() + words[1:]


def _index_body(p: Period, score_html: str, pages: list[tuple[str, str]], skipped: list[str]) -> str:
    links = "".join(f'<li><a href="{html.escape(href)}">{html.escape(_title(n))}</a></li>'
                    for n, href in pages)
    skipped_html = ""
    if skipped:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in skipped)
        skipped_html = f"<h2>Not computed</h2><ul class=\"muted\">{items}</ul>"
    return (f"<p class=\"muted\">Period {html.escape(str(p))}: {p.start.date()} to {p.end.date()} "
            "(exclusive). Values are at period end or over the period; changes are against the "
            f"previous period.</p>{score_html}"
            f"<h2>Sections</h2><ul>{links}</ul>"
            "<p class=\"muted\">Also here: kpis.csv, kpis.json (every KPI with numerator and "
            "denominator) and manifest.json (versions, parameters, input hashes, timings).</p>"
            f"{skipped_html}")


def _swap_into_place(tmp: Path, final: Path) -> None:
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        final.rename(old)
    try:
        tmp.rename(final)
    except OSError:
        if old is not None:
            old.rename(final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
