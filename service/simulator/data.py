"""Seeded, deterministic simulator data: which flows and strategies exist, who made them, when.

Ids come from uuid5 so a fresh simulator always holds the same items (tests and the demo
can name them); dates are relative to when the state was built so every seeded version
sits well inside any retention window.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

FLOW = "flow"
ROUTING_STRATEGY = "routing-strategy"
SOURCE_TYPES = (FLOW, ROUTING_STRATEGY)

NAMESPACE = uuid.UUID("1b0f7a52-5d0e-4c61-9d5b-3f2a6c8e4b17")

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


def seeded_id(*parts: str) -> str:
    """A stable UUID for ``parts``: the same parts give the same id in every process."""
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds, the unit of Genesys flow dates."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Person:
    """A user, OAuth client or division reference: the ``{id, name}`` part of Genesys refs."""

    id: str
    name: str


USERS = (
    Person("5b1f3e4a-0c47-4a8e-9a1c-2f3d4e5f6a71", "Ada Lovelace"),
    Person("6c2a4f5b-1d58-4b9f-8b2d-3a4e5f6a7b82", "Grace Hopper"),
    Person("7d3b5a6c-2e69-4ca0-9c3e-4b5f6a7b8c93", "Edsger Dijkstra"),
    Person("9f5d7c8e-4a8b-4ec2-8e5a-6d7e8f9a0bb5", "Barbara Liskov"),
    Person("a06e8d9f-5b9c-4fd3-9f6b-7e8f9a0b1cc6", "Alan Turing"),
)
CLIENT = Person("8e4c6b7d-3f7a-4db1-8d4f-5c6a7b8c9da4", "Architect CI")
DIVISION = Person("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "Home")

# Flow types the `type` query filter accepts (lower-case), as the SDK lists them.
FLOW_TYPE_FILTERS = frozenset(
    {
        "bot", "commonmodule", "digitalbot", "emailsend", "inboundcall", "inboundchat",
        "inboundemail", "inboundshortmessage", "outboundcall", "inqueuecall", "inqueueemail",
        "inqueueshortmessage", "speech", "securecall", "surveyinvite", "voice", "voicemail",
        "voicesurvey", "workflow", "workitem",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Version:
    """One version of a flow or strategy; never changes once made, like a real version."""

    id: str
    number: int
    created_ms: int
    author: Person
    kind: str = ""  # flows: PUBLISH, CHECKIN or SAVE
    # Fields left out of this version's listing entry: a bad entry made on purpose
    # (``/_sim/strategies/<id>/versions`` with ``missing``), as a real org may send one.
    missing: tuple[str, ...] = ()


@dataclass
class Item:
    """A flow or routing strategy with its versions, oldest first."""

    id: str
    source_type: str
    name: str
    type: str
    description: str
    created_ms: int
    versions: list[Version] = field(default_factory=list)

    @property
    def newest(self) -> Version | None:
        """The latest version, or None for an item without any."""
        return self.versions[-1] if self.versions else None


# (source type, seed key, name, type, number of versions)
SEEDS = (
    (FLOW, "main-inbound", "Main inbound", "INBOUNDCALL", 3),
    (FLOW, "support-queue", "Support queue", "INQUEUECALL", 4),
    (FLOW, "order-status-bot", "Order status bot", "BOT", 2),
    (FLOW, "web-chat-intake", "Web chat intake", "INBOUNDCHAT", 5),
    (ROUTING_STRATEGY, "priority-routing", "Priority routing", "INBOUND", 3),
    (ROUTING_STRATEGY, "skills-based-routing", "Skills-based routing", "INBOUND", 4),
    (ROUTING_STRATEGY, "overflow-routing", "Overflow routing", "OUTBOUND", 2),
)

DEMO_FLOW_ID = seeded_id(FLOW, "main-inbound")
DEMO_STRATEGY_ID = seeded_id(ROUTING_STRATEGY, "priority-routing")


def pick_author(item_id: str, number: int) -> Person:
    """A deterministic author for a version, so seeded data names the same people each run."""
    return USERS[uuid.uuid5(NAMESPACE, f"{item_id}:{number}:author").int % len(USERS)]


def make_version(
    item: Item,
    created_ms: int,
    kind: str = "PUBLISH",
    *,
    version_id: str | None = None,
    missing: tuple[str, ...] = (),
) -> Version:
    """The next version of ``item`` (not yet appended): number, id and author follow from it.

    ``version_id`` gives a flow version an id of another form (``"3.0-debug"``, ``"draft"``);
    ``missing`` names fields its listing entry leaves out.
    """
    number = item.versions[-1].number + 1 if item.versions else 1
    if item.source_type == FLOW:
        author = pick_author(item.id, number)
        made_id = version_id or f"{number}.0"
        return Version(made_id, number, created_ms, author, kind, missing)
    if version_id is not None or missing:
        raise ValueError("only flow versions take a versionId or missing fields")
    version_id = seeded_id(item.id, "version", str(number))
    return Version(version_id, number, created_ms, pick_author(item.id, number))


def build_item(
    source_type: str,
    item_id: str,
    name: str,
    item_type: str,
    versions: int,
    newest_ms: int,
    spacing_ms: int = DAY_MS,
) -> Item:
    """An item with ``versions`` versions, the newest made at ``newest_ms``, ``spacing_ms`` apart.

    For flows the newest version is a check-in awaiting publication (as in the samples) and
    every third one a plain save; the others were published.
    """
    if source_type not in SOURCE_TYPES:
        raise ValueError(f"unknown source type {source_type!r}; use one of {SOURCE_TYPES}")
    if versions < 0:
        raise ValueError("versions must be 0 or more")
    # A few milliseconds derived from the id make dates look like real, non-round times.
    jitter = uuid.UUID(item_id).int % 1000
    first_ms = newest_ms - (versions - 1) * spacing_ms + jitter if versions else newest_ms
    description = f"{name} ({item_type.lower()})"
    item = Item(item_id, source_type, name, item_type, description, first_ms - 15 * MINUTE_MS)
    for index in range(versions):
        number = index + 1
        kind = "PUBLISH"
        if number == versions and versions > 1:
            kind = "CHECKIN"
        elif number % 3 == 0:
            kind = "SAVE"
        item.versions.append(make_version(item, first_ms + index * spacing_ms, kind))
    return item


def seed(at_ms: int) -> list[Item]:
    """The fresh state's items, newest versions a few hours before ``at_ms``."""
    items = []
    for position, (source_type, key, name, item_type, versions) in enumerate(SEEDS):
        newest = at_ms - (position + 1) * HOUR_MS
        items.append(
            build_item(source_type, seeded_id(source_type, key), name, item_type, versions, newest)
        )
    return items
