"""Gates that scanned offline converge with the hub and central (issue 4, DESIGN.md §5)."""

from __future__ import annotations

import time

import httpx
from harness import (
    HubServer,
    admissions,
    engine_for,
    gate_key,
    hub_key,
    issuer_with_event,
    organiser_key,
    wait_for,
)

from scanner_app.core.door import Door
from scanner_app.core.node import Node
from scanner_app.core.timeutil import parse_iso
from scanner_app.sync.door import check_provider, door_for


def test_two_offline_gates_admit_one_ticket_and_every_node_agrees_on_the_canonical_one(tmp_path):
    central, event_id, tickets = issuer_with_event(tmp_path / "central", tickets=2)
    ticket = tickets[0]
    hub = Node.open(tmp_path / "hub")
    g1, g2 = Node.open(tmp_path / "g1"), Node.open(tmp_path / "g2")
    with HubServer(central) as central_srv, HubServer(hub) as hub_srv:
        hub_sync = engine_for(hub, central_srv.url, hub_key(central), event_id)
        assert hub_sync.run_once().ok  # the hub learns the event, keys and manifest
        gates = {}
        for node, name in ((g1, "north"), (g2, "south")):
            gates[name] = engine_for(
                node, hub_srv.url, gate_key(hub, event_id, name), event_id, gate=name
            )
            assert gates[name].run_once().ok
        # The LAN is down: both doors admit the same (shared screenshot) ticket.
        first = g1.checkin.scan(ticket["qrPayload"], Door.of(event_ids=[event_id], gate="north"))
        time.sleep(0.005)
        second = g2.checkin.scan(ticket["qrPayload"], Door.of(event_ids=[event_id], gate="south"))
        assert first.success and second.success and first.offline and second.offline
        # The later door reaches the hub first: arrival order must not decide.
        report = gates["south"].run_once()
        assert report.answers == {"recorded": 1}
        assert gates["north"].run_once().answers == {"recorded": 1}
        assert hub_sync.run_once().ok  # the hub forwards both to central
        for engine in gates.values():
            assert engine.run_once().ok  # and the gates hear about each other
        for node in (central, hub, g1, g2):
            found = admissions(node, event_id, ticket["id"])
            assert [r["id"] for r in found] == [first.checkin_id, second.checkin_id]
            canonical, clash = found
            assert canonical["conflict"] == 0 and canonical["gate"] == "north"
            assert clash["conflict"] == 1
            assert clash["first_checked_in_at"] == first.checked_in_at
            assert clash["first_scanned_by"] == "north"
            stats = node.reports.stats(event_id)
            assert (stats["checkedIn"], stats["conflicts"]) == (1, 1)
        # Central's organiser API says the same.
        with httpx.Client(base_url=central_srv.url) as http:
            headers = {"Authorization": f"Bearer {organiser_key(central)}"}
            conflicts = http.get(f"/v1/events/{event_id}/conflicts", headers=headers).json()
        assert [c["checkinId"] for c in conflicts["data"]] == [second.checkin_id]
        for engine in (*gates.values(), hub_sync):
            engine.stop()


def test_an_admission_at_one_gate_is_already_checked_in_at_another_within_a_pull(tmp_path):
    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=1)
    g1, g2 = Node.open(tmp_path / "g1"), Node.open(tmp_path / "g2")
    with HubServer(hub) as server:
        e1 = engine_for(g1, server.url, gate_key(hub, event_id, "a"), event_id, gate="a")
        e2 = engine_for(
            g2, server.url, gate_key(hub, event_id, "b"), event_id, gate="b", interval_s=0.5
        )
        with e1, e2:
            e1.start()
            e2.start()
            wait_for(lambda: e1.status().last_pull_at and e2.status().last_pull_at)
            p1, p2 = check_provider(g1, e1), check_provider(g2, e2)
            admitted = p1.scan(tickets[0]["qrPayload"], door_for(e1.config))  # kick: push now
            started = time.monotonic()
            wait_for(lambda: admissions(g2, event_id, tickets[0]["id"]), timeout=5)
            assert time.monotonic() - started < 0.5 + 0.5  # one pull interval, plus slack
            again = p2.scan(tickets[0]["qrPayload"], door_for(e2.config))
        assert admitted.success
        assert again.reason == "already_checked_in" and again.first_scanned_by == "a"
        assert again.first_checked_in_at == admitted.checked_in_at


