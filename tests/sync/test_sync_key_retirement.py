"""A retired key reaches the gates with the JWKS (real hubs, real engines, real files).

The hub refuses the key at once; a gate that syncs refuses it after its next pull; a gate
that has not synced since still admits it (offline-first: it decides on the set it has).
An empty key set from upstream is a bad answer, not "retire everything".
"""

from __future__ import annotations

import httpx
import jwt
from harness import HubServer, engine_for, gate_key, issuer_with_event, organiser_key

from scanner_app.core.door import Door
from scanner_app.core.node import Node


def kid_of(ticket: dict) -> str:
    return jwt.get_unverified_header(ticket["qrPayload"])["kid"]


def test_a_retired_key_is_refused_by_the_hub_and_by_gates_after_their_next_pull(tmp_path):
    hub, event_id, old_tickets = issuer_with_event(tmp_path / "hub", tickets=3)
    old_kid = kid_of(old_tickets[0])
    hub.events.rotate_key(event_id)
    (new_ticket,) = hub.tickets.issue(event_id, "GA", "Grace H.")
    synced, offline = Node.open(tmp_path / "gate-a"), Node.open(tmp_path / "gate-b")
    with HubServer(hub) as server:
        engines = [
            engine_for(gate, server.url, gate_key(hub, event_id, name), event_id)
            for gate, name in ((synced, "a"), (offline, "b"))
        ]
        assert all(engine.run_once().ok for engine in engines)  # both hold old and new keys

        hub.events.retire_key(event_id, old_kid)  # the old key leaked

        with httpx.Client(base_url=server.url) as http:
            http.headers["Authorization"] = f"Bearer {organiser_key(hub)}"
            served = http.get(f"/v1/events/{event_id}/keys").json()
            at_hub = http.post(
                "/v1/checkin/scan",
                json={
                    "qrPayload": old_tickets[0]["qrPayload"],
                    "eventId": event_id,
                    "scannedBy": "hub door",
                },
            ).json()
        report = engines[0].run_once()
        for engine in engines:
            engine.stop()
    assert [k["kid"] for k in served["keys"]] == [kid_of(new_ticket)]
    assert (at_hub["success"], at_hub["reason"]) == (False, "unknown_key")
    assert report.ok and report.keys_retired == 1 and report.to_dict()["keysRetired"] == 1

    refused = synced.checkin.scan(old_tickets[1]["qrPayload"], Door.of([event_id]))
    admitted = synced.checkin.scan(new_ticket["qrPayload"], Door.of([event_id]))
    assert (refused.success, refused.reason) == (False, "unknown_key")
    assert admitted.success
    # Gate B has not pulled since: it still decides on the old set.
    assert offline.checkin.scan(old_tickets[2]["qrPayload"], Door.of([event_id])).success
    assert [k["kid"] for k in synced.events.jwks(event_id)["keys"]] == [kid_of(new_ticket)]


def test_an_empty_key_set_upstream_retires_nothing_and_warns(tmp_path):
    # The hub only imported the event (it signs nothing), so an organiser there may retire
    # its one key: the hub then serves {"keys": []} to its gates.
    issuer, event_id, tickets = issuer_with_event(tmp_path / "issuer", tickets=2)
    hub, gate = Node.open(tmp_path / "hub"), Node.open(tmp_path / "gate")
    hub.events.import_event(issuer.events.get(event_id), issuer.events.jwks(event_id))
    with HubServer(hub) as server:
        engine = engine_for(gate, server.url, gate_key(hub, event_id, "a"), event_id)
        assert engine.run_once().ok
        assert hub.events.retire_key(event_id, kid_of(tickets[0])) == {"keys": []}
        report = engine.run_once()
        again = engine.run_once()
        engine.stop()
    assert report.ok and report.keys_retired == 0
    assert any("key set was refused" in w for w in report.warnings), report.warnings
    assert any("key set was refused" in w for w in again.warnings)  # said every round
    assert len(gate.events.jwks(event_id)["keys"]) == 1
    assert gate.checkin.scan(tickets[1]["qrPayload"], Door.of([event_id])).success
    assert hub.checkin.scan(tickets[0]["qrPayload"], Door.of([event_id])).reason == "unknown_key"
