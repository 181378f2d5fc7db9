"""The ``revops`` command line: sample | validate | kpis | report | docs | forecast | churn.

Exit codes: 0 success, 1 bad data / failed run (the message names table, column and rows),
2 usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pandas as pd

from .cli_options import data_options, handle_errors, load_data
from .cli_options import fail as _fail
from .errors import SchemaError
from .io import SAMPLE_DIR

__all__ = ["main", "data_options", "load_data"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="revops-kit")
def main():
    """revops-kit: RevOps KPIs, forecasts, churn models and per-period reports."""


@main.command()
@click.option("--out", default=str(SAMPLE_DIR), show_default="data/sample", help="Output folder.")
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--customers", "n_customers", default=2400, show_default=True, type=int)
@handle_errors
def sample(out: str, seed: int, n_customers: int):
    """Generate the deterministic synthetic sample company."""
    from .sample import write_sample

    counts = write_sample(out, seed=seed, n_customers=n_customers)
    for name, n in counts.items():
        click.echo(f"{name:<22}{n:>9,} rows")
    click.echo(f"wrote {len(counts)} tables to {out}")


@main.command()
@data_options
@handle_errors
def validate(data: str):
    """Validate a dataset; exit 1 with a table of every failure."""
    try:
        dataset = load_data(data)
    except SchemaError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    cov = dataset.coverage()
    cov = cov[cov["present"]]
    click.echo(f"dataset {data}: {len(cov)} table(s), all checks passed")
    for r in cov.itertuples(index=False):
        rng = "" if pd.isna(r.first) else f"{r.first.date()} .. {r.last.date()}"
        click.echo(f"  {r.table:<22}{r.rows:>9,} rows  {rng}")
    for note in dataset.notes:
        click.echo(f"  note: {note}")


@main.command()
@data_options
@click.option("--period", "-p", default=None, help="2025-Q4, 2025-12, 2025, FY2025 (default: last full quarter).")
@click.option("--by", default=None, help="Group by a column (segment, region, product, currency, owner ...).")
@click.option("--kpi", "kpi_ids", multiple=True, help="Only these KPI ids (repeatable).")
@click.option("--policy", default="default", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--list", "list_only", is_flag=True, help="List the catalogue instead.")
@handle_errors
def kpis(data, period, by, kpi_ids, policy, fmt, list_only):
    """Print KPIs for a period in long format (period, kpi, group, value, numerator, denominator, unit)."""
    import revops_kit as rk  # registers every KPI module

    if list_only:
        frame = rk.catalog_frame()
    else:
        dataset = load_data(data)
        p = dataset.latest_full_period() if period is None else dataset.check_period(period)
        frame = rk.compute_kpis(dataset, p, list(kpi_ids) or None, by=by, policy=policy)
    _emit(frame, fmt)


def _emit(frame: pd.DataFrame, fmt: str) -> None:
    from .report import neutralise_formula

    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        click.echo(json.dumps(records, indent=1, ensure_ascii=False))
    elif fmt == "csv":
        safe = frame.copy()
        for col in safe.columns:
            if not pd.api.types.is_numeric_dtype(safe[col]):
                safe[col] = safe[col].astype(object).map(neutralise_formula)
        click.echo(safe.to_csv(index=False, float_format="%.10g", lineterminator="\n"), nl=False)
    else:
        with pd.option_context("display.max_rows", None, "display.width", 200,
                               "display.max_colwidth", 50):
            click.echo(frame.to_string(index=False))


@main.command()
@data_options
@click.option("--period", "-p", default=None, help="Default: the data's last full quarter.")
@click.option("--out", default="reports", show_default=True)
@click.option("--policy", default="default", show_default=True)
@click.option("--as-of", "as_of", default=None, help="Scoring date for models (default: period end).")
@click.option("--currency", default="USD", show_default=True)
@click.option("--fiscal-year-start", default=1, show_default=True, type=click.IntRange(1, 12))
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Notebooks run in parallel.")
@click.option("--quiet", is_flag=True, help="Print nothing on success (no progress bar either).")
@handle_errors
def report(data, period, out, policy, as_of, currency, fiscal_year_start, jobs, quiet):
    """Run every notebook for a period and write reports/<period>/.

    Any subset of tables gives a complete report (a section without its data says what it needs).
    When a notebook fails, the command exits 1, prints one line per failure
    (``notebook: ExceptionType: message (cell N)``), keeps the previous report and writes the pages
    that succeeded to reports/<period>.failed/.
    """
    from .report import run_report

    folder = run_report(period, data=data, out=out, policy=policy, as_of=as_of, currency=currency,
                        fiscal_year_start=fiscal_year_start, jobs=jobs, progress=not quiet)
    if not quiet:
        click.echo(f"report written to {folder}")


@main.command()
@data_options
@click.option("--period", "-p", default=None, help="Default: the data's last full quarter.")
@click.option("--as-of", "as_of", default=None,
              help="Judge a running period at this date (pace against pro-rated targets).")
@click.option("--policy", default="default", show_default=True)
@click.option("--currency", default="USD", show_default=True)
@handle_errors
def diagnose(data, period, as_of, policy, currency):
    """One-screen health check: core KPIs vs baseline and targets, the three weakest areas."""
    import warnings

    import revops_kit as rk  # registers every KPI module

    dataset = load_data(data)
    p = dataset.latest_full_period() if period is None else dataset.check_period(period)
    with warnings.catch_warnings():  # NaN KPIs show as "no data"; the reason is not needed here
        warnings.simplefilter("ignore", rk.RevOpsWarning)
        text = rk.diagnosis(dataset, p, as_of=as_of, policy=policy, currency=currency)
    click.echo(text)


@main.command()
@click.option("--out", default="docs/metrics.md", show_default=True)
@click.option("--check", is_flag=True, help="Exit 1 if the file is stale instead of writing it.")
def docs(out: str, check: bool):
    """Write docs/metrics.md from the KPI catalogue."""
    import revops_kit as rk

    text = rk.metrics_markdown()
    path = Path(out)
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            _fail(f"{out} is stale; run `make docs`")
        click.echo(f"{out} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out} ({len(rk.list_kpis())} KPIs)")


def _register_subcommands() -> None:
    from .churn.cli import churn_cli
    from .forecast.cli import forecast_cli

    main.add_command(forecast_cli)
    main.add_command(churn_cli)


_register_subcommands()

if __name__ == "__main__":  # pragma: no cover
    main()
