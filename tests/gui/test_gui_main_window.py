"""The main window over a real node (real SQLite file, demo event), offscreen."""

from __future__ import annotations

import json
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from stamped_keys import scanner_burst

from scanner_app.camera import WedgeParser
from scanner_app.core.demo_data import build_demo
from scanner_app.core.door import Door
from scanner_app.core.node import Node
from scanner_app.gui.controllers.wedge_filter import WedgeFilter
from scanner_app.gui.settings import Settings
from scanner_app.gui.sounds import SoundPlayer
from scanner_app.gui.widgets.main_window import MainWindow


@pytest.fixture
def node(tmp_path):
    n = Node.open(tmp_path / "data")
    yield n
    n.close()


@pytest.fixture
def scenario(node):
    return build_demo(node, tickets=20)


@pytest.fixture
def window(qtbot, qapp, node, scenario, settings_path):
    settings = Settings(gate_name="Gate 2", event_id=scenario.event_id)
    settings.set_kiosk_pin("2468")
    wedge = WedgeFilter(WedgeParser())
    w = MainWindow(node, settings, settings_path=settings_path, sounds=SoundPlayer(), wedge=wedge)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def scan_and_wait(qtbot, window, payload, source="camera"):
    with qtbot.waitSignal(window.scan_displayed, timeout=3000) as blocker:
        window.submit_payload(payload, source)
    return blocker.args[0]


def test_every_demo_sample_reaches_the_verdict_panel(qtbot, window, scenario):
    titles = {
        "admit": "ADMIT",
        "already_checked_in": "ALREADY IN",
    }
    for sample in scenario.samples:
        result = scan_and_wait(qtbot, window, sample.payload)
        expected = "admit" if result.success else result.reason
        assert expected == sample.expected, sample.label
        assert window.verdict.title_label.text() == titles.get(sample.expected, "REJECTED")
    assert window.last_latency_ms is not None and window.last_latency_ms < 500


def test_duplicate_says_when_and_where(qtbot, window, scenario):
    scan_and_wait(qtbot, window, scenario.ticket_payloads[3])
    scan_and_wait(qtbot, window, scenario.ticket_payloads[3])
    assert window.verdict.title_label.text() == "ALREADY IN"
    assert window.verdict.detail_label.text().endswith("at Gate 2")


def test_status_bar_counts_follow_scans(qtbot, window, scenario):
    qtbot.waitUntil(lambda: "/ " in window.status.count_label.text())
    scan_and_wait(qtbot, window, scenario.ticket_payloads[0])  # VIP
    qtbot.waitUntil(lambda: window.status.snapshot.checked_in == 1)
    vip = {t.name: t for t in window.status.snapshot.tiers}["VIP"]
    assert (vip.checked_in, vip.capacity) == (1, 50)
    assert window.status.snapshot.pending_uploads >= 1
    assert "Gate 2" in window.status.gate_label.text()


def test_wedge_burst_becomes_one_scan(qtbot, window, scenario):
    window.search.field.setFocus()
    with qtbot.waitSignal(window.scan_displayed, timeout=3000) as blocker:
        scanner_burst(window.search.field, scenario.ticket_payloads[5] + "\r")
    assert blocker.args[1] == "wedge"
    assert window.verdict.title_label.text() == "ADMIT"
    assert window.search.field.text() == ""


def test_search_and_manual_checkin(qtbot, window):
    qtbot.keyClicks(window.search.field, "Grace", delay=120)
    qtbot.waitUntil(lambda: window.search.results.count() > 0, timeout=3000)
    first = window.search.results.item(0).text()
    assert "Grace Hopper" in first and "not in yet" in first
    assert window.search.checkin_button.isEnabled()
    with qtbot.waitSignal(window.scan_displayed, timeout=3000) as blocker:
        qtbot.mouseClick(window.search.checkin_button, Qt.MouseButton.LeftButton)
    result, source, _ = blocker.args
    assert (source, result.success, result.attendee_name) == ("manual", True, "Grace Hopper")
    assert window.verdict.name_label.text() == "Grace Hopper"
    # Staff see who is in before checking someone in by hand (the list said nothing).
    qtbot.waitUntil(lambda: "IN since" in window.search.results.item(0).text(), timeout=3000)
    assert "at Gate 2" in window.search.results.item(0).text()


def test_search_by_booking_id_shows_it(qtbot, window, node, scenario):
    ticket = node.tickets.search("Grace")[0]
    window.search.field.setText(ticket["bookingId"])
    qtbot.waitUntil(lambda: window.search.results.count() > 0, timeout=3000)
    text = window.search.results.item(0).text()
    assert ticket["bookingId"] in text and ticket["id"] in text


def test_typed_token_in_the_field_is_scanned(qtbot, window, scenario):
    window.search.field.setText(scenario.ticket_payloads[7])
    with qtbot.waitSignal(window.scan_displayed, timeout=3000) as blocker:
        window.search.field.returnPressed.emit()
    assert blocker.args[1] == "typed"
    assert window.verdict.title_label.text() == "ADMIT"


def test_undo_last_checkin_with_confirmation(qtbot, window, scenario, node):
    payload = scenario.ticket_payloads[9]
    scan_and_wait(qtbot, window, payload)
    qtbot.mouseClick(window.search.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.undo.box is not None and window.undo.box.isVisible())
    assert "Undo the check-in of" in window.undo.box.text()
    qtbot.mouseClick(
        window.undo.box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: window.verdict.title_label.text() == "Check-in undone", timeout=3000)
    # Undone for real: the same ticket is admitted again.
    assert scan_and_wait(qtbot, window, payload).success is True


