"""The client against the real hub: error envelope, rate limits, Date, what it retries."""

from __future__ import annotations

import time

import pytest
from faultproxy import FaultProxy
from harness import HubServer, gate_key, issuer_with_event

from scanner_app.core.apikeys import GATE_SCOPES, ApiKeyStore
from scanner_app.sync.client import TickitzClient
from scanner_app.sync.errors import (
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
    Unreachable,
)


@pytest.fixture
def hub(tmp_path):
    node, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=1)
    with HubServer(node) as server:
        yield node, server, event_id, tickets


def test_errors_arrive_as_typed_exceptions_with_the_seed_envelope(hub):
    node, server, event_id, _ = hub
    with TickitzClient(server.url, "tk_live_not_a_key", retries=0) as client:
        with pytest.raises(Unauthorized) as caught:
            client.get_event(event_id)
    assert caught.value.code == "unauthorized" and caught.value.request_id.startswith("req_")
    with TickitzClient(server.url, gate_key(node, event_id, "a"), retries=0) as client:
        with pytest.raises(NotFound) as missing:
            client.get_event("evt_nope")
        with pytest.raises(Forbidden):
            client._request("POST", "/devices", json={"name": "x", "eventId": event_id})
        assert client.get_event(event_id)["id"] == event_id
        assert client.rate_limit is not None and client.rate_limit.limit == 6000
    assert missing.value.code == "not_found" and missing.value.status == 404
    assert "tk_live" not in repr(client)


def test_the_date_header_feeds_the_clock(hub):
    node, server, event_id, _ = hub
    seen = []
    with TickitzClient(
        server.url, gate_key(node, event_id, "a"), on_date=lambda *a: seen.append(a)
    ) as client:
        client.get_jwks(event_id)
    (server_date, sent, received), *_ = seen
    assert sent <= received and abs((server_date - sent).total_seconds()) < 2


def test_a_429_is_waited_out_as_retry_after_says(tmp_path):
    node, event_id, _ = issuer_with_event(tmp_path / "hub", tickets=0)
    _, key = ApiKeyStore(node.db).create(
        "slow", GATE_SCOPES, kind="gate", rate_limit=60, rate_burst=2
    )
    with HubServer(node) as server, TickitzClient(server.url, key, max_retry_wait_s=3) as client:
        client.get_event(event_id)
        client.get_event(event_id)  # the burst is spent: remaining 0
        started = time.monotonic()
        client.get_event(event_id)  # waits (proactively or after a 429) instead of failing
        assert time.monotonic() - started >= 0.9
    with HubServer(node) as server, TickitzClient(server.url, key, max_retry_wait_s=0.1) as c:
        c.get_event(event_id)
        c.get_event(event_id)
        with pytest.raises(RateLimited) as caught:
            c.get_event(event_id)  # too long to wait here: the engine reschedules instead
    assert caught.value.retry_after and caught.value.retry_after >= 0.5


def test_idempotent_requests_are_retried_and_a_scan_is_not(hub):
    node, server, event_id, tickets = hub
    proxy = FaultProxy(server.port).start()
    try:
        with TickitzClient(proxy.url, gate_key(node, event_id, "a"), backoff_s=0.01) as client:
            proxy.fail("500", match="GET")
            proxy.fail("drop", match="GET")
            assert client.get_event(event_id)["id"] == event_id
            assert len(proxy.requests("GET")) == 3
            proxy.fail("500", match="/checkin/scan")
            body = {"qrPayload": tickets[0]["qrPayload"], "eventId": event_id, "scannedBy": "a"}
            with pytest.raises(ServerError):
                client.scan(body)
            assert len(proxy.requests("/checkin/scan")) == 1
            proxy.fail("500", times=5, match="GET")
            with pytest.raises(ServerError):
                client.get_event(event_id)  # 1 + 2 retries, then it gives up
            assert len(proxy.requests("GET")) == 6
            proxy.clear()
        with TickitzClient(proxy.url, "tk_live_x", timeout=0.3, retries=0) as client:
            proxy.fail("stall:2", match="GET")
            with pytest.raises(Unreachable):
                client.get_event(event_id)
    finally:
        proxy.stop()
