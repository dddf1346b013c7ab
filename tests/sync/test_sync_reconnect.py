"""Back within seconds: a gate notices its hub has come back by probing while offline.

Issue 15.5: after an outage of a few minutes, gates took up to 40 s (back-off up to 60 s)
to notice the hub was back. Back-off is now only for errors the hub answered with.
"""

from __future__ import annotations

import time

from harness import HubServer, gate_key, issuer_with_event, wait_for

from scanner_app.core.door import Door
from scanner_app.core.node import Node
from scanner_app.sync import SyncConfig, SyncEngine


def test_a_gate_reconnects_within_3_s_of_the_hub_coming_back(tmp_path):
    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=3)
    key = gate_key(hub, event_id, "north")
    gate = Node.open(tmp_path / "gate")
    first = HubServer(hub).__enter__()
    port = first.port
    config = SyncConfig(first.url, (event_id,), "north", interval_s=0.5)
    # The product's defaults for back-off and probing: only the pull interval is short.
    engine = SyncEngine(gate, config, key)
    engine.start()
    try:
        wait_for(lambda: engine.status().state == "online")
        first.__exit__()
        wait_for(lambda: engine.status().state == "offline")
        # A long outage: failures pile up (with exponential back-off that meant ~60 s waits).
        wait_for(lambda: engine._failures >= 8, timeout=30)
        assert (engine.status().next_attempt_in_s or 0) <= engine.probe_s
        gate.checkin.scan(tickets[0]["qrPayload"], Door.of(event_ids=[event_id], gate="north"))
        with HubServer(hub, port=port):
            back = time.monotonic()
            wait_for(lambda: engine.status().state == "online" and not engine.status().pending)
            assert time.monotonic() - back <= 3.0
    finally:
        engine.stop()
        gate.close()
        hub.close()


def test_errors_the_hub_answers_still_back_off(tmp_path):
    hub, event_id, _tickets = issuer_with_event(tmp_path / "hub", tickets=0)
    gate = Node.open(tmp_path / "gate")
    with HubServer(hub) as server:
        engine = SyncEngine(gate, SyncConfig(server.url, (event_id,)), "tk_wrong_key")
        try:
            for _ in range(3):
                engine.run_once()
            status = engine.status()
            assert status.state == "problem"
            assert status.next_attempt_in_s > 10  # a wrong key does not fix itself in a second
        finally:
            engine.stop()
            gate.close()
            hub.close()


def test_sync_now_skips_the_wait(tmp_path):
    hub, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=1)
    key = gate_key(hub, event_id, "north")
    gate = Node.open(tmp_path / "gate")
    with HubServer(hub) as server:
        config = SyncConfig(server.url, (event_id,), "north", interval_s=3600)
        engine = SyncEngine(gate, config, key)
        engine.start()
        try:
            wait_for(lambda: engine.status().last_pull_at)
            pulled = engine.status().last_pull_at
            hub.tickets.issue(event_id, "GA", "Late Comer", 1)
            engine.sync_now()
            wait_for(lambda: gate.db.query_one("SELECT COUNT(*) FROM tickets")[0] == 2)
            assert engine.status().last_pull_at >= pulled
        finally:
            engine.stop()
            gate.close()
            hub.close()
