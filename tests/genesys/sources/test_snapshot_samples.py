"""Snapshot sources against a small real HTTP server on 127.0.0.1 serving the reference's
sample bodies (tests/simulator/samples/, checked against the official SDK) and listings of
hundreds of objects in both paging styles: page numbers (queues) and ``after`` cursors
(skill groups), several pages each."""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from service.config import load_settings
from service.genesys import GenesysClient
from service.genesys.sources import Known, source_for
from service.genesys.sources.snapshot import SnapshotSource

SAMPLES = Path(__file__).resolve().parents[2] / "simulator" / "samples"
COUNT = 230  # three pages of the client's 100
FILES = {
    "queue": "queue.json",
    "ivr": "ivr.json",
    "schedule": "schedule.json",
    "schedule-group": "schedule-group.json",
    "emergency-group": "emergency-group.json",
}


def sample(source_type: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / FILES[source_type]).read_text())
    return loaded


def entries(kind: str) -> list[dict[str, Any]]:
    return [
        {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}/{n}")), "name": f"{kind} {n}"}
        for n in range(COUNT)
    ]


class Org(ThreadingHTTPServer):
    """The token endpoint, one object per sample, a page-number listing of queues and an
    ``after``-cursor listing of skill groups; every API request recorded."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.objects = {sample(t)["id"]: (t, sample(t)) for t in FILES}
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.thread = threading.Thread(target=self.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Org

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._json(200, {"access_token": "t" * 20, "token_type": "bearer", "expires_in": 86400})

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        self.server.requests.append((parts.path, query))
        size = int(query.get("pageSize", ["25"])[0])
        if parts.path == "/api/v2/routing/queues":
            number = int(query.get("pageNumber", ["1"])[0])
            listed = entries("queue")
            count = -(-len(listed) // size)
            body: dict[str, Any] = {
                "entities": listed[(number - 1) * size : number * size],
                "pageSize": size,
                "pageNumber": number,
                "total": len(listed),
                "pageCount": count,
            }
            if number < count:
                body["nextUri"] = (
                    f"{parts.path}?{urlencode({'pageSize': size, 'pageNumber': number + 1})}"
                )
            return self._json(200, body)
        if parts.path == "/api/v2/routing/skillgroups":
            start = int(query.get("after", ["0"])[0])
            listed = entries("skill-group")
            body = {"entities": listed[start : start + size], "selfUri": self.path}
            if start + size < len(listed):
                body["nextUri"] = (
                    f"{parts.path}?{urlencode({'pageSize': size, 'after': start + size})}"
                )
            return self._json(200, body)
        object_id = parts.path.rsplit("/", 1)[-1]
        if object_id in self.server.objects:
            return self._json(200, self.server.objects[object_id][1])
        return self._json(404, {"message": "not found", "code": "not.found", "status": 404})

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def org() -> Iterator[Org]:
    server = Org()
    server.thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def client(org: Org, tmp_path: Path) -> Iterator[GenesysClient]:
    settings = load_settings(
        {
            "GENESYS_API_URL": org.url,
            "GENESYS_LOGIN_URL": org.url,
            "GENESYS_CLIENT_ID": "test-client",
            "GENESYS_CLIENT_SECRET": "test-secret-value",
            "ARCHIVER_DB": str(tmp_path / "ledger.db"),
        }
    )
    with GenesysClient.from_settings(settings) as opened:
        yield opened


def snapshot_source(source_type: str) -> SnapshotSource:
    source = source_for(source_type)
    assert isinstance(source, SnapshotSource)
    return source


def test_queues_are_discovered_through_every_numbered_page(org: Org, client: GenesysClient) -> None:
    found = [entry["id"] for entry in source_for("queue").discover(client)]
    assert found == [entry["id"] for entry in entries("queue")]
    pages = [q.get("pageNumber", ["1"]) for path, q in org.requests]
    assert pages == [["1"], ["2"], ["3"]]


def test_skill_groups_are_discovered_through_every_after_cursor(
    org: Org, client: GenesysClient
) -> None:
    found = [entry["id"] for entry in source_for("skill-group").discover(client)]
    assert found == [entry["id"] for entry in entries("skill-group")]
    cursors = [q.get("after") for path, q in org.requests]
    assert cursors == [None, ["100"], ["200"]]


@pytest.mark.parametrize("source_type", sorted(FILES))
def test_each_sample_is_a_snapshot_and_the_same_object_again_is_none(
    org: Org, client: GenesysClient, source_type: str
) -> None:
    source = snapshot_source(source_type)
    body = sample(source_type)
    listing = source.list_versions(client, body["id"], known=Known())
    (version,) = listing.versions
    assert version.version_id == str(body.get("version", 1)) and version.current
    assert version.author == body["modifiedBy"]
    assert version.document["id"] == body["id"]
    again = source.list_versions(
        client, body["id"], known=Known(last_document=lambda: version.document, last_number=1)
    )
    assert again.versions == [] and again.valid == 1
    assert [path for path, _ in org.requests] == [f"{source.collection}/{body['id']}"] * 2


def test_the_queue_sample_loses_every_member_count(org: Org, client: GenesysClient) -> None:
    body = sample("queue")
    (version,) = source_for("queue").list_versions(client, body["id"]).versions
    text = json.dumps(version.document)
    assert "memberCount" in json.dumps(body) and "MemberCount" in json.dumps(body)
    assert "memberCount" not in text and "MemberCount" not in text
    kept = copy.deepcopy(body)
    for name in ("memberCount", "userMemberCount", "joinedMemberCount"):
        kept.pop(name, None)
    assert version.document.keys() == kept.keys()


def test_a_queue_moved_in_its_markers_and_counts_alone_is_no_new_version(
    org: Org, client: GenesysClient
) -> None:
    body = sample("queue")
    (first,) = source_for("queue").list_versions(client, body["id"]).versions
    moved = org.objects[body["id"]][1]
    moved.update(dateModified="2026-12-01T00:00:00.000Z", modifiedBy=str(uuid.uuid4()))
    moved["memberCount"] = body.get("memberCount", 0) + 5
    known = Known(last_document=lambda: first.document, last_number=1)
    assert source_for("queue").list_versions(client, body["id"], known=known).versions == []
    moved["description"] = "A real change"
    (second,) = source_for("queue").list_versions(client, body["id"], known=known).versions
    assert (second.version_id, second.author) == ("2", moved["modifiedBy"])
    assert second.document["description"] == "A real change"
