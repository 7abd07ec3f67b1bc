"""``archiver show`` and ``archiver diff``: archived versions as the history keeps them.

Both read the ledger and cold storage only (no Genesys call, no ledger created) and print
the normalised documents of contract section 10, so what they show is what the history
repository holds.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from .archive import SOURCE_TYPES
from .base import ArchiverCommand, CommandEnv, open_existing_ledger, pass_env
from .params import ObjectId, ObjectRef

if TYPE_CHECKING:
    from ..history.documents import ArchivedVersion

_VERSION_HELP = "a version id as archived (2.0), or for a flow its bare number (2) too"

source_option = click.option(
    "--source",
    type=click.Choice(SOURCE_TYPES),
    help="Only archives of this source (by default: the source the ledger knows the id from,"
    " else that of the id's archives).",
)


@click.command("show", cls=ArchiverCommand, short_help="Print one archived version.")
@click.argument("ref", metavar="ID", type=ObjectId())
@click.option("--version", "version", metavar="V", help=f"The version: {_VERSION_HELP}.")
@source_option
@pass_env
def show_command(env: CommandEnv, ref: ObjectRef, version: str | None, source: str | None) -> None:
    """Print the normalised document of one archived version of ID (default: the newest),
    byte for byte the file the history commits for it. Reads cold storage and the ledger
    only: no Genesys call, never creates a ledger.

    ID is a UUID, or a unique prefix (8 characters or more) or exact name of an object the
    ledger knows. Exit 1 when no archive holds the version (or its document is missing).
    """
    (found,) = _versions(env, ref, source, [version])
    click.echo(found.content, nl=False)


@click.command("diff", cls=ArchiverCommand, short_help="Compare two archived versions.")
@click.argument("ref", metavar="ID", type=ObjectId())
@click.argument("version_a", metavar="VERSION_A")
@click.argument("version_b", metavar="VERSION_B")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print a JSON array of {"op": add|remove|replace, "path": JSON pointer, "old", "new"}.',
)
@source_option
@pass_env
def diff_command(
    env: CommandEnv,
    ref: ObjectRef,
    version_a: str,
    version_b: str,
    as_json: bool,
    source: str | None,
) -> None:
    """Compare two archived versions of ID: a unified diff of their normalised documents,
    headed a/<tree path>@<version A> and b/<tree path>@<version B> (each version's path in
    the history, under the name archived with it, and its id as archived); nothing when
    they are equal.

    With --json, one operation per change, in document order: "replace" with "old" and
    "new"; "add" with "new" alone; "remove" with "old" alone (a whole added or removed
    subtree is one operation at its path; arrays are compared index by index); [] when
    equal. Each version is a version id as archived (2.0), or for a flow its bare number
    (2) too. Exit 0 whether or not they differ; 1 when a version is not archived.

    ID is a UUID, or a unique prefix (8 characters or more) or exact name of an object the
    ledger knows.
    """
    from ..history.diff import json_changes, label, unified

    old, new = _versions(env, ref, source, [version_a, version_b])
    if as_json:
        text = json.dumps(json_changes(old.document, new.document), indent=2, ensure_ascii=False)
        click.echo(f"{text}\n".encode(), nl=False)
        return
    old_label = label("a", old.path, old.version_id)
    new_label = label("b", new.path, new.version_id)
    click.echo(unified(old.content, new.content, old_label, new_label).encode(), nl=False)


def _versions(
    env: CommandEnv,
    ref: ObjectRef,
    source: str | None,
    versions: list[str | None],
) -> list[ArchivedVersion]:
    """The archived versions asked for, from the ledger ``ARCHIVER_DB`` names (never
    created: exit 1 naming its path) and cold storage. ``--source`` filters the archives;
    without it an id the ledger knows is of its own source, and a bare UUID of whichever
    source its archives are."""
    from ..history.documents import archived_version

    settings = env.settings
    source_type = source or ref.source_type
    with open_existing_ledger(settings) as ledger:
        return [
            archived_version(ledger, settings.archive_dir, ref.id, version, source_type=source_type)
            for version in versions
        ]
