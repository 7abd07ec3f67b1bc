"""``archiver ledger KIND``: what the ledger holds, as a table or JSON."""

from __future__ import annotations

import json

import click

from ..reports.listings import DEFAULT_LIMIT, KINDS, STATUSES, listing
from .base import ArchiverCommand, CommandEnv, open_existing_ledger, pass_env
from .params import ObjectId, ObjectRef, Since

_STATUS_HELP = "; ".join(f"{kind}: {', '.join(values)}" for kind, values in STATUSES.items())


@click.command("ledger", cls=ArchiverCommand, short_help="List what the ledger holds.")
@click.argument("kind", type=click.Choice(list(KINDS)), metavar="KIND")
@click.option(
    "--strategy",
    type=ObjectId(),
    metavar="ID",
    help="Only this strategy or flow: a UUID, a unique prefix (8 characters or more) or a name.",
)
@click.option(
    "--status",
    metavar="S",
    help=f"Only this state (archives: submission; jobs and deliveries: state). {_STATUS_HELP}.",
)
@click.option("--since", type=Since(), metavar="ISO", help="Only since this ISO-8601 time (UTC).")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=DEFAULT_LIMIT,
    show_default=True,
    metavar="N",
    help="At most N rows, newest first (0: all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_env
def ledger_command(
    env: CommandEnv,
    kind: str,
    strategy: ObjectRef | None,
    status: str | None,
    since: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List what the ledger holds, newest first, as a table or JSON. KIND is one of
    strategies, archives, jobs, events, deliveries, audit.

    Reads only: never creates a ledger (exit 1 naming the path it looked for).
    """
    from ..reports.render import render_table

    with open_existing_ledger(env.settings) as ledger:
        rows = listing(
            ledger,
            kind,
            strategy_id=strategy.id if strategy else None,
            status=status,
            since=since,
            limit=limit or None,
        )
    click.echo(json.dumps(rows, indent=2) if as_json else render_table(kind, rows))
