"""``archiver history log|rebuild``: the git history of the archived versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import ArchiverError, UsageError
from .archive import SOURCE_TYPES
from .base import ArchiverGroup, CommandEnv, absolute, open_existing_ledger, pass_env
from .params import ObjectId, ObjectRef

if TYPE_CHECKING:
    from ..config import Settings
    from ..ledger import Ledger


@click.group("history", cls=ArchiverGroup, short_help="The git history of archived versions.")
def history_group() -> None:
    """The history repository (HISTORY_REPO, branch HISTORY_BRANCH): every archived version
    as one commit, kept by the worker."""


@history_group.command("log", short_help="An object's archived versions and their commits.")
@click.argument("ref", metavar="ID", type=ObjectId())
@click.option(
    "--source",
    type=click.Choice(SOURCE_TYPES),
    help="Only versions of this source (by default: the source the ledger knows the id from).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print a JSON array of {"versionId", "author", "date", "archiveKey", "commit"}.',
)
@pass_env
def log_command(env: CommandEnv, ref: ObjectRef, source: str | None, as_json: bool) -> None:
    """List the archived versions of ID, oldest first: each version's commit in the
    history, its author and date (from Genesys Cloud) and the archive holding it. A
    version the worker has not committed yet shows no commit.

    ID is a UUID, or a unique prefix (8 characters or more) or exact name of an object the
    ledger knows. Reads only: never creates a ledger. Exit 1 when no archive holds ID.
    """
    from ..ledger import history

    settings = env.settings
    source = source or ref.source_type
    with open_existing_ledger(settings) as ledger:
        rows = history.history_log(ledger, ref.id, source) + _waiting(
            ledger, settings, ref.id, source
        )
    if not rows:
        raise ArchiverError(f"no archived version of {ref.name or ref.id} in the ledger")
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        commit = row["commit"] or "(not committed yet)"
        click.echo(f"{commit}  {row['date']}  {row['versionId']}  {row['author']}")


def _waiting(
    ledger: Ledger, settings: Settings, object_id: str, source: str | None
) -> list[dict[str, Any]]:
    """The versions of the object's archives the history has not committed yet (read from
    cold storage, as the lane will commit them)."""
    from ..history.replay import Replay
    from ..ledger import history

    replay = Replay(settings.archive_dir)
    replay.learn(
        row
        for row in history.all_commits(ledger)
        if row.object_id == object_id and source in (None, row.source_type)
    )
    found = []
    for item in history.pending_of(ledger, object_id, source):
        for change in replay.changes(item):
            if change.version_id is not None:
                found.append(
                    {
                        "versionId": change.version_id,
                        "author": change.author.name,
                        "date": _date(change.when),
                        "archiveKey": change.archive_key,
                        "commit": None,
                    }
                )
    return found


def _date(when: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@history_group.command("rebuild", short_help="Build the history repository anew.")
@click.option(
    "--to",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="PATH",
    help="Build a new bare repository at PATH (absent or an empty folder) instead of "
    "rebuilding HISTORY_REPO in place.",
)
@pass_env
def rebuild_command(env: CommandEnv, to: Path | None) -> None:
    """Build the history anew from the ledger and cold storage: every archive and deletion,
    in order, with the same commit ids as the live history (each one the ledger recorded is
    checked; exit 1 at the first that differs), then the commits of versions the worker has
    not committed yet (it records them as they are). Print the branch's head commit.

    Without --to, HISTORY_REPO is rebuilt in place: the new history is built beside it,
    then its objects are added and the branch moved in one step, under the lock the
    worker takes, so a running worker never sees a half-built history.
    """
    from ..history.rebuild import rebuild

    settings = env.settings
    if to is None and settings.history_repo is None:
        raise UsageError("HISTORY_REPO is empty (no history): give --to PATH to build one")
    repo = to or settings.history_repo
    assert repo is not None
    with open_existing_ledger(settings) as ledger:
        done = rebuild(
            ledger,
            archive_dir=settings.archive_dir,
            repo=absolute(repo),
            branch=settings.history_branch,
            to=absolute(to) if to else None,
        )
    click.echo(
        f"rebuilt {done.path}: {done.commits} commit(s), branch {done.branch}"
        f" at {done.head or 'nothing (no version committed yet)'}",
        err=True,
    )
    if done.head:
        click.echo(done.head)
