"""Fields real routing-configuration answers always carry, by SDK model (reference section 8).

The SDK marks no field as required; these sets are what the reference's samples
(``samples/queue.json``...) and its models section say every answer holds, whatever the
object's configuration: the listing fields of its paging style, the identity and the write
markers of each type (``version`` and ``state`` on Architect objects only), the volatile fields
the reference names. ``test_sdk_fields.ALWAYS`` includes them.
"""

from __future__ import annotations

PAGE_NUMBER_LISTING = {
    "entities",
    "pageSize",
    "pageNumber",
    "total",
    "pageCount",
    "firstUri",
    "selfUri",
    "lastUri",
}
CURSOR_LISTING = {"entities", "selfUri"}
_NAMED = {"id", "name", "division", "selfUri"}
ARCHITECT = _NAMED | {"version", "dateCreated", "dateModified", "modifiedBy", "createdBy", "state"}
SKILL_GROUP_DEFINITION = _NAMED | {"memberCount", "dateCreated", "dateModified"}

ROUTING_ALWAYS: dict[str, set[str]] = {
    "QueueEntityListing": PAGE_NUMBER_LISTING,
    "IVREntityListing": PAGE_NUMBER_LISTING | {"totalNumberOfEntities"},
    "ScheduleEntityListing": PAGE_NUMBER_LISTING | {"totalNumberOfEntities"},
    "ScheduleGroupEntityListing": PAGE_NUMBER_LISTING | {"totalNumberOfEntities"},
    "EmergencyGroupListing": PAGE_NUMBER_LISTING,
    "DecisionTableRowListing": PAGE_NUMBER_LISTING,
    "SkillGroupEntityListing": CURSOR_LISTING,
    "DecisionTableListing": CURSOR_LISTING,
    "DecisionTableVersionListing": CURSOR_LISTING,
    "Queue": _NAMED
    | {"dateCreated", "dateModified", "modifiedBy", "createdBy", "mediaSettings", "bullseye"}
    | {"memberCount", "userMemberCount", "joinedMemberCount", "acwSettings"},
    "MemberGroup": {"id", "type", "memberCount"},
    "IVR": ARCHITECT | {"dnis"},
    "Schedule": ARCHITECT | {"start", "end"},
    "ScheduleGroup": ARCHITECT | {"timeZone"},
    "EmergencyGroup": ARCHITECT | {"enabled", "emergencyCallFlows"},
    "SkillGroupDefinition": SKILL_GROUP_DEFINITION,
    "SkillGroup": SKILL_GROUP_DEFINITION | {"status", "skillConditions"},
    "DecisionTable": _NAMED
    | {"dateCreated", "dateModified", "latest", "latestVersionStatus", "columns"},
    "DecisionTableVersion": _NAMED
    | {"version", "status", "rowCount", "rowsUri", "dateCreated", "dateModified", "createdBy"}
    | {"columns", "contract"},
    "DecisionTableRow": {"id", "table", "rowIndex", "inputs", "outputs", "selfUri"},
    "DecisionTableVersionEntity": {"id", "version", "selfUri"},
}
