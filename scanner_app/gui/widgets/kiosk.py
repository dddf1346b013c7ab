"""Kiosk mode: full screen, frameless, on top, no settings; leaving needs the PIN."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from scanner_app.gui.widgets.plain import PlainLabel

log = logging.getLogger(__name__)

_KIOSK_FLAGS = Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
MAX_DELAY_S = 60  # the longest wait between two PIN tries
LOCKOUT_AFTER = 5  # from this many wrong PINs in a row the message says "Locked"


def backoff_seconds(failures: int) -> float:
    """The wait after ``failures`` wrong PINs in a row: 1, 2, 4 ... then 60 s each."""
    if failures <= 0:
        return 0.0
    return float(min(MAX_DELAY_S, 2 ** (failures - 1)))


def attempts_within(seconds: float) -> int:
    """How many PINs a tireless injector can try in ``seconds`` (typing time ignored)."""
    elapsed, attempts = 0.0, 0
    while True:
        attempts += 1  # tried at `elapsed`
        elapsed += backoff_seconds(attempts)
        if elapsed > seconds:
            return attempts


class PinGuard:
    """Counts wrong PINs in a row and says when the next try is allowed.

    Lives with the kiosk, not the dialog: cancelling and reopening must not reset it.
    The PIN itself is never logged; the count is (the audit trail of a guessing attempt).
    """

    def __init__(
        self, check: Callable[[str], bool], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._check = check
        self._clock = clock
        self.failures = 0
        self._next_try = 0.0

    def wait_left(self) -> float:
        return max(0.0, self._next_try - self._clock())

    def attempt(self, pin: str) -> bool:
        """True if ``pin`` is right; a try during the wait is refused without checking."""
        if self.wait_left() > 0:
            log.warning("Kiosk: PIN tried during the lockout (%d failed attempts)", self.failures)
            return False
        if self._check(pin):
            if self.failures:
                log.warning("Kiosk: PIN accepted after %d failed attempts", self.failures)
            self.failures = 0
            self._next_try = 0.0
            return True
        self.failures += 1
        delay = backoff_seconds(self.failures)
        self._next_try = self._clock() + delay
        log.warning(
            "Kiosk: wrong PIN (%d failed attempts in a row); next try in %.0f s",
            self.failures,
            delay,
        )
        return False


class PinDialog(QDialog):
    """Asks for the organiser PIN; wrong PINs keep the dialog open and lock it a while."""

    def __init__(self, guard: PinGuard, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pinDialog")
        self.setWindowTitle("Organiser PIN")
        self.setModal(True)
        self.guard = guard
        self.prompt = PlainLabel("Enter the organiser PIN to leave kiosk mode.")
        self.pin_edit = QLineEdit(objectName="pinEdit")
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.setPlaceholderText("PIN")
        self.error_label = PlainLabel("", objectName="pinError")
        self.error_label.setStyleSheet("color: #FF8A80;")
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._try)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.prompt, self.pin_edit, self.error_label, self.buttons):
            layout.addWidget(widget)
        # Stay above a stays-on-top kiosk window.
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self._tick = QTimer(self, interval=250)
        self._tick.timeout.connect(self._refresh)
        self._refresh()

    @property
    def failures(self) -> int:
        return self.guard.failures

    @property
    def locked(self) -> bool:
        return self.guard.wait_left() > 0

    def _try(self) -> None:
        if self.guard.attempt(self.pin_edit.text()):
            self.accept()
            return
        self.pin_edit.clear()
        self._refresh()

    def _refresh(self) -> None:
        """Disable the form while the wait runs and count it down; re-enable after."""
        wait = self.guard.wait_left()
        locked = wait > 0
        self.pin_edit.setEnabled(not locked)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not locked)
        if locked:
            self._tick.start()
            seconds = math.ceil(wait)
            if self.guard.failures >= LOCKOUT_AFTER:
                text = (
                    f"Locked: {self.guard.failures} wrong PINs in a row. Try again in {seconds} s."
                )
            else:
                text = f"Wrong PIN. Try again in {seconds} s."
        else:
            self._tick.stop()
            text = "Wrong PIN" if self.guard.failures else ""
            self.pin_edit.setFocus()
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))


class KioskController(QObject):
    """Puts a top-level window into kiosk mode and guards leaving it with a PIN.

    ``check_pin`` returns whether a PIN is the organiser's. With no PIN configured
    (``has_pin`` false) kiosk mode cannot be left from the UI, only by restarting
    without ``--kiosk``: a door laptop must not be escapable by whoever walks up.
    """

    kiosk_changed = Signal(bool)
    exit_refused = Signal(str)  # why leaving is not possible here, in words

    def __init__(
        self,
        window: QWidget,
        check_pin: Callable[[str], bool],
        *,
        has_pin: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.pin_guard = PinGuard(check_pin, clock)
        self._has_pin = has_pin
        self.active = False
        self.dialog: PinDialog | None = None
        self._normal_flags = window.windowFlags()
        self._normal_geometry: QRect | None = None

    def enter(self) -> None:
        if self.active:
            return
        self._normal_flags = self.window.windowFlags()
        self.active = True
        self._normal_geometry = self.window.geometry()
        self.window.setWindowFlags(self._normal_flags | _KIOSK_FLAGS)
        # Full screen is a request to the window manager; a bare X session (a common
        # kiosk set-up) has none and would leave a window in the corner: cover it first.
        screen = self.window.screen()
        if screen is not None:
            self.window.setGeometry(screen.geometry())
        self.window.showFullScreen()
        self.kiosk_changed.emit(True)

    def leave(self) -> None:
        """Leave without asking (only after the PIN was accepted)."""
        if not self.active:
            return
        self.active = False
        self.window.setWindowFlags(self._normal_flags)
        self.window.showNormal()
        if self._normal_geometry is not None:
            self.window.setGeometry(self._normal_geometry)
        self.kiosk_changed.emit(False)

    def request_exit(self) -> PinDialog | None:
        """Open the PIN dialog (non-blocking); leaving happens when it is accepted."""
        if not self.active:
            return None
        if not self._has_pin():
            log.warning("Kiosk: no organiser PIN set; restart without --kiosk to leave")
            self.exit_refused.emit("No kiosk PIN is set: restart without --kiosk to leave")
            return None
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            return self.dialog
        self.dialog = PinDialog(self.pin_guard, self.window)
        self.dialog.accepted.connect(self.leave)
        self.dialog.open()
        return self.dialog

    def guard_close(self, event: QCloseEvent) -> bool:
        """Call from the window's closeEvent; True if the close was vetoed (kiosk)."""
        if not self.active:
            return False
        event.ignore()
        self.request_exit()
        return True
