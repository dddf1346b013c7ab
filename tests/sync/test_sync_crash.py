"""The hub process is SIGKILLed in the middle of a gate's upload and started again.

The real `tickitz-scanner serve` in a subprocess; the gate's engine keeps retrying;
afterwards every check-in is on the hub exactly once.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from harness import engine_for, gate_key, issuer_with_event, start_hub, stop_hub, wait_for

from scanner_app.core.door import Door
from scanner_app.core.node import DB_FILENAME, Node


def hub_count(data_dir: Path, event_id: str) -> tuple[int, int]:
    """(rows, distinct ids) read straight from the hub's file, as a separate reader."""
    with sqlite3.connect(f"file:{data_dir / DB_FILENAME}?mode=ro", uri=True, timeout=5) as db:
        return db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT id) FROM checkins WHERE event_id = ?", (event_id,)
        ).fetchone()


def test_hub_killed_mid_batch_and_restarted_gets_every_checkin_exactly_once(tmp_path):
    hub_dir = tmp_path / "hub"
    hub, event_id, tickets = issuer_with_event(hub_dir, tickets=200)
    key = gate_key(hub, event_id, "north")
    hub.close()
    process, port = start_hub(hub_dir)
    gate = Node.open(tmp_path / "gate")
    engine = engine_for(
        gate,
        f"http://127.0.0.1:{port}",
        key,
        event_id,
        gate="north",
        batch_size=20,
        max_backoff_s=0.2,
    )
    try:
        assert engine.run_once().ok
        ids = [
            gate.checkin.scan(tickets[i % 200]["qrPayload"], Door.of([event_id])).checkin_id
            for i in range(600)
        ]
        engine.start()
        wait_for(lambda: hub_count(hub_dir, event_id)[0] >= 100, every=0.002)
        process.send_signal(signal.SIGKILL)  # no goodbye: mid-upload, maybe mid-request
        process.wait(5)
        landed = hub_count(hub_dir, event_id)[0]
        assert 0 < landed < 600
        wait_for(lambda: engine.status().state == "offline", timeout=5)
        assert engine.status().pending > 0
        time.sleep(0.3)  # the gate keeps retrying against nothing for a while
        process, _ = start_hub(hub_dir, port)
        wait_for(lambda: gate.ledger.pending_count() == 0, timeout=30)
        wait_for(lambda: engine.status().state == "online", timeout=5)
    finally:
        engine.stop()
        stop_hub(process)
    rows, distinct = hub_count(hub_dir, event_id)
    assert rows == distinct == 600
    with sqlite3.connect(hub_dir / DB_FILENAME) as db:
        on_hub = {r[0] for r in db.execute("SELECT id FROM checkins")}
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert on_hub == set(ids)
    admitted = gate.db.query_one("SELECT COUNT(*) FROM checkins WHERE upstream_status = 'recorded'")
    assert admitted[0] == 200  # the first pass admitted; the hub agrees, nothing twice
