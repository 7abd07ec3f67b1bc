"""Notifications the simulator POSTs when a version is made, as Genesys (or EventBridge) would.

Bodies are built from the item as it stood when the version was made (``flow_events``,
``strategy_events``, ``audit_event``, ``eventbridge``); a ``Notifier`` sends them in order
from one background thread, so the request that made the version never waits on the receiver.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from ..backoff import Backoff
from ..http import make_session
from .data import CLIENT, Item, Person, Version
from .render import iso

DIRECT = "direct"
EVENTBRIDGE = "eventbridge"
NOTIFY_FORMS = (DIRECT, EVENTBRIDGE)

# The simulated org and the AWS side of its EventBridge integration, as in the samples.
ORG = Person("04c3b4b7-ee7d-4f16-b685-a467bfe60ea8", "Sample Org")
ORG_SHORT_NAME = "sample"
AWS_ACCOUNT = "123456789012"
AWS_REGION = "us-east-1"
EVENT_SOURCE_SUFFIX = "archiver"
FLOW_TOPIC_TEMPLATE = "v2.flows.{id}"
STRATEGY_TOPIC_TEMPLATE = "v2.routing.strategies.{id}"
AUDIT_TOPIC_TEMPLATE = "v2.audits.entitytype.{id}.entityid.{id}"

# Which topics the simulator notifies: each object's own (``v2.flows.{id}``,
# ``v2.routing.strategies.{id}``) and the audit topic (flows only: routing strategies are
# no Genesys entity type). A real EventBridge integration may deliver only the audit one.
OBJECT_TOPIC = "object"
AUDIT_TOPIC = "audit"
NOTIFY_TOPICS = (OBJECT_TOPIC, AUDIT_TOPIC)

# The audit action, and the flow property that moves, of each kind of flow version.
AUDIT_ACTIONS = {"PUBLISH": "Publish", "CHECKIN": "Checkin", "SAVE": "Save"}
_MOVED = {"PUBLISH": "publishedVersion", "CHECKIN": "checkedInVersion", "SAVE": "savedVersion"}
AUDIT_REMOTE_IP = "203.0.113.24"  # documentation range (RFC 5737), as in the sample

# Statuses a flow operation passes through before it ends (sent with ``notify_progress``).
PROGRESS_STATUSES = ("STARTED", "PENDING_GENERATION")


# A notification is tried 4 times, 0.1 s, 0.5 s and 1 s apart (the project's one backoff
# type); each try waits at most 2 s to connect and 5 s for the answer, as EventBridge does.
NOTIFY_RETRY = Backoff((0.1, 0.5, 1.0))
NOTIFY_TIMEOUT = (2.0, 5.0)
SENDER = "genesys-cloud-simulator"  # the User-Agent of every notification


def worth_retrying(status: int) -> bool:
    """Whether an answer with ``status`` is worth another try (429 and 5xx)."""
    return status == 429 or status >= 500


@dataclass(frozen=True)
class NotificationRecord:
    """One notification's delivery: where, in which form, and how it ended."""

    url: str
    form: str
    topic: str
    status: int | None  # the last HTTP status, None when no answer came
    error: str | None  # why no answer came (connection refused, timeout...)
    attempts: int
    at: float  # time.monotonic() when the delivery ended

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON values, for ``GET /_sim/notifications``."""
        return asdict(self)


@dataclass(frozen=True)
class Outgoing:
    """A notification ready to send, with its destination fixed when the version was made."""

    url: str
    form: str
    token: str | None
    topic: str
    body: dict[str, Any]


def check_topics(topics: object) -> tuple[str, ...]:
    """``topics`` as a tuple when it is a non-empty list of known topic kinds, else ValueError."""
    if (
        not isinstance(topics, list | tuple)
        or not topics
        or any(topic not in NOTIFY_TOPICS for topic in topics)
    ):
        raise ValueError(f"notify topics must be a non-empty list of {', '.join(NOTIFY_TOPICS)}")
    return tuple(dict.fromkeys(topics))


def check_form(form: str) -> str:
    """``form`` when it is a known notification form, else ValueError."""
    if form not in NOTIFY_FORMS:
        raise ValueError(f"notify form must be one of {', '.join(NOTIFY_FORMS)}, not {form!r}")
    return form


def envelope(topic: str, event_body: dict[str, Any]) -> dict[str, Any]:
    """A Genesys notification with a fresh ``metadata.CorrelationId``."""
    return {
        "topicName": topic,
        "version": "2",
        "eventBody": event_body,
        "metadata": {"CorrelationId": str(uuid.uuid4())},
    }


def _operation_user(author: Person) -> dict[str, Any]:
    home = {"id": ORG.id, "name": ORG.name, "thirdPartyOrgName": ORG_SHORT_NAME}
    return {"id": author.id, "name": author.name, "homeOrg": home}


def _flow_body(item: Item, versions: list[Version]) -> dict[str, Any]:
    """A flow's event body without ``currentOperation``; ``versions`` those made so far."""
    body: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "deleted": False,
    }
    checked_in = next((v for v in reversed(versions) if v.kind != "SAVE"), None)
    published = next((v for v in reversed(versions) if v.kind == "PUBLISH"), None)
    for field, version in (
        ("checkedInVersion", checked_in),
        ("savedVersion", versions[-1] if versions else None),
        ("publishedVersion", published),
    ):
        if version is not None:
            body[field] = {"id": version.id}
    return body


