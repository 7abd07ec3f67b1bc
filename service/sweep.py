"""The sweep: a job for every known strategy, so that nothing a missed event changed stays
unarchived; with discovery, for every flow and routing strategy of the org first.
Objects marked deleted are passed over; listing entries that say they are deleted too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .archive.gone import deleted_body
from .errors import UpstreamError, UsageError
from .genesys.client import GenesysClient
from .genesys.sources import discover_flows, list_routing_strategies
from .ids import require_uuid
from .ledger import Ledger

REASON = "sweep"


@dataclass(frozen=True)
class SweepResult:
    """How many jobs one sweep queued, and how many it joined (one was waiting already)."""

    queued: int = 0
    joined: int = 0

    @property
    def strategies(self) -> int:
        return self.queued + self.joined


@dataclass(frozen=True)
class Discovered:
    """What discovery found in the org: (id, source type) pairs, and ids it had to skip."""

    flows: list[tuple[str, str]]
    routing_strategies: list[tuple[str, str]]
    skipped: list[str]

    @property
    def all(self) -> list[tuple[str, str]]:
        return self.flows + self.routing_strategies


def enqueue_all(ledger: Ledger, strategies: Iterable[tuple[str, str]]) -> SweepResult:
    """Queue (or join) one ``sweep`` job for each (id, source type)."""
    queued = joined = 0
    for strategy_id, source_type in strategies:
        _, was_joined = ledger.enqueue(strategy_id, source_type, reason=REASON)
        joined += was_joined
        queued += not was_joined
    return SweepResult(queued, joined)


def sweep_known(ledger: Ledger, discovered: Iterable[tuple[str, str]] = ()) -> SweepResult:
    """Queue a job for every strategy discovered (first) and every one the ledger knows,
    but those marked deleted: a discovery that lists one again makes it live first.

    A job is for an (id, source type) pair: an id known as two source types gets two.
    """
    plan = dict.fromkeys(discovered)  # ordered and without repeats
    if plan:
        ledger.mark_seen(plan, reason="discovery listed it")
    plan.update(dict.fromkeys(ledger.known_strategies()))
    return enqueue_all(ledger, plan)


def discover(client: GenesysClient) -> Discovered:
    """Every flow of the org (all types) and every routing strategy, if the org has any.

    Real Genesys Cloud has no routing strategy listing: its 404 means "none".
    """
    skipped: list[str] = []
    live = (f for f in discover_flows(client) if not deleted_body(f))
    flows = _valid(((f["id"], "flow") for f in live), skipped)
    try:
        listed = [
            (s["id"], "routing-strategy")
            for s in list_routing_strategies(client)
            if not deleted_body(s)
        ]
    except UpstreamError as exc:
        if exc.status != 404:
            raise
        listed = []
    return Discovered(flows, _valid(listed, skipped), skipped)


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
