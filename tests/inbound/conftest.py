"""Recorded samples and a ledger connection of the test's own; app and client: tests/conftest.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.ledger import Ledger
from tests.helpers import INBOUND_TOKEN as TOKEN

__all__ = ["TOKEN", "load_sample"]
SAMPLES = Path(__file__).parent / "samples"


def load_sample(name: str) -> Any:
    """A recorded body from ``samples/``, as parsed JSON."""
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A connection of its own on the app's ledger file: it sees only what was committed."""
    with Ledger(tmp_path / "ledger.db") as opened:
        yield opened


@pytest.fixture
def sample() -> Callable[[str], Any]:
    return load_sample
