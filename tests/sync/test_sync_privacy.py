"""Personal data leaves a gate at once when the hub says its device was revoked (real hub,
real engine, real files); a wrong key does not erase anything."""

from __future__ import annotations

from harness import HubServer, engine_for, issuer_with_event

from scanner_app.core.apikeys import ApiKeyStore, DeviceStore
from scanner_app.core.door import Door
from scanner_app.core.node import Node


def names(node: Node) -> int:
    return node.db.query_one("SELECT COUNT(*) FROM tickets WHERE attendee_name IS NOT NULL")[0]


def test_a_revoked_gate_erases_its_attendee_names(tmp_path):
    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=3)
    devices = DeviceStore(hub.db, ApiKeyStore(hub.db, hub.clock), hub.clock)
    device, key = devices.create("Laptop 4", event_id, "north")
    gate = Node.open(tmp_path / "gate")
    with HubServer(hub) as server:
        wrong = engine_for(gate, server.url, "tk_live_" + "x" * 43, event_id)
        engine = engine_for(gate, server.url, key, event_id)
        assert engine.run_once().ok
        assert names(gate) == 3
        refused = wrong.run_once().error or ""  # an unknown key: 401, but not "revoked"
        assert "Invalid API key" in refused and "revoked" not in refused
        assert names(gate) == 3
        server.app.state.hub.devices.revoke(device["id"])  # the laptop was stolen
        report = engine.run_once()
        engine.stop()
        wrong.stop()
    # The staff at the door read why: this laptop's key was revoked, not mistyped.
    assert "401" in (report.error or "") and "revoked" in report.error
    assert names(gate) == 0
    assert not gate.tickets.search("Ada")  # nobody can look attendees up any more
    # The door still verifies tickets (keys are public); a name shows only from the token
    # the attendee holds up, as a private gate does.
    result = gate.checkin.scan(tickets[0]["qrPayload"], Door.of([event_id]))
    assert result.success and result.attendee_name == "Ada L."
    gate.close()
