"""``archiver audit verify``: the audit log's hash chain."""

from __future__ import annotations

import click

from ..ledger import audit
from .base import ArchiverGroup, CommandEnv, open_existing_ledger, pass_env, warn
from .params import AuditHead


@click.group("audit", cls=ArchiverGroup, short_help="The audit log.")
def audit_group() -> None:
    """The audit log: every event, job, archive, delivery and admin action, hash-chained."""


@audit_group.command("verify", short_help="Check the audit log's hash chain.")
@click.option(
    "--expect-head",
    type=AuditHead(),
    metavar="SEQ:HASH",
    help="A head printed by an earlier verify and kept outside the ledger: exit 1 unless "
    "the log still holds that entry unchanged.",
)
@pass_env
@click.pass_context
def verify_command(
    ctx: click.Context, env: CommandEnv, expect_head: tuple[int, str] | None
) -> None:
    """Check the hash chain and its head; exit 1 naming the first entry altered, inserted
    or removed. On success, print the head to record outside the ledger."""
    with open_existing_ledger(env.settings) as ledger:
        check = audit.check_audit(ledger, expect_head=expect_head)
    if check.problem:
        warn(f"audit log broken: {check.problem}")
        ctx.exit(1)
    click.echo(f"{check.entries} entries, hash chain intact")
    if expect_head:
        click.echo(f"recorded head {expect_head[0]} found unchanged")
    click.echo(f"head {check.head}")
