"""``archiver archive``: one strategy or flow, now, in the foreground."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..genesys.sources import SOURCE_TYPES
from ..ledger import deletions
from ..outbound.settings import outbound_from
from .base import ArchiverCommand, CommandEnv, pass_env, setup_logs, warn
from .params import ObjectId, ObjectRef

if TYPE_CHECKING:
    from ..config import Settings
    from ..ledger import Ledger


@click.command("archive", cls=ArchiverCommand, short_help="Archive one flow or strategy now.")
@click.argument("ref", metavar="ID", type=ObjectId())
@click.option(
    "--source",
    type=click.Choice(SOURCE_TYPES),
    default="flow",
    show_default=True,
    help="What the id names (flow: the one source every org has; an id given by prefix or"
    " name: the source the ledger knows it from).",
)
@click.option("--full", is_flag=True, help="Archive every version again, not only new ones.")
@pass_env
@click.pass_context
def archive_command(
    ctx: click.Context, env: CommandEnv, ref: ObjectRef, source: str, full: bool
) -> None:
    """Archive one flow or routing strategy ID now, with progress on a terminal. ID is a
    UUID, or a unique prefix (8 characters or more) or exact name of an object the ledger
    knows.

    Prints one summary line naming the archive (its id, its key and its document); a
    version entry that fails validation is left out, named on stderr, and tried again on
    the next run.
    """
    from ..archive import open_archiver, summary_line
    from ..archive.gone import ObjectDeleted
    from ..progress import TerminalProgress

    settings = env.settings
    setup_logs(settings, "cli", quiet=True)
    strategy_id = ref.id
    defaulted = ctx.get_parameter_source("source") is click.ParameterSource.DEFAULT
    if ref.source_type in SOURCE_TYPES and defaulted:
        source = ref.source_type
    progress = TerminalProgress()
    try:
        with open_archiver(settings) as archiver:
            try:
                run = archiver.run(strategy_id, source, full=full, progress=progress)
            except ObjectDeleted as gone:
                progress.clear()
                _deleted(settings, archiver.ledger, strategy_id, source, str(gone))
                return
    finally:
        progress.clear()
    click.echo(summary_line(run, settings))
    for entry in run.skipped:  # archived without them; tried again on the next run
        warn(
            f"left out version {entry.version_id} of {run.source_type} "
            f"{run.strategy_id}: {entry.reason}"
        )


def _deleted(
    settings: Settings, ledger: Ledger, strategy_id: str, source_type: str, reason: str
) -> None:
    """A deleted object is no failure (exit 0): the deletion is recorded (and announced
    once, as a job would), its archives stay, and the operator is told so."""
    deletions.mark_deleted(
        ledger,
        strategy_id,
        source_type,
        reason=reason,
        notify=outbound_from(settings).names,
    )
    deletion = deletions.deletion(ledger, strategy_id, source_type)
    since = f" since {deletion.deleted_at}" if deletion else ""
    by = f" by {deletion.deleted_by}" if deletion and deletion.deleted_by else ""
    click.echo(
        f"{source_type} {strategy_id} is deleted in Genesys Cloud{since}{by}: nothing to "
        f"archive; its archives stay ({reason})"
    )
