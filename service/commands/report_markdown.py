"""The two reports in Markdown: one strategy's whole history, and one UTC day's summary."""

from __future__ import annotations

from typing import Any

from ..clock import iso, utcnow
from ..reports.render import audit_chain_lines, markdown_table


def render_history(history: dict[str, Any]) -> str:
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


def render_daily(summary: dict[str, Any]) -> str:
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
