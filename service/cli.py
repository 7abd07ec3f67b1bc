"""The ``archiver`` command line: thin commands, each calling one function.

Exit status: 0 done, 1 the operation failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .config import Settings, load_settings
from .errors import ArchiverError, ConfigError, LedgerError, UsageError

if TYPE_CHECKING:
    from .ledger import Ledger

SOURCE_TYPES = ("flow", "routing-strategy")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archiver",
        description="Keep a complete, verifiable history of Genesys Cloud strategies and flows.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    archive = commands.add_parser("archive", help="archive one strategy or flow now")
    archive.add_argument("strategy_id", metavar="ID", help="flow or routing strategy id (UUID)")
    archive.add_argument(
        "--source",
        choices=SOURCE_TYPES,
        default="flow",
        help="what the id names (default: flow, the one source every org has)",
    )
    archive.add_argument(
        "--full", action="store_true", help="archive every version again, not only new ones"
    )

    simulate = commands.add_parser("simulate", help="run the bundled Genesys Cloud simulator")
    simulate.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    simulate.add_argument(
        "--notify-url",
        metavar="URL",
        help="POST a notification of every version made through /_sim to URL "
        "(e.g. http://127.0.0.1:8000/webhooks/genesys), carrying INBOUND_TOKEN when set",
    )
    simulate.add_argument(
        "--notify-form",
        choices=("direct", "eventbridge"),
        default="direct",
        help="send notifications as Genesys does (direct, default) "
        "or as an EventBridge API destination does (eventbridge)",
    )
    simulate.add_argument(
        "--rate-limit",
        type=_rate_limit_arg,
        metavar="N/SECONDS",
        help="enforce N API requests per window of SECONDS (e.g. 300/10); default: "
        "not enforced, the headers showing 300 per 60 s",
    )
    simulate.add_argument(
        "--no-retry-after",
        action="store_true",
        help="answer a request over the rate limit 429 without Retry-After "
        "(the inin-ratelimit-reset header still says when the window resets)",
    )

    commands.add_parser("demo", help="the whole pipeline on embedded defaults, with a summary")

    commands.add_parser(
        "worker", help="run archive jobs, outbound deliveries and the sweep until SIGTERM"
    )
    sweep = commands.add_parser("sweep", help="queue a job for every strategy the ledger knows")
    sweep.add_argument(
        "--discover",
        action="store_true",
        help="first list every flow and routing strategy of the org, and queue those too",
    )
    _add_admin_commands(commands)
    return parser


def _add_admin_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``ledger``, ``audit verify`` and ``outbox redeliver``."""
    from .admin.listings import DEFAULT_LIMIT, QUERIES

    ledger = commands.add_parser("ledger", help="list what the ledger holds, newest first")
    ledger.add_argument("kind", choices=list(QUERIES), help="what to list")
    ledger.add_argument("--strategy", type=_uuid_arg, metavar="ID", help="only this strategy")
    ledger.add_argument(
        "--status",
        metavar="S",
        help="only this state (archives: submission; jobs and deliveries: state)",
    )
    ledger.add_argument(
        "--since", type=_since_arg, metavar="ISO", help="only since this ISO-8601 time (UTC)"
    )
    ledger.add_argument(
        "--limit",
        type=_count_arg,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"at most N rows, newest first (default {DEFAULT_LIMIT}; 0: all)",
    )
    ledger.add_argument("--json", action="store_true", help="print a JSON array")

    audit = commands.add_parser("audit", help="the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    verify = audit_commands.add_parser(
        "verify", help="check the hash chain and its head; exit 1 at the first problem"
    )
    verify.add_argument(
        "--expect-head",
        type=_head_arg,
        metavar="SEQ:HASH",
        help="a head printed by an earlier verify and kept outside the ledger: "
        "exit 1 unless the log still holds that entry unchanged",
    )

    outbox = commands.add_parser("outbox", help="outbound completion events")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True, metavar="COMMAND")
    redeliver = outbox_commands.add_parser("redeliver", help="send dead deliveries again")
    which = redeliver.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=_delivery_id_arg, metavar="ID", help="this dead delivery")
    which.add_argument("--dead", action="store_true", help="every dead delivery")


def _uuid_arg(value: str) -> str:
    from .ids import require_uuid

    try:
        return require_uuid(value)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _delivery_id_arg(value: str) -> str:
    from .ids import require_uuid

    try:
        return require_uuid(value, "delivery id")
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _since_arg(value: str) -> str:
    from .admin.listings import parse_since

    try:
        return parse_since(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an ISO-8601 time such as 2026-01-31 or 2026-01-31T08:00:00Z, got {value!r}"
        ) from None


