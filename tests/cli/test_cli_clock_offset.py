"""`scan` from the terminal applies the clock offset the last sync learned, as the app does."""

from __future__ import annotations

from datetime import UTC, datetime

from scanner_app.core.node import Node
from scanner_app.sync.config import SyncConfig
from scanner_app.sync.state import SyncState


def _door_time_lag_s(cli, published) -> float:
    ticket = cli.lines("tickets", "issue", "--event", published["id"], "--tier", "GA")[0]
    before = datetime.now(UTC)
    result = cli.json("scan", "--event", published["id"], ticket["qrPayload"])
    assert result["success"] is True
    door = datetime.fromisoformat(result["checkedInAt"].replace("Z", "+00:00"))
    return (door - before).total_seconds()


def test_scan_uses_the_saved_upstream_offset(cli, published):
    assert abs(_door_time_lag_s(cli, published)) < 5  # standalone: no offset
    with Node.open(cli.home) as node:
        config = SyncConfig(url="http://127.0.0.1:9", event_ids=(published["id"],))
        config.save(node)
        SyncState(node.db, config.upstream).set("clock_offset_ms", 90_000.0)
    assert 85 < _door_time_lag_s(cli, published) < 95
