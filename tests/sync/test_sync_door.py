"""sync/door.py: strict mode through the door seam, against a real hub behind a fault proxy.

Issue 16 item 1: a strict scan that reaches the hub after the gate's deadline must not
leave one check-in id with two verdicts. Issue 10 item 6 / DESIGN.md §10: an upstream
answer counts only for the ticket and event asked, and over plain HTTP beyond loopback
it never overrides a verdict the gate can make itself.
"""

from __future__ import annotations

from contextlib import closing, contextmanager

import pytest
from faultproxy import FaultProxy
from harness import HubServer, engine_for, gate_key, issuer_with_event, wait_for

from scanner_app.core.door import Door, LocalCheckProvider
from scanner_app.core.node import Node
from scanner_app.sync.door import (
    OnlineCheckProvider,
    check_provider,
    door_for,
    plain_http_beyond_loopback,
)


@pytest.fixture
def venue(tmp_path):
    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=5)
    north, south = Node.open(tmp_path / "north"), Node.open(tmp_path / "south")
    with HubServer(hub) as server:
        proxy = FaultProxy(server.port).start()
        try:
            yield hub, north, south, event_id, tickets, proxy, server
        finally:
            proxy.stop()


@contextmanager
def _stopping(engine):
    try:
        yield engine
    finally:
        engine.stop()


def _export(node, event_id):
    # deviceId aside: since the hub files a gate key's rows under the device it enrolled
    # (not the id the gate's own node uses), that column differs by design.
    return [
        {k: v for k, v in r.items() if k != "deviceId"} for r in node.reports.checkins(event_id)
    ]


def test_a_late_strict_scan_ends_as_one_row_per_id_and_the_same_conflicts_everywhere(venue):
    hub, north, south, event_id, tickets, proxy, server = venue
    strict = engine_for(
        north, proxy.url, gate_key(hub, event_id, "north"), event_id, "north", strict=True
    )
    plain = engine_for(south, server.url, gate_key(hub, event_id, "south"), event_id, "south")
    assert strict.run_once().ok and plain.run_once().ok
    provider = check_provider(north, strict, deadline_s=0.3)
    assert isinstance(provider, OnlineCheckProvider)
    ticket = tickets[0]["qrPayload"]
    # The south door admits the ticket and uploads at once; north has not pulled it yet.
    other = check_provider(south, plain).scan(ticket, door_for(plain.config))
    assert other.success and plain.run_once().ok
    with closing(provider):
        # The hub gets the north door's strict scan only after north decided alone.
        proxy.fail("late:1.0", match="/checkin/scan")
        shown = provider.scan(ticket, door_for(strict.config))
    assert shown.success and shown.offline
    late = wait_for(
        lambda: hub.db.query_one("SELECT * FROM checkins WHERE id = ?", (shown.checkin_id,))
    )
    assert late["reason"] == "already_checked_in"  # the hub decided the late request afresh
    for _ in range(2):  # upload north's version, then everyone pulls everyone's
        assert strict.run_once().ok and plain.run_once().ok
    strict.stop()
    plain.stop()
    exports = [_export(node, event_id) for node in (hub, north, south)]
    assert exports[0] == exports[1] == exports[2]
    by_id = {row["checkinId"]: row for row in exports[0]}
    assert set(by_id) == {shown.checkin_id, other.checkin_id}
    north_row, south_row = by_id[shown.checkin_id], by_id[other.checkin_id]
    # What north showed is what every node keeps: an admission, flagged as the later one.
    assert north_row["success"] and north_row["scannedAt"] == shown.checked_in_at
    assert north_row["conflict"] and north_row["firstScannedBy"] == "south"
    assert south_row["success"] and not south_row["conflict"]
    for node in (hub, north, south):
        assert node.reports.stats(event_id)["conflicts"] == 1
    # A resend changes nothing and answers the same.
    rows_before = hub.db.query_one("SELECT COUNT(*), MAX(seq) FROM checkins")
    again = hub.ledger.merge(
        [r for r in north.ledger.feed(event_id)["data"] if r["id"] == shown.checkin_id],
        source="downstream",
        device_id=north.device_id,
    )
    assert again[0]["status"] == "conflict"
    assert tuple(hub.db.query_one("SELECT COUNT(*), MAX(seq) FROM checkins")) == tuple(rows_before)