def _head_arg(value: str) -> tuple[int, str]:
    seq, _, digest = value.strip().lower().partition(":")
    if not (seq.isascii() and seq.isdigit() and re.fullmatch(r"[0-9a-f]{64}", digest)):
        raise argparse.ArgumentTypeError(
            "must be SEQ:HASH as `archiver audit verify` prints it after `head`"
            " (a number, a colon, 64 lower-case hex digits)"
        )
    return int(seq), digest


def _rate_limit_arg(value: str) -> tuple[int, float]:
    allowed, _, seconds = value.partition("/")
    try:
        pair = (int(allowed), float(seconds))
    except ValueError:
        pair = (0, 0.0)
    if pair[0] < 1 or not 0 < pair[1] <= 86_400:
        raise argparse.ArgumentTypeError(
            f"must be N/SECONDS, N requests (1 or more) per window of SECONDS, got {value!r}"
        )
    return pair


def _count_arg(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more, got {value!r}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``archiver`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    settings: Settings | None = None
    try:
        if args.command == "demo":
            from .demo import run_demo

            return run_demo()
        settings = load_settings()
        if args.command == "archive":
            _logs(settings, "cli", quiet=True)
            return _archive(settings, args)
        if args.command == "worker":
            return _worker(settings)
        if args.command == "sweep":
            _logs(settings, "cli", quiet=True)
            return _sweep(settings, args)
        if args.command == "ledger":
            return _ledger(settings, args)
        if args.command == "audit":
            return _audit_verify(settings, args)
        if args.command == "outbox":
            return _redeliver(settings, args)
        if args.command == "simulate":
            from .simulator import run_simulator

            _logs(settings, "cli")

            if args.notify_url is not None and not args.notify_url.startswith(
                ("http://", "https://")
            ):
                raise UsageError(
                    f"--notify-url must be an http:// or https:// URL, got {args.notify_url!r}"
                )
            run_simulator(
                args.port,
                client_id=settings.genesys_client_id,
                client_secret=settings.genesys_client_secret,
                notify_url=args.notify_url,
                notify_form=args.notify_form,
                notify_token=settings.inbound_token,
                rate_limit=args.rate_limit,
                retry_after=not args.no_retry_after,
            )
            return 0
    except (ConfigError, UsageError) as exc:
        _error(exc, settings)
        return 2
    except ArchiverError as exc:
        _error(exc, settings)
        return 1
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command}")
    return 2


def _logs(settings: Settings, process: str, *, quiet: bool = False) -> None:
    """JSON log lines on stderr; ``quiet`` commands print a summary and log WARNING and up
    unless ``LOG_LEVEL`` says otherwise."""
    from .ops.logs import setup_logging

    setup_logging(settings, process, default_level="WARNING" if quiet else "INFO")


def _error(exc: BaseException, settings: Settings | None) -> None:
    """``archiver: <message>`` on stderr, without a secret (a server may echo one)."""
    from .ops.logs import redact

    print(f"archiver: {redact(str(exc), settings.secrets() if settings else ())}", file=sys.stderr)


def _archive(settings: Settings, args: argparse.Namespace) -> int:
    from .archive import open_archiver, summary_line
    from .archive.gone import ObjectDeleted
    from .ids import require_uuid
    from .progress import TerminalProgress

    strategy_id = require_uuid(args.strategy_id)
    progress = TerminalProgress()
    try:
        with open_archiver(settings) as archiver:
            try:
                run = archiver.run(strategy_id, args.source, full=args.full, progress=progress)
            except ObjectDeleted as gone:
                progress.clear()
                return _deleted(settings, archiver.ledger, strategy_id, args.source, str(gone))
    finally:
        progress.clear()
    print(summary_line(run, settings))
    for entry in run.skipped:  # archived without them; tried again on the next run
        print(
            f"archiver: left out version {entry.version_id} of {run.source_type} "
            f"{run.strategy_id}: {entry.reason}",
            file=sys.stderr,
        )
    return 0


def _deleted(
    settings: Settings, ledger: Ledger, strategy_id: str, source_type: str, reason: str
) -> int:
    """A deleted object is no failure (exit 0): the deletion is recorded (and announced
    once, as a job would), its archives stay, and the operator is told so."""
    ledger.mark_deleted(
        strategy_id,
        source_type,
        reason=reason,
        notify=[target.name for target in settings.vcs_targets],
    )
    deletion = ledger.deletion(strategy_id, source_type)
    since = f" since {deletion.deleted_at}" if deletion else ""
    by = f" by {deletion.deleted_by}" if deletion and deletion.deleted_by else ""
    print(
        f"{source_type} {strategy_id} is deleted in Genesys Cloud{since}{by}: nothing to "
        f"archive; its archives stay ({reason})"
    )
    return 0


def _worker(settings: Settings) -> int:
    from .ops.multiprocess import use_folder

    # Before the worker's modules import prometheus-client: its metrics go to files that
    # the web process's /metrics adds up.
    use_folder(settings.metrics_dir)
    from .worker import Worker

    _logs(settings, "worker")
    worker = Worker(settings)
    worker.install_signal_handlers()
    worker.run()
    return 0


def _sweep(settings: Settings, args: argparse.Namespace) -> int:
    from .genesys.client import GenesysClient
    from .ledger import Ledger
    from .progress import TerminalProgress
    from .sweep import discover, sweep_known

    found: list[tuple[str, str]] = []
    listed = True
    if args.discover:
        progress = TerminalProgress()
        try:
            with GenesysClient.from_settings(settings) as client:
                discovered = discover(client, progress)
        finally:
            progress.clear()
        for failure in discovered.failed:  # one line each, then on with the others
            print(
                f"archiver: {failure.source_type} listing failed, skipped: {failure.reason}",
                file=sys.stderr,
            )
        # A listing the org lacks (404) is no failure; any other is, once the rest is done.
        listed = all(failure.absent for failure in discovered.failed)
        skipped = ""
        if discovered.skipped:
            skipped = f", skipped {len(discovered.skipped)} with a non-UUID id"
        print(
            f"discovered {len(discovered.flows)} flow(s) and "
            f"{len(discovered.routing_strategies)} routing strategy(ies){skipped}"
        )
        found = discovered.all
    with Ledger.from_settings(settings) as ledger:
        result = sweep_known(ledger, found)
    print(
        f"sweep: {result.strategies} strategies, {result.queued} job(s) queued, "
        f"{result.joined} joined a waiting job"
    )
    return 0 if listed else 1  # a listing failed: the org was not wholly discovered


def _open_existing_ledger(settings: Settings) -> Ledger:
    """The ledger, which the admin commands read but never create."""
    from .ledger import Ledger

    if not settings.archiver_db.is_file():
        raise LedgerError(f"no ledger at {settings.archiver_db} (ARCHIVER_DB)")
    return Ledger.from_settings(settings)


def _ledger(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from .admin.listings import QUERIES
    from .admin.render import render_table

    query = QUERIES[args.kind]
    with _open_existing_ledger(settings) as ledger:
        rows = query(
            ledger,
            strategy_id=args.strategy,
            status=args.status,
            since=args.since,
            limit=args.limit or None,
        )
    print(json.dumps(rows, indent=2) if args.json else render_table(args.kind, rows))
    return 0


def _audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Check the chain; on success print the head, for the operator to keep elsewhere."""
    with _open_existing_ledger(settings) as ledger:
        check = ledger.check_audit(expect_head=args.expect_head)
    if check.problem:
        print(f"archiver: audit log broken: {check.problem}", file=sys.stderr)
        return 1
    print(f"{check.entries} entries, hash chain intact")
    if args.expect_head:
        print(f"recorded head {args.expect_head[0]} found unchanged")
    print(f"head {check.head}")
    return 0


def _redeliver(settings: Settings, args: argparse.Namespace) -> int:
    from .ledger import DeliveryState

    with _open_existing_ledger(settings) as ledger:
        if args.id:
            delivery = ledger.get_delivery(args.id)
            if delivery is None:
                raise LedgerError(f"no delivery {args.id}")
            if delivery.state is not DeliveryState.DEAD:
                raise LedgerError(
                    f"delivery {args.id} is {delivery.state}, not dead: nothing to send again"
                )
            ids = ledger.redeliver(delivery_id=args.id)
            if not ids:  # delivered or redelivered by someone else meanwhile
                raise LedgerError(f"delivery {args.id} is no longer dead: nothing to send again")
        else:
            ids = ledger.redeliver(dead=True)
    print(f"{len(ids)} dead delivery(ies) pending again, due now")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
