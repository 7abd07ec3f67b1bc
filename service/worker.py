"""``archiver worker``: runs archive jobs and outbound deliveries, and the scheduled sweep.

Modelled on huey's consumer. It runs in the app every process builds
(``create_app(web=False)``): each job and each periodic task inside the app's context.
Job threads each hold their own ledger connection
and archiver; they claim, run and finish jobs through ledger verbs only. A
heartbeat thread renews the leases of the jobs in hand from its own connection.
Delivery lanes (one per target, at most eight) send completion events apart
from the jobs, so that a slow receiver never holds up archiving.
The main thread runs periodic tasks (the sweep) and waits for a stop signal:
then no thread claims again, and each finishes the job or attempt in hand.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from types import FrameType

from flask import Flask

from . import backoff, extensions
from .app import create_app, create_history
from .archive import Archiver, open_archiver
from .archive.job import JobOutcome, run_archive_job
from .clock import iso, utcnow
from .config import Settings
from .genesys.sources import enabled_types
from .history.lane import HistoryConfig, HistoryStep
from .ledger import Job, LeaseLost, Ledger, events, jobs, outbox
from .ops.logs import log_context
from .ops.metrics import observe_job
from .outbound.deliver import Deliverer
from .outbound.loop import MAX_LANES, DeliveryLane
from .outbound.settings import outbound_from
from .sweep import sweep_known

log = logging.getLogger("service.worker")

ArchiverFactory = Callable[[Settings, Ledger], AbstractContextManager[Archiver]]
SWEEP_CHECK_MAX_SECONDS = 60.0  # the sweep starts at most this late
PRUNE_EVERY_SECONDS = 3600.0  # old event bodies are emptied at start, then hourly
# Each write of the worker waits up to this long for a moment the ledger's lock is free
# before queueing for it: a webhook waits for its commit before its answer, a job does not.
GIVE_WAY_SECONDS = 0.25
# How loud a finished try is: a retry is worth a look, a dead job an alert.
_LEVELS = {"waiting": logging.WARNING, "dead": logging.ERROR}


@dataclass(frozen=True)
class Periodic:
    """Something the main thread does every ``every`` seconds with its own ledger."""

    name: str
    every: float
    run: Callable[[Ledger], None]


@dataclass
class Lease:
    """A job in hand; ``lost`` is set once another worker has taken it over."""

    job_id: str
    owner: str
    lost: threading.Event = field(default_factory=threading.Event)


class Heartbeat:
    """Renews the lease of every job in hand every third of the lease, on its own connection."""

    def __init__(self, open_ledger: Callable[[], Ledger], lease_seconds: float) -> None:
        self.open_ledger = open_ledger
        self.lease_seconds = lease_seconds
        self._held: dict[str, Lease] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop renewing (after the job threads are done) and wait for the thread."""
        self._closed.set()
        if self._thread.is_alive():
            self._thread.join()

    def hold(self, job: Job, owner: str) -> Lease:
        """Start renewing ``job``'s lease for ``owner``."""
        lease = Lease(job.id, owner)
        with self._lock:
            self._held[job.id] = lease
        return lease

    def release(self, lease: Lease) -> None:
        """Stop renewing the lease (the job is finished, or given up)."""
        with self._lock:
            self._held.pop(lease.job_id, None)

    def _beat(self) -> None:
        with self.open_ledger() as ledger:
            while not self._closed.wait(self.lease_seconds / 3):
                with self._lock:
                    held = list(self._held.values())
                for lease in held:
                    try:
                        kept = jobs.extend_lease(
                            ledger, lease.job_id, lease.owner, lease_seconds=self.lease_seconds
                        )
                    except Exception as exc:  # busy or failing for a moment: try next beat
                        log.warning(
                            "could not renew the lease of job %s: %s",
                            lease.job_id,
                            exc,
                            extra={"job_id": lease.job_id},
                        )
                        continue
                    if not kept and not lease.lost.is_set():
                        log.warning(
                            "job %s: lease lost to another worker",
                            lease.job_id,
                            extra={"job_id": lease.job_id},
                        )
                        lease.lost.set()


