"""Whether an object is deleted in Genesys Cloud (contract section 11).

A 404 or 410 from a list or a version may mean many things; only the object's own ``GET``
says it is gone: 404 or 410 there, or 200 with ``"state": "deleted"`` (``"deleted": true``
for a flow read with ``deleted=true``). And only for an object the ledger knows (one
Genesys showed us before): a 404 for an id nobody ever saw is a wrong id, which fails.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import UpstreamError
from ..genesys.client import GenesysClient
from ..genesys.sources import DeletedInGenesys, Source, source_for
from ..ledger import Ledger, deletions

GONE_STATUSES = frozenset({404, 410})


@dataclass(frozen=True)
class Gone:
    """How Genesys said the object is deleted, one line for the job and the audit log."""

    reason: str


class ObjectDeleted(Exception):
    """Control flow, not a failure: the object of a run is deleted, nothing to archive."""

    def __init__(self, gone: Gone) -> None:
        super().__init__(gone.reason)
        self.gone = gone


def deleted_body(body: Mapping[str, Any]) -> bool:
    """Whether an object's own 200 answer describes a deleted object."""
    state = body.get("state")
    return (isinstance(state, str) and state.lower() == "deleted") or body.get("deleted") is True


def ask_object(source: Source, client: GenesysClient, strategy_id: str) -> Gone | None:
    """The object's own ``GET``: ``Gone`` when it answers deleted, None when it is there.

    Any other failure (429 given up, 5xx, network) raises: it says nothing either way.
    """
    try:
        body = source.read(client, strategy_id)
    except UpstreamError as exc:
        if exc.status in GONE_STATUSES:
            return Gone(str(exc))
        raise
    if deleted_body(body):
        return Gone(f"Genesys Cloud describes {source.source_type} {strategy_id} as deleted")
    return None


@contextmanager
def watching(
    ledger: Ledger, source: Source, client: GenesysClient, strategy_id: str
) -> Iterator[None]:
    """Turn a 404 or 410 inside the block into ``ObjectDeleted`` when the object's own GET
    confirms it is gone and the ledger knows the object; any other error passes as it was."""
    try:
        yield
    except DeletedInGenesys as said:
        # The object's own GET answered 200 describing it deleted: that GET was the read.
        if deletions.knows(ledger, strategy_id, source.source_type):
            raise ObjectDeleted(Gone(said.reason)) from None
        raise UpstreamError(f"{said.reason}; it was never seen before", status=410) from None
    except UpstreamError as exc:
        known = deletions.knows(ledger, strategy_id, source.source_type)
        if exc.status == 404 and not known:
            raise not_found(exc, source.source_type, strategy_id) from None
        if exc.status not in GONE_STATUSES or not known:
            raise
        gone = ask_object(source, client, strategy_id)
        if gone is None:
            raise  # the object is there: the 404 was about something else, a failure
        raise ObjectDeleted(gone) from exc


def not_found(exc: UpstreamError, source_type: str, strategy_id: str) -> UpstreamError:
    """A 404 for an object Genesys never showed us: most often the wrong source type, so
    the message (a command's, or a dead job's) says which was asked and suggests the other."""
    source = source_for(source_type)
    if source.alternative is None:
        return exc
    other = source_for(source.alternative)
    return UpstreamError(
        f"Genesys Cloud has no {source.label} {strategy_id} (--source {source_type}); "
        f"if it is a {other.label}, use --source {other.source_type} ({exc})",
        status=404,
        code=exc.code,
        body=exc.body,
    )
