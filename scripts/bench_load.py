"""The load of ``scripts/bench_ingest.py``: webhook bodies and the senders that post them.

Bodies are real notifications (flows and routing strategies, each direct and as an
EventBridge event) with a fresh CorrelationId and EventBridge id per request, so that
every request is a new event, never a duplicate. Senders are asyncio connections in
one or more client processes; each either keeps its connection alive (what a reverse
proxy or EventBridge's pool does) or opens a new one for every request (what a
one-shot HTTP client does), latency then counted from the connect.

Two ways to send: closed-loop (``run_loader``: each sender sends its next request once
the last is answered, so the server sets the pace) and open-loop (``run_open_loader``:
requests start at arrival times drawn in advance, Poisson with a fixed seed, whatever the
answers, latency counted from the scheduled time, so a slow answer cannot hold back the
requests behind it and hide their wait: no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from array import array
from collections import Counter
from dataclasses import dataclass, field

PATH = "/webhooks/genesys"
TOKEN = "bench-inbound-token"
CORR, EVID = b"C" * 36, b"E" * 36  # placeholders replaced by a fresh uuid per request


# Bodies -------------------------------------------------------------------------------


def notification(topic: str, event_body: dict[str, object]) -> dict[str, object]:
    return {
        "topicName": topic,
        "version": "2",
        "eventBody": event_body,
        "metadata": {"CorrelationId": CORR.decode()},
    }


def flow_body(flow_id: str, n: int) -> dict[str, object]:
    """A completed PUBLISH of a flow, shaped like the reference sample."""
    user = {
        "id": str(uuid.uuid4()),
        "name": "Ada Lovelace",
        "homeOrg": {"id": str(uuid.uuid4()), "name": "Bench Org", "thirdPartyOrgName": "b"},
    }
    operation = {
        "id": str(uuid.uuid4()),
        "complete": True,
        "user": user,
        "client": {"id": str(uuid.uuid4()), "name": "Architect CI"},
        "actionName": "PUBLISH",
        "actionStatus": "SUCCESS",
    }
    return {
        "id": flow_id,
        "name": f"Flow {n}",
        "description": f"Bench flow {n}",
        "deleted": False,
        "checkedInVersion": {"id": "3.0"},
        "savedVersion": {"id": "3.0"},
        "publishedVersion": {"id": "3.0"},
        "currentOperation": operation,
    }


def random_strategies(count: int) -> list[tuple[str, str]]:
    """``count`` (source type, id) pairs of fresh ids, flows and routing strategies alternating."""
    return [("flow" if n % 2 else "routing-strategy", str(uuid.uuid4())) for n in range(count)]


def templates(strategies: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """(auth header, body template) pairs: for each strategy, direct and EventBridge."""
    made = []
    for n, (source_type, item_id) in enumerate(strategies):
        if source_type == "flow":
            note = notification(f"v2.flows.{item_id}", flow_body(item_id, n))
            template = "v2.flows.{id}"
        else:
            note = notification(
                f"v2.routing.strategies.{item_id}", {"id": item_id, "name": f"S {n}", "version": 3}
            )
            template = "v2.routing.strategies.{id}"
        made.append((f"Authorization: Bearer {TOKEN}".encode(), json.dumps(note).encode()))
        event = {
            "version": "0",
            "id": EVID.decode(),
            "detail-type": template,
            "source": "aws.partner/genesys.com/cloud/bench/archiver",
            "account": "123456789012",
            "time": "2026-11-28T08:02:11Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {**note, "timestamp": "2026-11-28T08:02:11.889Z"},
        }
        made.append((f"X-Archiver-Token: {TOKEN}".encode(), json.dumps(event).encode()))
    return made


# Senders ------------------------------------------------------------------------------


@dataclass
class Load:
    """What one loader process measured."""

    latencies: array[float] = field(default_factory=lambda: array("d"))
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    answered_202: int = 0  # warm-up included: what the ledger should hold
    window: float = 0.0
    unanswered: int = 0  # open-loop: measured requests still unanswered when it gave up
    max_lag: float = 0.0  # open-loop: latest a request started after its scheduled time
    last_done: float = 0.0  # open-loop: when the last measured request was answered


@dataclass(frozen=True)
class Plan:
    """What every sender of one loader process does, and when."""

    port: int
    bodies: list[tuple[bytes, bytes]]
    new_connections: bool  # a new TCP connection per request, closed after the answer
    measure_from: float  # time.monotonic() values
    until: float
    cap: int  # at most this many measured requests per process


def request_bytes(plan: Plan, index: int) -> bytes:
    """The whole HTTP request of the ``index``-th body, with fresh ids."""
    auth, template = plan.bodies[index % len(plan.bodies)]
    body = template.replace(CORR, str(uuid.uuid4()).encode()).replace(
        EVID, str(uuid.uuid4()).encode()
    )
    head = b"\r\n".join(
        [
            b"POST " + PATH.encode() + b" HTTP/1.1",
            f"Host: 127.0.0.1:{plan.port}".encode(),
            auth,
            b"Content-Type: application/json",
            b"Content-Length: " + str(len(body)).encode(),
            b"",
            b"",
        ]
    )
    return head + body


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response: its status, and whether the server closes the connection."""
    status = int((await reader.readline()).split(b" ", 2)[1])
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    await reader.readexactly(length)
    return status, close


