"""A minimal parser with the WedgeParser interface, used until scanner_app.camera lands.

Fast keys (<= 30 ms apart) ending in Enter, at least 8 long, are a scan.
"""

from __future__ import annotations


class StandInWedgeParser:
    max_gap = 0.03
    min_length = 8

    def __init__(self) -> None:
        self._buf: list[str] = []
        self._last: float | None = None

    def feed(self, key: str, t: float) -> str | None:
        if self._last is not None and t - self._last > self.max_gap:
            self._buf.clear()
        self._last = t
        if key == "\n":
            text, self._buf = "".join(self._buf), []
            return text if len(text) >= self.min_length else None
        self._buf.append(key)
        return None

    def poll(self, t: float) -> str | None:
        if self._last is not None and t - self._last > self.max_gap:
            self._buf.clear()
        return None
