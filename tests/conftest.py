"""Shared fixtures: a fresh ledger file per test and real local servers at the edges.

Helpers (settings, environments, ``wait_for``...) are in tests/helpers.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.app import create_app
from service.config import Settings
from service.simulator import SimulatorServer
from tests.helpers import make_settings, web_config


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    """The bundled Genesys Cloud simulator on 127.0.0.1, a free port, fresh seeded data."""
    with SimulatorServer(port=0) as sim:
        yield sim


@pytest.fixture
def settings(simulator: SimulatorServer, tmp_path: Path) -> Settings:
    return make_settings(simulator, tmp_path)


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    """The web app on a fresh ledger, configured from a mapping, not the environment."""
    return create_app(web_config(tmp_path))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
