"""A bad network between gate and hub: dropped connections, 500s, 429s, stalls.

The engine backs off, recovers, and the hub ends with every check-in exactly once.
"""

from __future__ import annotations

import time
from contextlib import closing

import pytest
from faultproxy import FaultProxy
from harness import HubServer, engine_for, gate_key, issuer_with_event, wait_for

from scanner_app.core.door import Door
from scanner_app.core.node import Node
from scanner_app.sync.door import OnlineCheckProvider, check_provider, door_for


@pytest.fixture
def venue(tmp_path):
    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=40)
    gate = Node.open(tmp_path / "gate")
    with HubServer(hub) as server:
        proxy = FaultProxy(server.port).start()
        try:
            yield hub, gate, event_id, tickets, proxy, gate_key(hub, event_id, "north")
        finally:
            proxy.stop()


def scan_many(node, event_id, tickets, count):
    """`count` scans cycling over the tickets: admissions, then already_checked_in."""
    return [
        node.checkin.scan(tickets[i % len(tickets)]["qrPayload"], Door.of([event_id])).checkin_id
        for i in range(count)
    ]


def hub_ids(hub, event_id):
    rows = hub.db.query("SELECT id FROM checkins WHERE event_id = ?", (event_id,))
    return [r["id"] for r in rows]


def test_the_engine_survives_every_fault_and_loses_and_duplicates_nothing(venue):
    hub, gate, event_id, tickets, proxy, key = venue
    engine = engine_for(gate, proxy.url, key, event_id, gate="north", batch_size=50, timeout_s=0.5)
    assert engine.run_once().ok
    ids = scan_many(gate, event_id, tickets, 400)
    batch = "/checkin/batch"
    for fault in ("drop", "500", "drop_after", "429:1", "stall:1.5", "drop_after", "500"):
        proxy.fail(fault, match=batch)
    proxy.fail("drop", match="/tickets")
    proxy.fail("500", times=3, match="/checkins")
    with engine:
        engine.start()
        wait_for(lambda: gate.ledger.pending_count() == 0, timeout=40)
        wait_for(lambda: engine.status().state == "online", timeout=10)
        later = scan_many(gate, event_id, tickets, 5)  # and it keeps flowing afterwards
        wait_for(lambda: gate.ledger.pending_count() == 0, timeout=10)
    on_hub = hub_ids(hub, event_id)
    assert len(on_hub) == len(set(on_hub)) == 405
    assert set(on_hub) == set(ids + later)
    assert sorted(proxy.faults_seen()) == sorted(
        [
            "drop",
            "500",
            "drop_after",
            "429:1",
            "stall:1.5",
            "drop_after",
            "500",
            "drop",
            "500",
            "500",
            "500",
        ]
    )
    # The answers the hub gave are recorded locally: admissions vs duplicate scans.
    statuses = dict(
        gate.db.query("SELECT upstream_status, COUNT(*) FROM checkins GROUP BY upstream_status")
    )
    assert statuses == {"recorded": 40, "duplicate": 365}


def test_retry_after_is_honoured(venue):
    hub, gate, event_id, tickets, proxy, key = venue
    engine = engine_for(gate, proxy.url, key, event_id, retries=0)
    scan_many(gate, event_id, tickets, 3)
    proxy.fail("429:2", match="/checkin/batch")
    report = engine.run_once(pull=False)
    status = engine.status()
    assert report.error and status.state == "problem" and "rate limited" in status.reason
    assert status.next_attempt_in_s >= 1.5  # not the 0.05 s backoff: the hub said 2 s
    with engine:
        engine.start()
        wait_for(lambda: gate.ledger.pending_count() == 0, timeout=10)
    first, second = proxy.requests("/checkin/batch")[:2]
    assert second[2] - first[2] >= 1.9
    assert len(hub_ids(hub, event_id)) == 3


