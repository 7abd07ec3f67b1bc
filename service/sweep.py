"""The sweep: a job for every known strategy, so that nothing a missed event changed stays
unarchived; with discovery, for every flow and routing strategy of the org first.
Objects marked deleted are passed over; listing entries that say they are deleted too.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .archive.gone import deleted_body
from .errors import UpstreamError, UsageError, ValidationFailed
from .genesys.client import GenesysClient
from .genesys.sources import SOURCES, ProgressFn
from .ids import require_uuid
from .ledger import Ledger, deletions, jobs

REASON = "sweep"


@dataclass(frozen=True)
class SweepResult:
    """How many jobs one sweep queued, and how many it joined (one was waiting already)."""

    queued: int = 0
    joined: int = 0

    @property
    def strategies(self) -> int:
        return self.queued + self.joined


# What discovery lists, in the registry's order: flows first, the one source every org has.
LISTINGS: tuple[tuple[str, str, Callable[[GenesysClient], Iterator[dict[str, Any]]]], ...] = tuple(
    (source.source_type, f"listing {source.plural}", source.discover) for source in SOURCES.values()
)


@dataclass(frozen=True)
class ListingFailure:
    """A listing discovery went on without; ``absent``: the org has no such listing (404,
    as a plain Genesys Cloud org for routing strategies), which is no failure of the sweep."""

    source_type: str
    reason: str
    absent: bool


@dataclass(frozen=True)
class Discovered:
    """What discovery found in the org: (id, source type) pairs, ids it had to skip, and
    the listings that failed, which discovery went on without."""

    flows: list[tuple[str, str]]
    routing_strategies: list[tuple[str, str]]
    skipped: list[str]
    failed: list[ListingFailure] = field(default_factory=list)
    # Every source's pairs, in the registry's order (flows and routing strategies included).
    by_source: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def all(self) -> list[tuple[str, str]]:
        if not self.by_source:
            return self.flows + self.routing_strategies
        return [pair for pairs in self.by_source.values() for pair in pairs]


def enqueue_all(ledger: Ledger, strategies: Iterable[tuple[str, str]]) -> SweepResult:
    """Queue (or join) one ``sweep`` job for each (id, source type)."""
    queued = joined = 0
    for strategy_id, source_type in strategies:
        _, was_joined = jobs.enqueue(ledger, strategy_id, source_type, reason=REASON)
        joined += was_joined
        queued += not was_joined
    return SweepResult(queued, joined)


def sweep_known(
    ledger: Ledger,
    discovered: Iterable[tuple[str, str]] = (),
    *,
    enabled: Collection[str] | None = None,
) -> SweepResult:
    """Queue a job for every strategy discovered (first) and every one the ledger knows,
    but those marked deleted: a discovery that lists one again makes it live first.
    ``enabled``: the source types ``SOURCES`` enables (None: all); others are passed over.

    A job is for an (id, source type) pair: an id known as two source types gets two.
    """
    plan = dict.fromkeys(discovered)  # ordered and without repeats
    if plan:
        deletions.mark_seen(ledger, plan, reason="discovery listed it")
    plan.update(dict.fromkeys(jobs.known_strategies(ledger)))
    if enabled is not None:
        plan = {pair: None for pair in plan if pair[1] in enabled}
    return enqueue_all(ledger, plan)


def discover(
    client: GenesysClient,
    progress: ProgressFn | None = None,
    *,
    enabled: Collection[str] | None = None,
) -> Discovered:
    """Every flow of the org (all types) and every routing strategy, if the org has any;
    entries that say they are deleted are left out. ``enabled``: the source types
    ``SOURCES`` enables (None: all); the others are not listed.

    A listing that fails is recorded in ``failed`` and the other listings go on; a 404
    says the org has no such listing (a plain Genesys Cloud org has no routing strategies).
    """
    skipped: list[str] = []
    failed: list[ListingFailure] = []
    found: dict[str, list[tuple[str, str]]] = {}
    for source_type, stage, listing in LISTINGS:
        if enabled is not None and source_type not in enabled:
            continue
        try:
            items = []
            for item in listing(client):
                items.append(item)
                if progress:
                    progress(stage, len(items), None)
        except (UpstreamError, ValidationFailed) as exc:
            failed.append(_failure(source_type, exc))
            continue
        live = ((i["id"], source_type) for i in items if not deleted_body(i))
        found[source_type] = _valid(live, skipped)
    flows, strategies = found.get("flow", []), found.get("routing-strategy", [])
    return Discovered(flows, strategies, skipped, failed, by_source=found)


def _failure(source_type: str, exc: UpstreamError | ValidationFailed) -> ListingFailure:
    absent = isinstance(exc, UpstreamError) and exc.status == 404
    note = SOURCES[source_type].missing_note
    if absent and note:
        return ListingFailure(source_type, f"{exc} ({note})", absent)
    return ListingFailure(source_type, str(exc), absent)


def _valid(found: Iterable[tuple[str, str]], skipped: list[str]) -> list[tuple[str, str]]:
    """The pairs whose id is a UUID (a job for any other would fail for good)."""
    valid: dict[str, tuple[str, str]] = {}
    for strategy_id, source_type in found:
        try:
            canonical = require_uuid(str(strategy_id))
        except UsageError:
            skipped.append(str(strategy_id))
            continue
        valid.setdefault(canonical, (canonical, source_type))
    return list(valid.values())
