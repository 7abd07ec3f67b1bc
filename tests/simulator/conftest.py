"""A small HTTP client for the simulator tests: real requests against a started server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from service.simulator import SimulatorServer


class Api:
    """Talks to a running simulator the way a Genesys client would."""

    def __init__(self, sim: SimulatorServer, session: requests.Session) -> None:
        self.sim = sim
        self.session = session
        self.access_token: str | None = None

    def token(self, auth: tuple[str, str] | None = ("client", "secret"), **form: str) -> Any:
        """POST /oauth/token with HTTP Basic ``auth`` and the form ``grant_type``."""
        data = {"grant_type": "client_credentials", **form}
        return self.session.post(f"{self.sim.url}/oauth/token", data=data, auth=auth, timeout=5)

    def login(self) -> str:
        """Get a token and use it for the following ``get`` calls."""
        response = self.token()
        assert response.status_code == 200, response.text
        self.access_token = response.json()["access_token"]
        return self.access_token

    def get(self, path: str, token: str | None = None, **params: Any) -> requests.Response:
        """GET ``path`` (relative, may carry a query) with the bearer token."""
        token = token or self.access_token or self.login()
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{self.sim.url}{path}"
        return self.session.get(url, params=params, headers=headers, timeout=5)

    def ok(self, path: str, **params: Any) -> Any:
        """GET ``path`` expecting 200; the JSON body."""
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def control(self, method: str, path: str, body: Any = None) -> requests.Response:
        """Call a ``/_sim`` control route."""
        url = f"{self.sim.url}/_sim{path}"
        return self.session.request(method, url, json=body, timeout=5)


@pytest.fixture
def api(simulator: SimulatorServer) -> Iterator[Api]:
    """A client of the ``simulator`` fixture's server."""
    with requests.Session() as session:
        yield Api(simulator, session)
