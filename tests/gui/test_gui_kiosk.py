"""Kiosk mode: frameless, full screen, on top; leaving needs the organiser PIN."""

from __future__ import annotations

import logging
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from scanner_app.gui.settings import Settings
from scanner_app.gui.widgets.kiosk import KioskController, attempts_within, backoff_seconds


class Window(QMainWindow):
    def __init__(self, settings: Settings, clock=time.monotonic) -> None:
        super().__init__()
        self.kiosk = KioskController(
            self,
            settings.check_kiosk_pin,
            has_pin=lambda: bool(settings.kiosk_pin_hash),
            clock=clock,
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
    assert dialog.error_label.text() == "Wrong PIN. Try again in 1 s."
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


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clocked(qtbot, settings):
    clock = FakeClock()
    w = Window(settings, clock)
    qtbot.addWidget(w)
    w.show()
    w.kiosk.enter()
    return w, clock


def wrong(qtbot, dialog, pin="0000"):
    qtbot.waitUntil(lambda: ok(dialog).isEnabled())
    qtbot.keyClicks(dialog.pin_edit, pin)
    qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)


def test_each_wrong_pin_doubles_the_wait_up_to_a_minute():
    assert [backoff_seconds(n) for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    # The closing note's figure: a keyboard injector gets 65 tries an hour (was ~80,000),
    # so all 10,000 four-digit PINs take about 6 days instead of 7-9 minutes.
    assert attempts_within(3600) == 65


def test_wrong_pins_lock_the_dialog_and_the_right_pin_waits_too(qtbot, clocked, caplog):
    window, clock = clocked
    caplog.set_level(logging.WARNING, logger="scanner_app.gui.widgets.kiosk")
    dialog = window.kiosk.request_exit()
    for failures in range(1, 6):
        wrong(qtbot, dialog, pin=f"13{failures:02d}")
        assert dialog.locked and not ok(dialog).isEnabled() and not dialog.pin_edit.isEnabled()
        wait = backoff_seconds(failures)
        assert f"Try again in {wait:.0f} s" in dialog.error_label.text()
        # The right PIN during the wait is refused without being checked.
        assert window.kiosk.pin_guard.attempt("2468") is False
        assert window.kiosk.active
        clock.now += wait - 0.5
        assert dialog.locked
        clock.now += 0.5
    assert dialog.error_label.text().startswith("Locked: 5 wrong PINs in a row")
    # Cancelling and reopening does not reset the count or the wait.
    wrong(qtbot, dialog)
    dialog.reject()
    again = window.kiosk.request_exit()
    assert again.failures == 6 and again.locked
    assert "Locked: 6 wrong PINs" in again.error_label.text()
    clock.now += backoff_seconds(6)
    with qtbot.waitSignal(window.kiosk.kiosk_changed):
        wrong(qtbot, again, pin="2468")
    assert not window.kiosk.active
    logged = caplog.text
    assert "wrong PIN (6 failed attempts in a row); next try in 32 s" in logged
    assert "PIN accepted after 6 failed attempts" in logged
    assert "2468" not in logged and "1301" not in logged and "0000" not in logged


def test_the_countdown_ends_on_its_own(qtbot, clocked):
    window, clock = clocked
    dialog = window.kiosk.request_exit()
    wrong(qtbot, dialog)
    assert not ok(dialog).isEnabled()
    clock.now += 1
    qtbot.waitUntil(lambda: ok(dialog).isEnabled(), timeout=2000)  # the dialog's own timer
    assert dialog.error_label.text() == "Wrong PIN"
