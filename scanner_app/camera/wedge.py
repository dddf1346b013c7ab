"""Keyboard-wedge input: tell a USB/Bluetooth barcode scanner's keystrokes from typing.

A scanner "types" its payload in a burst, keys a few ms apart, usually ending in Enter
or Tab. People type 100+ ms apart. The parser is pure Python and fed key events with
their times, so it can be tested without a GUI.

How the GUI uses it (from a key event filter on the window):

* Call `process(key, t)` for every key press, with `key` the event's text if it has
  one (one character) else its key name ("Enter", "Tab", "Backspace", "Shift"...),
  and `t` the event time in seconds. Apply the returned `WedgeEvent` in this order:
  first deliver `release` (held keys that turned out to be typing) to the focused
  widget, then handle `payload` (a scan) or `error` (a rejected scan), then swallow
  the key if `consumed`, else let it through.
* While `deadline()` is not None, call `tick(now)` at that time (a single-shot
  timer); it ends bursts from scanners without a suffix key and releases held typing.
* On a screen without text fields, `feed()` / `poll()` are enough: they return the
  payload or None, raise BadBarcode for a rejected scan, and drop typed keys.

Every key that might start a burst is held for at most `max_gap` seconds (40 ms by
default) before it is released to the widget: an unnoticeable delay for typing.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner_app.camera.errors import BadBarcode

TERMINATORS = frozenset({"Enter", "Return", "KP_Enter", "Tab", "\r", "\n", "\t"})
MODIFIERS = frozenset(
    {"Shift", "Control", "Ctrl", "Alt", "AltGr", "Meta", "Super", "CapsLock", "NumLock"}
)


@dataclass(frozen=True)
class WedgeEvent:
    """What the caller should do after one key or tick."""

    payload: str | None = None  # a complete scan
    consumed: bool = False  # the key belongs to a (possible) burst: do not deliver it
    release: str = ""  # held keys that were typing after all: deliver them first
    error: BadBarcode | None = None  # a burst that was rejected


class WedgeParser:
    """Turns timed key events into scanner payloads (see the module docstring)."""

    def __init__(
        self,
        *,
        max_gap: float = 0.04,
        min_length: int = 8,
        max_length: int = 4096,
        suffix_grace: float = 0.15,
    ) -> None:
        if not 0 < max_gap <= suffix_grace:
            raise ValueError("need 0 < max_gap <= suffix_grace")
        if not 1 <= min_length <= max_length:
            raise ValueError("need 1 <= min_length <= max_length")
        self.max_gap = max_gap
        self.min_length = min_length
        self.max_length = max_length
        self.suffix_grace = suffix_grace  # a late Enter/Tab after a burst still belongs to it
        self._keys: list[str] = []  # held keys, raw, for release
        self._count = 0  # characters in the burst (also beyond max_length)
        self._problem: str | None = None
        self._last = 0.0
        self._scan_end: float | None = None

    # -- the simple API ----------------------------------------------------------------

    def feed(self, key: str, t: float) -> str | None:
        """One key at time t (seconds): the payload when a scan completes, else None."""
        return self._unwrap(self.process(key, t))

    def poll(self, t: float) -> str | None:
        """Time passes: the payload of a burst that ended by falling idle, else None."""
        return self._unwrap(self.tick(t))

    @staticmethod
    def _unwrap(ev: WedgeEvent) -> str | None:
        if ev.error is not None:
            raise ev.error
        return ev.payload

    # -- the full API --------------------------------------------------------------------

    def deadline(self) -> float | None:
        """When `tick()` should be called next, or None when nothing is pending."""
        return self._last + self.max_gap + 0.001 if self._keys else None

    def tick(self, t: float) -> WedgeEvent:
        """End a held burst whose last key is more than `max_gap` old."""
        if self._keys and t - self._last > self.max_gap:
            return self._finish()
        return WedgeEvent()

    def process(self, key: str, t: float) -> WedgeEvent:
        """One key press: a character, or a key name for keys without text."""
        if not key or key in MODIFIERS:
            return WedgeEvent()  # Shift etc. come with every capital a scanner sends
        gap = max(0.0, t - self._last)  # clocks that step back count as no gap
        if key in TERMINATORS:
            return self._terminator(gap, t)
        before = WedgeEvent()
        if self._keys and gap > self.max_gap:
            before = self._finish()
        if len(key) > 1:
            if len(self._keys) >= 2:  # inside a burst: the scan is garbled
                self._hold(key, t, f"unexpected key {key!r} in scan")
                return _merge(before, consumed=True)
            if self._keys:  # a held key of typing; `before` is empty in this case
                before = self._finish()
            return before  # the named key itself goes to the widget
        problem = None if key.isprintable() else f"non-printable character U+{ord(key):04X}"
        self._hold(key, t, problem)
        return _merge(before, consumed=True)

    def reset(self) -> str:
        """Drop any burst in progress; returns the keys that were held."""
        held = "".join(self._keys)
        self._keys, self._count, self._problem = [], 0, None
        return held

    # -- internals -------------------------------------------------------------------

    def _hold(self, key: str, t: float, problem: str | None) -> None:
        if self._count < self.max_length:
            self._keys.append(key)  # beyond the cap only count, so memory stays bounded
        self._count += 1
        if problem and self._problem is None:
            self._problem = f"{problem} at position {self._count}"
        self._last = t

    def _terminator(self, gap: float, t: float) -> WedgeEvent:
        if self._keys and gap <= self.suffix_grace:
            ev = self._finish()
            if ev.payload is not None or ev.error is not None:
                return _merge(ev, consumed=True)
            return ev  # a short hold was typing: its Enter goes to the widget too
        before = self._finish() if self._keys else WedgeEvent()
        if self._scan_end is not None and 0 <= t - self._scan_end <= self.suffix_grace:
            # Part of the scan's suffix: after an idle end (tick), or the LF of a CR+LF.
            return _merge(before, consumed=True)
        return before

    def _finish(self) -> WedgeEvent:
        keys, count, problem = self._keys, self._count, self._problem
        self.reset()
        if count < self.min_length:
            return WedgeEvent(release="".join(keys))
        self._scan_end = self._last
        text = "".join(keys)
        if count > self.max_length:
            return WedgeEvent(error=BadBarcode(f"longer than {self.max_length} characters", text))
        if problem is not None:
            return WedgeEvent(error=BadBarcode(problem, text))
        return WedgeEvent(payload=text)


def _merge(ev: WedgeEvent, *, consumed: bool = False, release: str = "") -> WedgeEvent:
    return WedgeEvent(ev.payload, consumed or ev.consumed, ev.release + release, ev.error)