def flow_events(item: Item, version: Version, progress: bool = False) -> list[dict[str, Any]]:
    """The ``v2.flows.{id}`` notifications of the operation that made ``version`` of ``item``.

    The last one reports the operation ended in SUCCESS; with ``progress``, its earlier,
    unfinished states come first (sharing the operation id), showing the versions before it.
    """
    position = item.versions.index(version)
    before, after = item.versions[:position], item.versions[: position + 1]
    operation_id = str(uuid.uuid4())
    steps = [(status, False, before) for status in PROGRESS_STATUSES] if progress else []
    steps.append(("SUCCESS", True, after))
    events = []
    for status, complete, versions in steps:
        body = _flow_body(item, versions)
        body["currentOperation"] = {
            "id": operation_id,
            "complete": complete,
            "user": _operation_user(version.author),
            "client": {"id": CLIENT.id, "name": CLIENT.name},
            "actionName": version.kind or "PUBLISH",
            "actionStatus": status,
        }
        events.append(envelope(f"v2.flows.{item.id}", body))
    return events


def flow_delete_event(item: Item, user: Person) -> dict[str, Any]:
    """The ``v2.flows.{id}`` notification of a successful ``DELETE`` of ``item`` by ``user``."""
    body = _flow_body(item, item.versions)
    body["deleted"] = True
    body["currentOperation"] = {
        "id": str(uuid.uuid4()),
        "complete": True,
        "user": _operation_user(user),
        "client": {"id": CLIENT.id, "name": CLIENT.name},
        "actionName": "DELETE",
        "actionStatus": "SUCCESS",
    }
    return envelope(f"v2.flows.{item.id}", body)


