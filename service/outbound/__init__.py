"""Completion events to version-control platforms: targets, signatures, delivery attempts.

The ledger's outbox holds the events and their deliveries; the worker claims each
delivery and hands it to a ``Deliverer``, which knows nothing of the ledger.
"""

from .deliver import Attempt, AttemptOutcome, Deliverer
from .gittarget import GitTarget
from .settings import Outbound, outbound_from, parse_targets
from .signing import hub_signature, standard_signature
from .targets import GitHubTarget, GitLabTarget, Target, WebhookTarget

__all__ = [
    "Attempt",
    "AttemptOutcome",
    "Deliverer",
    "GitHubTarget",
    "GitLabTarget",
    "GitTarget",
    "Outbound",
    "Target",
    "WebhookTarget",
    "hub_signature",
    "outbound_from",
    "parse_targets",
    "standard_signature",
]
