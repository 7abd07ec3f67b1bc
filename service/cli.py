"""The ``archiver`` command line: thin commands, each calling one function.

Exit status: 0 done, 1 the operation failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .config import Settings, load_settings
from .errors import ArchiverError, ConfigError, UsageError

SOURCE_TYPES = ("flow", "routing-strategy")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archiver",
        description="Keep a complete, verifiable history of Genesys Cloud strategies and flows.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    archive = commands.add_parser("archive", help="archive one strategy or flow now")
    archive.add_argument("strategy_id", metavar="ID", help="routing strategy or flow id (UUID)")
    archive.add_argument(
        "--source",
        choices=SOURCE_TYPES,
        default="routing-strategy",
        help="what the id names (default: routing-strategy)",
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

    commands.add_parser("demo", help="the whole pipeline on embedded defaults, with a summary")

    commands.add_parser("worker", help="run archive jobs and the scheduled sweep until SIGTERM")
    sweep = commands.add_parser("sweep", help="queue a job for every strategy the ledger knows")
    sweep.add_argument(
        "--discover",
        action="store_true",
        help="first list every flow and routing strategy of the org, and queue those too",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``archiver`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            from .demo import run_demo

            return run_demo()
        settings = load_settings()
        if args.command == "archive":
            return _archive(settings, args)
        if args.command == "worker":
            return _worker(settings)
        if args.command == "sweep":
            return _sweep(settings, args)
        if args.command == "simulate":
            from .simulator import run_simulator

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
            )
            return 0
    except (ConfigError, UsageError) as exc:
        print(f"archiver: {exc}", file=sys.stderr)
        return 2
    except ArchiverError as exc:
        print(f"archiver: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command}")
    return 2


def _archive(settings: Settings, args: argparse.Namespace) -> int:
    from .archive import open_archiver, summary_line
    from .ids import require_uuid
    from .progress import TerminalProgress

    strategy_id = require_uuid(args.strategy_id)
    progress = TerminalProgress()
    try:
        with open_archiver(settings) as archiver:
            run = archiver.run(strategy_id, args.source, full=args.full, progress=progress)
    finally:
        progress.clear()
    print(summary_line(run, settings))
    return 0


def _worker(settings: Settings) -> int:
    import logging

    from .worker import Worker

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    worker = Worker(settings)
    worker.install_signal_handlers()
    worker.run()
    return 0


def _sweep(settings: Settings, args: argparse.Namespace) -> int:
    from .genesys.client import GenesysClient
    from .ledger import Ledger
    from .sweep import discover, sweep_known

    found: list[tuple[str, str]] = []
    if args.discover:
        with GenesysClient.from_settings(settings) as client:
            discovered = discover(client)
        skipped = ""
        if discovered.skipped:
            skipped = f", skipped {len(discovered.skipped)} with a non-UUID id"
        print(
            f"discovered {len(discovered.flows)} flow(s) and "
            f"{len(discovered.routing_strategies)} routing strategy(ies){skipped}"
        )
        found = discovered.all
    with Ledger(settings.archiver_db) as ledger:
        result = sweep_known(ledger, found)
    print(
        f"sweep: {result.strategies} strategies, {result.queued} job(s) queued, "
        f"{result.joined} joined a waiting job"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
