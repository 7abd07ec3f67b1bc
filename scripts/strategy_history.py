#!/usr/bin/env python3
"""One strategy's full history, for a compliance reviewer.

Usage: .venv/bin/python scripts/strategy_history.py STRATEGY_ID [--json] [--out FILE]
(settings from the environment / .env; the ledger is read, never created)

The report, oldest first throughout: the strategy (name, source type, first seen); every
archived version (id, number, created and modified dates, original author), read from the
archive documents' ``versionMatrix`` in cold storage, and the archives holding it; each
archive (id, idempotency key, archived at, submission state) with the result of checking its
document against the SHA-256 the ledger recorded; the inbound events received and the jobs
run for the strategy, with outcomes and errors; the deliveries of its completion (and
failure) events; the audit entries about it (the strategy, its archives, its deliveries);
and a closing line saying whether the audit log's hash chain verifies.

Markdown on stdout (or in FILE with ``--out``), or one JSON object with ``--json``.
A document that is missing, altered or disagrees with the ledger is reported loudly at the
top of the report and on stderr; its versions are then shown from the ledger's ids only.

Exit status: 0 every document verifies and the audit chain is intact; 1 a document or the
chain does not, the strategy is unknown, or there is no ledger (one line on stderr says
which); 2 usage or configuration error (a non-UUID id, a bad setting).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from service.admin.history import strategy_history
from service.admin.listings import open_existing_ledger
from service.admin.render import audit_chain_lines, markdown_table
from service.clock import iso, utcnow
from service.config import load_settings
from service.errors import ArchiverError, ConfigError, UsageError
from service.ids import require_uuid

PROG = "strategy_history"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{PROG}: {message} (usage: {self.format_usage().strip()[7:]})", file=sys.stderr)
        sys.exit(2)


def main(argv: list[str]) -> int:
    parser = _Parser(prog="strategy_history.py", description="One strategy's full history.")
    parser.add_argument("strategy_id", metavar="STRATEGY_ID", help="flow or routing strategy id")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of Markdown")
    parser.add_argument("--out", metavar="FILE", type=Path, help="write the report to FILE")
    args = parser.parse_args(argv)
    try:
        strategy_id = require_uuid(args.strategy_id)
        settings = load_settings()
    except (ConfigError, UsageError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    try:
        with open_existing_ledger(settings.archiver_db) as ledger:
            history = strategy_history(ledger, settings.archive_dir, strategy_id)
    except ArchiverError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    if history is None:
        print(f"{PROG}: strategy {strategy_id} is unknown to the ledger", file=sys.stderr)
        return 1
    text = json.dumps(history, indent=2) + "\n" if args.json else render(history)
    if args.out:
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"{PROG}: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    for problem in history["problems"]:
        print(f"{PROG}: FAILED VERIFICATION: {problem}", file=sys.stderr)
    return 1 if history["problems"] else 0


def render(history: dict[str, Any]) -> str:
    """The history as a Markdown document."""
    strategy = history["strategy"]
    versions = history["versions"]
    archives = history["archives"]
    chain = history["auditChain"]
    out = [
        f"# Strategy history: {strategy['name'] or '(unnamed)'}",
        "",
        f"Generated {iso(utcnow())}. All times UTC; every list oldest first.",
        "",
    ]
    if history["problems"]:
        out += [
            f"> **VERIFICATION FAILED: {len(history['problems'])} problem(s). "
            "Do not rely on this history until they are resolved.**",
            ">",
        ]
        out += [f"> - **{problem}**" for problem in history["problems"]]
        out.append("")
    out += [
        "## Strategy",
        "",
        f"- Id: `{strategy['strategyId']}`",
        f"- Name: {strategy['name'] or '-'}",
        f"- Source type: {strategy['sourceType']}",
        f"- First seen: {strategy['firstSeenAt'] or '-'}",
        f"- Last archived: {strategy['lastArchivedAt'] or '-'}",
        f"- Versions archived: {len(versions)}, in {len(archives)} archive(s)",
        "",
        "## Archived versions",
        "",
        markdown_table(
            (
                ("Version id", "versionId"),
                ("Number", "versionNumber"),
                ("Created", "createdDate"),
                ("Modified", "modifiedDate"),
                ("Original author", "originalAuthor"),
                ("Verified", "verified"),
                ("Held by archive (idempotency key)", "heldBy"),
            ),
            [
                {**v, "heldBy": ", ".join(a["idempotencyKey"] for a in v["archives"])}
                for v in versions
            ],
        ),
        "",
        "## Archives",
        "",
        markdown_table(
            (
                ("Archived at", "createdAt"),
                ("Archive id", "archiveId"),
                ("Idempotency key", "idempotencyKey"),
                ("Versions", "versionCount"),
                ("Submission", "submission"),
                ("Submitted at", "submittedAt"),
                ("Document", "document"),
            ),
            [
                {
                    **a,
                    "document": "verified (SHA-256 matches)"
                    if a["documentVerified"]
                    else f"**FAILED: {a['documentProblem']}**",
                }
                for a in archives
            ],
        ),
        "",
        "## Events received",
        "",
        markdown_table(
            (
                ("Received", "receivedAt"),
                ("Event id", "eventId"),
                ("Topic", "topic"),
                ("Outcome", "outcome"),
                ("Reason", "reason"),
                ("Job", "jobId"),
            ),
            history["events"],
        ),
        "",
        "## Jobs",
        "",
        markdown_table(
            (
                ("Queued", "createdAt"),
                ("Job id", "jobId"),
                ("Reason", "reason"),
                ("State", "state"),
                ("Tries", "tries"),
                ("Finished", "finishedAt"),
                ("Error", "lastError"),
            ),
            history["jobs"],
        ),
        "",
        "## Deliveries",
        "",
        markdown_table(
            (
                ("Created", "createdAt"),
                ("Delivery id", "deliveryId"),
                ("Event", "eventType"),
                ("Target", "target"),
                ("State", "state"),
                ("Attempts", "attempts"),
                ("Last status", "lastStatus"),
                ("Delivered", "deliveredAt"),
                ("Last error", "lastError"),
            ),
            history["deliveries"],
        ),
        "",
        "## Audit entries",
        "",
        markdown_table(
            (
                ("Seq", "seq"),
                ("At", "at"),
                ("Action", "action"),
                ("Subject", "subject"),
                ("Detail", "detail"),
            ),
            history["audit"],
        ),
        "",
        *audit_chain_lines(chain),
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
