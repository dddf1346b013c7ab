"""Kiosk mode: frameless, full screen, on top; leaving needs the organiser PIN."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from scanner_app.gui.settings import Settings
from scanner_app.gui.widgets.kiosk import KioskController


class Window(QMainWindow):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.kiosk = KioskController(
            self, settings.check_kiosk_pin, has_pin=lambda: bool(settings.kiosk_pin_hash)
        )

    def closeEvent(self, event):  # noqa: N802
        if not self.kiosk.guard_close(event):
            super().closeEvent(event)


@pytest.fixture
def settings():
    s = Settings()
    s.set_kiosk_pin("2468")
    return s


@pytest.fixture
def window(qtbot, settings):
    w = Window(settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.kiosk.enter()
    qtbot.waitExposed(w)
    return w


def ok(dialog):
    return dialog.buttons.button(dialog.buttons.StandardButton.Ok)


def test_kiosk_window_is_full_screen_frameless_on_top(window):
    assert window.kiosk.active
    assert window.isFullScreen()
    flags = window.windowFlags()
    assert flags & Qt.WindowType.FramelessWindowHint
    assert flags & Qt.WindowType.WindowStaysOnTopHint


def test_close_is_refused_and_asks_for_pin(qtbot, window):
    assert window.close() is False
    assert window.isVisible()
    assert window.kiosk.dialog is not None and window.kiosk.dialog.isVisible()


def test_wrong_pin_keeps_kiosk(qtbot, window):
    dialog = window.kiosk.request_exit()
    qtbot.keyClicks(dialog.pin_edit, "0000")
    qtbot.mouseClick(ok(dialog), Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.error_label.text() == "Wrong PIN"
    assert dialog.pin_edit.text() == ""
    assert window.kiosk.active and window.isFullScreen()


def test_right_pin_leaves_kiosk(qtbot, window):
    dialog = window.kiosk.request_exit()
    with qtbot.waitSignal(window.kiosk.kiosk_changed) as blocker:
        qtbot.keyClicks(dialog.pin_edit, "2468")
        qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)
    assert blocker.args == [False]
    assert not window.kiosk.active
    assert not window.isFullScreen()
    assert not window.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert window.close() is True


def test_cancel_keeps_kiosk(qtbot, window):
    dialog = window.kiosk.request_exit()
    dialog.reject()
    assert window.kiosk.active


def test_without_a_pin_kiosk_cannot_be_left_from_the_ui(qtbot):
    w = Window(Settings())
    qtbot.addWidget(w)
    w.show()
    w.kiosk.enter()
    assert w.kiosk.request_exit() is None
    assert w.close() is False
    assert w.kiosk.active


def test_kiosk_covers_the_screen_even_without_a_window_manager(qtbot, settings, monkeypatch):
    # Under a bare X session (no window manager) showFullScreen() changed nothing and the
    # kiosk stayed a window in the corner, the desktop around it.
    w = Window(settings)
    qtbot.addWidget(w)
    w.resize(400, 300)
    w.show()
    monkeypatch.setattr(w, "showFullScreen", w.show)  # a platform that ignores the request
    w.kiosk.enter()
    assert w.geometry() == w.screen().geometry()


def test_leaving_without_a_pin_says_how(qtbot):
    w = Window(Settings())
    qtbot.addWidget(w)
    w.show()
    w.kiosk.enter()
    with qtbot.waitSignal(w.kiosk.exit_refused) as blocker:
        w.kiosk.request_exit()  # "Leave kiosk…" used to do nothing visible
    assert "restart without --kiosk" in blocker.args[0]
