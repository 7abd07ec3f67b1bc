"""The simulator's mutable state: items, tokens, queued faults and the request log.

The HTTP server answers from several threads while a test changes the state from
another, so every read and write goes through one lock and readers get copies.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
import uuid
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..backoff import Backoff
from .config_store import RoutingConfig
from .data import (
    FLOW,
    HOUR_MS,
    MINUTE_MS,
    SOURCE_TYPES,
    USERS,
    Item,
    Person,
    Version,
    build_item,
    make_version,
    now_ms,
    seed,
)
from .notify import (
    AUDIT_TOPIC,
    DIRECT,
    OBJECT_TOPIC,
    NotificationRecord,
    Notifier,
    audit_event,
    check_form,
    check_topics,
    flow_delete_event,
    flow_events,
    flow_version_audit,
    outgoing,
    strategy_event,
)
from .ratelimit import WINDOW_SECONDS, RateLimit, RateStatus

SHUFFLED = "shuffled"
NEWEST_FIRST = "newest-first"
VERSION_ORDERS = (SHUFFLED, NEWEST_FIRST)


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator answered (control routes excluded)."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    at: float  # time.monotonic() when the request arrived
    auth: str | None  # "basic", "bearer" or None

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON values, for ``GET /_sim/requests``."""
        return asdict(self)


@dataclass
class Fault:
    """A queued failure: the next ``remaining`` requests under ``path`` answer ``status``."""

    status: int
    remaining: int
    path: str | None
    retry_after: float | None


@dataclass
class Corruption:
    """A queued damage: set (or with None, delete) ``field`` in the next JSON bodies."""

    path: str
    field: str
    value: object
    remaining: int


@dataclass(frozen=True)
class FlowDeletion:
    """When (epoch ms) and by whom a flow was deleted (``DELETE /api/v2/flows/{id}``)."""

    at_ms: int
    by: Person


