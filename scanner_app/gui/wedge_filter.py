"""Application-wide keyboard-wedge capture: a USB scanner burst becomes one payload.

USB handheld scanners "type" the ticket as fast keystrokes ending in Enter. The filter
sees every key press in the app before the focused widget does, holds printable keys
for a few tens of milliseconds and feeds them with timestamps to the wedge parser
(``scanner_app.camera.WedgeParser``). If the parser completes a payload, the held keys
are swallowed and ``payload_scanned`` fires; if the keys were slow human typing, they
are replayed, in order, to whatever widget has focus.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

# Keys that are shortcuts, not characters: let them through untouched.
_SHORTCUT_MODS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)
_TERMINATORS = {Qt.Key.Key_Return: "\n", Qt.Key.Key_Enter: "\n", Qt.Key.Key_Tab: "\t"}


class WedgeParserLike(Protocol):
    def feed(self, key: str, t: float) -> str | None: ...

    def poll(self, t: float) -> str | None: ...


@dataclass(frozen=True, slots=True)
class _HeldKey:
    receiver: QObject
    key: int
    modifiers: Qt.KeyboardModifier
    text: str


class WedgeFilter(QObject):
    """Install with ``QApplication.instance().installEventFilter(filter)``.

    ``hold_ms`` must exceed the parser's inter-key gap: it is how long a key may wait
    for a follower before it is judged human and handed to the focused widget.
    """

    payload_scanned = Signal(str)

    def __init__(
        self,
        parser: WedgeParserLike,
        *,
        hold_ms: int = 60,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.parser = parser
        self.enabled = True
        self._clock = clock
        self._held: list[_HeldKey] = []
        self._replaying = False
        self._timer = QTimer(self, singleShot=True, interval=hold_ms)
        self._timer.timeout.connect(self._on_quiet)

    @property
    def held(self) -> int:
        """Keys currently held back waiting for the parser's decision."""
        return len(self._held)

    def install(self, app: QApplication | None = None) -> None:
        (app or QApplication.instance()).installEventFilter(self)

    def uninstall(self, app: QApplication | None = None) -> None:
        (app or QApplication.instance()).removeEventFilter(self)
        self._release()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if self._replaying or not self.enabled or event.type() != QEvent.Type.KeyPress:
            return False
        assert isinstance(event, QKeyEvent)
        char = self._char(event)
        if char is None:
            return False
        if char in "\n\t" and not self._held:
            return False  # a lone Enter/Tab is the user's, e.g. submitting a field
        self._held.append(_HeldKey(obj, event.key(), event.modifiers(), event.text()))
        payload = self.parser.feed(char, self._clock())
        if payload is not None:
            self._accept(payload)
        else:
            self._timer.start()
        return True

    @staticmethod
    def _char(event: QKeyEvent) -> str | None:
        if event.isAutoRepeat() or event.modifiers() & _SHORTCUT_MODS:
            return None
        terminator = _TERMINATORS.get(Qt.Key(event.key()))
        if terminator is not None:
            return terminator
        text = event.text()
        if len(text) == 1 and text.isprintable():
            return text
        return None

    def _on_quiet(self) -> None:
        payload = self.parser.poll(self._clock())
        if payload is not None:
            self._accept(payload)
        else:
            self._release()

    def _accept(self, payload: str) -> None:
        self._timer.stop()
        self._held.clear()
        self.payload_scanned.emit(payload)

    def _release(self) -> None:
        """Replay held keys to the focused widget: they were a person typing."""
        self._timer.stop()
        held, self._held = self._held, []
        self._replaying = True
        try:
            for key in held:
                target = QApplication.focusWidget() or key.receiver
                press = QKeyEvent(QEvent.Type.KeyPress, key.key, key.modifiers, key.text)
                QApplication.sendEvent(target, press)
        finally:
            self._replaying = False
