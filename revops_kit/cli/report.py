"""``revops report``: run every notebook for a period and write reports/<period>/."""

from __future__ import annotations

import click

from .options import data_options, engine_option, out_folder, period_option

__all__ = ["report", "COMMANDS"]


@click.command()
@data_options
@period_option("Default: the data's last full quarter.")
@out_folder("reports", "Folder the report is written under (reports/<period>/).")
@click.option("--policy", default="default", show_default=True)
@click.option("--as-of", "as_of", default=None, help="Scoring date for models (default: period end).")
@click.option("--currency", default="USD", show_default=True)
@click.option("--fiscal-year-start", default=1, show_default=True, type=click.IntRange(1, 12))
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Notebooks run in parallel.")
@engine_option
@click.option("--quiet", is_flag=True, help="Print nothing on success (no progress bar either).")
def report(data, period, out, policy, as_of, currency, fiscal_year_start, jobs, engine, quiet):
    """Run every notebook for a period and write reports/<period>/.

    Any subset of tables gives a complete report (a section without its data says what it needs).
    When a notebook fails, the command exits 1, prints one line per failure
    (``notebook: ExceptionType: message (cell N)``), keeps the previous report and writes the pages
    that succeeded to reports/<period>.failed/.

    With ``--engine sql`` subscriptions stay in the database: MRR, bridges, churn, retention and
    cohorts are computed there, and what needs the rows in memory (survival, contract terms,
    subscription data-quality checks) is named in each page's data notes instead.
    """
    from ..report import run_report

    folder = run_report(period, data=data, out=out, policy=policy, as_of=as_of, currency=currency,
                        fiscal_year_start=fiscal_year_start, jobs=jobs, progress=not quiet,
                        engine=None if engine == "auto" else engine)
    if not quiet:
        click.echo(f"report written to {folder}")


COMMANDS = (report,)