def test_status_says_offline_or_degraded_with_the_reason_and_backs_off(venue):
    hub, gate, event_id, tickets, proxy, key = venue
    changes = []
    engine = engine_for(
        gate,
        proxy.url,
        key,
        event_id,
        retries=0,
        backoff_s=0.1,
        max_backoff_s=0.8,
        on_status=lambda s: changes.append(s.state),
    )
    proxy.fail("500", times=1000)
    with engine:
        engine.start()
        time.sleep(2.0)
        status = engine.status()
        assert status.state == "problem" and "500" in status.reason
        # Exponential backoff: nowhere near one request per 0.05 s poll.
        assert len(proxy.requests()) < 12
        proxy.clear()
        hub_address = proxy.upstream
        proxy.upstream = ("127.0.0.1", 9)  # the hub vanished: connection refused
        wait_for(lambda: engine.status().state == "offline", timeout=5)
        assert "unreachable" in engine.status().reason
        scan_many(gate, event_id, tickets, 2)
        assert engine.status().pending == 2
        proxy.upstream = hub_address
        wait_for(
            lambda: engine.status().state == "online" and engine.status().pending == 0, timeout=5
        )
    assert {"problem", "offline", "online"} <= set(changes)


def test_strict_mode_asks_the_hub_and_falls_back_under_the_same_id(venue):
    hub, gate, event_id, tickets, proxy, key = venue
    engine = engine_for(gate, proxy.url, key, event_id, gate="north", strict=True)
    assert engine.run_once().ok
    provider = check_provider(gate, engine, deadline_s=0.5)
    assert isinstance(provider, OnlineCheckProvider)
    provider.quiet_s = 0.0
    door = door_for(engine.config)

    def scan(ticket):
        return provider.scan(ticket["qrPayload"], door)

    with engine, closing(provider):
        online = scan(tickets[0])
        assert online.success and not online.offline
        assert gate.ledger.pending_count() == 0  # the hub has it already
        # The hub processes the next scan but its answer is lost: local verdict, same id.
        proxy.fail("drop_after", match="/checkin/scan")
        fallback = scan(tickets[1])
        assert fallback.success and fallback.offline
        assert fallback.checkin_id in hub_ids(hub, event_id)
        # A stalled hub costs at most the strict deadline, then the door decides alone.
        proxy.fail("stall:3", match="/checkin/scan")
        started = time.monotonic()
        slow = scan(tickets[2])
        assert time.monotonic() - started < 0.9 and slow.offline and slow.success
        # Right after a miss the gate does not wait on the hub for every scan.
        provider.quiet_s = 5.0
        proxy.fail("stall:3", match="/checkin/scan")
        scan(tickets[4])
        started = time.monotonic()
        scan(tickets[3])
        assert time.monotonic() - started < 0.2
        report = engine.run_once()
    assert report.ok and report.pending == 0
    on_hub = hub_ids(hub, event_id)
    assert len(on_hub) == len(set(on_hub)) == 5
    assert {online.checkin_id, fallback.checkin_id, slow.checkin_id} <= set(on_hub)
    assert hub.reports.stats(event_id)["checkedIn"] == 5


def test_a_row_no_hub_takes_is_set_aside_with_its_reason_and_the_rest_still_flows(venue):
    hub, gate, event_id, tickets, proxy, key = venue
    engine = engine_for(gate, proxy.url, key, event_id)
    # A scan with no event context (a junk QR at a gate with no event yet) has no eventId,
    # which no hub's batch validation takes: it used to stay "pending" forever.
    junk = gate.checkin.scan("not a ticket").checkin_id
    good = scan_many(gate, event_id, tickets, 3)
    report = engine.run_once()
    status = engine.status()
    assert report.pushed == 3 and report.refused.keys() == {junk}
    assert set(hub_ids(hub, event_id)) == set(good)
    assert (status.pending, status.set_aside, status.state) == (0, 1, "online")
    assert "not filed under an event" in status.set_aside_reason
    more = scan_many(gate, event_id, tickets, 2)
    assert engine.run_once().pushed == 2  # the set-aside row does not block later ones
    assert set(more) <= set(hub_ids(hub, event_id))
    assert gate.ledger.pending_count() == 0
    # Kept locally, never marked as delivered, and in the event's export with the reason.
    (row,) = [r for r in gate.reports.checkins(event_id) if r["checkinId"] == junk]
    assert (row["eventId"], row["reason"]) == ("", "malformed")
    assert "not filed under an event" in row["setAsideReason"]
    assert "setAsideReason" in gate.reports.export_csv(event_id).splitlines()[0]