def test_another_device_cannot_replace_a_gates_online_verdict(venue):
    hub, north, south, event_id, tickets, proxy, server = venue
    key = gate_key(hub, event_id, "north")
    engine = engine_for(north, server.url, key, event_id, "north", strict=True)
    assert engine.run_once().ok
    with closing(check_provider(north, engine)) as provider:
        first = provider.scan(tickets[1]["qrPayload"], door_for(engine.config))
        again = provider.scan(tickets[1]["qrPayload"], door_for(engine.config))
    engine.stop()
    assert first.success and not first.offline and again.reason == "already_checked_in"
    forged = {
        "id": again.checkin_id,
        "ticketId": tickets[1]["id"],
        "eventId": event_id,
        "scannedAt": "2026-01-01T00:00:00.000Z",
        "scannedBy": "south",
        "success": True,
        "deviceId": south.device_id,
    }
    answer = hub.ledger.merge([forged], source="downstream", device_id=south.device_id)
    assert answer[0]["status"] == "duplicate"  # the stored verdict stands
    row = hub.db.query_one("SELECT success, gate FROM checkins WHERE id = ?", (again.checkin_id,))
    assert tuple(row) == (0, "north")


def _strict_door(venue, *, advisory=False):
    hub, north, _south, event_id, tickets, proxy, _server = venue
    engine = engine_for(north, proxy.url, gate_key(hub, event_id, "north"), event_id, "north")
    assert engine.run_once().ok
    local = LocalCheckProvider(north.checkin)
    provider = OnlineCheckProvider(local, engine.online_client(2.0), 2.0, advisory=advisory)
    return provider, Door.of([event_id], "north"), engine


def test_an_answer_naming_another_ticket_is_not_used(venue):
    hub, north, _south, event_id, tickets, proxy, _server = venue
    provider, door, engine = _strict_door(venue)
    proxy.rewrite = lambda answer: {**answer, "ticketId": tickets[4]["id"], "success": True}
    with closing(provider), _stopping(engine):
        hub.checkin.scan(tickets[2]["qrPayload"], Door.of(event_ids=[event_id], gate="box-office"))
        proxy.fail("rewrite", match="/checkin/scan")
        result = provider.scan(tickets[2]["qrPayload"], door)
        # Not the hub's (rewritten) answer: the gate's own verdict, under the same id.
        assert result.success and result.offline and result.ticket_id == tickets[2]["id"]
        assert north.ledger.pending_count() == 1  # to upload: the hub never saw this verdict
        proxy.rewrite = lambda answer: {**answer, "eventId": "evt_other"}
        proxy.fail("rewrite", match="/checkin/scan")
        other_event = provider.scan(tickets[3]["qrPayload"], door)
        assert other_event.offline and other_event.event_id == event_id


def test_over_plain_http_the_local_verdict_stands_when_they_disagree(venue):
    hub, north, _south, event_id, tickets, proxy, _server = venue
    provider, door, engine = _strict_door(venue, advisory=True)
    with closing(provider), _stopping(engine):
        proxy.rewrite = lambda answer: {**answer, "success": False, "reason": "revoked"}
        proxy.fail("rewrite", match="/checkin/scan")
        kept = provider.scan(tickets[0]["qrPayload"], door)
        assert kept.success and kept.offline  # a valid token the gate verified: admitted
        agreed = provider.scan(tickets[1]["qrPayload"], door)  # nobody rewrote this one
        assert agreed.success and not agreed.offline
    pushed = north.db.query_one("SELECT pushed_at FROM checkins WHERE id = ?", (agreed.checkin_id,))
    assert pushed[0]


@pytest.mark.parametrize(
    ("url", "insecure"),
    [
        ("http://127.0.0.1:8000/v1", False),
        ("http://localhost:8000/v1", False),
        ("http://[::1]:8000/v1", False),
        ("https://10.0.0.5:8443/v1", False),
        ("http://10.0.0.5:8000/v1", True),
        ("http://hub.local:8000/v1", True),
    ],
)
def test_plain_http_beyond_loopback(url, insecure):
    assert plain_http_beyond_loopback(url) is insecure
