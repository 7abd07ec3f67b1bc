"""``archiver sweep``: a job for every known strategy, and with ``--discover`` the org's."""

from __future__ import annotations

import click

from .base import ArchiverCommand, CommandEnv, pass_env, setup_logs, warn


@click.command("sweep", cls=ArchiverCommand, short_help="Queue a job for every known strategy.")
@click.option(
    "--discover",
    is_flag=True,
    help="First list every object of the org (every flow, all types, paged; routing "
    "strategies where the org has them) and queue those too.",
)
@pass_env
@click.pass_context
def sweep_command(ctx: click.Context, env: CommandEnv, discover: bool) -> None:
    """Queue a job for every strategy and flow the ledger knows (deleted ones passed over).

    A listing that fails is reported on one line and skipped, the others go on; the exit
    status is then 1 (a listing the org lacks, 404, is no failure).
    """
    from ..genesys.client import GenesysClient
    from ..genesys.sources import enabled_types
    from ..ledger import Ledger
    from ..progress import TerminalProgress
    from ..sweep import discover as discover_org
    from ..sweep import sweep_known

    settings = env.settings
    setup_logs(settings, "cli", quiet=True)
    enabled = enabled_types(settings.sources)
    found: list[tuple[str, str]] = []
    listed = True
    if discover:
        progress = TerminalProgress()
        try:
            with GenesysClient.from_settings(settings) as client:
                discovered = discover_org(client, progress, enabled=enabled)
        finally:
            progress.clear()
        for failure in discovered.failed:  # one line each, then on with the others
            warn(f"{failure.source_type} listing failed, skipped: {failure.reason}")
        # A listing the org lacks (404) is no failure; any other is, once the rest is done.
        listed = all(failure.absent for failure in discovered.failed)
        skipped = ""
        if discovered.skipped:
            skipped = f", skipped {len(discovered.skipped)} with a non-UUID id"
        click.echo(
            f"discovered {len(discovered.flows)} flow(s) and "
            f"{len(discovered.routing_strategies)} routing strategy(ies){skipped}"
        )
        found = discovered.all
    with Ledger.from_settings(settings) as ledger:
        result = sweep_known(ledger, found, enabled=enabled)
    click.echo(
        f"sweep: {result.strategies} strategies, {result.queued} job(s) queued, "
        f"{result.joined} joined a waiting job"
    )
    if not listed:  # a listing failed: the org was not wholly discovered
        ctx.exit(1)