def test_a_ticket_cancelled_on_the_hub_is_revoked_at_an_offline_gate(tmp_path):
    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=2)
    gate = Node.open(tmp_path / "gate")
    with HubServer(hub) as server:
        engine = engine_for(gate, server.url, gate_key(hub, event_id, "a"), event_id)
        assert engine.run_once().ok
        with httpx.Client(base_url=server.url) as http:
            headers = {"Authorization": f"Bearer {organiser_key(hub)}"}
            cancel = http.post(f"/v1/tickets/{tickets[0]['id']}/cancel", headers=headers)
            assert cancel.status_code == 200
        report = engine.run_once()
        assert report.ok and report.tickets == 1  # just the change, not the whole manifest
    # The hub is gone; the gate decides alone.
    status = engine.status()
    assert status.revocation_age_s is not None and status.revocation_age_s < 5
    refused = gate.checkin.scan(tickets[0]["qrPayload"], Door.of([event_id]))
    admitted = gate.checkin.scan(tickets[1]["qrPayload"], Door.of([event_id]))
    assert refused.reason == "revoked" and not refused.success
    assert admitted.success
    assert engine.run_once().error and engine.status().state == "offline"
    engine.stop()


def test_a_rotated_key_is_picked_up_on_the_next_pull(tmp_path):
    hub, event_id, _ = issuer_with_event(tmp_path / "hub", tickets=1)
    gate = Node.open(tmp_path / "gate")
    with HubServer(hub) as server:
        engine = engine_for(gate, server.url, gate_key(hub, event_id, "a"), event_id)
        assert engine.run_once().ok
        hub.events.rotate_key(event_id)
        fresh = hub.tickets.issue(event_id, "GA", "Grace H.")[0]
        before = gate.checkin.scan(fresh["qrPayload"], Door.of([event_id]))
        report = engine.run_once()
        after = gate.checkin.scan(fresh["qrPayload"], Door.of([event_id]))
        engine.stop()
    assert before.reason == "unknown_key"
    assert report.keys_added == 1
    assert after.success and after.attendee_name == "Grace H."


def test_door_times_are_corrected_by_the_upstream_clock_and_a_large_skew_is_reported(tmp_path):
    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=1)
    skew = 45.0  # this laptop's clock is 45 s slow
    gate = Node.open(tmp_path / "gate", clock=lambda: _now_minus(skew))
    with HubServer(hub) as server:
        engine = engine_for(gate, server.url, gate_key(hub, event_id, "a"), event_id)
        assert engine.run_once().ok and engine.run_once().ok
        status = engine.status()
        provider = check_provider(gate, engine)  # door times use the engine's learned offset
        result = provider.scan(tickets[0]["qrPayload"], door_for(engine.config))
        engine.stop()
    assert abs(status.clock_offset_ms - skew * 1000) < 1500
    assert status.clock_skew_large and any("clock" in w for w in status.warnings)
    assert status.state == "online"  # a skew is reported, not treated as an outage
    door = parse_iso(result.checked_in_at).timestamp()
    assert abs(door - time.time()) < 1.5
    # ... and the offset survives a restart, so an offline gate keeps correcting.
    restarted = engine_for(gate, server.url, "tk_live_x", event_id)
    assert abs(restarted.clock.offset_ms() - status.clock_offset_ms) < 60
    restarted.stop()


def _now_minus(seconds: float):
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(seconds=seconds)


