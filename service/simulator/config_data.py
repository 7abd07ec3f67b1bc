"""Seeded routing configuration: queues, IVRs, schedules, schedule groups, emergency groups and
skill groups as the bodies their ``GET`` answers, built from the reference's samples.

Ids come from uuid5 (``seeded_id``) so tests and the demo can name them; dates sit a few days
to weeks before the state was built. Volatile fields (member counts, skill-group ``status``)
are present wherever the reference says real answers carry them. Decision tables, which are
versioned, are in ``tables``.
"""

from __future__ import annotations

from typing import Any

from .data import DAY_MS, DIVISION, HOUR_MS, USERS, Person, seeded_id
from .render import iso, ref

QUEUE = "queue"
IVR = "ivr"
SCHEDULE = "schedule"
SCHEDULE_GROUP = "schedule-group"
EMERGENCY_GROUP = "emergency-group"
SKILL_GROUP = "skill-group"
DECISION_TABLE = "decision-table"
SNAPSHOT_TYPES = (QUEUE, IVR, SCHEDULE, SCHEDULE_GROUP, EMERGENCY_GROUP, SKILL_GROUP)
CONFIG_TYPES = (*SNAPSHOT_TYPES, DECISION_TABLE)

# Where each type lives in the API (its listing; GET one appends the id).
COLLECTIONS = {
    QUEUE: "routing/queues",
    IVR: "architect/ivrs",
    SCHEDULE: "architect/schedules",
    SCHEDULE_GROUP: "architect/schedulegroups",
    EMERGENCY_GROUP: "architect/emergencygroups",
    SKILL_GROUP: "routing/skillgroups",
    DECISION_TABLE: "businessrules/decisiontables",
}
# The Architect objects: an integer ``version`` that moves on every write, and ``state``.
ARCHITECT_TYPES = (IVR, SCHEDULE, SCHEDULE_GROUP, EMERGENCY_GROUP)

# Volatile fields by type (reference section 8): they move without a configuration change.
# A name here is volatile wherever it appears in the body (queue ``memberGroups[].memberCount``,
# also inside bullseye rings and conditional group routing rules).
VOLATILE = {
    QUEUE: ("memberCount", "userMemberCount", "joinedMemberCount"),
    SKILL_GROUP: ("memberCount", "status"),
    DECISION_TABLE: ("latestVersionStatus", "latest", "snapshotCount"),
}


def config_id(source_type: str, key: str) -> str:
    """The seeded id of the ``source_type`` object called ``key``."""
    return seeded_id(source_type, key)


def self_uri(source_type: str, object_id: str) -> str:
    """The object's ``selfUri``: its ``GET`` path."""
    return f"/api/v2/{COLLECTIONS[source_type]}/{object_id}"


def obj_ref(source_type: str, key: str, name: str) -> dict[str, Any]:
    """An ``{id, name, selfUri}`` reference to a seeded object."""
    object_id = config_id(source_type, key)
    return {"id": object_id, "name": name, "selfUri": self_uri(source_type, object_id)}


def flow_ref(key: str, name: str) -> dict[str, Any]:
    """A reference to a flow (flows are the simulator's other items)."""
    flow_id = seeded_id("flow", key)
    return {"id": flow_id, "name": name, "selfUri": f"/api/v2/flows/{flow_id}"}


def _base(
    source_type: str, key: str, name: str, description: str, at_ms: int, by: Person
) -> dict[str, Any]:
    """The fields every object starts with; Architect ones add ``version`` and ``state``."""
    object_id = config_id(source_type, key)
    doc: dict[str, Any] = {
        "id": object_id,
        "name": name,
        "division": ref(DIVISION, "authorization/divisions"),
        "description": description,
    }
    created, modified = at_ms - 40 * DAY_MS, at_ms - 2 * DAY_MS - HOUR_MS * len(key)
    if source_type in ARCHITECT_TYPES:
        doc["version"] = 2 + len(key) % 5
    doc["dateCreated"] = iso(created + len(name) * 1017)
    doc["dateModified"] = iso(modified + len(description) * 311)
    if source_type != SKILL_GROUP:
        doc["modifiedBy"] = by.id
        doc["createdBy"] = USERS[0].id
    if source_type in ARCHITECT_TYPES:
        doc["state"] = "active"
    return doc


def _media(alerting: int, duration_ms: int = 20_000) -> dict[str, Any]:
    return {
        "enableAutoAnswer": False,
        "alertingTimeoutSeconds": alerting,
        "serviceLevel": {"percentage": 0.8, "durationMs": duration_ms},
    }


