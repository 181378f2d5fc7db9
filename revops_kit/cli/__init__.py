"""The ``revops`` command line: sample | validate | map | kpis | diagnose | docs | report | forecast | churn.

One module per subcommand group (:mod:`.data`, :mod:`.kpis`, :mod:`.report`, :mod:`.forecast`,
:mod:`.churn`), all built on the shared :mod:`.options`. The CLI sits on top of every layer and
imports only downward; no model or metric package imports it.

Exit codes: 0 success, 1 bad data / failed run (the message names table, column and rows),
2 usage error (including a malformed ``--period``). No command prints a Python traceback: an
unexpected exception becomes ``internal error: <type>: <message>``; ``revops --debug ...`` shows
the traceback instead.
"""

from __future__ import annotations

import click

from .options import RevOpsGroup, data_options, handle_errors, load_data

__all__ = ["main", "data_options", "load_data", "handle_errors"]


@click.group(cls=RevOpsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="revops-kit")
@click.option("--debug", is_flag=True, help="Show the Python traceback of an unexpected error.")
@click.pass_context
def main(ctx: click.Context, debug: bool):
    """revops-kit: RevOps KPIs, forecasts, churn models and per-period reports."""
    ctx.meta["revops.debug"] = debug


def _register() -> None:
    from . import churn, data, forecast, kpis, report

    for module in (data, kpis, report):
        for command in module.COMMANDS:
            main.add_command(command)
    main.add_command(forecast.forecast_cli)
    main.add_command(churn.churn_cli)


_register()
