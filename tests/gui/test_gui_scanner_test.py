"""Settings → Test your scanner: layout problems, the suffix and the key rate, in words."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from scanner_app.camera import WedgeParser
from scanner_app.gui.controllers.wedge_filter import WedgeFilter
from scanner_app.gui.settings import Settings
from scanner_app.gui.sounds import SoundPlayer
from scanner_app.gui.widgets.main_window import MainWindow
from scanner_app.gui.widgets.scanner_test import TEST_CODE, describe_scan

QWERTZ = str.maketrans("yzYZ", "zyZY")  # a US-layout scanner on a German laptop


@pytest.fixture
def window(qtbot, node, settings_path):
    w = MainWindow(
        node,
        Settings(),
        settings_path=settings_path,
        sounds=SoundPlayer(),
        wedge=WedgeFilter(WedgeParser()),
    )
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def post_typed(widget, text, every_ms):
    start = int(time.monotonic() * 1000) - every_ms * len(text)
    for index, char in enumerate(text):
        if char == "\r":
            event = QKeyEvent(
                QEvent.Type.KeyPress, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier
            )
        else:
            code = ord(char.upper()) if char.isalpha() else ord(char)
            event = QKeyEvent(QEvent.Type.KeyPress, code, Qt.KeyboardModifier.NoModifier, char)
        event.setTimestamp(start + index * every_ms)
        QApplication.postEvent(widget, event)


def test_describe_a_good_scan_a_layout_mismatch_caps_lock_and_a_slow_scanner():
    good = describe_scan(TEST_CODE, TEST_CODE, "Enter", 4)
    assert good[0] == f"Characters: all {len(TEST_CODE)} read correctly."
    assert good[1].startswith("Suffix: Enter") and good[2] == "Key rate: 4 ms per key."
    swapped = describe_scan(TEST_CODE, TEST_CODE.translate(QWERTZ), "none", 30)
    assert "'Y' came as 'Z'" in swapped[0] and "keyboard layout" in swapped[0]
    assert swapped[1].startswith("Suffix: none") and "slow" in swapped[2]
    assert "Caps Lock" in describe_scan(TEST_CODE, TEST_CODE.swapcase(), "Tab", 5)[0]


def test_the_settings_page_reads_a_test_scan_without_scanning_it_at_the_door(qtbot, window):
    scans = []
    window.scan_displayed.connect(lambda *args: scans.append(args))
    settings = window.open_settings()
    page = settings.open_scanner_test()
    qtbot.waitExposed(page)
    post_typed(page, TEST_CODE.translate(QWERTZ), every_ms=6)  # no Enter: quiet-time end
    qtbot.waitUntil(lambda: bool(page.result_lines), timeout=5000)
    assert "'Y' came as 'Z'" in page.result_lines[0]
    assert page.result_lines[1].startswith("Suffix: none")
    assert page.result_lines[2] == "Key rate: 6 ms per key."
    assert page.result_label.text().startswith("Characters: wrong")
    page.reject()
    assert window.wedge.diverted is None  # the door scans again
    qtbot.wait(100)
    assert scans == []