@dataclass
class Slot:
    """One job thread's own connection, archiver and lease-owner name."""

    owner: str
    ledger: Ledger
    archiver: Archiver


class Worker:
    """Runs jobs in ``WORKER_THREADS`` threads until ``stop()``, then finishes those in hand.

    ``app`` is the app it works in (``create_app(web=False)``); settings alone build one.
    """

    def __init__(
        self,
        app: Flask | Settings,
        *,
        archiver_factory: ArchiverFactory = open_archiver,
        periodic: tuple[Periodic, ...] = (),
    ) -> None:
        self.app = app if isinstance(app, Flask) else create_app(app, web=False)
        self.settings = settings = extensions.settings(self.app)
        self.archiver_factory = archiver_factory
        self.retry = backoff.jobs(settings.job_max_tries, settings.job_retry_base_seconds)
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopping = threading.Event()
        self._stop_announced = False
        self.periodic = list(periodic)
        interval = settings.sweep_interval_seconds
        if interval:
            every = min(max(interval / 10, settings.worker_poll_seconds), SWEEP_CHECK_MAX_SECONDS)
            self.periodic.insert(0, Periodic("sweep", every, self._sweep))
        if settings.event_retention_days:
            self.periodic.append(Periodic("prune", PRUNE_EVERY_SECONDS, self._prune))
        history = HistoryConfig.from_settings(settings, outbound_from(settings).targets)
        # The history commits after each archive job, and on each tick what is left.
        self.history = HistoryStep(history) if history else None
        if self.history:
            self.periodic.append(Periodic("history", settings.worker_poll_seconds, self.history))
        # Every connection of the worker waits at most LEDGER_LOCK_TIMEOUT_SECONDS for the
        # lock, and first gives way to the webhooks' writers queued for it.
        self.open_ledger: Callable[[], Ledger] = partial(
            Ledger.from_settings, settings, give_way=GIVE_WAY_SECONDS
        )
        self.heartbeat = Heartbeat(self.open_ledger, settings.job_lease_seconds)
        self._due: dict[str, float] = {}  # monotonic time each periodic task is next due
        self._resources = ExitStack()
        self._threads: list[threading.Thread] = []
        # Dead jobs announce themselves to every target, as archives do.
        self.outbound = outbound_from(settings)
        self.notify = self.outbound.names

    # Life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Open every thread's ledger and archiver (errors surface here), then start them."""
        create_history(self.settings)
        slots = []
        with ExitStack() as opened:
            for index in range(self.settings.worker_thread_count):
                ledger = opened.enter_context(self.open_ledger())
                archiver = opened.enter_context(self.archiver_factory(self.settings, ledger))
                slots.append(Slot(f"{self.name}/{index}", ledger, archiver))
            lanes = self._open_lanes(opened)
            self._resources = opened.pop_all()
        log.info(
            "worker %s started: %d thread(s), at most %d job(s) running across workers, "
            "lease %g s, %d delivery lane(s) for %d target(s), sweep %s",
            self.name,
            len(slots),
            self.settings.max_concurrent_archives,
            self.settings.job_lease_seconds,
            len(lanes),
            len(self.outbound.targets),
            f"every {self.settings.sweep_interval_seconds} s"
            if self.settings.sweep_interval_seconds
            else "off",
        )
        self.heartbeat.start()
        for slot in slots:
            thread = threading.Thread(target=self._work, args=(slot,), name=slot.owner, daemon=True)
            self._threads.append(thread)
            thread.start()
        for lane in lanes:
            thread = threading.Thread(target=self._in_app(lane.run), name=lane.owner, daemon=True)
            self._threads.append(thread)
            thread.start()

    def _in_app(self, run: Callable[[], None]) -> Callable[[], None]:
        """``run`` inside the app's context (a thread starts without one)."""

        def run_in_app() -> None:
            with self.app.app_context():
                run()

        return run_in_app

    def _open_lanes(self, opened: ExitStack) -> list[DeliveryLane]:
        """One delivery lane per target (at most ``MAX_LANES``), none without targets."""
        targets = self.outbound.targets
        if not targets:
            return []
        deliverer = Deliverer(targets)
        opened.callback(deliverer.close)
        return [
            DeliveryLane(
                f"{self.name}/deliver-{index}",
                opened.enter_context(self.open_ledger()),
                deliverer,
                self.outbound.retry,
                self.outbound.lanes,  # events' targets and git targets (pushes)
                lease_seconds=self.settings.job_lease_seconds,
                poll_seconds=self.settings.worker_poll_seconds,
                stopping=self.stopping,
                kinds={target.name: target.kind for target in targets},
            )
            for index in range(min(len(targets), MAX_LANES))
        ]

    def stop(self) -> None:
        """Claim nothing more; threads finish the job in hand."""
        self.stopping.set()
        if not self._stop_announced:
            self._stop_announced = True
            log.info("worker %s stopping: finishing the jobs and deliveries in hand", self.name)

    def join(self) -> None:
        """Wait for every job and delivery thread, then close connections and clients."""
        for thread in self._threads:
            thread.join()
        self.heartbeat.close()
        self._resources.close()
        log.info("worker %s stopped", self.name)

    def run(self) -> None:
        """Start, run the periodic tasks until ``stop()``, then wait for the jobs in hand."""
        self.start()
        try:
            with self.open_ledger() as ledger:
                for _ in self._ticks():
                    self._run_periodic(ledger)
        finally:
            self.stop()
            self.join()

    def install_signal_handlers(self) -> None:
        """SIGTERM or SIGINT: stop gracefully; a second one: exit at once (leases run out)."""

        # A handler runs between two bytecodes of the main thread, maybe inside a log call:
        # logging from it could re-enter the stream's writer ("reentrant call"). So the first
        # signal only sets the event (``run`` then says it is stopping, from the main thread)
        # and the second writes its line with one raw write before leaving.
        def handle(signum: int, frame: FrameType | None) -> None:
            if self.stopping.is_set():
                name = signal.Signals(signum).name
                os.write(2, f"archiver worker: second {name}, exiting now\n".encode())
                os._exit(1)
            self.stopping.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    # Job threads -----------------------------------------------------------------------

    def _work(self, slot: Slot) -> None:
        settings = self.settings
        while not self.stopping.is_set():
            try:
                job = jobs.claim(
                    slot.ledger,
                    slot.owner,
                    lease_seconds=settings.job_lease_seconds,
                    max_running=settings.max_concurrent_archives,
                    max_tries=self.retry.max_tries,  # a job whose worker keeps dying dies
                    notify=self.notify,
                )
            except Exception as exc:  # the ledger may be locked or failing for a moment
                log.error("%s: could not claim a job: %s", slot.owner, exc)
                job = None
            if job is None:
                self.stopping.wait(settings.worker_poll_seconds)
                continue
            # Every line logged while the job runs (the pipeline's, urllib3's) carries its ids.
            with (
                self.app.app_context(),
                log_context(
                    job_id=job.id, strategy_id=job.strategy_id, source_type=job.source_type
                ),
            ):
                try:
                    self._run_job(slot, job)
                except Exception:  # never lose the thread; the lease runs out, a worker retries
                    log.exception("job %s: unexpected failure in the worker", job.id)

    def _run_job(self, slot: Slot, job: Job) -> None:
        log.info(
            "job %s started: %s %s, try %d (%s)",
            job.id,
            job.source_type,
            job.strategy_id,
            job.tries,
            job.reason,
        )
        began = time.monotonic()
        lease = self.heartbeat.hold(job, slot.owner)
        try:
            outcome = run_archive_job(
                slot.archiver,
                job.strategy_id,
                job.source_type,
                full=job.full,
                author=events.job_author(slot.ledger, job.id),
            )
        finally:
            self.heartbeat.release(lease)
        took = time.monotonic() - began
        if lease.lost.is_set():
            observe_job(None, took)
            log.warning("job %s: lease lost after %.1f s; result dropped", job.id, took)
            return
        try:
            finished = self._finish(slot, job, outcome)
        except LeaseLost:
            observe_job(None, took)
            log.warning("job %s: lease lost after %.1f s; result dropped", job.id, took)
            return
        observe_job(finished.state, took)
        if self.history and (outcome.ok or outcome.deleted is not None):
            self.history(slot.ledger)
        # The log line and the ledger mask secrets themselves (the formatter, the verbs).
        detail = _describe(outcome) if outcome.ok else outcome.error or ""
        if outcome.deleted is not None:
            detail = f"deleted in Genesys Cloud: {outcome.deleted}"
        log.log(
            _LEVELS.get(str(finished.state), logging.INFO),
            "job %s %s after %.1f s: %s",
            job.id,
            finished.state,
            took,
            detail,
            extra={"state": str(finished.state), "tries": finished.tries},
        )

    def _finish(self, slot: Slot, job: Job, outcome: JobOutcome) -> Job:
        if outcome.ok:
            return jobs.complete(slot.ledger, job.id, slot.owner, outcome.result)
        if outcome.deleted is not None:  # no failure: the job ends, the deletion is announced
            return jobs.finish_deleted(
                slot.ledger, job.id, slot.owner, reason=outcome.deleted, notify=self.notify
            )
        return jobs.fail(
            slot.ledger,
            job.id,
            slot.owner,
            outcome.error or "failed",
            retryable=outcome.retryable,
            retry=self.retry,
            notify=self.notify,
        )

    # Main thread -----------------------------------------------------------------------

    def _ticks(self) -> Iterator[None]:
        """Yield whenever a periodic task may be due, until stopping."""
        step = min([p.every for p in self.periodic] + [1.0])
        while not self.stopping.is_set():
            yield
            self.stopping.wait(step)

    def _run_periodic(self, ledger: Ledger) -> None:
        now = time.monotonic()
        for task in self.periodic:
            if now < self._due.get(task.name, 0.0):
                continue
            self._due[task.name] = now + task.every
            try:
                with self.app.app_context():
                    task.run(ledger)
            except Exception as exc:  # try again next time
                log.error("%s failed: %s", task.name, exc)

    def _sweep(self, ledger: Ledger) -> None:
        """When this process wins this interval's sweep, queue a job for every known strategy."""
        if not jobs.claim_sweep(ledger, self.settings.sweep_interval_seconds):
            return
        result = sweep_known(ledger, enabled=enabled_types(self.settings.sources))
        log.info(
            "sweep: %d strategies, %d job(s) queued, %d joined a waiting job",
            result.strategies,
            result.queued,
            result.joined,
        )

    def _prune(self, ledger: Ledger) -> None:
        """Empty the bodies of events older than ``EVENT_RETENTION_DAYS`` (rows stay).

        Cheap to repeat, so every worker process may do it: only bodies still kept are
        looked at, through an index.
        """
        before = iso(utcnow() - timedelta(days=self.settings.event_retention_days))
        inbound = events.prune_event_bodies(ledger, before)
        outbound = outbox.prune_outbox_bodies(ledger, before)
        if inbound or outbound:
            log.info(
                "pruned the bodies of %d inbound and %d delivered outbound event(s)"
                " older than %d day(s)",
                inbound,
                outbound,
                self.settings.event_retention_days,
            )


def _describe(outcome: JobOutcome) -> str:
    result = outcome.result
    if not result.get("archiveId"):
        return "no new versions"
    verb = "archived" if result.get("created") else "already archived"
    return f"{verb} {result.get('versionCount')} version(s) as {result.get('archiveId')}"