async def _sender(plan: Plan, offset: int, load: Load) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    i = offset
    while time.monotonic() < plan.until and len(load.latencies) < plan.cap:
        data = request_bytes(plan, i)
        i += 1
        started = time.monotonic()  # a new connection's connect is part of its latency
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", plan.port)
            assert reader is not None
            writer.write(data)
            status, close = await _answer(reader)
            done = time.monotonic()
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            load.errors += time.monotonic() >= plan.measure_from
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        load.answered_202 += status == 202
        if plan.measure_from <= done <= plan.until:
            load.latencies.append(done - started)
            load.statuses[status] += 1
        if close or plan.new_connections:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def run_loader(plan: Plan, senders: int, offset: int) -> Load:
    """One process's share of the senders; runs until the plan's window ends."""
    load = Load()

    async def main() -> None:
        await asyncio.gather(*(_sender(plan, offset + 7 * s, load) for s in range(senders)))

    asyncio.run(main())
    load.window = min(plan.until, time.monotonic()) - plan.measure_from
    return load


# Open loop ----------------------------------------------------------------------------


def arrivals(rate: float, start: float, until: float, seed: int) -> list[float]:
    """Poisson arrival times at ``rate`` a second in ``[start, until)``, the same for a seed."""
    rng, times, t = random.Random(seed), [], start
    while (t := t + rng.expovariate(rate)) < until:
        times.append(t)
    return times


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _scheduled(
    plan: Plan, index: int, due: float, idle: list[Connection], load: Load
) -> None:
    """One request due at ``due``: an idle kept-alive connection if any, else a new one; sent
    again once on a new connection when a kept one fails (the server closed it while idle),
    as an HTTP client's pool does, the latency still counted from ``due``."""
    load.max_lag = max(load.max_lag, time.monotonic() - due)
    measured = plan.measure_from <= due < plan.until
    connection = None if plan.new_connections or not idle else idle.pop()
    data = request_bytes(plan, index)
    while True:
        reused = connection is not None
        try:
            if connection is None:
                connection = await asyncio.open_connection("127.0.0.1", plan.port)
            connection[1].write(data)
            status, close = await _answer(connection[0])
            done = time.monotonic()
            break
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            if connection is not None:
                connection[1].close()
            connection = None
            if not reused:
                load.errors += measured
                return
    load.answered_202 += status == 202
    if measured:
        load.latencies.append(done - due)
        load.statuses[status] += 1
        load.last_done = max(load.last_done, done)
    if close or plan.new_connections:
        connection[1].close()
    else:
        idle.append(connection)


def run_open_loader(
    plan: Plan, rate: float, start: float, seed: int, part: int, parts: int, drain: float
) -> Load:
    """Every ``parts``-th arrival (from ``part``) of the schedule at ``rate`` from ``start`` to
    ``plan.until``, each started on time however many are in flight; then up to ``drain``
    seconds for the last answers. Latencies count from the scheduled times."""
    load = Load()
    times = arrivals(rate, start, plan.until, seed)[part::parts]

    async def main() -> None:
        idle: list[Connection] = []
        tasks: set[asyncio.Task[None]] = set()
        for n, due in enumerate(times):
            if (delay := due - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(_scheduled(plan, part + n * parts, due, idle, load))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            _, late = await asyncio.wait(set(tasks), timeout=drain)
            for task in late:
                task.cancel()
        for _, writer in idle:
            writer.close()

    asyncio.run(main())
    load.window = plan.until - plan.measure_from
    measured = sum(plan.measure_from <= due < plan.until for due in times)
    load.unanswered = measured - len(load.latencies) - load.errors
    return load
