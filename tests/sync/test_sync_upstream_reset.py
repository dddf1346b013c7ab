"""A hub that comes back with a new database (reinstalled, data folder replaced) at the
same address: gates notice from its node header, re-send and re-read from the start."""

from __future__ import annotations

from harness import HubServer, admissions, engine_for, gate_key, hub_key, issuer_with_event, rows

from scanner_app.core.door import Door
from scanner_app.core.models import NODE_HEADER
from scanner_app.core.node import Node


def test_a_reset_hub_gets_the_gates_checkins_again_and_the_gate_rereads_it(tmp_path):
    central, event_id, tickets = issuer_with_event(tmp_path / "central", tickets=4)
    gate = Node.open(tmp_path / "gate")
    old_hub, new_hub = Node.open(tmp_path / "hub-old"), Node.open(tmp_path / "hub-new")
    with HubServer(central) as central_srv:
        for hub in (old_hub, new_hub):
            key = hub_key(central)
            assert engine_for(hub, central_srv.url, key, event_id).run_once().ok
    with HubServer(old_hub) as old_srv:
        port = old_srv.port
        engine = engine_for(gate, old_srv.url, gate_key(old_hub, event_id, "north"), event_id)
        assert engine.run_once().ok
        admitted = [
            gate.checkin.scan(t["qrPayload"], Door.of(event_ids=[event_id], gate="north"))
            for t in tickets[:3]
        ]
        assert all(result.success for result in admitted)
        assert engine.run_once().answers == {"recorded": 3}
        assert engine.run_once().notes == []  # same database: nothing to redo
        engine.stop()
    # The organiser starts over on a fresh database at the same address; another door
    # admits the fourth ticket there before this gate reconnects.
    other_door = new_hub.checkin.scan(
        tickets[3]["qrPayload"], Door.of(event_ids=[event_id], gate="east")
    )
    assert other_door.success
    with HubServer(new_hub, port=port) as new_srv:
        assert new_srv.url == old_srv.url
        engine = engine_for(gate, new_srv.url, gate_key(new_hub, event_id, "north"), event_id)
        report = engine.run_once()
        assert report.ok, report.error
        assert report.notes == ["upstream was reset (new database): re-sending 3 check-ins"]
        assert report.answers == {"recorded": 3}
        assert report.pending == 0
        for result, ticket in zip(admitted, tickets[:3], strict=True):
            assert [r["id"] for r in admissions(new_hub, event_id, ticket["id"])] == [
                result.checkin_id
            ]
        # The east door's admission sits below the old cursor; it arrives all the same.
        assert [r["id"] for r in admissions(gate, event_id, tickets[3]["id"])] == [
            other_door.checkin_id
        ]
        assert len(rows(gate, event_id)) == 4
        assert engine.run_once().notes == []  # the new database is the known one now
        engine.stop()


def test_every_hub_response_names_its_node(tmp_path):
    import httpx

    hub = Node.open(tmp_path / "hub")
    with HubServer(hub) as server, httpx.Client(base_url=server.url) as http:
        for response in (http.get("/v1/events"), http.get("/v1/nowhere")):
            assert response.headers[NODE_HEADER] == hub.device_id
