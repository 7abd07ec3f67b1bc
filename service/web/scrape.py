"""``GET /metrics`` (no auth): Prometheus text format, every process of the installation."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST

from ..extensions import ledger
from ..ops.metrics import exposition

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
def metrics() -> Response:
    """Counters and histograms of the web and worker processes, and the ledger's gauges."""
    return Response(exposition(ledger()), content_type=CONTENT_TYPE_LATEST)
