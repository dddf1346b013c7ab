"""A private gate (DESIGN.md §10) over the real hub and engine: the manifest comes with
names sealed per ticket, the gate's files never hold a name, and a name shows only for
the ticket presented. Switching a gate to private erases the names it had."""

from __future__ import annotations

from harness import HubServer, engine_for, issuer_with_event

from scanner_app.core.apikeys import ApiKeyStore, DeviceStore
from scanner_app.core.door import Door
from scanner_app.core.names import TICKET_PREFIX
from scanner_app.core.node import DB_FILENAME, Node
from scanner_app.core.node_config import NodeConfig

NAMES = ("Wilhelmina Quaxley", "Bartholomew Zinkovsky", "Ottoline Fennimore")


def on_disk(node: Node) -> bytes:
    return b"".join(
        (node.data_dir / n).read_bytes()
        for n in (DB_FILENAME, DB_FILENAME + "-wal")
        if (node.data_dir / n).exists()
    )


def hub_and_key(tmp_path):
    hub, event_id, _ = issuer_with_event(tmp_path / "hub", tickets=0)
    tickets = [hub.tickets.issue(event_id, "GA", name)[0] for name in NAMES]
    devices = DeviceStore(hub.db, ApiKeyStore(hub.db, hub.clock), hub.clock)
    _device, key = devices.create("Kiosk 1", event_id, "north")
    return hub, event_id, tickets, key


def stored_names(gate: Node) -> list[str]:
    return [r[0] for r in gate.db.query("SELECT attendee_name FROM tickets ORDER BY seq")]


def test_a_kiosk_pulls_names_sealed_per_ticket_and_shows_one_only_when_presented(tmp_path):
    hub, event_id, tickets, key = hub_and_key(tmp_path)
    gate = Node.open(tmp_path / "gate")
    NodeConfig(kiosk=True).save(gate)
    with HubServer(hub) as server:
        engine = engine_for(gate, server.url, key, event_id)
        assert engine.run_once().ok
        # Another gate admits ticket 1: the check-ins feed names that attendee.
        assert hub.checkin.scan(
            tickets[1]["qrPayload"], Door.of(event_ids=[event_id], gate="south")
        ).success
        result = gate.checkin.scan(tickets[0]["qrPayload"], Door.of([event_id]))
        assert engine.run_once().ok
        engine.stop()
    assert result.success and result.attendee_name == NAMES[0]
    assert len(stored_names(gate)) == 3
    assert all(value.startswith(TICKET_PREFIX) for value in stored_names(gate))
    assert gate.db.query_one("SELECT COUNT(*) FROM tickets WHERE qr_payload IS NOT NULL")[0] == 0
    kept = gate.db.query_one("SELECT COUNT(*) FROM checkins WHERE attendee_name IS NOT NULL")[0]
    assert kept == 0 and gate.db.query_one("SELECT COUNT(*) FROM checkins")[0] == 2
    raw = on_disk(gate)
    assert all(word.encode() not in raw for name in NAMES for word in name.split())
    assert gate.tickets.search("zinkovsky") == []
    # The hub got the admission with its name all the same (it has the manifest).
    uploaded = hub.db.query_one(
        "SELECT attendee_name, ticket_id FROM checkins WHERE ticket_id = ?", (tickets[0]["id"],)
    )
    assert hub.names.open(uploaded[0], uploaded[1]) == NAMES[0]
    gate.close()
    hub.close()


def test_switching_a_gate_to_private_erases_the_names_it_had(tmp_path):
    hub, event_id, tickets, key = hub_and_key(tmp_path)
    gate = Node.open(tmp_path / "gate")
    with HubServer(hub) as server:
        engine = engine_for(gate, server.url, key, event_id)
        assert engine.run_once().ok
        assert [t["attendeeName"] for t in gate.tickets.search("fennimore")] == [NAMES[2]]
        assert not any(v.startswith(TICKET_PREFIX) for v in stored_names(gate))
        NodeConfig(private="on").save(gate)
        assert engine.run_once().ok
        engine.stop()
    assert len(stored_names(gate)) == 3
    assert all(value.startswith(TICKET_PREFIX) for value in stored_names(gate))
    assert gate.tickets.search("fennimore") == []
    result = gate.checkin.scan(tickets[2]["qrPayload"], Door.of([event_id]))
    assert result.attendee_name == NAMES[2]
    gate.close()
    hub.close()