def test_a_first_sync_of_a_large_event_reports_progress_and_resumes(tmp_path):
    hub, event_id, _ = issuer_with_event(
        tmp_path / "hub", tickets=0, tiers=[{"name": "GA", "price": 0, "quantity": 2500}]
    )
    for _ in range(3):
        hub.tickets.issue(event_id, "GA", "Someone", 800)
    gate = Node.open(tmp_path / "gate")
    seen = []
    with HubServer(hub) as server:
        engine = engine_for(
            gate,
            server.url,
            gate_key(hub, event_id, "a"),
            event_id,
            page_size=1000,
            on_status=lambda s: seen.append(s.first_sync),
        )
        assert engine.run_once().tickets == 2400
        engine.stop()
        progress = [p for p in seen if p]
        assert [p["done"] for p in progress] == [1000, 2000, 2400]
        # The tiers' seats while pages come; the real count with the last page.
        assert [p["estimatedTotal"] for p in progress] == [2500, 2500, 2400]
        assert seen[-1] is None  # done: the GUI stops showing progress
        hub.tickets.issue(event_id, "GA", "Latecomer", 1)
        # A new engine (a restart) resumes from the stored cursor: one change, no progress.
        seen.clear()
        again = engine_for(
            gate,
            server.url,
            gate_key(hub, event_id, "b"),
            event_id,
            on_status=lambda s: seen.append(s.first_sync),
        )
        assert again.run_once().tickets == 1
        again.stop()
    assert not any(seen)
    assert gate.db.query_one("SELECT COUNT(*) FROM tickets")[0] == 2401


def test_admissions_at_the_same_millisecond_still_get_one_canonical_everywhere(tmp_path):
    from datetime import UTC, datetime, timedelta

    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=1)
    # One door time for both gates, after the ticket was issued: the hub refuses an admission
    # timed before its token existed (proof of presentation, DESIGN.md §10).
    same = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=123000)
    gates = [Node.open(tmp_path / f"g{i}", clock=lambda: same) for i in range(2)]
    with HubServer(hub) as server:
        engines = [
            engine_for(g, server.url, gate_key(hub, event_id, f"d{i}"), event_id, gate=f"d{i}")
            for i, g in enumerate(gates)
        ]
        for engine in engines:
            assert engine.run_once().ok
        # Both doors admit at the very same door time; the second gate uploads first.
        results = [g.checkin.scan(tickets[0]["qrPayload"], Door.of([event_id])) for g in gates]
        for engine in reversed(engines):
            assert engine.run_once().ok
        for engine in engines:
            assert engine.run_once().ok
            engine.stop()
    assert all(r.success for r in results)
    views = []
    for node in (hub, *gates):
        found = admissions(node, event_id, tickets[0]["id"])
        views.append({r["id"]: r["conflict"] for r in found})
    assert views[0] == views[1] == views[2]
    assert sorted(views[0].values()) == [0, 1]


def test_a_duplicates_first_admission_is_the_same_in_every_nodes_export(tmp_path):
    """Issue 15.7: gate A turned away a second scan pointing at its own admission; gate B,
    offline, had admitted the ticket earlier. Once all have synced, every node's export names
    B's admission as the first for both of A's rows."""
    from datetime import UTC, datetime, timedelta

    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=1)
    base = datetime.now(UTC) + timedelta(seconds=1)  # after the ticket was issued
    at = {"a": base, "b": base}
    gates = {
        name: Node.open(tmp_path / name, clock=lambda name=name: at[name]) for name in ("a", "b")
    }
    payload = tickets[0]["qrPayload"]
    with HubServer(hub) as server:
        engines = {
            name: engine_for(node, server.url, gate_key(hub, event_id, name), event_id, gate=name)
            for name, node in gates.items()
        }
        for engine in engines.values():
            assert engine.run_once().ok
        # The LAN is down. B admits first; A admits later and turns a second scan away.
        at["b"] = base + timedelta(seconds=1)
        assert gates["b"].checkin.scan(payload, Door.of(event_ids=[event_id], gate="b")).success
        at["a"] = base + timedelta(seconds=2)
        assert gates["a"].checkin.scan(payload, Door.of(event_ids=[event_id], gate="a")).success
        at["a"] = base + timedelta(seconds=3)
        again = gates["a"].checkin.scan(payload, Door.of(event_ids=[event_id], gate="a"))
        assert again.reason == "already_checked_in"
        for _ in range(2):  # up, then down: everyone holds every row
            for name in ("a", "b"):
                assert engines[name].run_once().ok
        for engine in engines.values():
            engine.stop()
    exports = []
    for node in (hub, *gates.values()):
        rows = node.reports.checkins(event_id)
        exports.append({r["checkinId"]: (r["firstCheckedInAt"], r["firstScannedBy"]) for r in rows})
    assert exports[0] == exports[1] == exports[2]
    first_at = (
        (base + timedelta(seconds=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    pointing = [value for value in exports[0].values() if value != (None, None)]
    assert pointing == [(first_at, "b"), (first_at, "b")]  # A's admission and A's refusal
