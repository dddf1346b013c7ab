"""USB scanner bursts timed by the key events' own timestamps (issue 15.3).

Real QKeyEvents with timestamps are posted to the app's queue as the window system would
deliver them after a busy spell: a 314-character ticket typed at 8 ms a key must stay one
scan when the GUI thread stalls mid-burst or a dialog is open, and typing that arrives in
one clump after a stall must stay typing.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QDialog, QLineEdit, QVBoxLayout, QWidget
from stamped_keys import post_typed

from scanner_app.camera import WedgeParser
from scanner_app.gui.controllers.wedge_filter import WedgeFilter

TICKET = ("eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0." + "eyJqdGkiOiJ0a3Rf" * 17)[:300] + ".c2lnbmF0dXJl"


class Busy(QObject):
    """A receiver whose event blocks the GUI thread, as a slow slot would."""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.User:
            time.sleep(0.25)
            return True
        return super().event(event)


@pytest.fixture
def field(qtbot):
    root = QWidget()
    root.edit = QLineEdit()
    QVBoxLayout(root).addWidget(root.edit)
    qtbot.addWidget(root)
    root.show()
    qtbot.waitExposed(root)
    root.edit.setFocus()
    yield root.edit
    root.close()


@pytest.fixture
def wedge(qapp):
    f = WedgeFilter(WedgeParser())
    f.install(qapp)
    yield f
    f.uninstall(qapp)


def collect(wedge):
    seen = {"payloads": [], "rejected": []}
    wedge.payload_scanned.connect(seen["payloads"].append)
    wedge.burst_rejected.connect(lambda text, why: seen["rejected"].append(why))
    return seen


def test_a_burst_stays_one_scan_when_the_gui_thread_stalls_mid_burst(qtbot, field, wedge):
    busy = Busy()
    seen = collect(wedge)
    post_typed(field, TICKET + "\r", every_ms=8, stall_at=150, busy=busy)
    qtbot.waitUntil(lambda: bool(seen["payloads"] or seen["rejected"]), timeout=5000)
    qtbot.wait(100)  # anything split off would follow within the parser's 40 ms gap
    assert seen == {"payloads": [TICKET], "rejected": []}
    assert field.text() == ""


def test_a_burst_into_an_open_dialog_stays_one_scan(qtbot, field, wedge):
    busy = Busy()
    dialog = QDialog(field.window())
    pin = QLineEdit(dialog)
    qtbot.addWidget(dialog)
    dialog.open()  # window-modal, as the kiosk PIN dialog
    qtbot.waitExposed(dialog)
    pin.setFocus()
    seen = collect(wedge)
    post_typed(pin, TICKET + "\r", every_ms=8, stall_at=40, busy=busy)
    qtbot.waitUntil(lambda: bool(seen["payloads"] or seen["rejected"]), timeout=5000)
    qtbot.wait(100)
    assert seen == {"payloads": [TICKET], "rejected": []}
    assert pin.text() == ""


def test_a_burst_without_enter_ends_when_it_falls_quiet(qtbot, field, wedge):
    seen = collect(wedge)
    shown = []
    wedge.burst_seen.connect(lambda text, suffix, ms: shown.append((suffix, round(ms))))
    post_typed(field, TICKET, every_ms=8)
    qtbot.waitUntil(lambda: bool(seen["payloads"]), timeout=5000)
    assert seen["payloads"] == [TICKET]
    assert shown == [("none", 8)]  # the test page reports the suffix and the key rate


def test_typing_that_arrives_in_one_clump_after_a_stall_stays_typing(qtbot, field, wedge):
    seen = collect(wedge)
    post_typed(field, "hello door", every_ms=150, typed_ago_ms=400)  # delivered together
    qtbot.waitUntil(lambda: field.text() == "hello door", timeout=5000)
    assert seen == {"payloads": [], "rejected": []}
