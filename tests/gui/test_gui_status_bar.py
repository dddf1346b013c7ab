"""The status bar fed from a plain snapshot."""

from __future__ import annotations

import pytest

from scanner_app.gui.status_model import StatusSnapshot, TierCount, age_text
from scanner_app.gui.widgets.status_bar import StatusBar


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def bar(qtbot):
    clock = FakeClock(1_000_000.0)
    widget = StatusBar(clock=clock)
    widget.clock = clock
    qtbot.addWidget(widget)
    widget.resize(1200, 32)
    widget.show()
    return widget


def test_full_snapshot_is_shown(bar):
    bar.set_snapshot(
        StatusSnapshot(
            gate="Gate 2",
            checked_in=1234,
            capacity=5000,
            tiers=(TierCount("VIP", 34, 100), TierCount("General", 1200, 4900)),
            connection="online",
            last_sync_at=bar.clock.now - 42,
            pending_uploads=7,
            camera_fps=29.6,
            hub_address="http://192.168.1.20:8765",
        )
    )
    assert bar.count_label.text() == "In: 1,234 / 5,000"
    assert "VIP 34 / 100" in bar.tiers_label.text()
    assert "General: 1,200 / 4,900" in bar.count_label.toolTip()
    assert "Gate 2" in bar.gate_label.text()
    assert bar.connection_label.text() == "Online · synced 42 s ago"
    assert bar.connection_label.property("state") == "online"
    assert bar.pending_label.text() == "Pending: 7"
    assert bar.fps_label.text() == "30 fps"
    assert bar.hub_label.isVisible()
    assert bar.hub_label.text() == "Hub: http://192.168.1.20:8765"


def test_sync_age_keeps_ticking(bar, qtbot):
    bar.set_snapshot(StatusSnapshot(connection="offline", last_sync_at=bar.clock.now - 30))
    assert bar.connection_label.text() == "Offline · synced 30 s ago"
    bar.clock.now += 300
    qtbot.waitUntil(lambda: bar.connection_label.text() == "Offline · synced 5 min ago")


def test_connection_colour_follows_state(bar):
    bar.set_snapshot(StatusSnapshot(connection="online", last_sync_at=bar.clock.now))
    online = bar.connection_label.palette().color(bar.connection_label.foregroundRole())
    bar.update_fields(connection="offline")
    offline = bar.connection_label.palette().color(bar.connection_label.foregroundRole())
    assert online.name().upper() == "#81C784"
    assert offline.name().upper() == "#FFB74D"


def test_standalone_without_camera_or_hub(bar):
    bar.set_snapshot(StatusSnapshot())
    assert bar.connection_label.text() == "Standalone"
    assert bar.fps_label.text() == "No camera"
    assert not bar.hub_label.isVisible()
    assert not bar.pending_label.isVisible()
    assert bar.gate_label.text() == "No gate"


def test_dict_snapshot_in_camel_case_as_the_sync_layer_sends(bar):
    bar.set_snapshot(
        {
            "gate": "North",
            "checkedIn": 5,
            "capacity": None,
            "tiers": [{"name": "VIP", "checkedIn": 5, "capacity": 10}],
            "connection": "syncing",
            "pendingUploads": 3,
            "cameraFps": 15.0,
            "somethingNew": "ignored",
        }
    )
    assert bar.snapshot.tiers == (TierCount("VIP", 5, 10),)
    assert bar.count_label.text() == "In: 5"
    assert bar.connection_label.text() == "Syncing…"
    assert bar.pending_label.text() == "Pending: 3"


def test_update_fields_changes_only_those(bar):
    bar.set_snapshot(StatusSnapshot(gate="East", checked_in=10))
    bar.update_fields(camera_fps=12.4)
    assert bar.fps_label.text() == "12 fps"
    assert "East" in bar.gate_label.text()


@pytest.mark.parametrize(
    ("age", "text"),
    [(None, "never"), (2, "just now"), (59, "59 s ago"), (61, "1 min ago"), (7300, "2 h ago")],
)
def test_age_text(age, text):
    assert age_text(None if age is None else 100_000 - age, now=100_000) == text


def test_narrow_bar_drops_the_tier_row_but_keeps_the_tooltip(bar, qtbot):
    bar.set_snapshot(
        StatusSnapshot(
            gate="Gate 2",
            checked_in=3,
            capacity=550,
            tiers=(TierCount("General Admission", 2, 500), TierCount("VIP", 1, 50)),
        )
    )
    assert bar.tiers_label.isVisible()
    bar.resize(500, 32)
    qtbot.waitUntil(lambda: not bar.tiers_label.isVisible())
    assert "VIP: 1 / 50" in bar.count_label.toolTip()
    bar.resize(1400, 32)
    qtbot.waitUntil(lambda: bar.tiers_label.isVisible())


def test_set_aside_check_ins_are_shown_with_why(bar):
    # Issue 15.2: rows the hub will never take showed as "Pending 4" and "Sync problem"
    # forever; now they are set aside, counted apart, and the tooltip says why.
    bar.set_snapshot(
        {
            "connection": "online",
            "pendingUploads": 0,
            "setAside": 4,
            "setAsideReason": "checkins[0].eventId: not the event of this device",
        }  # fmt: skip
    )
    assert bar.pending_label.text() == "Pending: 0 · Set aside: 4"
    assert "not the event of this device" in bar.pending_label.toolTip()
    assert bar.connection_label.text().startswith("Online")
    bar.update_fields(set_aside=0, set_aside_reason=None)
    assert bar.pending_label.text() == "Pending: 0" and not bar.pending_label.toolTip()
