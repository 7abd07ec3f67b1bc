#!/usr/bin/env python3
"""A summary of one UTC day's archives, jobs, events and deliveries, and what needs attention.

Usage: .venv/bin/python scripts/daily_summary.py [--date YYYY-MM-DD|today|yesterday] [--json]
(settings from the environment / .env; the ledger is read, never created)

The day defaults to yesterday (UTC): the last complete day, which is what a cron job run
shortly after midnight UTC should report. ``--date today`` summarises today so far (the
report says so). A date after today is a usage error.

The summary: archives made that day (by source type, versions archived, submission states,
each document checked against its recorded SHA-256); jobs (queued, done, retried, dead, with
the dead ones' strategies and errors; a job counts on the day it finished, died or failed a
try); events received (accepted, ignored by reason; duplicates are answered but not stored,
so the ledger cannot count them); deliveries made or settled that day, by target and state
(delivered, pending, dead).

Needs attention: jobs that died that day, those deliveries that are dead now, the day's
archive documents that fail their check, a broken audit chain, and, whatever day they were
made, archives whose submission was rejected or has been pending for more than an hour
(listed every day until resolved: the archival service does not hold them).

Exit status: 0 nothing needs attention; 1 something does (so cron can alert), or there is
no ledger; 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from typing import Any, NoReturn

from service.admin.listings import open_existing_ledger
from service.admin.render import audit_chain_lines, markdown_table
from service.admin.summary import daily_summary
from service.clock import utcnow
from service.config import load_settings
from service.errors import ArchiverError, ConfigError, UsageError

PROG = "daily_summary"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{PROG}: {message} (usage: {self.format_usage().strip()[7:]})", file=sys.stderr)
        sys.exit(2)


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


def main(argv: list[str]) -> int:
    parser = _Parser(prog="daily_summary.py", description="One UTC day's summary.")
    parser.add_argument("--date", metavar="YYYY-MM-DD", help="the UTC day (default: yesterday)")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = parser.parse_args(argv)
    now = utcnow()
    try:
        day = parse_day(args.date, now.date())
        settings = load_settings()
    except (ConfigError, UsageError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    try:
        with open_existing_ledger(settings.archiver_db) as ledger:
            summary = daily_summary(ledger, settings.archive_dir, day, now=now)
    except ArchiverError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(summary, indent=2) + "\n" if args.json else render(summary))
    return 1 if summary["attention"] else 0


def render(summary: dict[str, Any]) -> str:
    """The summary as Markdown, what needs attention first."""
    archives, jobs = summary["archives"], summary["jobs"]
    events, deliveries = summary["events"], summary["deliveries"]
    chain = summary["auditChain"]
    span = "" if summary["complete"] else f" (so far, at {summary['generatedAt']})"
    out = [f"# Daily summary for {summary['date']} (UTC){span}", ""]
    out += ["## Needs attention", ""]
    if summary["attention"]:
        out += [f"- **{item['kind']}**: {item['message']}" for item in summary["attention"]]
    else:
        out.append("Nothing needs attention.")
    by_source = ", ".join(
        f"{source} {c['archives']} ({c['versions']} versions)"
        for source, c in sorted(archives["bySourceType"].items())
    )
    submissions = ", ".join(f"{k} {v}" for k, v in sorted(archives["bySubmission"].items()))
    out += [
        "",
        "## Archives",
        "",
        f"{archives['count']} archive(s) made, {archives['versions']} version(s) archived.",
    ]
    if archives["count"]:
        out += [f"By source type: {by_source}.", f"Submission states: {submissions}."]
    out += [
        "",
        markdown_table(
            (
                ("Made", "createdAt"),
                ("Archive id", "archiveId"),
                ("Strategy", "strategyId"),
                ("Name", "strategyName"),
                ("Source", "sourceType"),
                ("Versions", "versionCount"),
                ("Submission", "submission"),
                ("Document verified", "documentVerified"),
            ),
            archives["list"],
        ),
        "",
        "## Jobs",
        "",
        f"{jobs['queued']} queued, {jobs['done']} done, {jobs['retried']} retried "
        f"({jobs['failedTries']} failed tries), {jobs['dead']} dead.",
        "",
        "Dead jobs:",
        "",
        markdown_table(
            (
                ("Died", "diedAt"),
                ("Job id", "jobId"),
                ("Strategy", "strategyId"),
                ("Source", "sourceType"),
                ("Tries", "tries"),
                ("Error", "error"),
            ),
            jobs["deadList"],
        ),
        "",
        "Retried jobs:",
        "",
        markdown_table(
            (
                ("Job id", "jobId"),
                ("Strategy", "strategyId"),
                ("Failed tries", "failedTries"),
                ("State now", "state"),
                ("Last error", "lastError"),
            ),
            jobs["retriedList"],
        ),
        "",
        "## Events received",
        "",
        f"{events['received']} received: {events['accepted']} accepted, "
        f"{events['ignored']} ignored; duplicates are not recorded in the ledger.",
    ]
    if events["ignoredReasons"]:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(events["ignoredReasons"].items()))
        out.append(f"Ignored: {reasons}.")
    targets = [{"target": t, **counts} for t, counts in sorted(deliveries["byTarget"].items())]
    out += [
        "",
        "## Deliveries",
        "",
        f"{deliveries['count']} delivery(ies) made or settled, in their state now:",
        "",
        markdown_table(
            (
                ("Target", "target"),
                ("Delivered", "delivered"),
                ("Pending", "pending"),
                ("Dead", "dead"),
            ),
            targets,
        ),
        "",
        *audit_chain_lines(chain),
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
