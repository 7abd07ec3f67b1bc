"""The reports: ``archiver report history|daily`` and ``archiver verify-archives``.

Built on the queries of ``service/reports``; they read the ledger and cold storage, never
create a ledger, and exit 1 when something fails to verify (or needs attention), for cron.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import click

from ..errors import ArchiverError, LedgerError, UsageError
from ..ledger import archives as ledger_archives
from .base import (
    ArchiverCommand,
    ArchiverGroup,
    CommandEnv,
    absolute,
    open_existing_ledger,
    pass_env,
    warn,
)
from .params import ObjectId, ObjectRef


@click.group("report", cls=ArchiverGroup)
def report_group() -> None:
    """Reports for reviewers and operators, in Markdown or JSON."""


@report_group.command("history", short_help="One strategy's whole history.")
@click.argument("ref", metavar="ID", type=ObjectId())
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of Markdown.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the report to FILE instead of stdout.",
)
@pass_env
@click.pass_context
def history_command(
    ctx: click.Context, env: CommandEnv, ref: ObjectRef, as_json: bool, out: Path | None
) -> None:
    """One strategy's (or flow's) whole history, for a compliance reviewer. ID is a UUID,
    or a unique prefix (8 characters or more) or exact name of an object the ledger knows.

    Oldest first throughout: every archived version with its dates and original author
    (read from the archive documents, each checked against its recorded SHA-256), the
    archives holding them, the events, jobs and deliveries, its audit entries, and whether
    the audit log's hash chain verifies. A document that is missing, altered or disagrees
    with the ledger is reported at the top and on stderr. Exit 1 when anything fails to
    verify or the strategy is unknown.
    """
    from ..reports.history import strategy_history
    from .report_markdown import render_history

    strategy_id = ref.id
    settings = env.settings
    with open_existing_ledger(settings) as ledger:
        history = strategy_history(ledger, absolute(settings.archive_dir), strategy_id)
    if history is None:
        raise LedgerError(f"strategy {strategy_id} is unknown to the ledger")
    text = json.dumps(history, indent=2) + "\n" if as_json else render_history(history)
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ArchiverError(f"cannot write {absolute(out)}: {exc.strerror}") from None
    else:
        click.echo(text, nl=False)
    for problem in history["problems"]:
        warn(f"FAILED VERIFICATION: {problem}")
    if history["problems"]:
        ctx.exit(1)


def parse_day(text: str | None, today: date) -> date:
    """``--date``: YYYY-MM-DD, ``today`` or ``yesterday`` (the default); not in the future."""
    if text is None or text == "yesterday":
        return today - timedelta(days=1)
    if text == "today":
        return today
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date must be YYYY-MM-DD, today or yesterday, got {text!r}") from None
    if len(text) != 10:
        raise UsageError(f"--date must be YYYY-MM-DD, today or yesterday, got {text!r}")
    if day > today:
        raise UsageError(f"--date {text} is in the future (today is {today.isoformat()} UTC)")
    return day


@report_group.command("daily", short_help="One UTC day, and what needs attention.")
@click.option(
    "--date",
    "day",
    metavar="YYYY-MM-DD|today|yesterday",
    help="The UTC day to summarise (default: yesterday, the last complete day).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of Markdown.")
@pass_env
@click.pass_context
def daily_command(ctx: click.Context, env: CommandEnv, day: str | None, as_json: bool) -> None:
    """One UTC day's archives, jobs, events and deliveries, and what needs attention.

    Needs attention: jobs that died that day, dead deliveries, documents or an audit chain
    that fail to verify, and (whatever day they were made) archives refused by the archival
    endpoint or pending there for over an hour. Exit 1 when something needs attention.
    """
    from ..clock import utcnow
    from ..reports.summary import daily_summary
    from .report_markdown import render_daily

    now = utcnow()
    which = parse_day(day, now.date())
    settings = env.settings
    with open_existing_ledger(settings) as ledger:
        summary = daily_summary(ledger, absolute(settings.archive_dir), which, now=now)
    text = json.dumps(summary, indent=2) + "\n" if as_json else render_daily(summary)
    click.echo(text, nl=False)
    if summary["attention"]:
        ctx.exit(1)


@click.command("verify-archives", cls=ArchiverCommand, short_help="Check every archive document.")
@pass_env
@click.pass_context
def verify_archives_command(ctx: click.Context, env: CommandEnv) -> None:
    """Re-hash every archive document in cold storage and compare it with the ledger.

    Prints a MISMATCH line for each document that is missing or does not match its
    recorded SHA-256, then the counts; exit 1 when any does, or when the archive folder
    itself is missing (one line naming it).
    """
    from ..archive.store import read_document, require_folder
    from ..errors import StorageError

    settings = env.settings
    archive_dir = absolute(settings.archive_dir)
    with open_existing_ledger(settings) as ledger:
        archives = ledger_archives.list_archives(ledger)
    if archives:  # not one MISMATCH per document: the folder itself is missing (exit 1)
        require_folder(archive_dir)
    bad = []
    for archive in archives:
        try:
            read_document(archive_dir, archive.location, archive.sha256)
        except StorageError as exc:
            bad.append(f"{archive.id} ({archive.strategy_name}): {exc}")
    for line in bad:
        click.echo(f"MISMATCH {line}")
    click.echo(f"{len(archives)} archive document(s) checked, {len(bad)} bad")
    if bad:
        ctx.exit(1)
