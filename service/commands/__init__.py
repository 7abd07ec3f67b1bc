"""The ``archiver`` command line: one click group, a module per area of commands.

Each command is a thin function over one call of the service; ``base`` holds what they
share (the settings, read once, and one line per error). Exit status: 0 done, 1 the
operation failed, 2 usage or configuration error.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from .archive import archive_command
from .audit import audit_group
from .backup import backup_command
from .base import ArchiverGroup
from .demo import demo_command
from .history import history_group
from .ledger import ledger_command
from .outbox import outbox_group
from .reports import report_group, verify_archives_command
from .show import diff_command, show_command
from .simulate import simulate_command
from .sweep import sweep_command
from .web import web_command
from .worker import worker_command

PACKAGE = "genesys-strategy-archiver"

EPILOG = """\
Settings come from the environment, and from a file .env in the current folder when there
is one (the environment wins). The main ones: ARCHIVER_DB (the ledger, default
var/ledger.db), ARCHIVE_DIR (cold storage, default var/archive), GENESYS_REGION,
GENESYS_API_URL, GENESYS_LOGIN_URL, GENESYS_CLIENT_ID, GENESYS_CLIENT_SECRET,
ARCHIVAL_ENDPOINT, ARCHIVAL_TOKEN, RETENTION_DAYS, RETENTION_MAX_VERSIONS,
MAX_CONCURRENT_ARCHIVES, INBOUND_TOKEN, ADMIN_TOKEN, VCS_WEBHOOK_URLS, VCS_WEBHOOK_SECRET,
VCS_TARGETS, SWEEP_INTERVAL_SECONDS, HISTORY_REPO, HISTORY_BRANCH, PORT, LOG_LEVEL; the
README lists them all. Relative paths are from the current folder. Commands that only read
(ledger, audit verify, report, verify-archives, backup, show, diff, history) never create a
ledger.

Shell completion: eval "$(_ARCHIVER_COMPLETE=bash_source archiver)" in ~/.bashrc
(zsh_source for zsh, fish_source for fish).
"""


@click.group(
    "archiver",
    cls=ArchiverGroup,
    epilog=EPILOG,
    context_settings={"max_content_width": 100},
)
@click.version_option(package_name=PACKAGE, prog_name="archiver")
def cli() -> None:
    """Keep a complete, verifiable history of Genesys Cloud strategies and flows."""


for command in (
    archive_command,
    worker_command,
    sweep_command,
    ledger_command,
    audit_group,
    outbox_group,
    simulate_command,
    demo_command,
    web_command,
    report_group,
    verify_archives_command,
    backup_command,
    show_command,
    diff_command,
    history_group,
):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``archiver`` console script (and of ``python -m service.cli``)."""
    cli.main(argv, prog_name="archiver")
