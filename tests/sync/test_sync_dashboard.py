"""What the dashboard learns from syncing: a gate's pending count and version on each upload,
and "Sync to central" running the hub's own engine (real nodes, real hubs, real HTTP)."""

from __future__ import annotations

import httpx
from harness import HubServer, engine_for, gate_key, issuer_with_event, organiser_key, wait_for

from scanner_app import __version__
from scanner_app.core.door import Door
from scanner_app.core.node import Node


def test_a_gate_reports_what_it_still_holds_on_each_upload(tmp_path):
    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=3)
    with HubServer(hub) as server, Node.open(tmp_path / "gate") as gate:
        key = gate_key(hub, event_id, "north")
        engine = engine_for(gate, server.url, key, event_id, gate="north", batch_size=2)
        assert engine.run_once().ok  # pulls the event, keys and manifest
        for ticket in tickets:
            assert gate.checkin.scan(ticket["qrPayload"], Door.of(gate="north")).admitted
        report = engine.run_once(pull=False)
        assert report.ok and report.pushed == 3
        device = hub.db.query_one("SELECT pending, app_version FROM devices")
        # Two batches of at most two: after the first 1 was left, after the second none.
        assert device["pending"] == 0 and device["app_version"] == __version__
        organiser = organiser_key(hub)
        listed = httpx.get(
            server.url + "/v1/devices", headers={"Authorization": f"Bearer {organiser}"}
        ).json()["data"][0]
        assert listed["pending"] == 0 and listed["appVersion"] == __version__
        engine.stop()


def test_sync_to_central_from_the_dashboard_pushes_and_says_what_is_left(tmp_path):
    central, event_id, tickets = issuer_with_event(tmp_path / "central", tickets=2)
    with HubServer(central) as central_server, Node.open(tmp_path / "hub") as hub_node:
        upstream = engine_for(
            hub_node, central_server.url, gate_key(central, event_id, "hub"), event_id
        )
        assert upstream.run_once().ok
        hub_node.checkin.scan(tickets[0]["qrPayload"], Door.of(gate="door"))
        assert hub_node.ledger.pending_count() == 1
        with HubServer(hub_node, upstream=upstream) as hub_server:
            headers = {"Authorization": f"Bearer {organiser_key(hub_node)}"}
            with httpx.Client(base_url=hub_server.url, headers=headers, timeout=10) as api:
                started = api.post("/dashboard/api/sync")
                assert started.status_code == 202 and started.json()["configured"]
                state = wait_for(lambda: _finished(api))
        assert state["result"]["message"] == "Nothing is left pending."
        assert state["result"]["pushed"] == 1 and state["status"]["pending"] == 0
        assert central.db.query_one("SELECT COUNT(*) FROM checkins")[0] == 1
        upstream.stop()


def test_sync_to_central_without_an_upstream_says_how_to_connect(tmp_path):
    hub, _event_id, _ = issuer_with_event(tmp_path / "hub", tickets=0)
    with HubServer(hub) as server:
        headers = {"Authorization": f"Bearer {organiser_key(hub)}"}
        answer = httpx.post(server.url + "/dashboard/api/sync", headers=headers)
        assert answer.status_code == 409
        assert "tickitz-scanner connect" in answer.json()["error"]["message"]


def _finished(api: httpx.Client) -> dict | None:
    state = api.get("/dashboard/api/sync").json()
    return state if state["result"] and not state["running"] else None
