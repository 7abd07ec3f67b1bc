"""The routing configuration the simulated org holds, and the changes made to it.

Queues, IVRs, schedules, schedule groups, emergency groups and skill groups keep one current
body each (Genesys keeps no history of them); decision tables keep their versions and rows.
Every change is made as Genesys makes it (reference section 8: Architect objects move their
``version``, ``dateModified`` and ``modifiedBy``; queues ``dateModified`` and ``modifiedBy``;
skill groups ``dateModified``) and hands its audit notification to ``send``.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config_audit import TABLE_VERSION_ENTITY, config_audit, object_audit
from .config_data import (
    ARCHITECT_TYPES,
    CONFIG_TYPES,
    DECISION_TABLE,
    EMERGENCY_GROUP,
    VOLATILE,
    seed_objects,
)
from .config_paths import set_path
from .config_tables import (
    DRAFT,
    PUBLISHED,
    SUPERSEDED,
    TableVersion,
    make_version,
    refresh_table,
    seed_tables,
)
from .data import USERS, Person, now_ms
from .render import iso

# How a deleted object answers: 200 with ``state: "deleted"`` (Architect objects), or 404 /
# 410 (the others; the Terraform provider also accepts 410 for them).
STATE_DELETED, GONE_404, GONE_410 = "state", "404", "410"
DELETION_STYLES = (STATE_DELETED, GONE_404, GONE_410)
# Fields a change may not set: the server's own markers.
PROTECTED = frozenset(
    {"id", "version", "state", "dateCreated", "dateModified", "modifiedBy", "createdBy", "selfUri"}
    | {"published", "datePublished", "division"}
)

Send = Callable[[list[dict[str, Any]]], None]


@dataclass
class ConfigObject:
    """One object's current body; ``gone`` is 404 or 410 once deleted that way."""

    source_type: str
    doc: dict[str, Any]
    modified_ms: int
    gone: int | None = None


def check_type(source_type: str) -> str:
    """``source_type`` when it names a routing-configuration type, else ValueError."""
    if source_type not in CONFIG_TYPES:
        known = ", ".join(CONFIG_TYPES)
        raise ValueError(f"sourceType must be one of {known}, not {source_type!r}")
    return source_type


