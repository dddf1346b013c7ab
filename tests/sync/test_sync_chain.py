"""Gate -> hub -> central with three nodes of this same program (issue 4, DESIGN.md §1).

Central is the issuer (the real app in-process); the hub is `tickitz-scanner serve` in a
subprocess after `tickitz-scanner connect` to central; the gate is set up from the hub's
`tickitz-setup:` text and syncs with its own engine.
"""

from __future__ import annotations

from contextlib import closing

import httpx
from click.testing import CliRunner
from harness import (
    HubServer,
    hub_key,
    issuer_with_event,
    rows,
    start_hub,
    stop_hub,
    wait_for,
)

from scanner_app.cli import cli
from scanner_app.core.apikeys import SCOPES, ApiKeyStore
from scanner_app.core.door import Door
from scanner_app.core.node import Node
from scanner_app.sync.door import check_provider, door_for
from scanner_app.sync.engine import SyncEngine


def test_gate_hub_central_chain_end_to_end(tmp_path):
    central, event_id, tickets = issuer_with_event(tmp_path / "central", tickets=10)
    hub_dir, gate_dir = tmp_path / "hub", tmp_path / "gate"
    with Node.open(hub_dir) as hub:
        organiser = ApiKeyStore(hub.db).create("organiser", SCOPES)[1]
    runner = CliRunner()
    with HubServer(central) as central_srv:
        hub_to_central = hub_key(central)
        connected = runner.invoke(
            cli,
            [
                "--data-dir",
                str(hub_dir),
                "connect",
                central_srv.url,
                "--key",
                hub_to_central,
                "--event",
                event_id,
                "--interval",
                "0.5",
            ],
        )
        assert connected.exit_code == 0, connected.output
        process, port = start_hub(hub_dir)
        hub_url = f"http://127.0.0.1:{port}"
        try:
            http = httpx.Client(base_url=hub_url, headers={"Authorization": f"Bearer {organiser}"})
            wait_for(lambda: _has_event(http, event_id), timeout=10)
            device = http.post(
                "/v1/devices", json={"name": "laptop 3", "eventId": event_id, "gate": "north"}
            ).json()
            setup = runner.invoke(
                cli,
                [
                    "--data-dir",
                    str(gate_dir),
                    "connect",
                    "--setup",
                    device["setupPayload"],
                    "--interval",
                    "0.5",
                ],
            )
            assert setup.exit_code == 0, setup.output
            key = (gate_dir / "upstream.key").read_text().strip()
            assert "key" not in device and key not in setup.output  # never printed back
            gate = Node.open(gate_dir)
            engine = SyncEngine.from_node(gate, poll_s=0.05, backoff_s=0.1)
            provider = check_provider(gate, engine)
            door = door_for(engine.config)
            with engine, closing(provider):
                engine.start()
                wait_for(lambda: engine.status().last_pull_at, timeout=10)
                admitted = [provider.scan(t["qrPayload"], door) for t in tickets[:5]]
                box_office = central.checkin.scan(
                    tickets[6]["qrPayload"], Door.of(gate="box-office")
                )
                central.tickets.cancel(tickets[9]["id"])
                # Up: the gate's admissions reach central with their original identity.
                wait_for(
                    lambda: len([r for r in rows(central, event_id) if r["gate"] == "north"]) == 5,
                    timeout=15,
                )
                # Down: central's check-in and cancellation reach the gate via the hub.
                wait_for(
                    lambda: any(r["gate"] == "box-office" for r in rows(gate, event_id)), timeout=15
                )
                wait_for(
                    lambda: gate.tickets.lookup(tickets[9]["id"])["status"] == "cancelled",
                    timeout=15,
                )
                again = provider.scan(tickets[6]["qrPayload"], door)
                revoked = provider.scan(tickets[9]["qrPayload"], door)
                status = engine.status()
            http.close()
        finally:
            stop_hub(process)
    assert all(a.success and a.scanned_by == "north" for a in admitted)
    on_central = {r["id"]: r for r in rows(central, event_id)}
    for result in admitted:
        row = on_central[result.checkin_id]
        assert row["device_id"] == gate.device_id and row["scanned_at"] == result.checked_in_at
    assert box_office.success
    assert again.reason == "already_checked_in" and again.first_scanned_by == "box-office"
    assert revoked.reason == "revoked"
    assert status.state == "online" and status.upstream == f"{hub_url}/v1"
    with Node.open(hub_dir) as hub:
        hub_rows = {r["id"] for r in rows(hub, event_id)}
        assert {a.checkin_id for a in admitted} | {box_office.checkin_id} <= hub_rows
    gate.close()


def _has_event(http: httpx.Client, event_id: str) -> bool:
    """True once the hub listens and has pulled the event from central."""
    try:
        return http.get(f"/v1/events/{event_id}").status_code == 200
    except httpx.TransportError:
        return False
