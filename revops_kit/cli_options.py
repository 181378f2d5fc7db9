"""Options and error handling shared by every ``revops`` command (main CLI and subgroups)."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from .errors import RevOpsError
from .io import SAMPLE_DIR

__all__ = ["data_options", "load_data", "handle_errors", "fail"]


def fail(message: str, code: int = 1):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func):
    """Turn RevOpsError into a one-line (or table) message on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RevOpsError as exc:
            fail(str(exc))

    return wrapper


def data_options(func):
    """The ``--data`` and ``--mapping`` options shared by every command that reads a dataset.

    ``--data`` is a folder of table files, a DuckDB file, a database URL or a mapping YAML with a
    ``source:``. ``--mapping`` applies a declarative column mapping to ``--data``: the command
    receives, as ``data``, a generated mapping file whose ``source`` is ``--data`` (removed when the
    command ends), so every consumer of ``data`` — loading, reports, notebooks — reads the same.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        mapping = kwargs.pop("mapping", None)
        if mapping is not None:
            try:
                kwargs["data"] = _with_mapping(kwargs["data"], mapping)
            except RevOpsError as exc:
                fail(str(exc))
        return func(*args, **kwargs)

    def _with_mapping(data: str, mapping: str) -> str:
        import shutil
        import tempfile

        import yaml

        from .adapters.mapping import load_mapping

        load_mapping(mapping)  # fails early, naming the file, table and key
        spec = yaml.safe_load(Path(mapping).read_text(encoding="utf-8"))
        source = data if "://" in data else str(Path(data).resolve())
        folder = Path(tempfile.mkdtemp(prefix="revops-mapping-"))
        click.get_current_context().call_on_close(lambda: shutil.rmtree(folder, ignore_errors=True))
        out = folder / f"{Path(mapping).stem}.yaml"
        out.write_text(yaml.safe_dump({"source": source, "tables": spec["tables"]}, sort_keys=False,
                                      allow_unicode=True), encoding="utf-8")
        return str(out)

    wrapper = click.option(
        "--mapping", "mapping", default=None, type=click.Path(exists=True, dir_okay=False),
        help="YAML column mapping for sources not named like the canonical tables "
             "(see revops_kit.adapters.mapping).")(wrapper)
    wrapper = click.option(
        "--data", "data", default=str(SAMPLE_DIR), show_default="data/sample",
        help="Dataset: a folder of <table>.csv/.parquet files, a DuckDB file (*.duckdb), a database "
             "URL (postgresql://user@host/db, duckdb:///file.duckdb) or a mapping YAML with a source.")(wrapper)
    return wrapper


def load_data(data: str, *, validate: bool = True):
    """Load ``--data`` the same way for every command (folder, DuckDB file, URL or mapping)."""
    from .io import load

    return load(data, validate=validate)