class SimulatorState:
    """Everything the simulated org holds, plus knobs that make it misbehave on purpose."""

    def __init__(self, client_id: str | None = None, client_secret: str | None = None) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.latency: float = 0.0
        self.token_lifetime: int = 86_400
        self.rate_limit = RateLimit()
        # Genesys documents no order for a flow's versions: listed in a seeded shuffle by
        # default ("shuffled"), or "newest-first".
        self.version_order: str = SHUFFLED
        self._lock = threading.RLock()
        self._items: dict[str, Item] = {item.id: item for item in seed(now_ms())}
        self._deleted: dict[str, FlowDeletion] = {}  # flows deleted, kept for deleted=true
        self._tokens: dict[str, float] = {}
        self._faults: list[Fault] = []
        self._corruptions: list[Corruption] = []
        self._requests: list[RequestRecord] = []
        # Notifications of new versions: off until a URL is set.
        self.notify_url: str | None = None
        self._notify_form = DIRECT
        self.notify_token: str | None = None
        self.notify_progress: bool = False
        self._notify_topics: tuple[str, ...] = (OBJECT_TOPIC,)  # and/or AUDIT_TOPIC
        self._notifications: list[NotificationRecord] = []
        self._notifier = Notifier(self._record_notification)
        # Queues, IVRs, schedules... and decision tables; their changes are audited.
        self.routing = RoutingConfig(self._send_audits)

    # Items ------------------------------------------------------------------------------

    def add_strategy(self, source_type: str, versions: int = 3, name: str | None = None) -> str:
        """Create a flow or routing strategy with ``versions`` versions made in the last hours."""
        with self._lock:
            count = sum(1 for item in self._items.values() if item.source_type == source_type)
            if source_type == FLOW:
                item_type, default = "INBOUNDCALL", f"Added flow {count + 1}"
            else:
                item_type, default = "INBOUND", f"Added strategy {count + 1}"
            newest = now_ms() - MINUTE_MS
            item_id = str(uuid.uuid4())
            item = build_item(
                source_type, item_id, name or default, item_type, versions, newest, HOUR_MS
            )
            self._items[item.id] = item
            url, form, token = self.notify_url, self._notify_form, self.notify_token
            # A new flow is no new version (its own topic stays quiet), but it is audited.
            created = source_type == FLOW and url is not None and AUDIT_TOPIC in self.notify_topics
            notifications = [audit_event(item, "Create", USERS[0], now_ms())] if created else []
        if url is not None:
            self._notifier.submit(outgoing(notifications, url, form, token))
        return item_id

    def add_versions(
        self,
        strategy_id: str,
        count: int = 1,
        *,
        version_id: str | None = None,
        missing: tuple[str, ...] = (),
    ) -> list[str]:
        """Append ``count`` new newest versions to an item; KeyError for an unknown id.

        ``version_id`` (one flow version only) gives it an id of another form, ``missing``
        names fields its listing entry leaves out: a bad entry, as a real org may list one.
        With ``notify_url`` set, each version's notification is then sent in the background.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        if version_id is not None and (count != 1 or not version_id):
            raise ValueError("versionId names one version: count must be 1, the id not empty")
        with self._lock:
            item = self._items[strategy_id]
            if version_id is not None and any(v.id == version_id for v in item.versions):
                raise ValueError(f"version {version_id!r} exists already")
            made = []
            for _ in range(count):
                # Strictly after the newest, so "newest first" stays true even within a second.
                last = item.newest.created_ms if item.newest else 0
                version = make_version(
                    item, max(now_ms(), last + 1000), version_id=version_id, missing=missing
                )
                item.versions.append(version)
                made.append(version)
            url, form, token = self.notify_url, self._notify_form, self.notify_token
            notifications = []
            if url is not None:
                for version in made:
                    notifications += self._version_notifications(item, version)
        if url is not None:
            self._notifier.submit(outgoing(notifications, url, form, token))
        return [version.id for version in made]

    def delete_flow(self, flow_id: str, by: Person | None = None) -> FlowDeletion:
        """Delete a flow as ``DELETE /api/v2/flows/{id}`` does: from then on its GET answers
        410, its versions 404, and listings leave it out unless asked for ``deleted=true``.

        KeyError when no flow has that id, ValueError when it is deleted already. With
        ``notify_url`` set, ``deletion_notifications`` are then sent in the background.
        """
        with self._lock:
            item = self._items.get(flow_id)
            if item is None or item.source_type != FLOW:
                raise KeyError(flow_id)
            if flow_id in self._deleted:
                raise ValueError(f"flow {flow_id} is deleted already")
            deletion = FlowDeletion(now_ms(), by or USERS[0])
            self._deleted[flow_id] = deletion
            url, form, token = self.notify_url, self._notify_form, self.notify_token
            notifications = self.deletion_notifications(item, deletion) if url else []
        if url is not None:
            self._notifier.submit(outgoing(notifications, url, form, token))
        return deletion

    def _version_notifications(self, item: Item, version: Version) -> list[dict[str, Any]]:
        """What Genesys sends when ``version`` of ``item`` is made, on the topics notified."""
        found: list[dict[str, Any]] = []
        if OBJECT_TOPIC in self.notify_topics:
            if item.source_type == FLOW:
                found += flow_events(item, version, self.notify_progress)
            else:
                found.append(strategy_event(item, version))
        if AUDIT_TOPIC in self.notify_topics and item.source_type == FLOW:
            found.append(flow_version_audit(item, version))
        return found

    def deletion_notifications(self, item: Item, deletion: FlowDeletion) -> list[dict[str, Any]]:
        """What Genesys sends when ``item`` is deleted: the hook for every notification form."""
        found: list[dict[str, Any]] = []
        if OBJECT_TOPIC in self.notify_topics:
            found.append(flow_delete_event(item, deletion.by))
        if AUDIT_TOPIC in self.notify_topics:
            found.append(audit_event(item, "Delete", deletion.by, deletion.at_ms))
        return found

    def _send_audits(self, notifications: list[dict[str, Any]]) -> None:
        """Send audit notifications of routing-configuration changes, when notifying on the
        audit topic (these objects have no topic of their own)."""
        with self._lock:
            url, form, token = self.notify_url, self._notify_form, self.notify_token
            wanted = url is not None and AUDIT_TOPIC in self.notify_topics
        if wanted and url is not None:
            self._notifier.submit(outgoing(notifications, url, form, token))

    def restore_flow(self, flow_id: str) -> None:
        """Bring a deleted flow back (as an org restoring one would): live and listed again."""
        with self._lock:
            if self._deleted.pop(flow_id, None) is None:
                raise KeyError(flow_id)

    def rename(self, item_id: str, name: str) -> None:
        """Give an item a new name, as an org renaming a flow would: versions made from now
        on carry it (KeyError for an unknown id)."""
        with self._lock:
            self._items[item_id].name = name

    def flow_deletion(self, flow_id: str) -> FlowDeletion | None:
        """The flow's deletion, or None while it is live (or unknown)."""
        with self._lock:
            return self._deleted.get(flow_id)

    def strategy_ids(self, source_type: str) -> list[str]:
        """Ids of every item of ``source_type``, seeded ones first, in creation order."""
        if source_type not in SOURCE_TYPES:
            raise ValueError(f"unknown source type {source_type!r}; use one of {SOURCE_TYPES}")
        with self._lock:
            return [i.id for i in self._items.values() if i.source_type == source_type]

    def item(self, source_type: str, item_id: str) -> Item | None:
        """A snapshot of one item, or None when no item of that source type has this id."""
        with self._lock:
            item = self._items.get(item_id)
            if item is None or item.source_type != source_type:
                return None
            return replace(item, versions=list(item.versions))

    def items(self, source_type: str) -> list[Item]:
        """Snapshots of every item of ``source_type``, in creation order."""
        with self._lock:
            return [
                replace(i, versions=list(i.versions))
                for i in self._items.values()
                if i.source_type == source_type
            ]

    # Notifications ----------------------------------------------------------------------

    @property
    def notify_form(self) -> str:
        """``"direct"`` (the notification as is) or ``"eventbridge"`` (inside ``detail``)."""
        return self._notify_form

    @notify_form.setter
    def notify_form(self, form: str) -> None:
        self._notify_form = check_form(form)

    @property
    def notify_topics(self) -> tuple[str, ...]:
        """Which topics changes are notified on: ``"object"`` (``v2.flows.{id}``,
        ``v2.routing.strategies.{id}``) and/or ``"audit"`` (the audit topic, flows only)."""
        return self._notify_topics

    @notify_topics.setter
    def notify_topics(self, topics: list[str] | tuple[str, ...]) -> None:
        self._notify_topics = check_topics(topics)

    @property
    def notify_retry(self) -> Backoff:
        """The waits between tries of each notification delivery."""
        return self._notifier.retry

    @notify_retry.setter
    def notify_retry(self, retry: Backoff) -> None:
        self._notifier.retry = retry

    def _record_notification(self, record: NotificationRecord) -> None:
        with self._lock:
            self._notifications.append(record)

    @property
    def notifications(self) -> list[NotificationRecord]:
        """A copy of the notification deliveries that have ended, oldest first."""
        with self._lock:
            return list(self._notifications)

    def wait_notifications(self, timeout: float = 10.0) -> bool:
        """Wait until every notification sent so far has been delivered or given up on."""
        return self._notifier.wait(timeout)

    def close(self) -> None:
        """Stop the notification thread after what is queued."""
        self._notifier.close()

    # Tokens -----------------------------------------------------------------------------

    def issue_token(self) -> str:
        """A new bearer token valid for ``token_lifetime`` seconds."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_lifetime
        return token

    def token_problem(self, token: str) -> str | None:
        """None when ``token`` is valid, else the code of the 401 to answer."""
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None:
            return "bad.credentials"
        return "credentials.expired" if time.monotonic() >= expiry else None

    def expire_tokens(self) -> None:
        """Make every token issued so far invalid, as if each had run out."""
        with self._lock:
            for token in self._tokens:
                self._tokens[token] = -math.inf

    # Faults and corruption --------------------------------------------------------------

    def inject_fault(
        self,
        status: int,
        times: int = 1,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer ``status`` to the next ``times`` requests under ``path`` (None: any path)."""
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(Fault(status, times, path, retry_after))

    def take_fault(self, path: str) -> Fault | None:
        """The first queued fault matching ``path``, counted as used; None when none applies."""
        with self._lock:
            for fault in self._faults:
                if fault.path is None or path.startswith(fault.path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return replace(fault)
        return None

    def corrupt_next(self, path: str, field: str, value: object, times: int = 1) -> None:
        """Set dotted ``field`` to ``value`` (None: delete it) in the next ``times`` bodies."""
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._corruptions.append(Corruption(path, field, value, times))

    def take_corruptions(self, path: str) -> list[tuple[str, object]]:
        """The ``(field, value)`` changes due on a successful JSON answer for ``path``."""
        due = []
        with self._lock:
            for corruption in list(self._corruptions):
                if path.startswith(corruption.path):
                    due.append((corruption.field, corruption.value))
                    corruption.remaining -= 1
                    if corruption.remaining <= 0:
                        self._corruptions.remove(corruption)
        return due

    # Rate limit -------------------------------------------------------------------------

    @property
    def rate_limit_per_minute(self) -> int | None:
        """The enforced allowance per minute (None: none); see ``rate_limit`` for the window."""
        return self.rate_limit.per_minute

    @rate_limit_per_minute.setter
    def rate_limit_per_minute(self, allowed: int | None) -> None:
        self.rate_limit.configure(allowed=allowed, window=WINDOW_SECONDS)

    def admit(self, now: float) -> RateStatus:
        """Count one API request in the rate-limit window, unless it is over the limit."""
        return self.rate_limit.admit(now)

    def rate_status(self, now: float) -> RateStatus:
        """The current standing, without counting a request."""
        return self.rate_limit.status(now)

    # Request log ------------------------------------------------------------------------

    def record(self, record: RequestRecord) -> None:
        """Append one answered request to the log."""
        with self._lock:
            self._requests.append(record)

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._requests.clear()

    def api_calls(self, prefix: str = "/api/v2") -> int:
        """How many recorded requests had a path under ``prefix``."""
        with self._lock:
            return sum(1 for r in self._requests if r.path.startswith(prefix))
