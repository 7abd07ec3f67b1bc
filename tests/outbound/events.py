"""Outbox event bodies as the archive pipeline writes them (contract section 6)."""

from __future__ import annotations

import json
import uuid

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STRATEGY_ID = "5a0f6a43-2b4b-4f0e-9d3c-1f2e3d4c5b6a"


def completed(versions: int = 2) -> bytes:
    """A ``strategy.archive.completed`` body with ``versions`` version ids."""
    ids = [str(uuid.UUID(int=n + 1)) for n in range(versions)]
    event = {
        "type": "strategy.archive.completed",
        "timestamp": "2026-11-28T07:00:00.000Z",
        "data": {
            "strategyId": STRATEGY_ID,
            "strategyName": "Main inbound",
            "sourceType": "flow",
            "archiveId": "7d1e4f0a-8b2c-4d6e-9f10-a1b2c3d4e5f6",
            "idempotencyKey": "0b0d7a6e-3f5c-5a3e-8c1e-2b9f4a6d8e10",
            "versionCount": versions,
            "versionIds": ids,
            "archiveTimestamp": "2026-11-28T07:00:00.000Z",
            "contentSha256": "ab" * 32,
        },
    }
    return json.dumps(event).encode()


def failed() -> bytes:
    """A ``strategy.archive.failed`` body, as a dead job sends it."""
    event = {
        "type": "strategy.archive.failed",
        "timestamp": "2026-11-28T07:05:00.000Z",
        "data": {
            "strategyId": STRATEGY_ID,
            "sourceType": "flow",
            "jobId": "job-1",
            "tries": 5,
            "error": "Genesys Cloud answered 503 after 5 tries",
        },
    }
    return json.dumps(event).encode()
