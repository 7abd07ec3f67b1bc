"""Completion events to version-control platforms: targets, signatures, delivery attempts.

The ledger's outbox holds the events and their deliveries; the worker claims each
delivery and hands it to a ``Deliverer``, which knows nothing of the ledger.
"""

from .deliver import Attempt, Deliverer, Outcome
from .signing import hub_signature, standard_signature
from .targets import Target, parse_targets

__all__ = [
    "Attempt",
    "Deliverer",
    "Outcome",
    "Target",
    "hub_signature",
    "parse_targets",
    "standard_signature",
]
