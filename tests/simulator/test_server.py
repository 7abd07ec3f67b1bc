"""Starting and stopping the simulator, in a thread and as a foreground process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from service.simulator import (
    DEMO_FLOW_ID,
    DEMO_QUEUE_ID,
    DEMO_STRATEGY_ID,
    DEMO_TABLE_ID,
    SimulatorServer,
)

ROOT = Path(__file__).resolve().parents[2]


def test_start_picks_a_free_port_and_stop_closes_it() -> None:
    one, two = SimulatorServer(port=0), SimulatorServer(port=0)
    with one, two:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", one.url)
        assert one.url != two.url
        assert requests.get(f"{one.url}/api/v2/flows", timeout=5).status_code == 401
        assert one.state is not two.state
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{one.url}/api/v2/flows", timeout=5)
    one.stop()  # a second stop does nothing


def test_run_simulator_announces_itself_serves_and_stops_on_sigterm() -> None:
    code = "from service.simulator import run_simulator; run_simulator(0, client_id='cid')"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        match = re.fullmatch(
            r"Genesys Cloud simulator listening on (http://127\.0\.0\.1:\d+)", first
        )
        assert match, first
        url = match.group(1)
        listed = [process.stdout.readline().strip() for _ in range(7)]
        assert any(
            line.startswith(f"flow {DEMO_FLOW_ID} Main inbound (3 versions)") for line in listed
        )
        assert f"routing-strategy {DEMO_STRATEGY_ID} Priority routing (3 versions)" in listed
        # Then the routing configuration, one line per object.
        listed += [process.stdout.readline().strip() for _ in range(18)]
        assert f"queue {DEMO_QUEUE_ID} Support" in listed
        assert f"decision-table {DEMO_TABLE_ID} Queue selection by segment" in listed

        refused = requests.post(f"{url}/oauth/token", auth=("other", "x"), timeout=5)
        assert refused.status_code == 401  # only the configured client id
        accepted = requests.post(
            f"{url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("cid", "anything"),
            timeout=5,
        )
        assert accepted.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Traceback" not in err
