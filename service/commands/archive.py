"""``archiver archive``: one strategy or flow, now, in the foreground."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .base import ArchiverCommand, CommandEnv, pass_env, setup_logs, warn

if TYPE_CHECKING:
    from ..config import Settings
    from ..ledger import Ledger

SOURCE_TYPES = ("flow", "routing-strategy")


@click.command("archive", cls=ArchiverCommand, short_help="Archive one flow or strategy now.")
@click.argument("strategy_id", metavar="ID")
@click.option(
    "--source",
    type=click.Choice(SOURCE_TYPES),
    default="flow",
    show_default=True,
    help="What the id names (flow: the one source every org has).",
)
@click.option("--full", is_flag=True, help="Archive every version again, not only new ones.")
@pass_env
def archive_command(env: CommandEnv, strategy_id: str, source: str, full: bool) -> None:
    """Archive one flow or routing strategy ID (a UUID) now, with progress on a terminal.

    Prints one summary line naming the archive document; a version entry that fails
    validation is left out, named on stderr, and tried again on the next run.
    """
    from ..archive import open_archiver, summary_line
    from ..archive.gone import ObjectDeleted
    from ..ids import require_uuid
    from ..progress import TerminalProgress

    settings = env.settings
    setup_logs(settings, "cli", quiet=True)
    strategy_id = require_uuid(strategy_id)
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
    ledger.mark_deleted(
        strategy_id,
        source_type,
        reason=reason,
        notify=[target.name for target in settings.vcs_targets],
    )
    deletion = ledger.deletion(strategy_id, source_type)
    since = f" since {deletion.deleted_at}" if deletion else ""
    by = f" by {deletion.deleted_by}" if deletion and deletion.deleted_by else ""
    click.echo(
        f"{source_type} {strategy_id} is deleted in Genesys Cloud{since}{by}: nothing to "
        f"archive; its archives stay ({reason})"
    )