def test_undo_declined_changes_nothing(qtbot, window, scenario):
    payload = scenario.ticket_payloads[10]
    scan_and_wait(qtbot, window, payload)
    window.search.undo_button.click()
    qtbot.waitUntil(lambda: window.undo.box is not None and window.undo.box.isVisible())
    window.undo.box.button(QMessageBox.StandardButton.No).click()
    assert scan_and_wait(qtbot, window, payload).reason == "already_checked_in"


def test_kiosk_hides_settings_and_needs_pin(qtbot, window):
    window.enter_kiosk()
    assert window.isFullScreen()
    assert not window.settings_action.isVisible()
    assert window.open_settings() is None
    assert window.close() is False
    dialog = window.kiosk.dialog
    qtbot.keyClicks(dialog.pin_edit, "2468")
    qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.kiosk.active)
    assert window.settings_action.isVisible()


def test_kiosk_hides_search_and_manual_checkin_but_still_scans(qtbot, window, scenario):
    assert window.search.isVisible()
    window.enter_kiosk()
    assert not window.search.isVisible()  # unattended: no attendee lookup or hand check-in
    assert scan_and_wait(qtbot, window, scenario.samples[0].payload).success is True
    window.kiosk.leave()
    assert window.search.isVisible()


def test_settings_dialog_changes_apply_live(qtbot, window, settings_path):
    dialog = window.open_settings()
    dialog.gate_edit.setText("South")
    dialog.direction_combo.setCurrentIndex(1)
    dialog.sounds_check.setChecked(False)
    with qtbot.waitSignal(window.settings_changed):
        dialog.save()
    assert window.sounds.muted
    assert "South (Exit)" in window.status.gate_label.text()
    assert json.loads(settings_path.read_text())["sounds"] is False
    # The window alone does not save the node's part (the app does, off this thread).
    assert window.settings.node_config().gate == "South"


def test_scans_do_not_block_the_gui_thread(qtbot, window, scenario):
    start = time.perf_counter()
    for payload in scenario.ticket_payloads[11:19]:
        window.submit_payload(payload)
    queued_ms = (time.perf_counter() - start) * 1000
    assert queued_ms < 20  # submitting only queues: the commit happens on the worker
    qtbot.waitUntil(lambda: window.status.snapshot.checked_in == 8, timeout=5000)


def test_kiosk_button_needs_a_pin_but_the_flag_forces_it(qtbot, window):
    window.settings.kiosk_pin_hash = ""
    window.enter_kiosk()
    assert not window.kiosk.active
    assert window.verdict.title_label.text() == "Set a kiosk PIN first"
    window.enter_kiosk(force=True)
    assert window.kiosk.active
    assert window.kiosk.request_exit() is None  # no PIN: only a restart leaves
    assert window.verdict.title_label.text() == "Kiosk mode"
    assert "restart without --kiosk" in window.verdict.detail_label.text()
    assert window.close() is False
    window.kiosk.leave()


def test_kiosk_gives_the_verdict_more_room(qtbot, window):
    qtbot.waitUntil(lambda: window.verdict.height() > 0)
    window.resize(1280, 720)
    qtbot.wait(50)
    normal = window.verdict.height() / window.centralWidget().height()
    window.enter_kiosk()
    window.resize(1280, 720)  # the offscreen screen's size differs; compare shares
    qtbot.wait(50)
    assert window.verdict.height() / window.centralWidget().height() > normal + 0.05
    window.kiosk.leave()


def test_window_fits_a_small_screen(qtbot, node, scenario, settings_path):
    # 1280x800 on a 1366x768 laptop hid the status bar below the screen's edge.
    w = MainWindow(node, Settings(event_id=scenario.event_id), settings_path=settings_path)
    qtbot.addWidget(w)
    room = w.screen().availableGeometry()
    w.show_fitted()
    qtbot.waitExposed(w)
    assert w.width() <= room.width() and w.height() <= room.height()
    status = w.status.mapTo(w, w.status.rect().bottomRight())
    assert status.y() < room.height()
    w.shutdown()


def test_counters_follow_checkins_made_elsewhere(qtbot, window, scenario, node):
    # This laptop serving the venue: gates' uploads land in the node, not via this window.
    window._refresh.setInterval(100)
    before = window.status.snapshot.checked_in
    node.checkin.scan(scenario.ticket_payloads[5], Door.of(gate="North door"))
    qtbot.waitUntil(lambda: window.status.snapshot.checked_in == before + 1, timeout=3000)


def test_a_pin_set_in_settings_lets_staff_out_of_kiosk(qtbot, window):
    # The kiosk checked PINs against the Settings object it was built with: a PIN set in
    # the Settings dialog during the run said "Wrong PIN" - staff were locked in.
    dialog = window.open_settings()
    dialog.pin_edit.setText("9753")
    dialog.pin_confirm.setText("9753")
    dialog.save()
    window.enter_kiosk()
    assert window.kiosk.active
    pin = window.kiosk.request_exit()
    pin.pin_edit.setText("9753")
    pin.buttons.button(pin.buttons.StandardButton.Ok).click()
    assert not window.kiosk.active
