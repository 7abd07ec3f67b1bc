"""``archiver demo``: the whole pipeline, end to end, on embedded defaults."""

from __future__ import annotations

import click

from .base import ArchiverCommand


@click.command("demo", cls=ArchiverCommand, short_help="The whole pipeline, end to end.")
@click.pass_context
def demo_command(ctx: click.Context) -> None:
    """Run the whole pipeline on embedded defaults, end to end, and print a summary.

    Starts the simulator, the web process and a worker, publishes versions, and leaves
    what it made under var/demo; no setting of yours is read.
    """
    from ..demo import run_demo

    ctx.exit(run_demo())
