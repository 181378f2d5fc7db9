"""Options and error handling shared by every ``revops`` command (main CLI and subgroups).

Exit codes: 0 success; 1 bad data or a failed run (the message names table, column and rows);
2 usage (unknown option, malformed ``--period``, ``--out`` naming a file ...). The top-level group
(:class:`RevOpsGroup`) turns every :class:`~revops_kit.errors.RevOpsError` into ``error: <message>``
and any other exception into ``internal error: <type>: <message>`` with a hint to rerun with
``revops --debug``, which shows the traceback instead.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click

from ..errors import PeriodError, RevOpsError
from ..io import SAMPLE_DIR
from ..periods import Period

__all__ = ["RevOpsGroup", "data_options", "engine_option", "load_data", "handle_errors", "fail", "period_option",
           "out_folder", "resolve_period", "note"]


def fail(message: str, code: int = 1):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def note(message: str) -> None:
    """A line on stderr that does not change the exit code (skipped KPIs, default period ...)."""
    click.echo(f"note: {message}", err=True)


def _debug(ctx: click.Context | None) -> bool:
    root = ctx.find_root() if ctx is not None else None
    return bool((root is not None and root.meta.get("revops.debug")) or os.environ.get("REVOPS_DEBUG"))


class RevOpsGroup(click.Group):
    """A click group whose commands never print a Python traceback (unless ``--debug``)."""

    def invoke(self, ctx: click.Context):
        import warnings

        from ..errors import RevOpsWarning

        caught: list = []
        try:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", RevOpsWarning)
                    return super().invoke(ctx)
            finally:
                # Outside the recording block: a re-emitted warning must reach stderr, not be
                # appended to the list being walked (that loop never ended).
                _show_warnings(caught)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except RevOpsError as exc:
            if _debug(ctx):
                raise
            fail(str(exc))
        except KeyboardInterrupt:
            raise click.exceptions.Abort() from None
        except Exception as exc:  # the net under every known case: no traceback, a hint instead
            if _debug(ctx):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            click.echo(f"internal error: {type(exc).__name__}: {first}", err=True)
            click.echo("  (this is a bug or an unforeseen input; rerun with `revops --debug ...` to see "
                       "the traceback, and report it)", err=True)
            sys.exit(1)


def _show_warnings(caught) -> None:
    """RevOpsWarnings as ``warning: ...`` lines on stderr (each text once); others re-emitted."""
    import warnings

    from ..errors import RevOpsWarning

    seen = set()
    for w in caught:
        if issubclass(w.category, RevOpsWarning):
            text = str(w.message)
            if text not in seen:
                seen.add(text)
                click.echo(f"warning: {text}", err=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def handle_errors(func):
    """Turn RevOpsError into a one-line (or table) message on stderr and exit code 1 (commands of
    a :class:`RevOpsGroup` get this already; kept for commands used on their own)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RevOpsError as exc:
            if _debug(click.get_current_context(silent=True)):
                raise
            fail(str(exc))

    return wrapper


def _check_period(ctx, param, value):
    if value is None:
        return None
    try:
        Period.parse(value)
    except PeriodError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


def period_option(help: str = "2025-Q4, 2025-12, 2025, FY2025 (default: the data's last full quarter)."):
    """``--period/-p``; a malformed label is a usage error (exit 2)."""
    return click.option("--period", "-p", default=None, callback=_check_period, help=help)


def _check_out(ctx, param, value):
    if value is None:
        return None
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise click.BadParameter(f"{value!r} is an existing file; --out names a folder", ctx=ctx, param=param)
    if path.is_symlink() and not path.exists():
        raise click.BadParameter(f"{value!r} is a dangling or looping symbolic link", ctx=ctx, param=param)
    return value


def out_folder(default: str | None, help: str):
    """``--out`` naming a folder; an existing file there is a usage error (exit 2)."""
    return click.option("--out", default=default, show_default=default is not None, callback=_check_out,
                        help=help)


def resolve_period(dataset, period: str | None, *, kind: str = "quarter", fiscal_year_start: int = 1,
                   quiet: bool = False):
    """The explicit ``--period`` checked against the data, or the default with a note on stderr
    saying which table and row decided it (and which far-future rows were left out)."""
    if period is not None:
        return dataset.check_period(period, fiscal_year_start=fiscal_year_start)
    p = dataset.latest_full_period(kind)
    if not quiet:
        note(dataset.default_period_note(kind))
    return p


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

        from ..adapters.mapping import load_mapping

        load_mapping(mapping)  # fails early, naming the file, table and key
        spec = yaml.safe_load(Path(mapping).read_bytes())
        source = data if "://" in data else str(Path(data).resolve())
        folder = Path(tempfile.mkdtemp(prefix="revops-mapping-"))
        click.get_current_context().call_on_close(lambda: shutil.rmtree(folder, ignore_errors=True))
        out = folder / f"{Path(mapping).stem}.yaml"
        tables = spec["tables"]
        base = Path(mapping).resolve().parent
        for tspec in tables.values():  # join files are found beside the mapping or in the data
            for js in (tspec.get("join") or []) if isinstance(tspec, dict) else []:
                if isinstance(js, dict) and "file" in js and not Path(str(js["file"])).is_absolute():
                    candidate = base / str(js["file"])
                    if candidate.exists() and not (Path(source) / str(js["file"])).exists():
                        js["file"] = str(candidate)
        out.write_text(yaml.safe_dump({"source": source, "tables": tables}, sort_keys=False,
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


def load_data(data: str, *, validate: bool = True, engine: str | None = None):
    """Load ``--data`` the same way for every command (folder, DuckDB file, URL or mapping).

    ``engine`` (``--engine``): ``"sql"`` keeps subscriptions in the database and computes the
    month grid there; ``None``/``"auto"`` lets a large database pick it (the choice is said on
    stderr)."""
    from ..engines import check_engine, is_sql
    from ..io import load

    dataset = load(data, validate=validate, engine=check_engine(engine))
    if is_sql(dataset.subscriptions):
        note(next((n for n in dataset.notes if "engine='sql'" in n),
                  "subscriptions are computed in the database (engine='sql')"))
    return dataset


def engine_option(func):
    """``--engine auto|pandas|sql`` (see :mod:`revops_kit.engines`)."""
    return click.option(
        "--engine", "engine", type=click.Choice(["auto", "pandas", "sql"]), default="auto",
        show_default=True,
        help="pandas: read every table into memory. sql: keep subscriptions in the database "
             "(or scan subscriptions.parquet with DuckDB) and compute MRR, bridge, churn, "
             "retention and cohorts there (needs the [sql] extra). auto: sql for a database "
             "whose subscriptions table has more than 5M rows.")(func)
