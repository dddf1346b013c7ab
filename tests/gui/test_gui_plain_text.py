"""User-written text is shown as plain text everywhere in Qt, never as markup (§10)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from scanner_app.core.demo_data import build_demo
from scanner_app.core.models import ScanResult
from scanner_app.gui.settings import Settings
from scanner_app.gui.widgets.first_run_dialog import FirstRunDialog
from scanner_app.gui.widgets.status_bar import StatusBar
from scanner_app.gui.widgets.verdict_panel import VerdictPanel

# Under 200 characters: paints a big green "ADMIT" if the name is taken as HTML.
HOSTILE = (
    "<table bgcolor=#00ff00 width=600 height=300><tr><td>"
    "<font size=7 color=#00ff00>ADMIT</font></td></tr></table>"
)
REJECTED = {
    "success": False,
    "already_checked_in": True,
    "attendee_name": HOSTILE,
    "tier_name": "<b style='background:#00ff00'>VIP</b>",
    "checked_in_at": None,
    "first_checked_in_at": "2026-07-15T19:32:04.120Z",
    "first_scanned_by": "<i>Gate</i>",
    "reason": "already_checked_in",
    "ticket_id": "tkt_1",
    "event_id": "evt_1",
    "direction": "in",
    "offline": True,
}


def rich_labels(roots: list[QWidget]) -> list[str]:
    """Every QLabel under the roots whose format lets Qt read markup."""
    bad = []
    for root in roots:
        labels = root.findChildren(QLabel)
        if isinstance(root, QLabel):
            labels.append(root)
        for label in labels:
            if label.textFormat() != Qt.TextFormat.PlainText:
                bad.append(f"{type(root).__name__}/{label.objectName() or label.text()[:30]!r}")
    return bad


def green_pixels(widget: QWidget) -> int:
    image = widget.grab().toImage()
    count = 0
    for y in range(0, image.height(), 3):
        for x in range(0, image.width(), 3):
            c = QColor(image.pixel(x, y))
            if c.green() > 200 and c.red() < 60 and c.blue() < 60:
                count += 1
    return count


@pytest.fixture
def scanner(make_app, qtbot, node, tmp_path):
    scenario = build_demo(node, tickets=5)
    settings = Settings(event_id=scenario.event_id, gate_name="<b>Gate</b> 1")
    settings.set_kiosk_pin("2468")
    app = make_app(qtbot, node, settings, tmp_path, source_factory=lambda _s: None)
    app.start()
    app.scenario = scenario
    yield app
    app.shutdown()


def test_no_label_in_any_window_or_dialog_reads_markup(qtbot, scanner):
    window = scanner.window
    qtbot.waitUntil(lambda: window.events != [])
    with qtbot.waitSignal(window.scan_displayed, timeout=3000):
        window.submit_payload(scanner.scenario.ticket_payloads[0], "camera")
    window.search.undo_button.click()
    qtbot.waitUntil(lambda: window.undo.box is not None and window.undo.box.isVisible())
    undo_box = window.undo.box
    settings_dialog = window.open_settings()
    hub_dialog = window.open_hub()
    first_run = FirstRunDialog()
    qtbot.addWidget(first_run)
    window.enter_kiosk()
    pin_dialog = window.kiosk.request_exit()
    roots = [window, undo_box, settings_dialog, hub_dialog, first_run, pin_dialog]
    assert all(r is not None for r in roots)
    assert len([w for r in roots for w in r.findChildren(QLabel)]) > 30  # the walk saw them
    assert rich_labels(roots) == []
    # Nothing top-level slipped past the list above.
    shown = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert rich_labels(shown) == []
    undo_box.done(0)
    pin_dialog.reject()


def test_a_markup_name_never_paints_a_green_admit_in_a_red_verdict(qtbot):
    panel = VerdictPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_result(ScanResult(**REJECTED))
    assert panel.name_label.text() == HOSTILE  # shown literally, tags and all
    assert panel.tier_label.text() == REJECTED["tier_name"]
    assert green_pixels(panel) == 0


def test_status_bar_shows_gate_and_tier_names_literally(qtbot):
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.set_snapshot({"gate": "<b>North</b>", "tiers": [{"name": "<i>VIP</i>", "checkedIn": 1}]})
    assert bar.gate_label.text() == "Gate: <b>North</b>"
    assert "<i>VIP</i>" in bar.tiers_label.text()
    # Tooltips have no plain-text switch: the name is escaped, so it shows as typed.
    assert "&lt;i&gt;VIP&lt;/i&gt;" in bar.count_label.toolTip()
    assert rich_labels([bar]) == []
