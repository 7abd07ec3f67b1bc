"""``archiver demo``: the whole pipeline on embedded defaults, end to end.

Starts the bundled Genesys Cloud simulator and a local archival endpoint on
127.0.0.1, archives a routing strategy and a flow into ``var/demo``, creates new
versions in the simulator, archives incrementally, and prints what happened.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .archive import open_archiver, summary_line
from .config import Settings, load_settings
from .ledger import Ledger
from .simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID, SimulatorServer
from .simulator.archival import ArchivalSink

DEMO_DIR = Path("var/demo")


def run_demo(folder: Path = DEMO_DIR) -> int:
    """Run the demo in ``folder`` (emptied first); return the exit status."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with SimulatorServer(port=0) as sim, ArchivalSink(token="demo-archival-token") as sink:
        settings = load_settings(
            {
                "GENESYS_API_URL": sim.url,
                "GENESYS_LOGIN_URL": sim.url,
                "GENESYS_CLIENT_ID": "demo-client",
                "GENESYS_CLIENT_SECRET": "demo-client-secret",
                "ARCHIVER_DB": str(folder / "ledger.db"),
                "ARCHIVE_DIR": str(folder / "archive"),
                "ARCHIVAL_ENDPOINT": sink.url,
                "ARCHIVAL_TOKEN": "demo-archival-token",
            }
        )
        _say(f"Genesys Cloud simulator at {sim.url}; archival endpoint at {sink.url}")
        _say(f"ledger {settings.archiver_db}, archive folder {settings.archive_dir}\n")
        with Ledger(settings.archiver_db) as ledger, open_archiver(settings, ledger) as archiver:
            steps = [
                ("1. Archive a routing strategy", DEMO_STRATEGY_ID, "routing-strategy"),
                ("2. Archive an Architect flow", DEMO_FLOW_ID, "flow"),
            ]
            for title, strategy_id, source in steps:
                _say(title)
                _say("   " + summary_line(archiver.run(strategy_id, source), settings))
            new = sim.state.add_versions(DEMO_FLOW_ID, 2)
            _say(f"3. Someone publishes flow versions {', '.join(new)} in Genesys Cloud")
            run = archiver.run(DEMO_FLOW_ID, "flow")
            _say("   " + summary_line(run, settings))
            _say("4. Archive the flow again: nothing new, nothing sent")
            _say("   " + summary_line(archiver.run(DEMO_FLOW_ID, "flow"), settings))
            _report(settings, ledger, sink, sim, run.archive.location if run.archive else None)
            checked, broken = ledger.verify_audit()
    if broken:
        _say(f"audit log BROKEN: {broken}")
        return 1
    _say(f"\naudit log: {checked} entries, hash chain intact")
    return 0


def _report(
    settings: Settings, ledger: Ledger, sink: ArchivalSink, sim: SimulatorServer, last: str | None
) -> None:
    _say("\nArchives in the ledger (newest first):")
    for record in ledger.list_archives():
        _say(
            f"   {record.created_at}  {record.source_type:<16} {record.strategy_name:<22}"
            f" {len(record.version_ids):>3} versions  {record.submission:<9} {record.sha256[:12]}"
        )
    statuses = ", ".join(f"{r.status}" for r in sink.state.received)
    _say(f"\nArchival endpoint received {len(sink.state.received)} POSTs ({statuses}),")
    _say(f"   {len(sink.state.stored)} distinct Idempotency-Keys stored")
    _say(f"Genesys Cloud API calls made: {sim.state.api_calls()}")
    if last:
        payload = json.loads((settings.archive_dir / last).read_text())
        _say(f"\nVersion matrix of the last archive ({last}):")
        for row in payload["versionMatrix"]:
            _say(
                f"   v{row['versionNumber']:<4} {row['versionId']:<6} created {row['createdDate']}"
                f"  by {row['metadataTags']['originalAuthor']}"
            )


def _say(text: str) -> None:
    print(text, flush=True)
