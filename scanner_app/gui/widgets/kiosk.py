"""Kiosk mode: full screen, frameless, on top, no settings; leaving needs the PIN."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QRect, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

_KIOSK_FLAGS = Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint


class PinDialog(QDialog):
    """Asks for the organiser PIN; ``check`` decides, wrong PINs keep the dialog open."""

    def __init__(self, check: Callable[[str], bool], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pinDialog")
        self.setWindowTitle("Organiser PIN")
        self.setModal(True)
        self._check = check
        self.failures = 0
        self.prompt = QLabel("Enter the organiser PIN to leave kiosk mode.")
        self.pin_edit = QLineEdit(objectName="pinEdit")
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.setPlaceholderText("PIN")
        self.error_label = QLabel("", objectName="pinError")
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

    def _try(self) -> None:
        if self._check(self.pin_edit.text()):
            self.accept()
            return
        self.failures += 1
        log.warning("Kiosk: wrong PIN (%d failed attempts)", self.failures)
        self.error_label.setText("Wrong PIN")
        self.error_label.show()
        self.pin_edit.clear()
        self.pin_edit.setFocus()


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
    ) -> None:
        super().__init__(window)
        self.window = window
        self._check_pin = check_pin
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
        self.dialog = PinDialog(self._check_pin, self.window)
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
