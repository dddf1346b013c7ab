"""The status bar shows how far a first sync has got, and goes back to normal after it."""

from __future__ import annotations

import pytest

from scanner_app.core.node import Node
from scanner_app.gui.status_model import FirstSync, StatusSnapshot, TierCount
from scanner_app.gui.widgets.status_bar import StatusBar
from scanner_app.server.runner import HubServer
from scanner_app.sync import SyncConfig
from scanner_app.sync.engine import SyncEngine
from scanner_app.sync.state import SyncStatus

NOW = 1_000_000.0
SYNCING_BLUE = "#64B5F6"
PAGES_OF_100 = [(16, 100), (33, 200), (50, 300), (66, 400), (83, 500)]


@pytest.fixture
def bar(qtbot):
    widget = StatusBar(clock=lambda: NOW)
    qtbot.addWidget(widget)
    widget.resize(1200, 32)
    widget.show()
    return widget


def sync_status(first_sync=None, last_pull_at=None) -> SyncStatus:
    return SyncStatus(
        upstream="http://192.168.1.20:8765",
        state="online",
        reason=None,
        syncing=first_sync is not None,
        pending=0,
        last_push_at=None,
        last_pull_at=last_pull_at,
        revocation_age_s=None,
        clock_offset_ms=0.0,
        clock_skew_large=False,
        first_sync=first_sync,
    )


def colour(label) -> str:
    return label.palette().color(label.foregroundRole()).name().upper()


def test_first_sync_progress_is_shown_and_reverts_when_done(bar):
    progress = {"eventId": "evt_x", "phase": "tickets", "done": 12_000, "estimatedTotal": 100_000}
    bar.set_snapshot(bar.snapshot.with_sync(sync_status(progress)))
    label = bar.connection_label
    assert label.isVisible()
    assert label.text() == "First sync 12% (12,000 / ~100,000 tickets)"
    assert label.property("state") == "syncing" and colour(label) == SYNCING_BLUE
    assert "evt_x" in label.toolTip() and "about 100,000" in label.toolTip()
    assert bar.snapshot.first_sync == FirstSync("evt_x", 12_000, 100_000)

    bar.set_snapshot(bar.snapshot.with_sync(sync_status(None, last_pull_at=NOW - 2)))
    assert label.text() == "Online · synced just now"
    assert label.property("state") == "online" and colour(label) == "#81C784"
    assert label.toolTip() == ""


def test_update_fields_with_first_sync_keeps_the_rest(bar):
    bar.set_snapshot(StatusSnapshot(gate="North", connection="offline", last_sync_at=NOW - 30))
    bar.update_fields(first_sync={"eventId": "evt_y", "done": 500, "estimatedTotal": None})
    assert bar.connection_label.text() == "First sync: 500 tickets"  # no estimate: no %
    assert "North" in bar.gate_label.text()
    bar.update_fields(first_sync={"eventId": "evt_y", "done": 1_200, "estimatedTotal": 1_000})
    assert bar.connection_label.text() == "First sync 100% (1,200 / ~1,000 tickets)"
    bar.update_fields(first_sync=None)
    assert bar.connection_label.text() == "Offline · synced 30 s ago"
    assert bar.connection_label.property("state") == "offline"


def test_progress_fits_a_full_bar_at_laptop_width(bar, qtbot):
    bar.set_snapshot(
        StatusSnapshot(
            gate="Gate 2 (scan)",
            checked_in=1234,
            capacity=100_000,
            tiers=(TierCount("VIP", 34, 1_000), TierCount("General", 1200, 99_000)),
            connection="syncing",
            pending_uploads=7,
            camera_fps=29.6,
            hub_address="http://192.168.1.20:8765",
            first_sync=FirstSync("evt_x", 12_000, 100_000),
        )
    )
    bar.resize(1024, 32)
    label = bar.connection_label
    # The whole text is on screen (the tier row gives way first, as it does for any text).
    qtbot.waitUntil(lambda: label.width() >= label.sizeHint().width())
    assert label.text() == "First sync 12% (12,000 / ~100,000 tickets)"
    assert bar.count_label.isVisible() and bar.pending_label.isVisible()


def test_a_real_first_sync_drives_the_bar(bar, tmp_path):
    """The engine's own status callbacks, the SyncStatus values the GUI gets."""
    hub = Node.open(tmp_path / "hub")
    event = hub.events.create(
        {"title": "Big Night", "tiers": [{"name": "GA", "price": 0, "quantity": 300}]}
    )
    hub.events.publish(event["id"])
    hub.tickets.issue(event["id"], "GA", "Someone", 250)
    server = HubServer(hub, port=0).start()
    gate = Node.open(tmp_path / "gate")
    try:
        _device, key = server.hub.devices.create("North", event["id"], "North")
        shown: list[str] = []

        def on_status(status: SyncStatus) -> None:
            bar.set_snapshot(bar.snapshot.with_sync(status))
            shown.append(bar.connection_label.text())

        config = SyncConfig(server.url, (event["id"],), "North")
        engine = SyncEngine(gate, config, key, on_status=on_status, page_size=100)
        try:
            assert engine.run_once().tickets == 250
        finally:
            engine.stop()
    finally:
        server.stop()
        gate.close()
        hub.close()
    progress = [text for text in shown if text.startswith("First sync")]
    assert progress == [
        "First sync 33% (100 / ~300 tickets)",
        "First sync 66% (200 / ~300 tickets)",
        "First sync 100% (250 / ~250 tickets)",  # the last page says the real total
    ]
    assert shown[-1].startswith("Online · synced")
    assert bar.connection_label.property("state") == "online"


def test_the_app_shows_a_first_sync_from_its_own_engine(make_app, qtbot, tmp_path, no_os_keyring):
    """Through the app's own wiring (Upstream._on_status), not a hand-made snapshot."""
    from scanner_app.gui.settings import Settings  # noqa: PLC0415
    from scanner_app.sync import KeyStore  # noqa: PLC0415

    hub = Node.open(tmp_path / "hub")
    event = hub.events.create(
        {"title": "Big Night", "tiers": [{"name": "GA", "price": 0, "quantity": 600}]}
    )
    hub.events.publish(event["id"])
    hub.tickets.issue(event["id"], "GA", "Someone", 500)
    server = HubServer(hub, port=0).start()
    gate = Node.open(tmp_path / "gate")
    _device, key = server.hub.devices.create("North", event["id"], "North")
    SyncConfig(server.url, (event["id"],), "North", interval_s=0.3).save(gate)
    KeyStore(gate.data_dir, gate.device_id).set(key)
    scanner = make_app(
        qtbot,
        gate,
        Settings(gate_name="North", event_id=event["id"]),
        tmp_path,
        source_factory=lambda _s: None,
        sync_options={"page_size": 100, "timeout_s": 2.0},
    )
    status = scanner.window.status
    shown: list[str] = []
    set_snapshot = status.set_snapshot

    def recording(snapshot):
        set_snapshot(snapshot)
        shown.append(status.connection_label.text())

    status.set_snapshot = recording
    scanner.start()
    try:
        qtbot.waitUntil(lambda: status.connection_label.text().startswith("Online"), timeout=15_000)
    finally:
        scanner.shutdown()
        server.stop()
        gate.close()
        hub.close()
    progress = [text for text in shown if text.startswith("First sync")]
    assert progress, shown
    *pages, (_, last) = PAGES_OF_100
    assert progress == [f"First sync {p}% ({n} / ~600 tickets)" for p, n in pages] + [
        f"First sync 100% ({last} / ~{last} tickets)"  # the last page says the real total
    ]
    assert shown[-1].startswith("Online")
