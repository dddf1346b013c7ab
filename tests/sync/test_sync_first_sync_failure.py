"""A first sync that fails halfway leaves no progress on screen, and resumes later."""

from __future__ import annotations

from faultproxy import FaultProxy
from harness import HubServer, engine_for, gate_key, issuer_with_event

from scanner_app.core.node import Node


def test_a_first_sync_cut_off_halfway_clears_its_progress_and_resumes(tmp_path):
    hub, event_id, _tickets = issuer_with_event(tmp_path / "hub", tickets=450)
    gate = Node.open(tmp_path / "gate")
    seen: list[int] = []
    with HubServer(hub) as server:
        proxy = FaultProxy(server.port).start()
        try:

            def on_status(status) -> None:
                if status.first_sync is not None:
                    seen.append(status.first_sync["done"])
                    if len(seen) == 2:  # every later page fails (one may be in flight)
                        proxy.fail("500", times=100, match="/tickets")

            key = gate_key(hub, event_id, "north")
            engine = engine_for(
                gate, proxy.url, key, event_id, on_status=on_status, page_size=100, retries=0
            )
            report = engine.run_once()
            assert not report.ok
            assert seen[:2] == [100, 200] and seen[-1] < 450
            assert engine.status().first_sync is None  # no stale "44%" until the next success
            proxy.clear()
            assert engine.run_once().ok  # resumes from the stored cursor
            engine.stop()
        finally:
            proxy.stop()
    stored = gate.db.query_one("SELECT COUNT(*) FROM tickets WHERE event_id = ?", (event_id,))
    assert stored[0] == 450
