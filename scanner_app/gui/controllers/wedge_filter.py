"""Application-wide keyboard-wedge capture: a USB scanner burst becomes one payload.

USB handheld scanners "type" the ticket as fast keystrokes, usually ending in Enter.
The filter sees every key press in the app before the focused widget does and feeds
it, timed, to ``scanner_app.camera.WedgeParser.process``. The time is the key event's
own timestamp (when the key was typed), not when Python gets to it: a busy GUI thread
or an open dialog delivers a burst's keys late and together, and timed on arrival a
314-character ticket typed at 8 ms a key split into several "Not a ticket" scans.
Keys the parser holds are swallowed; a completed burst fires ``payload_scanned``;
held keys the parser judges to be typing are replayed, in order, to whatever widget
has focus. A garbled burst fires ``burst_rejected`` so the door still gets a verdict.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from scanner_app.camera import WedgeEvent, WedgeParser
from scanner_app.camera.wedge import TERMINATORS

# Keys that are shortcuts, not characters: let them through untouched.
_SHORTCUT_MODS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)
# Qt keys -> the parser's key names for keys without (printable) text.
_NAMES = {
    Qt.Key.Key_Return: "Enter",
    Qt.Key.Key_Enter: "KP_Enter",
    Qt.Key.Key_Tab: "Tab",
    Qt.Key.Key_Backtab: "Tab",
    Qt.Key.Key_Shift: "Shift",
    Qt.Key.Key_Control: "Control",
    Qt.Key.Key_Alt: "Alt",
    Qt.Key.Key_AltGr: "AltGr",
    Qt.Key.Key_Meta: "Meta",
    Qt.Key.Key_CapsLock: "CapsLock",
    Qt.Key.Key_NumLock: "NumLock",
    Qt.Key.Key_Backspace: "Backspace",
    Qt.Key.Key_Escape: "Escape",
    Qt.Key.Key_Delete: "Delete",
}


@dataclass(frozen=True, slots=True)
class _HeldKey:
    receiver: QObject
    key: int
    modifiers: Qt.KeyboardModifier
    text: str


def key_name(event: QKeyEvent) -> str:
    """The parser's name for a key press: its character, or a key name."""
    name = _NAMES.get(Qt.Key(event.key()))
    if name is not None:
        return name
    text = event.text()
    if len(text) == 1 and text.isprintable():
        return text
    return f"Key_{event.key():X}"


class WedgeFilter(QObject):
    """Install with ``install()``; it watches key presses for the whole application."""

    payload_scanned = Signal(str)
    burst_rejected = Signal(str, str)  # the burst's text, why (e.g. "non-printable ...")
    # Every burst: its text, the suffix key ("Enter", "Tab"... or "none": it ended by
    # falling quiet) and the milliseconds per key, for Settings → Test your scanner.
    burst_seen = Signal(str, str, float)

    def __init__(
        self,
        parser: WedgeParser | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.parser = parser or WedgeParser()
        self.enabled = True
        # While set, bursts go here instead of becoming scans (the scanner test page).
        self.diverted: Callable[[str], None] | None = None
        self._clock = clock
        self._held: list[_HeldKey] = []
        self._replaying = False
        self._draining = False
        # Event clock (the window system's key timestamps, seconds) = our clock - offset.
        # The offset is the smallest delay seen between typing and handling: an estimate
        # that errs late, so a burst is ended a little later, never split.
        self._offset: float | None = None
        self._burst_times: list[float] = []
        self._last_suffix = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_deadline)

    @property
    def held(self) -> int:
        """Keys currently held back waiting for the parser's decision."""
        return len(self._held)

    def install(self, app: QApplication | None = None) -> None:
        (app or QApplication.instance()).installEventFilter(self)

    def uninstall(self, app: QApplication | None = None) -> None:
        (app or QApplication.instance()).removeEventFilter(self)
        self._timer.stop()
        self.parser.reset()
        self._replay(len(self._held))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if self._replaying or not self.enabled or event.type() != QEvent.Type.KeyPress:
            return False
        assert isinstance(event, QKeyEvent)
        if event.isAutoRepeat() or event.modifiers() & _SHORTCUT_MODS:
            return False
        name = key_name(event)
        when = self._event_time(event)
        if name not in TERMINATORS and len(name) == 1:
            self._burst_times.append(when)
        self._last_suffix = name if name in TERMINATORS else ""
        outcome = self.parser.process(name, when)
        held = _HeldKey(obj, event.key(), event.modifiers(), event.text())
        # Terminators are never held by the parser: a consumed one is a burst's suffix.
        swallow = self._apply(outcome, held if name not in TERMINATORS else None)
        self._schedule()
        return swallow

    def _event_time(self, event: QKeyEvent) -> float:
        """When the key was typed, on the event clock (our clock when it has no stamp)."""
        now = self._clock()
        stamp = event.timestamp()
        if not stamp:  # synthetic events (QTest, replays): now, mapped to the event clock
            return now - (self._offset or 0.0)
        typed = stamp / 1000.0
        delay = now - typed
        self._offset = delay if self._offset is None else min(self._offset, delay)
        return typed

    def _now(self) -> float:
        return self._clock() - (self._offset or 0.0)

    def _apply(self, outcome: WedgeEvent, current: _HeldKey | None) -> bool:
        """Act on the parser's answer in its documented order; True to swallow the key."""
        if outcome.release:
            self._replay(len(outcome.release))
        if outcome.payload is not None or outcome.error is not None:
            self._held.clear()  # the burst's keys are the scan, never typing
            times, self._burst_times = self._burst_times, []
            text = outcome.payload if outcome.payload is not None else outcome.error.text
            ms = 1000 * (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else 0.0
            self.burst_seen.emit(text, self._last_suffix or "none", ms)
            if self.diverted is not None:  # e.g. Settings → Test your scanner
                self.diverted(text)
            elif outcome.payload is not None:
                self.payload_scanned.emit(outcome.payload)
            else:
                assert outcome.error is not None
                self.burst_rejected.emit(outcome.error.text, outcome.error.reason)
        if outcome.release:
            self._burst_times = self._burst_times[len(outcome.release) :]
        if outcome.consumed and current is not None:
            self._held.append(current)
        return outcome.consumed

    def _schedule(self) -> None:
        deadline = self.parser.deadline()
        if deadline is None:
            self._timer.stop()
        else:
            self._timer.start(max(0, round((deadline - self._now()) * 1000)))

    def _on_deadline(self) -> None:
        if self._draining:
            return
        # After a busy spell the rest of a burst may still wait in the queue behind this
        # timer: take those keys first, then decide whether the keys really stopped.
        self._draining = True
        try:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        finally:
            self._draining = False
        self._apply(self.parser.tick(self._now()), None)
        self._schedule()

    def _replay(self, count: int) -> None:
        """Deliver the first ``count`` held keys to the focused widget: they were typing."""
        keys, self._held = self._held[:count], self._held[count:]
        self._replaying = True
        try:
            for key in keys:
                target = QApplication.focusWidget() or key.receiver
                press = QKeyEvent(QEvent.Type.KeyPress, key.key, key.modifiers, key.text)
                QApplication.sendEvent(target, press)
        finally:
            self._replaying = False
