"""The application-wide keyboard-wedge filter: bursts become scans, typing stays typing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton, QVBoxLayout, QWidget
from stamped_keys import scanner_burst

from scanner_app.camera import WedgeParser
from scanner_app.gui.controllers.wedge_filter import WedgeFilter

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
    f = WedgeFilter(WedgeParser())
    f.install(qapp)
    yield f
    f.uninstall(qapp)


def burst(qtbot, widget, text):
    """Keys 2 ms apart, as a USB scanner types them, then Enter."""
    scanner_burst(widget, text + "\r")


def test_scanner_burst_is_one_payload_and_never_reaches_the_field(qtbot, window, wedge):
    with qtbot.waitSignal(wedge.payload_scanned, timeout=1000) as blocker:
        burst(qtbot, window.edit, TICKET)
    assert blocker.args == [TICKET]
    qtbot.wait(150)  # longer than the parser's max_gap: nothing is replayed afterwards
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
    scanner_burst(window.edit, "ab")  # a quick pair of keys by a person
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


def test_burst_without_suffix_ends_when_the_keys_stop(qtbot, window, wedge):
    with qtbot.waitSignal(wedge.payload_scanned, timeout=1000) as blocker:
        scanner_burst(window.edit, TICKET)  # a scanner configured with no Enter
    assert blocker.args == [TICKET]
    assert window.edit.text() == ""


def test_garbled_burst_is_rejected_not_typed(qtbot, window, wedge):
    with qtbot.waitSignal(wedge.burst_rejected, timeout=1000) as blocker:
        scanner_burst(window.edit, TICKET[:20] + "\x1b" + TICKET[20:] + "\r")
    text, reason = blocker.args
    assert text.startswith(TICKET[:20])
    assert "Escape" in reason
    qtbot.wait(100)
    assert window.edit.text() == ""


def test_editing_keys_while_typing_stay_in_order(qtbot, window, wedge):
    qtbot.keyClicks(window.edit, "Adx", delay=110)
    qtbot.keyClick(window.edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(window.edit, "a", delay=110)
    qtbot.waitUntil(lambda: window.edit.text() == "Ada", timeout=2000)
