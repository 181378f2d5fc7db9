"""``revops sample | validate | map``: make, check and write canonical datasets."""

from __future__ import annotations

import click
import pandas as pd

from ..errors import SchemaError
from ..io import SAMPLE_DIR
from .options import data_options, load_data, out_folder

__all__ = ["sample", "validate", "map_cmd", "COMMANDS"]


@click.command()
@out_folder(str(SAMPLE_DIR), "Output folder.")
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--customers", "n_customers", default=2400, show_default=True, type=click.IntRange(1, None))
def sample(out: str, seed: int, n_customers: int):
    """Generate the deterministic synthetic sample company."""
    from ..sample import write_sample

    counts = write_sample(out, seed=seed, n_customers=n_customers)
    for name, n in counts.items():
        click.echo(f"{name:<22}{n:>9,} rows")
    click.echo(f"wrote {len(counts)} tables to {out}")


@click.command()
@data_options
def validate(data: str):
    """Validate a dataset; exit 1 with a table of every failure."""
    try:
        dataset = load_data(data)
    except SchemaError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    cov = dataset.coverage()
    cov = cov[cov["present"]]
    click.echo(f"dataset {data}: {len(cov)} table(s), all checks passed")
    for r in cov.itertuples(index=False):
        rng = "" if pd.isna(r.first) else f"{r.first.date()} .. {r.last.date()}"
        click.echo(f"  {r.table:<22}{r.rows:>9,} rows  {rng}")
    for line in dataset.notes:
        click.echo(f"  note: {line}")
    try:
        click.echo(f"  note: {dataset.default_period_note()}")
    except Exception:  # no dated rows: nothing to say about a default period
        pass


@click.command("map")
@data_options
@out_folder(None, "Folder to write the canonical <table>.csv files to (must not be an existing file).")
@click.option("--no-validate", "no_validate", is_flag=True, help="Write even if validation fails.")
def map_cmd(data: str, out: str | None, no_validate: bool):
    """Read a source through a mapping (--mapping, or --data mapping.yaml) and write the canonical
    tables to --out, to inspect and version them. Nothing is written if validation fails."""
    if out is None:
        raise click.UsageError("revops map needs --out DIR")
    try:
        dataset = load_data(data, validate=not no_validate)
    except SchemaError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    counts = dataset.save(out)
    for name, n in counts.items():
        click.echo(f"{name:<22}{n:>9,} rows")
    for line in dataset.notes:
        click.echo(f"  note: {line}")
    click.echo(f"wrote {len(counts)} table(s) to {out}")


COMMANDS = (sample, validate, map_cmd)
