"""``revops churn ...`` commands."""

from __future__ import annotations

import click

__all__ = ["churn_cli"]


@click.group("churn")
def churn_cli():
    """Train, evaluate and score churn models."""
