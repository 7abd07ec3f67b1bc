"""The two sources: versions listed, completed and named within the call budget."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from service.backoff import Backoff
from service.config import Settings
from service.errors import UpstreamError, UsageError
from service.genesys import (
    GenesysClient,
    discover_flows,
    list_routing_strategies,
    source_for,
)
from service.genesys.sources import Known, flow_version, routing_version
from service.simulator import DEMO_FLOW_ID, DEMO_STRATEGY_ID
from service.simulator.render import flow_configuration

FAST = Backoff.exponential(0.01, cap=0.05, tries=5, full_jitter=True, max_retry_after=180.0)


@pytest.fixture
def client(settings: Settings) -> Iterator[GenesysClient]:
    with GenesysClient.from_settings(settings, retry=FAST) as client:
        yield client


# Routing strategies ---------------------------------------------------------------------


def test_routing_strategy_of_500_versions_within_budget(simulator, client):
    sid = simulator.state.add_strategy("routing-strategy", versions=500, name="Big routing")
    simulator.state.clear_requests()
    source = source_for("routing-strategy")

    versions = source.list_versions(client, sid).versions
    completed = [source.complete(client, sid, v) for v in versions]
    strategy = source.describe(client, sid, completed)

    assert simulator.state.api_calls() <= 1 + math.ceil(500 / 100)
    assert client.calls == 6
    assert [v.number for v in completed] == list(range(500, 0, -1))
    assert len({v.version_id for v in completed}) == 500
    assert completed == versions
    assert (strategy.id, strategy.name, strategy.source_type) == (
        sid,
        "Big routing",
        "routing-strategy",
    )


def test_routing_versions_match_what_genesys_sent(simulator, client):
    versions = source_for("routing-strategy").list_versions(client, DEMO_STRATEGY_ID).versions
    item = simulator.state.item("routing-strategy", DEMO_STRATEGY_ID)

    newest = versions[0]
    made = item.versions[-1]
    assert (newest.version_id, newest.number) == (made.id, made.number)
    assert newest.created == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        milliseconds=made.created_ms
    )
    assert newest.modified > newest.created and newest.created.tzinfo is not None
    assert newest.author == made.author.name
    assert set(newest.document) >= {"id", "version", "createdDate", "modifiedDate", "createdBy"}


def test_routing_listing_stops_at_the_first_page_with_a_known_version(simulator, client):
    sid = simulator.state.add_strategy("routing-strategy", versions=500)
    source = source_for("routing-strategy")
    archived = [v.version_id for v in source.list_versions(client, sid).versions]
    new = simulator.state.add_versions(sid, count=3)
    simulator.state.clear_requests()

    fresh = source.list_versions(client, sid, known=Known(archived=frozenset(archived))).versions

    assert [v.version_id for v in fresh] == list(reversed(new))
    assert simulator.state.api_calls() == 1


def test_routing_listing_reads_on_until_it_reaches_a_known_version(simulator, client):
    sid = simulator.state.add_strategy("routing-strategy", versions=500)
    source = source_for("routing-strategy")
    every = source.list_versions(client, sid).versions
    older = [v.version_id for v in every if v.number <= 350]
    simulator.state.clear_requests()
    seen: list[tuple[str, int, int | None]] = []

    fresh = source.list_versions(
        client, sid, known=Known(archived=frozenset(older)), progress=lambda *a: seen.append(a)
    ).versions

    assert [v.number for v in fresh] == list(range(500, 350, -1))
    assert simulator.state.api_calls() == 2
    assert seen == [("listing versions", 100, None), ("listing versions", 150, None)]


# Flows ------------------------------------------------------------------------------------


def test_flow_of_500_versions_within_budget(simulator, client):
    fid = simulator.state.add_strategy("flow", versions=500, name="Big flow")
    simulator.state.rate_limit.configure(allowed=1000)  # 505 calls in one window: no pacing wait
    simulator.state.clear_requests()
    source = source_for("flow")

    versions = source.list_versions(client, fid).versions
    assert simulator.state.api_calls() == 5
    completed = [source.complete(client, fid, v) for v in versions]
    strategy = source.describe(client, fid, completed)

    assert simulator.state.api_calls() <= 5 + 500
    assert client.calls == 505
    assert [v.number for v in completed] == list(range(500, 0, -1))
    assert (strategy.name, strategy.source_type) == ("Big flow", "flow")
    listed, full = versions[7], completed[7]
    assert full.document == dict(listed.document, configuration=full.document["configuration"])
    item = simulator.state.item("flow", fid)
    made = next(v for v in item.versions if v.id == listed.version_id)
    assert full.document["configuration"] == flow_configuration(item, made)


def test_flow_listing_reads_every_page_and_skips_known_versions(simulator, client):
    fid = simulator.state.add_strategy("flow", versions=250)
    source = source_for("flow")
    known = [f"{n}.0" for n in range(1, 251) if n not in (7, 120, 249)]
    simulator.state.clear_requests()
    seen: list[tuple[str, int, int | None]] = []

    fresh = source.list_versions(
        client, fid, known=Known(archived=frozenset(known)), progress=lambda *a: seen.append(a)
    ).versions

    assert [v.version_id for v in fresh] == ["249.0", "120.0", "7.0"]
    assert simulator.state.api_calls() == 3
    assert seen[-1] == ("listing versions", 250, 250)


def test_flow_named_by_the_flow_when_no_configuration_is_at_hand(simulator, client):
    source = source_for("flow")
    versions = source.list_versions(client, DEMO_FLOW_ID).versions
    simulator.state.clear_requests()

    strategy = source.describe(client, DEMO_FLOW_ID, versions)

    assert strategy.name == "Main inbound"
    assert [r.path for r in simulator.state.requests] == [f"/api/v2/flows/{DEMO_FLOW_ID}"]


def test_flow_version_dates_convert_epoch_ms_and_iso():
    # The sample FlowVersion of the reference (flow-version.json).
    sample = {
        "id": "2.0",
        "type": "PUBLISH",
        "createdBy": {"id": "7d3b5a6c-2e69-4ca0-9c3e-4b5f6a7b8c93", "name": "Edsger Dijkstra"},
        "createdByClient": {"id": "8e4c6b7d-3f7a-4db1-8d4f-5c6a7b8c9da4", "name": "Architect CI"},
        "dateCreated": 1795851731421,
        "dateSaved": 1795851776421,
        "dateCheckedIn": 1795851821421,
        "datePublished": "2026-11-28T07:44:26.421Z",
    }
    version = flow_version(sample)

    assert version.number == 2
    assert version.created == datetime(2026, 11, 28, 7, 42, 11, 421000, tzinfo=UTC)
    assert version.created.isoformat() == "2026-11-28T07:42:11.421000+00:00"
    assert version.modified == datetime(2026, 11, 28, 7, 44, 26, 421000, tzinfo=UTC)
    assert version.author == "Edsger Dijkstra"
    assert version.document == sample

    saved_only = {k: v for k, v in sample.items() if k not in ("datePublished", "createdBy")}
    saved_only["id"] = "12.0"
    version = flow_version(saved_only)
    assert version.number == 12
    assert version.modified == datetime(2026, 11, 28, 7, 43, 41, 421000, tzinfo=UTC)
    assert version.author == "Architect CI"

    bare = {"id": "1.0", "dateCreated": 1795851731421}
    assert flow_version(bare).modified == flow_version(bare).created


def test_routing_version_dates_accept_z():
    version = routing_version(
        {
            "id": "8a7e1f31-5373-5669-b4f9-6c08338f240a",
            "version": 3,
            "createdDate": "2026-11-28T07:52:11.008Z",
            "modifiedDate": "2026-11-28T08:53:41.008+01:00",
            "createdBy": {"id": "6c2a4f5b-1d58-4b9f-8b2d-3a4e5f6a7b82", "name": "Grace Hopper"},
        }
    )
    assert version.created == datetime(2026, 11, 28, 7, 52, 11, 8000, tzinfo=UTC)
    assert version.modified == datetime(2026, 11, 28, 7, 53, 41, 8000, tzinfo=UTC)
    assert version.modified.utcoffset() == timedelta(0)
    assert (version.number, version.author) == (3, "Grace Hopper")


def test_flow_dates_come_through_http_unchanged(simulator, client):
    versions = source_for("flow").list_versions(client, DEMO_FLOW_ID).versions
    item = simulator.state.item("flow", DEMO_FLOW_ID)
    by_id = {v.version_id: v for v in versions}
    for made in item.versions:
        expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=made.created_ms)
        assert by_id[made.id].created == expected
        assert by_id[made.id].author == made.author.name


def test_a_corrupted_flow_version_entry_is_left_out_naming_the_field(simulator, client):
    path = f"/api/v2/flows/{DEMO_FLOW_ID}/versions"
    simulator.state.corrupt_next(path, field="entities.1.dateCreated", value="yesterday")

    listing = source_for("flow").list_versions(client, DEMO_FLOW_ID)

    assert len(listing.skipped) == 1 and len(listing.versions) == 2
    bad = listing.skipped[0]
    assert bad.reason == "dateCreated: must be of integer type"
    assert bad.version_id not in {v.version_id for v in listing.versions}
    assert {bad.version_id} | {v.version_id for v in listing.versions} == {"1.0", "2.0", "3.0"}
    assert listing.valid == 2 and not listing.all_bad


def test_unknown_flow_is_a_404(client):
    with pytest.raises(UpstreamError) as caught:
        source_for("flow").list_versions(client, "0b0e4a4c-4c6a-4f7e-9d3b-7a1f2e3d4c5b")
    assert (caught.value.status, caught.value.code) == (404, "not.found")


# Refusals before any request ----------------------------------------------------------


@pytest.mark.parametrize("source_type", ["routing-strategy", "flow"])
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "../../oauth/token", "", "1234"])
def test_a_non_uuid_id_is_refused_before_any_request(simulator, client, source_type, bad_id):
    source = source_for(source_type)
    sample = flow_version({"id": "1.0", "dateCreated": 0})
    calls = [
        lambda: source.list_versions(client, bad_id),
        lambda: source.complete(client, bad_id, sample),
        lambda: source.describe(client, bad_id, []),
    ]
    for call in calls:
        with pytest.raises(UsageError, match="strategy id must be a UUID"):
            call()
    assert simulator.state.requests == []
    assert client.token_requests == 0 and client.calls == 0


def test_unknown_source_type_lists_the_valid_ones():
    with pytest.raises(UsageError) as caught:
        source_for("queues")
    assert "'queues'" in str(caught.value)
    assert "flow, routing-strategy, queue, ivr" in str(caught.value)


# Discovery ------------------------------------------------------------------------------


def test_discover_flows_pages_through_every_flow(simulator, client):
    for _ in range(120):
        simulator.state.add_strategy("flow", versions=1)
    simulator.state.clear_requests()

    flows = list(discover_flows(client))

    assert sorted(f["id"] for f in flows) == sorted(simulator.state.strategy_ids("flow"))
    assert len(flows) == 124
    sent = [r for r in simulator.state.requests if r.path == "/api/v2/flows"]
    assert len(sent) == 2 and "type" not in sent[0].query


def test_list_routing_strategies_pages_through_every_strategy(simulator, client):
    for _ in range(110):
        simulator.state.add_strategy("routing-strategy", versions=1)
    simulator.state.clear_requests()

    strategies = list(list_routing_strategies(client))

    ids = [s["id"] for s in strategies]
    assert ids == simulator.state.strategy_ids("routing-strategy")
    assert simulator.state.api_calls() == 2
