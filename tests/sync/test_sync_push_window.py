"""Two upload batches in flight, and the rows that must wait for the one before them.

A fault proxy holds the first batch before forwarding it: an independent next batch
reaches the hub meanwhile; a batch that voids a check-in of the held batch does not.
"""

from __future__ import annotations

import pytest
from faultproxy import FaultProxy
from harness import HubServer, engine_for, gate_key, issuer_with_event

from scanner_app.core.door import Door
from scanner_app.core.node import Node

HOLD_S = 0.6  # how long the proxy holds the first batch
BATCH = "/checkin/batch"


@pytest.fixture
def venue(tmp_path):
    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=45)
    gate = Node.open(tmp_path / "gate")
    with HubServer(hub) as server:
        proxy = FaultProxy(server.port).start()
        try:
            key = gate_key(hub, event_id, "north")
            engine = engine_for(gate, proxy.url, key, event_id, gate="north", batch_size=20)
            assert engine.run_once().ok  # keys and manifest
            yield hub, gate, event_id, tickets, proxy, engine
        finally:
            engine.stop()
            proxy.stop()
            gate.close()


def admit(gate: Node, event_id: str, tickets: list) -> list[str]:
    door = Door.of([event_id], gate="north")
    return [gate.checkin.scan(t["qrPayload"], door).checkin_id for t in tickets]


def arrivals(proxy: FaultProxy) -> list[float]:
    return [when for _line, _fault, when in proxy.requests(BATCH)]


def test_the_next_batch_is_on_its_way_while_the_first_is_applied(venue):
    hub, gate, event_id, tickets, proxy, engine = venue
    ids = admit(gate, event_id, tickets[:45])  # three batches, 45 different tickets
    proxy.fail(f"slow:{HOLD_S}", match=BATCH)
    report = engine.run_once(pull=False)
    assert report.ok and report.pushed == 45 and report.answers == {"recorded": 45}
    first, second, third = arrivals(proxy)
    assert second - first < HOLD_S  # sent before the first was answered
    assert third >= first + HOLD_S  # at most two in flight
    stored = hub.db.query("SELECT id FROM checkins WHERE event_id = ?", (event_id,))
    assert sorted(r["id"] for r in stored) == sorted(ids)
    assert gate.ledger.pending_count() == 0


def test_a_void_of_a_checkin_in_flight_waits_for_its_answer(venue):
    hub, gate, event_id, tickets, proxy, engine = venue
    ids = admit(gate, event_id, tickets[:20])  # the first batch, exactly
    void = gate.checkin.records.undo(ids[0], gate="north")  # opens the second batch
    admit(gate, event_id, tickets[20:25])
    proxy.fail(f"slow:{HOLD_S}", match=BATCH)
    report = engine.run_once(pull=False)
    assert report.ok and report.pushed == 26
    first, second = arrivals(proxy)
    assert second >= first + HOLD_S  # not sent until the void's check-in was answered
    voided = hub.db.query("SELECT voided_by FROM checkins WHERE id = ?", (ids[0],))
    assert voided[0]["voided_by"] == void.id
    stats = hub.reports.stats(event_id)
    assert stats["checkedIn"] == 24  # 25 admitted, one undone


def test_a_second_movement_of_a_ticket_in_flight_waits_too(venue):
    hub, gate, event_id, tickets, proxy, engine = venue
    admit(gate, event_id, tickets[:20])
    again = admit(gate, event_id, tickets[:1])  # refused at the door: already in
    proxy.fail(f"slow:{HOLD_S}", match=BATCH)
    report = engine.run_once(pull=False)
    assert report.ok and report.answers == {"recorded": 20, "duplicate": 1}
    first, second = arrivals(proxy)
    assert second >= first + HOLD_S
    row = hub.db.query("SELECT reason FROM checkins WHERE id = ?", (again[0],))
    assert row[0]["reason"] == "already_checked_in"
