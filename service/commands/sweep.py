"""``archiver sweep``: a job for every known strategy, and with ``--discover`` the org's."""

from __future__ import annotations

import click

from .base import ArchiverCommand, CommandEnv, pass_env, setup_logs, warn


@click.command("sweep", cls=ArchiverCommand, short_help="Queue a job for every known strategy.")
@click.option(
    "--discover",
    is_flag=True,
    help="First list every object of every enabled source (every flow, all types; routing "
    "strategies where the org has them; queues, IVRs, schedules, groups, decision tables), "
    "each through all its pages, and queue those too.",
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
        click.echo(f"discovered {found_counts(discovered.by_source, enabled)}{skipped}")
        found = discovered.all
    with Ledger.from_settings(settings) as ledger:
        result = sweep_known(ledger, found, enabled=enabled)
    click.echo(
        f"sweep: {result.strategies} strategies, {result.queued} job(s) queued, "
        f"{result.joined} joined a waiting job"
    )
    if not listed:  # a listing failed: the org was not wholly discovered
        ctx.exit(1)


def found_counts(by_source: dict[str, list[tuple[str, str]]], enabled: tuple[str, ...]) -> str:
    """How many objects each enabled source listed, in the registry's order:
    ``4 flow(s), 0 routing strategy(ies) and 2 decision table(s)``."""
    from ..genesys.sources import SOURCES

    counts = []
    for source_type in enabled:
        label = SOURCES[source_type].label
        plural = "(ies)" if label.endswith("y") else "(s)"
        counts.append(f"{len(by_source.get(source_type, []))} {label}{plural}")
    if len(counts) == 1:
        return counts[0]
    return f"{', '.join(counts[:-1])} and {counts[-1]}"