def _member_group(key: str, name: str, count: int) -> dict[str, Any]:
    group = obj_ref(SKILL_GROUP, key, name)
    return {"id": group["id"], "name": name, "type": "SKILLGROUP", "memberCount": count} | {
        "selfUri": group["selfUri"]
    }


def queue(key: str, name: str, description: str, at_ms: int, members: int) -> dict[str, Any]:
    """A queue as in ``samples/queue.json``: two bullseye rings, the second adding a skill
    group (with its member count), media settings, after-call work."""
    doc = _base(QUEUE, key, name, description, at_ms, USERS[1])
    doc |= {
        "memberCount": members,
        "userMemberCount": members // 3,
        "joinedMemberCount": members - 5 if members > 5 else members,
        "mediaSettings": {
            "call": _media(8),
            "callback": _media(30)
            | {
                "mode": "AgentFirst",
                "enableAutoDialAndEnd": False,
                "autoDialDelaySeconds": 300,
                "autoEndDelaySeconds": 300,
            },
            "chat": _media(30),
            "email": _media(300, 86_400_000),
            "message": _media(30) | {"enableInactivityTimeout": False},
        },
        "routingRules": [],
        "bullseye": {
            "rings": [
                {
                    "expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 15.0}],
                    "actions": {"skillsToRemove": []},
                },
                {
                    "expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 30.0}],
                    "actions": {"skillsToRemove": []},
                    "memberGroups": [_member_group("tier-2", "Tier 2", 6)],
                },
            ]
        },
        "scoringMethod": "TimestampAndPriority",
        "lastAgentRoutingMode": "Disabled",
        "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 300_000},
        "skillEvaluationMethod": "BEST",
        "memberGroups": [_member_group("spanish-speakers", "Spanish speakers", 8)],
        "queueFlow": flow_ref("support-queue", "Support queue"),
        "defaultMediaLanguage": "en-US",
        "autoAnswerOnly": True,
        "cannedResponseLibraries": {"mode": "All"},
        "enableTranscription": False,
        "enableAudioMonitoring": False,
        "enableManualAssignment": False,
        "agentOwnedRouting": {"enableAgentOwnedCallbacks": False},
        "callingPartyName": "Example Inc.",
        "callingPartyNumber": "+13175550199",
        "suppressInQueueCallRecording": False,
        "selfUri": self_uri(QUEUE, doc["id"]),
    }
    return doc


def skill_group(key: str, name: str, skill: str, at_ms: int, members: int) -> dict[str, Any]:
    """A skill group: agents with ``skill`` at proficiency 3 or more."""
    doc = _base(SKILL_GROUP, key, name, f"Agents skilled in {skill}", at_ms, USERS[2])
    condition = {"routingSkill": skill, "comparator": "GreaterThanOrEqualTo", "proficiency": 3}
    doc |= {
        "memberCount": members,
        "status": "Complete",
        "skillConditions": [
            {
                "routingSkillConditions": [condition | {"childConditions": []}],
                "languageSkillConditions": [],
                "operation": "And",
            }
        ],
        "selfUri": self_uri(SKILL_GROUP, doc["id"]),
    }
    return doc


def schedule(key: str, name: str, window: tuple[str, str], rrule: str, at: int) -> dict[str, Any]:
    """A schedule: ``window`` is the first occurrence's start and end (zone-less
    LocalDateTime, the zone comes from the schedule group), repeated by ``rrule``."""
    doc = _base(SCHEDULE, key, name, f"{name} ({rrule or 'once'})", at, USERS[0])
    doc |= {"start": window[0], "end": window[1]}
    if rrule:
        doc["rrule"] = rrule
    doc["selfUri"] = self_uri(SCHEDULE, doc["id"])
    return doc


def schedule_group(
    key: str, name: str, zone: str, schedules: dict[str, list[tuple[str, str]]], at: int
) -> dict[str, Any]:
    """A schedule group in ``zone``: ``schedules`` maps open/closed/holiday to (key, name)."""
    doc = _base(SCHEDULE_GROUP, key, name, f"Opening hours: {name}", at, USERS[1])
    doc["timeZone"] = zone
    for kind in ("open", "closed", "holiday"):
        doc[f"{kind}Schedules"] = [obj_ref(SCHEDULE, k, n) for k, n in schedules.get(kind, [])]
    doc["selfUri"] = self_uri(SCHEDULE_GROUP, doc["id"])
    return doc


