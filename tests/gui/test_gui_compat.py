"""PySide6 6.12.0 on Python 3.11 leaks None/True/False references; the app must survive it."""

from __future__ import annotations

import sys

import PySide6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

from scanner_app.gui._compat import HEADROOM, refcount_leaks


class Emitter(QObject):
    flag = Signal(bool)


def hammer(n: int = 2000) -> None:
    """The calls that leaked: void methods and Signal(bool) emits."""
    label, timer, emitter = QLabel(), QTimer(), Emitter()
    emitter.flag.connect(lambda _value: None)
    for i in range(n):
        label.setText("x")
        timer.stop()
        emitter.flag.emit(i % 2 == 0)


def test_leak_detection_is_version_specific():
    assert refcount_leaks("6.12.0", (3, 11))
    assert not refcount_leaks("6.12.0", (3, 12))
    assert not refcount_leaks("6.11.3", (3, 11))


def test_singletons_cannot_be_freed_by_the_leak(qapp):
    before = {id(o): sys.getrefcount(o) for o in (None, True, False)}
    hammer()
    for singleton in (None, True, False):
        now = sys.getrefcount(singleton)
        if refcount_leaks(PySide6.__version__, sys.version_info[:2]):
            assert now > HEADROOM // 2, f"{singleton!r} is not pinned"
        else:
            # A fixed PySide6 must not drift; 3.12+ singletons are immortal anyway.
            assert now >= before[id(singleton)] - 50
