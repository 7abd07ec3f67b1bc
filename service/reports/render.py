"""Admin rows for people: aligned columns for ``archiver ledger``, Markdown for the reports."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from . import Row

# (heading, key) of the columns people see; the widest free text goes last.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "strategies": (
        ("LAST ARCHIVED", "lastArchivedAt"),
        ("STRATEGY", "strategyId"),
        ("SOURCE", "sourceType"),
        ("STATE", "state"),
        ("ARCHIVES", "archives"),
        ("JOBS", "jobs"),
        ("DEAD", "deadJobs"),
        ("FIRST SEEN", "firstSeenAt"),
        ("DELETED AT", "deletedAt"),
        ("NAME", "name"),
        ("SKIPPED", "skipped"),
    ),
    "archives": (
        ("CREATED", "createdAt"),
        ("ARCHIVE", "archiveId"),
        ("KEY (DOCUMENT NAME)", "idempotencyKey"),
        ("STRATEGY", "strategyId"),
        ("SOURCE", "sourceType"),
        ("VERSIONS", "versionCount"),
        ("SUBMISSION", "submission"),
        ("NAME", "strategyName"),
    ),
    "jobs": (
        ("CREATED", "createdAt"),
        ("JOB", "jobId"),
        ("STRATEGY", "strategyId"),
        ("SOURCE", "sourceType"),
        ("STATE", "state"),
        ("TRIES", "tries"),
        ("REASON", "reason"),
        ("LAST ERROR", "lastError"),
    ),
    "events": (
        ("RECEIVED", "receivedAt"),
        ("EVENT", "eventId"),
        ("STRATEGY", "strategyId"),
        ("OUTCOME", "outcome"),
        ("JOB", "jobId"),
        ("USER", "userName"),
        ("CLIENT", "clientId"),
        ("TOPIC", "topic"),
    ),
    "deliveries": (
        ("CREATED", "createdAt"),
        ("DELIVERY", "deliveryId"),
        ("TARGET", "target"),
        ("TYPE", "eventType"),
        ("STATE", "state"),
        ("ATTEMPTS", "attempts"),
        ("STATUS", "lastStatus"),
        ("NEXT ATTEMPT", "nextAttemptAt"),
        ("LAST ERROR", "lastError"),
    ),
    "audit": (
        ("SEQ", "seq"),
        ("AT", "at"),
        ("ACTION", "action"),
        ("SUBJECT", "subject"),
        ("DETAIL", "detail"),
    ),
}

MAX_CELL = 80  # longer free text is cut in tables; --json has it whole


def _skipped_cell(value: Any) -> str:
    """Left-out version entries as a count and each id with its reason: ``1: 3.0 (why)``."""
    if not value:
        return "0"
    listed = "; ".join(f"{entry['versionId']} ({entry['reason']})" for entry in value)
    return _cell(f"{len(value)}: {listed}")


# Columns whose values need more than ``_cell`` to read well.
_CELLS: dict[str, Callable[[Any], str]] = {"skipped": _skipped_cell}


def render_table(kind: str, rows: Sequence[Row]) -> str:
    """``rows`` of ``kind`` as aligned columns under a heading line, or a "no ..." line."""
    if not rows:
        return f"no {kind}"
    columns = COLUMNS[kind]
    cells = [[heading for heading, _ in columns]]
    cells += [[_CELLS.get(key, _cell)(row.get(key)) for _, key in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"), sort_keys=True)
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."


def audit_chain_lines(chain: dict[str, Any]) -> list[str]:
    """The closing "Audit chain" section of a Markdown report."""
    if not chain["intact"]:
        return ["## Audit chain", "", f"**Audit chain does NOT verify: {chain['problem']}.**"]
    return [
        "## Audit chain",
        "",
        f"Head: `{chain['head']}` (kept outside the ledger, "
        "`archiver audit verify --expect-head` checks the log still holds it).",
        "",
        f"Audit chain verifies: {chain['entries']} entries, hash chain intact.",
    ]


def markdown_table(columns: Sequence[tuple[str, str]], rows: Sequence[Row]) -> str:
    """``rows`` as a Markdown table with (heading, key) ``columns``; "(none)" when empty."""
    if not rows:
        return "(none)"
    lines = [
        "| " + " | ".join(heading for heading, _ in columns) + " |",
        "|" + "|".join(" --- " for _ in columns) + "|",
    ]
    for row in rows:
        cells = [_markdown_cell(row.get(key)) for _, key in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _markdown_cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return " ".join(str(value).split()).replace("|", "\\|")
