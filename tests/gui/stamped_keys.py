"""Key events carrying their own timestamps, as the window system delivers them.

The wedge filter times a burst by those stamps, so a test that types a USB scanner's burst
this way is the same on an idle laptop and on a CI runner busy with other tests; keys
typed with ``qtbot.keyClicks(delay=1)`` carry no stamp and are timed on arrival, where a
stall of the test process splits the burst.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

KEYS = {"\r": Qt.Key.Key_Return, "\x1b": Qt.Key.Key_Escape}


def now_ms() -> int:
    return int(time.monotonic() * 1000)


def key_event(char: str, stamp: int) -> QKeyEvent:
    if char in KEYS:
        event = QKeyEvent(QEvent.Type.KeyPress, KEYS[char], Qt.KeyboardModifier.NoModifier)
    else:
        code = ord(char.upper()) if char.isalpha() else ord(char)
        event = QKeyEvent(QEvent.Type.KeyPress, code, Qt.KeyboardModifier.NoModifier, char)
    event.setTimestamp(stamp)
    return event


def post_typed(
    widget: QObject,
    text: str,
    *,
    every_ms: int,
    typed_ago_ms: int = 0,
    stall_at: int | None = None,
    busy: QObject | None = None,
) -> None:
    """Post ``text`` as keys typed ``every_ms`` apart (the last one ``typed_ago_ms`` ago);
    with ``stall_at``, the GUI thread is busy (``busy`` gets a User event) after that many
    keys. "\\r" is Enter, "\\x1b" Escape."""
    start = now_ms() - typed_ago_ms - every_ms * len(text)
    for index, char in enumerate(text):
        if index == stall_at:
            QApplication.postEvent(busy, QEvent(QEvent.Type.User))
        QApplication.postEvent(widget, key_event(char, start + index * every_ms))


def scanner_burst(widget: QObject, text: str, every_ms: int = 2) -> None:
    """A USB scanner typing ``text`` (keys ``every_ms`` apart), delivered now."""
    post_typed(widget, text, every_ms=every_ms)
    QApplication.processEvents()
