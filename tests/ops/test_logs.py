"""JSON log lines, redacted: what an operator's log collector and an attacker would read.

The redaction itself is tested in ``tests/test_redaction.py``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from service.config import Settings, load_settings
from service.ops.logs import (
    JsonFormatter,
    TextFormatter,
    format_of,
    gunicorn_logconfig,
    log_context,
    log_handler,
    setup_logging,
)
from service.simulator import SimulatorServer
from tests.helpers import WORKER_TUNING, cli_env
from tests.processes import WORKER_COMMAND

CLIENT_SECRET = "client-secret-7f3a9c1e5b"
ARCHIVAL_TOKEN = "archival-token-2d8e4f6a0c"
GITHUB_TOKEN = "ghp_known0123456789abcdefABCDEF01234567"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
UNKNOWN_TOKEN = "eyJhbGciOiJIUzI1NiJ9.not-in-any-setting.Zx81"  # an OAuth access token, say
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def settings_with_secrets(**overrides: str) -> Settings:
    targets = [
        {
            "name": "repo",
            "type": "github",
            "repository": "acme/routing",
            "token": GITHUB_TOKEN,
            "baseUrl": "http://127.0.0.1:1",
        }
    ]
    env = {
        "GENESYS_CLIENT_ID": "client",
        "GENESYS_CLIENT_SECRET": CLIENT_SECRET,
        "ARCHIVAL_ENDPOINT": "http://127.0.0.1:1/archives",
        "ARCHIVAL_TOKEN": ARCHIVAL_TOKEN,
        "VCS_WEBHOOK_URLS": "http://127.0.0.1:1/hook",
        "VCS_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "VCS_TARGETS": json.dumps(targets),
    }
    return load_settings(env | overrides)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line written, each parsed as JSON (a line that is not JSON fails the test)."""
    text = stream.getvalue()
    assert text.endswith("\n"), text
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own writing through the JSON handler (the settings' secrets known)."""
    stream = io.StringIO()
    handler = log_handler("worker", settings_with_secrets().secrets(), stream=stream)
    log = logging.getLogger("tests.ops.logs")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    yield log, stream
    log.removeHandler(handler)


@pytest.fixture
def root_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """``setup_logging`` at DEBUG into a buffer, undone afterwards (root level, hooks)."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = setup_logging(settings_with_secrets(LOG_LEVEL="DEBUG"), "web", stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_line_is_one_json_object_with_the_fields(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    with log_context(job_id="job-1", strategy_id="strategy-1"):
        log.info("job %s started", "job-1", extra={"event_id": "event-1", "tries": 2})
        log.warning("delivery failed", extra={"delivery_id": "d-1", "target": "repo"})
    log.error("after the job")
    first, second, third = lines(stream)
    assert TS.match(first["ts"]), first
    assert first["level"] == "INFO" and second["level"] == "WARNING" and third["level"] == "ERROR"
    assert first["logger"] == "tests.ops.logs"
    assert first["process"] == "worker"
    assert first["pid"] == os.getpid()
    assert first["msg"] == "job job-1 started"
    assert first["job_id"] == "job-1" and first["strategy_id"] == "strategy-1"
    assert first["event_id"] == "event-1" and first["tries"] == 2
    assert second["delivery_id"] == "d-1" and second["target"] == "repo"
    assert second["job_id"] == "job-1"  # the context holds for every line inside it
    assert "job_id" not in third and "exc" not in third  # and no longer after it


def test_extra_fields_do_not_replace_the_line_own_fields(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    log.info("hello", extra={"ts": "forged", "level": "forged", "pid": 1})
    (line,) = lines(stream)
    assert TS.match(line["ts"]) and line["level"] == "INFO" and line["pid"] == os.getpid()


def refused_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_requests_exception_is_logged_with_its_token_and_authorization_redacted(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    url = f"http://127.0.0.1:{refused_port()}/oauth/check?access_token={UNKNOWN_TOKEN}"
    prepared = requests.Request(
        "GET", url, headers={"Authorization": f"Bearer {UNKNOWN_TOKEN}"}
    ).prepare()
    try:
        try:
            with requests.Session() as session:
                session.send(prepared, timeout=5)
        except requests.ConnectionError as exc:
            # As code that describes what it sent does: the URL and the headers.
            raise requests.exceptions.RetryError(
                f"gave up on {prepared.method} {prepared.url} headers={dict(prepared.headers)}"
            ) from exc
    except requests.RequestException as exc:
        log.exception("call failed: %s", exc)
    (line,) = lines(stream)
    raw = stream.getvalue()
    assert UNKNOWN_TOKEN not in raw
    assert "access_token=***" in line["msg"]
    assert "'Authorization': 'Bearer ***'" in line["msg"]
    # The traceback holds the ConnectionError (its URL) and the RetryError (its headers).
    assert "requests.exceptions.ConnectionError" in line["exc"]
    assert "access_token=***" in line["exc"]
    assert "'Authorization': 'Bearer ***'" in line["exc"]


def test_secrets_of_the_settings_are_redacted_in_args_extra_and_exceptions(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    secrets = [CLIENT_SECRET, ARCHIVAL_TOKEN, GITHUB_TOKEN, WEBHOOK_SECRET]
    log.info("sent %s and %r", ARCHIVAL_TOKEN, {"token": GITHUB_TOKEN})
    log.info("fields", extra={"target": CLIENT_SECRET, "nested": {"k": [WEBHOOK_SECRET]}})
    try:
        raise RuntimeError(f"the server echoed {CLIENT_SECRET}")
    except RuntimeError:
        log.exception("failed")
    raw = stream.getvalue()
    for secret in secrets:
        assert secret not in raw
    args, fields, failed = lines(stream)
    assert args["msg"] == "sent *** and {'token': '***'}"
    assert fields["target"] == "***" and fields["nested"] == {"k": ["***"]}
    assert failed["msg"] == "failed"
    assert "RuntimeError: the server echoed ***" in failed["exc"]


def test_third_party_loggers_go_through_the_root_handler(root_stream: io.StringIO) -> None:
    # werkzeug logs each request of a server that logs requests (the simulator as
    # `archiver simulate` runs it); urllib3 logs each request line at DEBUG, query included.
    with SimulatorServer(log_requests=True) as sim:
        answer = requests.get(f"{sim.url}/api/v2/flows?access_token={UNKNOWN_TOKEN}", timeout=10)
    assert answer.status_code == 401
    logging.getLogger("gunicorn.error").info("gunicorn says %s", ARCHIVAL_TOKEN)
    found = {line["logger"]: line for line in lines(root_stream)}
    assert {"werkzeug", "urllib3.connectionpool", "gunicorn.error"} <= set(found), found
    assert all(line["process"] == "web" for line in found.values())
    assert "/api/v2/flows?access_token=***" in found["werkzeug"]["msg"]
    assert "\x1b" not in found["werkzeug"]["msg"]  # no terminal colours in a log line
    assert found["gunicorn.error"]["msg"] == "gunicorn says ***"
    raw = root_stream.getvalue()
    assert UNKNOWN_TOKEN not in raw and ARCHIVAL_TOKEN not in raw
    assert "access_token=***" in raw


def test_log_level_drops_lines_below_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = setup_logging(settings_with_secrets(LOG_LEVEL="warning"), "cli", stream=stream)
    try:
        logging.getLogger("service.test").info("dropped")
        logging.getLogger("werkzeug").info("dropped too, though werkzeug logs at INFO")
        logging.getLogger("service.test").warning("kept")
        # Unset, each command has its default: WARNING for `archiver archive`.
        quiet = setup_logging(load_settings({}), "cli", default_level="WARNING", stream=stream)
        assert quiet.level == logging.WARNING and handler not in root.handlers
    finally:
        root.removeHandler(handler)
        root.removeHandler(quiet)
        root.setLevel(level)
    assert [line["msg"] for line in lines(stream)] == ["kept"]


def test_an_uncaught_exception_in_a_thread_is_logged_redacted(root_stream: io.StringIO) -> None:
    def fail() -> None:
        raise ValueError(f"Authorization: Bearer {UNKNOWN_TOKEN} refused ({GITHUB_TOKEN})")

    thread = threading.Thread(target=fail, name="doomed")
    thread.start()
    thread.join()
    (line,) = [line for line in lines(root_stream) if line["level"] == "CRITICAL"]
    assert line["msg"] == "uncaught exception in thread doomed"
    assert "ValueError: Authorization: Bearer *** refused (***)" in line["exc"]
    assert UNKNOWN_TOKEN not in root_stream.getvalue()


def test_gunicorn_logconfig_routes_gunicorn_through_one_json_handler() -> None:
    settings = settings_with_secrets(LOG_LEVEL="DEBUG")  # stderr no terminal: JSON
    config = gunicorn_logconfig(settings)
    assert config["root"] == {"level": "DEBUG", "handlers": ["stderr"]}
    for name in ("gunicorn.error", "gunicorn.access"):
        assert config["loggers"][name]["handlers"] == []
        assert config["loggers"][name]["propagate"] is True
    handler = config["handlers"]["stderr"]["()"]()
    assert isinstance(handler.formatter, JsonFormatter)
    assert handler.formatter.process == "web"
    assert set(handler.formatter.secrets) == set(settings.secrets())
    # `gunicorn --print-config` shows the settings: no secret may be in them.
    for secret in settings.secrets():
        assert secret not in repr(config)


def test_webhook_refusals_are_logged_with_their_reason_never_the_token(
    app: Flask, logger: tuple[logging.Logger, io.StringIO], tmp_path: Path
) -> None:
    log, stream = logger
    inbound = logging.getLogger("service.inbound")
    handler = log.handlers[0]
    inbound.addHandler(handler)
    inbound.setLevel(logging.DEBUG)
    try:
        client = app.test_client()
        wrong = client.post(
            "/webhooks/genesys", json={}, headers={"Authorization": f"Bearer {UNKNOWN_TOKEN}"}
        )
        body = {"topicName": "v2.flows.x", "secret-looking": UNKNOWN_TOKEN}
        bad = client.post(
            "/webhooks/genesys", json=body, headers={"X-Archiver-Token": "inbound-token-for-tests"}
        )
    finally:
        inbound.removeHandler(handler)
        inbound.setLevel(logging.NOTSET)
    assert (wrong.status_code, bad.status_code) == (401, 422)
    refused, invalid = lines(stream)
    assert refused["level"] == "INFO" and refused["status"] == 401
    assert refused["msg"] == "webhook refused: 401 a valid INBOUND_TOKEN is required"
    assert invalid["status"] == 422 and invalid["fields"]
    assert UNKNOWN_TOKEN not in stream.getvalue()
    assert "inbound-token-for-tests" not in stream.getvalue()


# Readable lines on a terminal, JSON otherwise (or as LOG_FORMAT says).

TEXT_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) +\S+: ")


def test_a_text_line_is_readable_with_its_fields_and_redacted() -> None:
    stream = io.StringIO()
    handler = log_handler("worker", settings_with_secrets().secrets(), form="text", stream=stream)
    assert isinstance(handler.formatter, TextFormatter)
    log = logging.getLogger("tests.ops.logs.text")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with log_context(job_id="j-1"):
            log.warning("retry: %s", f"token {GITHUB_TOKEN}", extra={"tries": 2})
            try:
                raise ValueError(f"Authorization: Bearer {UNKNOWN_TOKEN}")
            except ValueError:
                log.exception("failed")
    finally:
        log.removeHandler(handler)
    first, second, *trace = stream.getvalue().splitlines()
    assert TEXT_LINE.match(first), first
    assert first.endswith(" WARNING tests.ops.logs.text: retry: token *** [job_id=j-1 tries=2]")
    assert second.endswith(" ERROR   tests.ops.logs.text: failed [job_id=j-1]")
    assert trace[0] == "Traceback (most recent call last):"
    assert trace[-1] == "ValueError: Authorization: Bearer ***"
    assert GITHUB_TOKEN not in stream.getvalue() and UNKNOWN_TOKEN not in stream.getvalue()


def test_the_format_is_log_format_else_text_on_a_terminal_only() -> None:
    main, side = pty.openpty()
    try:
        with os.fdopen(side, "w") as terminal:
            assert terminal.isatty()
            assert format_of(load_settings({}), terminal) == "text"
            assert format_of(load_settings({"LOG_FORMAT": "JSON"}), terminal) == "json"
    finally:
        os.close(main)
    assert format_of(load_settings({}), io.StringIO()) == "json"
    assert format_of(load_settings({"LOG_FORMAT": "text"}), io.StringIO()) == "text"


def test_the_worker_writes_readable_lines_on_a_terminal_and_json_lines_to_a_pipe(
    tmp_path: Path,
) -> None:
    with SimulatorServer() as sim:
        env = cli_env(sim, tmp_path, **WORKER_TUNING)
        on_terminal = run_worker_until_started(env, tmp_path, terminal=True)
        to_pipe = run_worker_until_started(env, tmp_path, terminal=False)
    assert on_terminal and all(TEXT_LINE.match(line) for line in on_terminal), on_terminal
    assert any(" INFO    service.worker: worker " in line for line in on_terminal), on_terminal
    assert to_pipe and all(json.loads(line)["process"] == "worker" for line in to_pipe), to_pipe


def run_worker_until_started(env: dict[str, str], cwd: Path, *, terminal: bool) -> list[str]:
    """The stderr lines of ``archiver worker`` (a terminal's or a pipe's) from its start
    until it stopped on SIGTERM."""
    main, side = pty.openpty() if terminal else os.pipe()
    process = subprocess.Popen(
        [*WORKER_COMMAND, "worker"],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=side,
    )
    os.close(side)
    output = b""
    deadline = time.monotonic() + 20
    stopped = False
    try:
        while time.monotonic() < deadline:
            if not stopped and b"\n" in output.partition(b"started")[2]:
                time.sleep(0.2)  # the line's write over, the worker idle
                process.send_signal(signal.SIGTERM)
                stopped = True
            ready, _, _ = select.select([main], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal's other side is closed: the worker has exited
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
    assert b"started" in output and process.returncode == 0, output
    return [line.rstrip("\r") for line in output.decode().splitlines() if line.strip()]
