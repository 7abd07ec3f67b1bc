"""OAuth client credentials and bearer-token checks, over real HTTP."""

from __future__ import annotations

import requests

from service.simulator import SimulatorServer
from tests.simulator.conftest import Api

OAUTH_ERROR_FIELDS = {"error", "description", "error_description"}
ERROR_BODY_FIELDS = {
    "message",
    "code",
    "status",
    "messageWithParams",
    "messageParams",
    "contextId",
    "details",
    "errors",
}


def test_token_issued_for_basic_client_credentials(api: Api) -> None:
    response = api.token(auth=("any-id", "any-secret"))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86_400
    assert len(body["access_token"]) >= 32
    assert api.token(auth=("other", "x")).json()["access_token"] != body["access_token"]
    assert api.get("/api/v2/flows", token=body["access_token"]).status_code == 200


def test_token_refused_without_basic_auth(api: Api) -> None:
    response = api.token(auth=None)
    assert response.status_code == 401
    assert set(response.json()) == OAUTH_ERROR_FIELDS
    assert response.json()["error"] == "invalid_client"


def test_configured_client_is_the_only_one_accepted() -> None:
    sim = SimulatorServer(port=0, client_id="cid", client_secret="s3cret")
    with sim, requests.Session() as session:
        api = Api(sim, session)
        assert api.token(auth=("cid", "s3cret")).status_code == 200
        for wrong in (("cid", "wrong"), ("other", "s3cret"), ("", "")):
            response = api.token(auth=wrong)
            assert response.status_code == 401, wrong
            assert response.json()["error"] == "invalid_client"
        assert api.token(auth=None).status_code == 401


def test_other_grant_types_are_refused(api: Api) -> None:
    response = api.token(grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert set(response.json()) == OAUTH_ERROR_FIELDS


def test_api_requires_a_bearer_token(api: Api, simulator: SimulatorServer) -> None:
    response = api.session.get(f"{simulator.url}/api/v2/flows", timeout=5)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == ERROR_BODY_FIELDS
    assert (body["code"], body["status"]) == ("authentication.required", 401)
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]

    response = api.session.get(
        f"{simulator.url}/api/v2/flows", auth=("client", "secret"), timeout=5
    )
    assert response.status_code == 401


def test_unknown_token_is_refused(api: Api) -> None:
    response = api.get("/api/v2/flows", token="not-a-token-we-issued")
    assert response.status_code == 401
    assert response.json()["code"] == "bad.credentials"


def test_token_lifetime_is_reported_and_enforced(api: Api, simulator: SimulatorServer) -> None:
    simulator.state.token_lifetime = 0
    body = api.token().json()
    assert body["expires_in"] == 0
    response = api.get("/api/v2/flows", token=body["access_token"])
    assert response.status_code == 401
    assert response.json()["code"] == "credentials.expired"

    simulator.state.token_lifetime = 300
    assert api.token().json()["expires_in"] == 300
    assert api.get("/api/v2/flows", token=api.token().json()["access_token"]).status_code == 200


def test_expire_tokens_invalidates_every_issued_token(api: Api, simulator: SimulatorServer) -> None:
    first, second = api.token().json()["access_token"], api.token().json()["access_token"]
    assert api.get("/api/v2/flows", token=first).status_code == 200

    simulator.state.expire_tokens()
    for token in (first, second):
        response = api.get("/api/v2/flows", token=token)
        assert response.status_code == 401
        assert response.json()["code"] == "credentials.expired"
    fresh = api.token().json()["access_token"]
    assert api.get("/api/v2/flows", token=fresh).status_code == 200
