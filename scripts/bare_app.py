"""The benchmark's baseline: a bare Flask app whose webhook route answers 202 ``{}`` at once.

``scripts/bench_ingest.py`` serves it with the same gunicorn settings as the real web
process, so the difference between the two is what the real route costs.
"""

from __future__ import annotations

from flask import Flask, Response


def create_app() -> Flask:
    """A Flask app with only ``POST /webhooks/genesys``, which does nothing but answer."""
    app = Flask("bare")

    @app.post("/webhooks/genesys")
    def webhook() -> Response:
        return Response("{}", 202, mimetype="application/json")

    return app
