"""``revops churn ...`` commands: ``evaluate`` any customer table, ``score`` a dataset."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from .options import data_options

__all__ = ["churn_cli", "format_evaluation"]


@click.group("churn")
def churn_cli():
    """Train, evaluate and score churn models."""


def _handle(func):
    from .options import handle_errors

    return handle_errors(func)


def format_evaluation(result, source: str) -> str:
    """The ``--format table`` text of ``revops churn evaluate``."""
    from ..churn.evaluate import METRICS

    p = result.prepared
    lines = [f"table {source}: {p.rows_in:,} rows x {p.columns_in} columns; {len(p.y):,} rows used",
             f"target {p.target!r}: positive = {p.positive!r}, {p.positives:,} positives "
             f"({p.prevalence:.1%})",
             f"features: {len(p.numeric)} numeric, {len(p.categorical)} categorical", "",
             "what was done to each column:"]
    rep = p.report
    width = max(8, min(28, int(rep["column"].map(len).max()) + 2))
    awidth = max(8, int(rep["action"].map(len).max()) + 2)
    for r in rep.itertuples(index=False):
        lines.append(f"  {r.column:<{width}}{r.action:<{awidth}}{r.detail}")
    lines += ["", f"cross-validation: {result.cv.cv} stratified folds, seed {result.cv.seed} "
                  "(mean ± std over folds; baseline = training-fold churn rate for everyone)"]
    header = f"  {'model':<10}" + "".join(f"{m:>18}" for m in METRICS)
    lines.append(header)
    for row in result.cv.summary.itertuples(index=False):
        r = row._asdict()
        cells = "".join(f"{r[f'{m}_mean']:>11.3f} ± {r[f'{m}_std']:<4.3f}" for m in METRICS)
        lines.append(f"  {r['model']:<10}{cells}")
    return "\n".join(lines)


@churn_cli.command("evaluate")
@click.option("--table", "table", required=True, type=click.Path(dir_okay=False),
              help="CSV with one row per customer.")
@click.option("--target", required=True, help="Label column (churned or not).")
@click.option("--positive", default=None, help="Target value meaning churned (default: yes/true/1).")
@click.option("--id", "id_column", default=None, help="Customer id column (not a feature).")
@click.option("--cv", default=5, show_default=True, type=click.IntRange(2, 50), help="Folds.")
@click.option("--seed", default=42, show_default=True, type=int, help="Seed of folds and models.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def evaluate_cmd(table, target, positive, id_column, cv, seed, fmt):
    """Cross-validate both churn models on any customer table and report what was cleaned."""

    @_handle
    def run():
        from ..churn.table import evaluate_table, read_table

        frame = read_table(table)
        result = evaluate_table(frame, target, positive=positive, id_column=id_column, cv=cv, seed=seed)
        if fmt == "json":
            click.echo(json.dumps(result.as_dict(source=str(table)), indent=1, ensure_ascii=False))
        else:
            click.echo(format_evaluation(result, str(table)))

    run()


@churn_cli.command("score")
@data_options
@click.option("--as-of", "as_of", required=True, help="Scoring date (YYYY-MM-DD).")
@click.option("--model", "kind", type=click.Choice(["logistic", "gbm"]), default="logistic",
              show_default=True)
@click.option("--horizon", "horizon", default=3, show_default=True, type=click.IntRange(1, 24),
              help="Months ahead.")
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="Write the risk table as CSV here (default: print the top 20).")
@click.option("--seed", default=0, show_default=True, type=int)
def score_cmd(data, as_of, kind, horizon, out, seed):
    """Write the churn risk table (probability, ARR at risk, renewal date, drivers) at --as-of."""

    @_handle
    def run():
        from .options import load_data
        from ..report import neutralise_formula
        from ..churn.scoring import risk_table

        dataset = load_data(data)
        try:
            when = pd.Timestamp(as_of)
        except (TypeError, ValueError):
            raise click.BadParameter(f"expected a date such as 2026-01-01, got {as_of!r}",
                                     param_hint="--as-of") from None
        risk = risk_table(dataset, when, kind=kind, horizon_months=horizon, random_state=seed)
        if out:
            safe = risk.copy()
            for col in safe.columns:
                if not pd.api.types.is_numeric_dtype(safe[col]) and not \
                        pd.api.types.is_datetime64_any_dtype(safe[col]):
                    safe[col] = safe[col].astype(object).map(neutralise_formula)
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            safe.to_csv(out, index=False, float_format="%.6g", date_format="%Y-%m-%d", lineterminator="\n")
            total = float(risk["arr_at_risk"].sum())
            click.echo(f"wrote {len(risk):,} accounts to {out}; ARR at risk {total:,.0f} "
                       f"({kind}, {horizon}-month horizon, as of {when.date()})")
        else:
            shown = risk.head(20).copy()
            with pd.option_context("display.width", 200, "display.max_colwidth", 60):
                click.echo(shown.drop(columns=["top_drivers"]).to_string(index=False))

    run()
