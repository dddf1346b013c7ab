"""The application-wide keyboard-wedge filter: bursts become scans, typing stays typing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton, QVBoxLayout, QWidget

from scanner_app.gui.wedge_filter import WedgeFilter

try:
    from scanner_app.camera import WedgeParser
except ImportError:  # the camera layer is being written in parallel
    from wedge_standin import StandInWedgeParser as WedgeParser

TICKET = "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJ0a3RfMSJ9.c2ln"


@pytest.fixture
def window(qtbot):
    root = QWidget()
    root.edit = QLineEdit()
    root.other = QLineEdit()
    root.button = QPushButton("Admit")
    layout = QVBoxLayout(root)
    for w in (root.edit, root.other, root.button):
        layout.addWidget(w)
    qtbot.addWidget(root)
    root.show()
    qtbot.waitExposed(root)
    root.activateWindow()
    root.edit.setFocus()
    return root


@pytest.fixture
def wedge(qapp):
    f = WedgeFilter(WedgeParser(), hold_ms=60)
    f.install(qapp)
    yield f
    f.uninstall(qapp)


def burst(qtbot, widget, text):
    """Keys 1-2 ms apart, as a USB scanner types them, then Enter."""
    qtbot.keyClicks(widget, text, delay=1)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_scanner_burst_is_one_payload_and_never_reaches_the_field(qtbot, window, wedge):
    with qtbot.waitSignal(wedge.payload_scanned, timeout=1000) as blocker:
        burst(qtbot, window.edit, TICKET)
    assert blocker.args == [TICKET]
    qtbot.wait(150)  # longer than hold_ms: nothing is replayed afterwards
    assert window.edit.text() == ""
    assert wedge.held == 0


def test_burst_is_caught_whatever_has_focus(qtbot, window, wedge):
    window.button.setFocus()
    payloads = []
    wedge.payload_scanned.connect(payloads.append)
    burst(qtbot, window.button, TICKET)
    burst(qtbot, window.other, TICKET + "2")
    assert payloads == [TICKET, TICKET + "2"]
    assert window.other.text() == ""


def test_slow_typing_goes_to_the_focused_field(qtbot, window, wedge):
    payloads = []
    wedge.payload_scanned.connect(payloads.append)
    qtbot.keyClicks(window.edit, "Ada Lovelace", delay=110)  # a person, ~9 keys/s
    qtbot.waitUntil(lambda: window.edit.text() == "Ada Lovelace", timeout=2000)
    assert payloads == []


def test_lone_enter_still_submits_the_field(qtbot, window, wedge):
    submitted = []
    window.edit.returnPressed.connect(lambda: submitted.append(window.edit.text()))
    qtbot.keyClicks(window.edit, "tkt_42", delay=110)
    qtbot.waitUntil(lambda: window.edit.text() == "tkt_42", timeout=2000)
    qtbot.wait(100)
    qtbot.keyClick(window.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: submitted == ["tkt_42"], timeout=1000)


def test_short_fast_burst_is_typing_not_a_scan(qtbot, window, wedge):
    payloads = []
    wedge.payload_scanned.connect(payloads.append)
    qtbot.keyClicks(window.edit, "ab", delay=1)  # a quick pair of keys by a person
    qtbot.waitUntil(lambda: window.edit.text() == "ab", timeout=1000)
    assert payloads == []


def test_shortcuts_pass_through(qtbot, window, wedge):
    window.edit.setText("select me")
    qtbot.keyClick(window.edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert window.edit.selectedText() == "select me"
    assert wedge.held == 0


def test_disabled_filter_lets_everything_through(qtbot, window, wedge):
    wedge.enabled = False
    payloads = []
    wedge.payload_scanned.connect(payloads.append)
    burst(qtbot, window.edit, TICKET)
    assert window.edit.text() == TICKET
    assert payloads == []
