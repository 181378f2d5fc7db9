"""``revops kpis | diagnose | docs``: KPIs from the catalogue on a dataset."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from ..errors import MissingColumnError, MissingTableError, NotGroupableError
from .options import (data_options, engine_option, fail, load_data, note, period_option,
                      resolve_period)

__all__ = ["kpis", "diagnose", "docs", "compute_with_reasons", "COMMANDS"]

_REASONS = ((MissingTableError, "missing table"), (MissingColumnError, "missing optional column"),
            (NotGroupableError, "not groupable"))


def compute_with_reasons(dataset, period, kpi_ids, *, by, policy):
    """Compute the KPIs; returns ``(long frame, not_computed)`` where ``not_computed`` lists
    ``{"kpi", "reason", "detail"}`` for each KPI skipped (only when no ``kpi_ids`` were asked for:
    an explicitly requested KPI that cannot be computed is an error)."""
    import warnings

    import revops_kit as rk  # registers every KPI module

    explicit = bool(kpi_ids)
    entries = [rk.get_kpi(k) for k in kpi_ids] if explicit else rk.list_kpis()
    frames, skipped = [], []
    for kpi in entries:
        try:
            frames.append(kpi.compute(dataset, period, by=by, policy=policy))
        except tuple(t for t, _ in _REASONS) as exc:
            if explicit and not (by and isinstance(exc, NotGroupableError) and len(entries) > 1):
                raise
            reason = next(label for t, label in _REASONS if isinstance(exc, t))
            skipped.append({"kpi": kpi.id, "reason": reason, "detail": str(exc)})
    if not frames:
        return pd.DataFrame(columns=rk.LONG_COLUMNS), skipped
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # concat of all-NaN columns
        return pd.concat(frames, ignore_index=True), skipped


def _groupable_columns(dataset) -> list[str]:
    from ..schema import TABLES

    cols = set()
    for name, frame in dataset.tables().items():
        for c in frame.columns:
            spec = TABLES[name].col(c)
            if spec is None or spec.kind in ("str", "currency"):
                cols.add(c)
    return sorted(cols)


@click.command()
@data_options
@period_option()
@click.option("--by", default=None, help="Group by a column (segment, region, product, currency, owner ...).")
@click.option("--kpi", "kpi_ids", multiple=True, help="Only these KPI ids (repeatable).")
@click.option("--policy", default="default", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--list", "list_only", is_flag=True, help="List the catalogue instead.")
@engine_option
def kpis(data, period, by, kpi_ids, policy, fmt, list_only, engine):
    """Print KPIs for a period in long format (period, kpi, group, value, numerator, denominator, unit).

    Without --kpi every KPI the data allows is computed; the ones it does not allow are listed on
    stderr (and under "not_computed" with --format json) with the reason.
    """
    import revops_kit as rk  # registers every KPI module

    if list_only:
        _emit(rk.catalog_frame(), fmt)
        return
    policy_obj = rk.get_policy(policy)
    for kpi_id in kpi_ids:
        rk.get_kpi(kpi_id)  # unknown ids fail before loading
    dataset = load_data(data, engine=engine)
    p = resolve_period(dataset, period)
    frame, skipped = compute_with_reasons(dataset, p, list(kpi_ids), by=by, policy=policy_obj)
    if by and frame.empty and skipped and all(s["reason"] == "not groupable" for s in skipped):
        fail(f"--by {by}: no requested KPI can be grouped by {by!r}; columns available in this dataset: "
             f"{', '.join(_groupable_columns(dataset))}")
    for s in skipped:
        note(f"not computed: {s['kpi']} ({s['reason']}): {s['detail']}")
    if skipped:
        note(f"{len(frame['kpi'].unique()) if len(frame) else 0} KPI(s) computed, {len(skipped)} not computed")
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        click.echo(json.dumps({"period": str(p), "kpis": records, "not_computed": skipped}, indent=1,
                              ensure_ascii=False))
    else:
        _emit(frame, fmt)


def _emit(frame: pd.DataFrame, fmt: str) -> None:
    from ..report import neutralise_formula

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
        from ..formatting import text_table

        click.echo(text_table(frame))  # no index, no scientific notation, unknown as "—"


@click.command()
@data_options
@period_option("Default: the data's last full quarter.")
@click.option("--as-of", "as_of", default=None,
              help="Judge a running period at this date (pace against pro-rated targets).")
@click.option("--policy", default="default", show_default=True)
@click.option("--currency", default="USD", show_default=True,
              help="Report in this currency (amounts converted through fx_rates cross rates).")
def diagnose(data, period, as_of, policy, currency):
    """One-screen health check: core KPIs vs baseline and targets, the three weakest areas.

    \b
    Baseline: the target table's `baseline` for the KPI when given, else the mean
    of the KPI over the four prior periods (only fully known values).
    "vs base" / "vs prev": change against the baseline / previous period
    (relative, or in percentage points for rates). Weakest areas: only KPIs
    below target or worse than their baseline. A value with unknown amounts
    is marked * and no change is computed from it. See docs/scorecard.md.
    """
    import warnings

    import revops_kit as rk  # registers every KPI module

    if as_of is not None:
        try:
            pd.Timestamp(as_of)
        except (TypeError, ValueError):
            raise click.BadParameter(f"expected a date such as 2025-11-15, got {as_of!r}",
                                     param_hint="--as-of") from None
    dataset = load_data(data)
    p = resolve_period(dataset, period)
    with warnings.catch_warnings():  # NaN KPIs show as "no data"; the reason is not needed here
        warnings.simplefilter("ignore", rk.RevOpsWarning)
        text = rk.diagnosis(dataset, p, as_of=as_of, policy=policy, currency=currency)
    click.echo(text)


@click.command()
@click.option("--out", default="docs/metrics.md", show_default=True)
@click.option("--check", is_flag=True, help="Exit 1 if the file is stale instead of writing it.")
def docs(out: str, check: bool):
    """Write docs/metrics.md from the KPI catalogue."""
    import revops_kit as rk

    text = rk.metrics_markdown()
    path = Path(out)
    if path.is_dir():
        raise click.BadParameter(f"{out!r} is a folder; --out names a file", param_hint="--out")
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            fail(f"{out} is stale; run `make docs`")
        click.echo(f"{out} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out} ({len(rk.list_kpis())} KPIs)")


COMMANDS = (kpis, diagnose, docs)