class RoutingConfig:
    """The seeded routing configuration, read by the API routes and changed by the control API."""

    def __init__(self, send: Send, at_ms: int | None = None) -> None:
        at_ms = now_ms() if at_ms is None else at_ms
        self._lock = threading.RLock()
        self._send = send
        self._objects: dict[str, ConfigObject] = {}
        self._versions: dict[str, list[TableVersion]] = {}
        for source_type, doc in seed_objects(at_ms):
            self._objects[doc["id"]] = ConfigObject(source_type, doc, at_ms)
        for table, versions in seed_tables(at_ms):
            self._objects[table["id"]] = ConfigObject(DECISION_TABLE, table, at_ms)
            self._versions[table["id"]] = versions

    # Reading ------------------------------------------------------------------------------

    def ids(self, source_type: str) -> list[str]:
        """Ids of every object of ``source_type`` ever held (deleted ones too), seeded first."""
        check_type(source_type)
        with self._lock:
            return [o.doc["id"] for o in self._objects.values() if o.source_type == source_type]

    def lookup(self, source_type: str, object_id: str) -> ConfigObject | None:
        """A copy of the object, or None when no object of that type has this id."""
        with self._lock:
            found = self._objects.get(object_id)
            if found is None or found.source_type != source_type:
                return None
            return ConfigObject(
                found.source_type, copy.deepcopy(found.doc), found.modified_ms, found.gone
            )

    def listed(self, source_type: str) -> list[dict[str, Any]]:
        """Copies of the bodies its listing shows: deleted objects left out, except emergency
        groups in ``state: "deleted"``, which real listings keep (reference section 8)."""
        with self._lock:
            return [
                copy.deepcopy(o.doc)
                for o in self._objects.values()
                if o.source_type == source_type
                and o.gone is None
                and (o.doc.get("state") != "deleted" or source_type == EMERGENCY_GROUP)
            ]

    def versions(self, table_id: str) -> list[TableVersion] | None:
        """Copies of a live table's versions, oldest first; None for an unknown or gone table."""
        with self._lock:
            table = self._objects.get(table_id)
            if table is None or table.source_type != DECISION_TABLE or table.gone is not None:
                return None
            return copy.deepcopy(self._versions[table_id])

    # Changes ------------------------------------------------------------------------------

    def _live(self, source_type: str, object_id: str) -> ConfigObject:
        check_type(source_type)
        found = self._objects.get(object_id)
        if found is None or found.source_type != source_type:
            raise KeyError(object_id)
        if found.gone is not None or found.doc.get("state") == "deleted":
            raise ValueError(f"{source_type} {object_id} is deleted")
        return found

    def _touch(self, found: ConfigObject, by: Person) -> int:
        """Mark a write as Genesys does for the object's type; the write's time (epoch ms)."""
        at = max(now_ms(), found.modified_ms + 1)
        found.modified_ms = at
        if found.source_type in ARCHITECT_TYPES:
            found.doc["version"] += 1
        found.doc["dateModified"] = iso(at)
        if "modifiedBy" in found.doc:
            found.doc["modifiedBy"] = by.id
        return at

    def update(
        self, source_type: str, object_id: str, changes: dict[str, Any], by: Person | None = None
    ) -> dict[str, Any]:
        """Change configuration fields (dotted paths → new values) as a user's edit does:
        the write's markers move and an ``Update`` audit event is sent. The new body.

        KeyError for an unknown object; ValueError for a deleted one, a protected or volatile
        field (``set_volatile`` changes those), or a path that does not exist."""
        return self._edit(source_type, object_id, changes, by, volatile=False)

    def set_volatile(
        self, source_type: str, object_id: str, changes: dict[str, Any], by: Person | None = None
    ) -> dict[str, Any]:
        """Change volatile fields only (member counts, skill-group ``status``...): no marker
        moves (no ``version``, ``dateModified``), but the change is audited. The new body."""
        return self._edit(source_type, object_id, changes, by, volatile=True)

    def _edit(
        self,
        source_type: str,
        object_id: str,
        changes: dict[str, Any],
        by: Person | None,
        *,
        volatile: bool,
    ) -> dict[str, Any]:
        """Apply ``changes`` (only volatile fields, or none of them), move the markers unless
        ``volatile``, send the ``Update`` audit event; the new body."""
        by = by or USERS[0]
        with self._lock:
            found = self._live(source_type, object_id)
            self._check_paths(source_type, changes, volatile=volatile)
            doc = copy.deepcopy(found.doc)
            moved = [(path, set_path(doc, path, value), value) for path, value in changes.items()]
            found.doc = doc
            at = now_ms() if volatile else self._touch(found, by)
            event = object_audit(source_type, doc, "Update", by, at, moved)
            result = copy.deepcopy(doc)
        self._send([event])
        return result

    def _check_paths(self, source_type: str, changes: dict[str, Any], *, volatile: bool) -> None:
        if not isinstance(changes, dict) or not changes:
            raise ValueError("changes must be a non-empty object of field paths to values")
        names = VOLATILE.get(source_type, ())
        for path in changes:
            parts = path.split(".")
            if volatile and parts[-1] not in names:
                allowed = ", ".join(names) or "none"
                raise ValueError(f"{path}: not a volatile field of a {source_type} ({allowed})")
            if not volatile and parts[-1] in names:
                raise ValueError(f"{path}: a volatile field; change it with set_volatile")
            if not volatile and parts[0] in PROTECTED:
                raise ValueError(f"{path}: set by the server, not by a change")

    def delete(
        self, source_type: str, object_id: str, answer: str | None = None, by: Person | None = None
    ) -> str:
        """Delete an object; ``answer`` says how its ``GET`` answers from then on: ``"state"``
        (200 with ``state: "deleted"``, the default of Architect objects, which alone have a
        ``state``), ``"404"`` (the others' default) or ``"410"``. A ``Delete`` audit event is
        sent. The answer chosen."""
        by = by or USERS[0]
        default = STATE_DELETED if source_type in ARCHITECT_TYPES else GONE_404
        answer = answer or default
        if answer not in DELETION_STYLES:
            raise ValueError(f"answer must be one of {', '.join(DELETION_STYLES)}, not {answer!r}")
        if answer == STATE_DELETED and source_type not in ARCHITECT_TYPES:
            raise ValueError(f"a {source_type} has no state: answer 404 or 410")
        with self._lock:
            found = self._live(source_type, object_id)
            at = self._touch(found, by)
            if answer == STATE_DELETED:
                found.doc["state"] = "deleted"
            else:
                found.gone = int(answer)
            event = object_audit(source_type, found.doc, "Delete", by, at)
        self._send([event])
        return answer

    def publish(self, table_id: str, by: Person | None = None) -> int:
        """Publish the table's draft: it turns ``Published``, the version published before it
        ``Superseded``; a ``Publish`` audit event of the ``DecisionTableVersion`` is sent (its
        entity id is the table's). The version published; ValueError when there is no draft."""
        by = by or USERS[0]
        with self._lock:
            table = self._live(DECISION_TABLE, table_id)
            versions = self._versions[table_id]
            draft = next((v for v in versions if v.doc["status"] == DRAFT), None)
            if draft is None:
                raise ValueError(f"decision table {table_id} has no draft to publish")
            at = self._touch(table, by)
            for version in versions:
                if version.doc["status"] == PUBLISHED:
                    version.doc["status"] = SUPERSEDED
                    version.doc.pop("rollbackReason", None)
            user = {"id": by.id, "selfUri": f"/api/v2/users/{by.id}"}
            draft.doc["status"] = PUBLISHED
            draft.doc["dateModified"] = draft.doc["datePublished"] = iso(at)
            draft.doc["publishedBy"] = user
            _after(draft.doc, "rowsUri", ("dateCreated", "dateModified", "datePublished"))
            _after(draft.doc, "createdBy", ("publishedBy",))
            refresh_table(table.doc, versions)
            entity = table.doc | {"selfUri": draft.doc["selfUri"]}
            change = ("status", DRAFT, PUBLISHED)
            event = config_audit(
                TABLE_VERSION_ENTITY, "BusinessRules", entity, "Publish", by, at, [change]
            )
        self._send([event])
        return draft.number

    def new_draft(self, table_id: str, rows: int | None = None, by: Person | None = None) -> int:
        """Start a new draft version of the table with ``rows`` rows (default: one more than
        the newest version); ValueError while a draft exists. The new version's number."""
        by = by or USERS[0]
        with self._lock:
            table = self._live(DECISION_TABLE, table_id)
            versions = self._versions[table_id]
            if any(v.doc["status"] == DRAFT for v in versions):
                raise ValueError(f"decision table {table_id} has a draft already")
            count = versions[-1].doc["rowCount"] + 1 if rows is None else rows
            if count < 0:
                raise ValueError("rows must be 0 or more")
            at = self._touch(table, by)
            made = make_version(table.doc, versions[-1].number + 1, DRAFT, count, at, by)
            made.doc["dateModified"] = iso(at)
            versions.append(made)
            refresh_table(table.doc, versions)
            entity = table.doc | {"selfUri": made.doc["selfUri"]}
            event = config_audit(TABLE_VERSION_ENTITY, "BusinessRules", entity, "Create", by, at)
        self._send([event])
        return made.number

    def send_audit(
        self,
        entity_type: str,
        entity_id: str,
        action: str,
        service: str,
        by: Person | None = None,
    ) -> None:
        """Send an audit event alone, for a change made elsewhere: another service's object
        of the same entity type (a ``WorkforceManagement`` schedule), an object the simulator
        does not hold. The entity's name is the held object's, else its id."""
        given = {"entityType": entity_type, "entityId": entity_id, "action": action}
        for name, value in (given | {"serviceName": service}).items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string")
        with self._lock:
            found = self._objects.get(entity_id)
            entity = {"id": entity_id, "name": found.doc["name"] if found else entity_id}
            if found is not None:
                entity["selfUri"] = found.doc["selfUri"]
        by = by or USERS[0]
        self._send([config_audit(entity_type, service, entity, action, by, now_ms())])


def _after(doc: dict[str, Any], anchor: str, names: tuple[str, ...]) -> None:
    """Move ``names`` (those present) right after ``anchor``'s block, keeping the sample order."""
    keys = list(doc)
    start = keys.index(anchor) + 1
    moved = {n: doc.pop(n) for n in names if n in doc}
    rest = [k for k in keys[start:] if k not in moved]
    tail = {k: doc.pop(k) for k in rest}
    doc.update(moved)
    doc.update(tail)
