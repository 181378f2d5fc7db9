"""``revops forecast ...`` commands: ``evaluate`` forecasting methods on a table of series."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import click
import pandas as pd

__all__ = ["forecast_cli", "format_evaluation"]

DEFAULT_METHODS = ("snaive", "theta", "auto")


@click.group("forecast")
def forecast_cli():
    """Forecast series and evaluate forecast accuracy."""


def _handle(func):
    from .options import handle_errors

    return handle_errors(func)


def format_evaluation(summary: pd.DataFrame, *, source: str, n_points: int, h: int,
                      season: int | None, wall: float) -> str:
    """The ``--format table`` text of ``revops forecast evaluate``."""
    levels = [c[len("coverage_"):] for c in summary.columns if c.startswith("coverage_")]
    lines = [f"series {source}: {int(summary['series'].iloc[0])} series, {n_points:,} points; "
             f"last {h} point(s) of each held out; season length "
             f"{season if season is not None else 'from the dates'}", ""]
    head = (f"  {'method':<9}{'sMAPE %':>9}{'MASE':>8}{'WAPE':>8}"
            + "".join(f"{'cover ' + lev + '%':>11}" for lev in levels)
            + f"{'fallbacks':>11}{'seconds':>9}")
    lines.append(head)
    for r in summary.to_dict("records"):
        lines.append(f"  {r['method']:<9}{r['smape']:>9.2f}{r['mase']:>8.3f}{r['wape']:>8.3f}"
                     + "".join(f"{r['coverage_' + lev]:>11.1%}" for lev in levels)
                     + f"{r['fallbacks']:>11d}{r['seconds']:>9.1f}")
    lines += ["", "sMAPE = mean over series of mean 200|y-f|/(|y|+|f|); MASE = mean over series of "
                  "MAE / in-sample seasonal-naive MAE; WAPE = sum|y-f| / sum|y| over all series "
                  "(pooled); seconds = wall time to fit and forecast every series",
              f"total {wall:.1f} s"]
    return "\n".join(lines)


@forecast_cli.command("evaluate")
@click.option("--series", "series_path", required=True, type=click.Path(dir_okay=False),
              help="CSV in long format: series_id,date,value.")
@click.option("--h", "h", required=True, type=click.IntRange(1, None),
              help="Points held out (and forecast) at the end of every series.")
@click.option("--season", default=None, type=click.IntRange(1, None),
              help="Season length (default: from the dates; 12 for months).")
@click.option("--method", "methods", multiple=True,
              help=f"Method to evaluate (repeatable; default {', '.join(DEFAULT_METHODS)}); "
                   "one of naive, snaive, ses, damped, theta, ets, arima, airline, auto, or 'all'.")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(-1, 64),
              help="Processes for fitting (-1 = every core).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def evaluate_cmd(series_path, h, season, methods, jobs, fmt):
    """Hold out the last H points of every series and score each method on them.

    Prints per method the mean sMAPE, mean MASE, pooled WAPE, interval coverage, the number of
    series where a simpler model was used, and the wall time.
    """
    _handle(_evaluate)(series_path, h, season, methods, jobs, fmt)


def _evaluate(series_path, h, season, methods, jobs, fmt):
    from ..errors import DataNotFoundError, ModelFallbackWarning
    from ..forecast.backtest import evaluate_holdout
    from ..forecast.models import METHODS, series_from_long

    path = Path(series_path)
    if not path.exists():
        raise DataNotFoundError(f"--series: file {str(path)!r} does not exist")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise DataNotFoundError(f"--series: {path.name} is not a readable CSV ({exc})") from None
    chosen = list(methods) or list(DEFAULT_METHODS)
    if "all" in chosen:
        chosen = list(METHODS)
    series = series_from_long(frame)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelFallbackWarning)  # counted in the fallbacks column
        result = evaluate_holdout(series, h, methods=chosen, season_length=season, n_jobs=jobs)
    wall = time.perf_counter() - start
    summary = result.summary
    if fmt == "json":
        records = json.loads(summary.to_json(orient="records"))
        click.echo(json.dumps({"series": str(path), "h": h, "season": season, "methods": records},
                              indent=1))
    else:
        click.echo(format_evaluation(summary, source=path.name, n_points=len(frame), h=h,
                                     season=season, wall=wall))
