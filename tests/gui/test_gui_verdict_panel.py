"""VerdictPanel as a real widget: colours, texts, visibility, hold timer, sounds."""

from __future__ import annotations

from datetime import UTC

import pytest
from PySide6.QtGui import QColor

from scanner_app.core.models import ScanResult
from scanner_app.gui.sounds import SoundPlayer
from scanner_app.gui.widgets.verdict_panel import VerdictPanel

ADMIT = {
    "success": True,
    "already_checked_in": False,
    "attendee_name": "Ada L.",
    "tier_name": "VIP",
    "checked_in_at": "2026-07-15T19:32:04.120Z",
    "first_checked_in_at": None,
    "reason": None,
    "ticket_id": "tkt_1",
    "event_id": "evt_1",
    "direction": "in",
    "offline": True,
}
ALREADY = ADMIT | {
    "success": False,
    "already_checked_in": True,
    "reason": "already_checked_in",
    "checked_in_at": None,
    "first_checked_in_at": "2026-07-15T19:32:04.120Z",
    "first_scanned_by": "Gate 2",
}
REVOKED = ADMIT | {"success": False, "reason": "revoked", "attendee_name": None, "tier_name": None}
EXIT = ADMIT | {"direction": "out", "checked_in_at": "2026-07-15T22:05:00.000Z"}


@pytest.fixture
def panel(qtbot):
    sounds = SoundPlayer()
    widget = VerdictPanel(hold_ms=3000, sounds=sounds, tz=UTC)
    qtbot.addWidget(widget)
    widget.resize(1000, 320)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def background(widget) -> str:
    """The painted colour at the left margin, i.e. what a person at the door sees."""
    image = widget.grab().toImage()
    return image.pixelColor(6, image.height() // 2).name().upper()


@pytest.mark.parametrize(
    ("scan", "colour", "title", "name", "detail", "sound"),
    [
        (ADMIT, "#1B7F3B", "ADMIT", "Ada L.", "Admitted 19:32", "admit"),
        (ALREADY, "#F2A900", "ALREADY IN", "Ada L.", "First admitted 19:32 at Gate 2", "warn"),
        (REVOKED, "#C62828", "REJECTED", "", "Ticket cancelled", "reject"),
        (EXIT, "#1565C0", "EXIT", "Ada L.", "Exit 22:05", "exit"),
    ],
)
def test_outcome_paints_colour_icon_and_words(panel, scan, colour, title, name, detail, sound):
    assert background(panel) == "#37474F"  # Ready is neutral
    panel.show_result(ScanResult(**scan))
    assert background(panel) == colour
    assert panel.title_label.text() == title
    assert panel.name_label.text() == name
    assert panel.name_label.isVisible() == bool(name)
    assert panel.detail_label.text() == detail
    assert not panel.icon_label.pixmap().isNull()
    assert panel.sounds.last_requested == sound
    assert title in panel.accessibleName()


def test_text_colour_contrasts_with_background(panel):
    panel.show_result(ScanResult(**ALREADY))
    text = panel.title_label.palette().color(panel.title_label.foregroundRole())
    assert text == QColor("#1A1A1A")  # dark on amber; white would be unreadable
    panel.show_result(ScanResult(**ADMIT))
    text = panel.title_label.palette().color(panel.title_label.foregroundRole())
    assert text == QColor("#FFFFFF")


def test_name_and_tier_in_large_type(panel):
    panel.show_result(ScanResult(**ADMIT))
    assert panel.name_label.font().pixelSize() >= 40
    assert panel.title_label.font().pixelSize() >= 60
    assert panel.tier_label.text() == "VIP"
    assert panel.tier_label.isVisible()


def test_fonts_grow_with_the_panel(panel, qtbot):
    panel.show_result(ScanResult(**ADMIT))
    small = panel.name_label.font().pixelSize()
    panel.resize(1800, 700)
    qtbot.waitUntil(lambda: panel.name_label.font().pixelSize() > small)


def test_returns_to_ready_after_hold(panel, qtbot):
    panel.hold_ms = 80
    panel.show_result(ScanResult(**ADMIT))
    assert panel.is_holding()
    qtbot.waitUntil(lambda: panel.title_label.text() == "Ready", timeout=2000)
    assert background(panel) == "#37474F"
    assert not panel.name_label.isVisible()


def test_next_result_replaces_immediately_and_restarts_hold(panel):
    panel.show_result(ScanResult(**ADMIT))
    panel.show_result(ScanResult(**REVOKED))
    assert panel.title_label.text() == "REJECTED"
    assert background(panel) == "#C62828"
    assert panel.is_holding()


def test_verdict_shown_signal(panel, qtbot):
    with qtbot.waitSignal(panel.verdict_shown) as blocker:
        panel.show_result(ScanResult(**ADMIT))
    assert blocker.args[0].title == "ADMIT"


def test_message_state_is_neutral(panel):
    panel.show_message("Connecting…", "http://hub.local:8765", hold=False)
    assert panel.title_label.text() == "Connecting…"
    assert background(panel) == "#37474F"
    assert not panel.is_holding()


def test_a_message_goes_back_to_ready(panel, qtbot, monkeypatch):
    # "Connected", "Check-in undone"… stayed on the door's screen until the next scan.
    monkeypatch.setattr("scanner_app.gui.widgets.verdict_panel.MESSAGE_HOLD_MS", 100)
    panel.hold_ms = 50
    panel.show_message("Check-in undone", "Ada Lovelace", icon="exit")
    assert panel.is_holding()
    qtbot.waitUntil(lambda: panel.title_label.text() == "Ready", timeout=2000)
    panel.show_result(ScanResult(**ADMIT))  # a verdict keeps its own hold time
    assert panel._hold.interval() == 50


def test_the_reason_of_a_rejection_is_as_large_as_the_name_of_an_admission(panel):
    panel.show_result(ScanResult(**ADMIT))
    name_size = panel.name_label.font().pixelSize()
    panel.show_result(ScanResult(**REVOKED))
    assert panel.detail_label.isVisible() and panel.detail_label.text()
    assert panel.detail_label.font().pixelSize() >= name_size
    assert panel.detail_label.font().bold()
