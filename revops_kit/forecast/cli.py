"""``revops forecast ...`` commands."""

from __future__ import annotations

import click

__all__ = ["forecast_cli"]


@click.group("forecast")
def forecast_cli():
    """Forecast series and evaluate forecast accuracy."""