def ivr(key: str, name: str, dnis: list[str], group: tuple[str, str], at: int) -> dict[str, Any]:
    """An IVR (call route): numbers, the flows for open, closed and holiday hours, its group."""
    doc = _base(IVR, key, name, f"{name} call route", at, USERS[0])
    doc |= {
        "dnis": dnis,
        "openHoursFlow": flow_ref("main-inbound", "Main inbound"),
        "closedHoursFlow": flow_ref("after-hours", "After hours"),
        "holidayHoursFlow": flow_ref("holiday-message", "Holiday message"),
        "scheduleGroup": obj_ref(SCHEDULE_GROUP, *group),
        "selfUri": self_uri(IVR, doc["id"]),
    }
    return doc


def emergency_group(key: str, name: str, ivrs: list[tuple[str, str]], at: int) -> dict[str, Any]:
    """An emergency group, switched off, sending ``ivrs`` to an emergency flow when on."""
    doc = _base(EMERGENCY_GROUP, key, name, f"Emergency: {name}", at, USERS[1])
    doc |= {
        "enabled": False,
        "emergencyCallFlows": [
            {
                "emergencyFlow": flow_ref("emergency-closure", "Emergency closure"),
                "ivrs": [obj_ref(IVR, k, n) for k, n in ivrs],
            }
        ],
        "selfUri": self_uri(EMERGENCY_GROUP, doc["id"]),
    }
    return doc


WEEKDAYS = "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,TU,WE,TH,FR"
QUARTERLY = "FREQ=MONTHLY;INTERVAL=3;BYDAY=3TH"
INDY = "America/Indiana/Indianapolis"
SUPPORT_HOURS = ("support-hours", "Support hours")


def seed_objects(at_ms: int) -> list[tuple[str, dict[str, Any]]]:
    """Every seeded snapshot object as ``(source type, body)``, in creation order."""
    support = {
        "open": [("weekday-hours", "Weekday hours")],
        "closed": [("quarterly-all-hands", "Quarterly all-hands")],
        "holiday": [("christmas-day", "Christmas Day")],
    }
    sales = {"open": [("weekday-hours", "Weekday hours"), ("saturday-hours", "Saturday hours")]}
    main, sales_line = ("main-number", "Main number"), ("sales-line", "Sales line")
    hours = [
        ("weekday-hours", "Weekday hours", _day("01-05", 8, 17), WEEKDAYS),
        ("saturday-hours", "Saturday hours", _day("01-10", 9, 13), "FREQ=WEEKLY;BYDAY=SA"),
        ("quarterly-all-hands", "Quarterly all-hands", _day("01-15", 14, 16), QUARTERLY),
        ("christmas-day", "Christmas Day", _day("12-25", 0, 23), "FREQ=YEARLY;INTERVAL=1"),
    ]
    made: list[tuple[str, dict[str, Any]]] = [
        (QUEUE, queue("support", "Support", "Tier 1 customer support", at_ms, 12)),
        (QUEUE, queue("sales", "Sales", "New customers and upgrades", at_ms, 9)),
        (QUEUE, queue("billing", "Billing", "Invoices and payments", at_ms, 5)),
        (SKILL_GROUP, skill_group("spanish-speakers", "Spanish speakers", "Spanish", at_ms, 8)),
        (SKILL_GROUP, skill_group("tier-2", "Tier 2", "Escalations", at_ms, 6)),
        (SKILL_GROUP, skill_group("billing-experts", "Billing experts", "Billing", at_ms, 4)),
    ]
    made += [(SCHEDULE, schedule(*spec, at_ms)) for spec in hours]
    made += [
        (SCHEDULE_GROUP, schedule_group("support-hours", "Support hours", INDY, support, at_ms)),
        (
            SCHEDULE_GROUP,
            schedule_group("sales-hours", "Sales hours", "Europe/Berlin", sales, at_ms),
        ),
        (IVR, ivr(*main, ["+13175550100", "+18005550123"], SUPPORT_HOURS, at_ms)),
        (IVR, ivr(*sales_line, ["+13175550142"], ("sales-hours", "Sales hours"), at_ms)),
        (
            EMERGENCY_GROUP,
            emergency_group("building-evacuation", "Building evacuation", [main], at_ms),
        ),
        (
            EMERGENCY_GROUP,
            emergency_group("storm-closure", "Storm closure", [main, sales_line], at_ms),
        ),
    ]
    return made


def _day(month_day: str, start_hour: int, end_hour: int) -> tuple[str, str]:
    """A first occurrence in 2026 as zone-less LocalDateTime strings."""
    end_minute = "59:59.999" if end_hour == 23 else "00:00.000"
    return (
        f"2026-{month_day}T{start_hour:02d}:00:00.000",
        f"2026-{month_day}T{end_hour:02d}:{end_minute}",
    )


DEMO_QUEUE_ID = config_id(QUEUE, "support")