def audit_event(
    item: Item,
    action: str,
    user: Person,
    at_ms: int,
    changes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``v2.audits.entitytype.Flow.entityid.{id}`` notification of ``action`` on flow
    ``item`` by ``user`` at ``at_ms``."""
    entity = {"id": item.id, "name": item.name, "selfUri": f"/api/v2/flows/{item.id}"}
    return audit_notification("Flow", "Architect", entity, action, user, at_ms, changes or [])


def audit_notification(
    entity_type: str,
    service: str,
    entity: dict[str, Any],
    action: str,
    user: Person,
    at_ms: int,
    property_changes: list[dict[str, Any]],
) -> dict[str, Any]:
    """The audit notification of ``action`` by ``user`` on ``entity`` (``{id, name,
    selfUri}``) at ``at_ms``: the audit log message in the shape of the reference's sample
    (``username`` and ``clientId`` are objects despite their names)."""
    body = {
        "id": str(uuid.uuid4()),
        "userId": user.id,
        "userHomeOrgId": ORG.id,
        "username": {"id": user.id, "name": user.name},
        "userDisplay": user.name,
        "clientId": {"id": CLIENT.id, "selfUri": f"/api/v2/oauth/clients/{CLIENT.id}"},
        "remoteIp": [AUDIT_REMOTE_IP],
        "serviceName": service,
        "level": "USER",
        "eventTime": iso(at_ms),
        "action": action,
        "entityType": entity_type,
        "entity": entity,
        "propertyChanges": property_changes,
        "context": {},
    }
    return envelope(f"v2.audits.entitytype.{entity_type}.entityid.{entity['id']}", body)


def flow_version_audit(item: Item, version: Version) -> dict[str, Any]:
    """The audit notification of the operation that made ``version`` of flow ``item``:
    ``Publish``, ``Checkin`` or ``Save``, naming the version property that moved."""
    kind = version.kind or "PUBLISH"
    position = item.versions.index(version)
    before = _flow_body(item, item.versions[:position])
    after = _flow_body(item, item.versions[: position + 1])
    changes = []
    for field in (_MOVED[kind], *(f for f in _MOVED.values() if f != _MOVED[kind])):
        old, new = before.get(field), after.get(field)
        if old != new:
            changes.append(
                {
                    "property": field,
                    "oldValues": [old["id"]] if old else [],
                    "newValues": [new["id"]] if new else [],
                }
            )
    return audit_event(item, AUDIT_ACTIONS[kind], version.author, version.created_ms, changes)


def strategy_event(item: Item, version: Version) -> dict[str, Any]:
    """The ``v2.routing.strategies.{id}`` notification for a new ``version`` of ``item``."""
    body = {"id": item.id, "name": item.name, "version": version.number}
    return envelope(f"v2.routing.strategies.{item.id}", body)


def eventbridge(notification: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """``notification`` as an EventBridge API destination POSTs it: inside ``detail``."""
    now = now or datetime.now(UTC)
    topic = notification["topicName"]
    if topic.startswith("v2.audits."):
        template = AUDIT_TOPIC_TEMPLATE  # EventBridge names the template, not the ids
    elif topic.startswith("v2.flows."):
        template = FLOW_TOPIC_TEMPLATE
    else:
        template = STRATEGY_TOPIC_TEMPLATE
    millis = int(now.timestamp() * 1000)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": template,
        "source": f"aws.partner/genesys.com/cloud/{ORG.id}/{EVENT_SOURCE_SUFFIX}",
        "account": AWS_ACCOUNT,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": AWS_REGION,
        "resources": [],
        "detail": {**notification, "timestamp": iso(millis)},
    }


def outgoing(
    notifications: list[dict[str, Any]], url: str, form: str, token: str | None
) -> list[Outgoing]:
    """``notifications`` addressed to ``url`` in ``form`` (EventBridge ones wrapped now)."""
    check_form(form)
    made = []
    for notification in notifications:
        body = eventbridge(notification) if form == EVENTBRIDGE else notification
        made.append(Outgoing(url, form, token, notification["topicName"], body))
    return made


def headers_for(form: str, token: str | None) -> dict[str, str]:
    """The receiver's credential where each sender puts it.

    Sent directly, the token is a bearer token; an EventBridge API destination whose
    connection uses an API key sends it in a header of its own.
    """
    headers: dict[str, str] = {}
    if token is not None:
        if form == EVENTBRIDGE:
            headers["X-Archiver-Token"] = token
        else:
            headers["Authorization"] = f"Bearer {token}"
    return headers


_STOP = object()


class Notifier:
    """Sends notifications in order from one daemon thread; ``record`` hears each outcome."""

    def __init__(
        self, record: Callable[[NotificationRecord], None], retry: Backoff = NOTIFY_RETRY
    ) -> None:
        self.retry = retry
        self._record = record
        self._queue: queue.Queue[object] = queue.Queue()
        self._lock = threading.Condition()
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._session: requests.Session | None = None

    def submit(self, items: list[Outgoing]) -> None:
        """Queue ``items`` for sending; returns at once."""
        if not items:
            return
        with self._lock:
            self._pending += len(items)
            if self._thread is None:
                self._session = make_session(user_agent=SENDER)
                self._thread = threading.Thread(
                    target=self._run, name="simulator-notifier", daemon=True
                )
                self._thread.start()
        for item in items:
            self._queue.put(item)

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait until every queued notification has been delivered or given up on."""
        with self._lock:
            return self._lock.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the sending thread after what is queued; harmless when it never started."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(_STOP)
        thread.join(timeout)
        if self._session is not None:
            self._session.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, Outgoing)
            try:
                self._record(self._deliver(item))
            finally:
                with self._lock:
                    self._pending -= 1
                    self._lock.notify_all()

    def _deliver(self, item: Outgoing) -> NotificationRecord:
        assert self._session is not None
        headers = headers_for(item.form, item.token)
        status: int | None = None
        error: str | None = None
        attempts = 0
        while True:
            attempts += 1
            try:
                response = self._session.post(
                    item.url, json=item.body, headers=headers, timeout=NOTIFY_TIMEOUT
                )
            except requests.RequestException as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
            else:
                status, error = response.status_code, None
                response.close()
                if not worth_retrying(status):
                    break
            wait = self.retry.delay(attempts)
            if wait is None:
                break
            time.sleep(wait)
        return NotificationRecord(
            item.url, item.form, item.topic, status, error, attempts, time.monotonic()
        )
