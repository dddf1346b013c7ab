"""Debounce: a ticket held in front of the camera is one scan, not thirty a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Debouncer:
    """Says whether a payload is a new scan.

    A payload is suppressed while it was last seen less than `window` seconds ago, so a
    ticket held in view for ten seconds is one scan; shown again after `window` seconds
    out of view it is a new scan (which the check-in rules then call a duplicate).
    Thread-safe; the clock is injectable for tests.
    """

    def __init__(self, window: float = 3.0, clock: Callable[[], float] = time.monotonic) -> None:
        if window < 0:
            raise ValueError(f"debounce window must be >= 0 seconds, got {window}")
        self.window = window
        self._clock = clock
        self._last_seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def accept(self, payload: str, now: float | None = None) -> bool:
        """Record a sighting of `payload`; True when it counts as a new scan."""
        t = self._clock() if now is None else now
        with self._lock:
            last = self._last_seen.get(payload)
            self._last_seen[payload] = t
            if len(self._last_seen) > 256:
                self._prune(t)
            return last is None or t - last >= self.window

    def _prune(self, now: float) -> None:
        # Keeps memory bounded at a busy door; expired entries would accept anyway.
        stale = [p for p, t in self._last_seen.items() if now - t >= self.window]
        for p in stale:
            del self._last_seen[p]

    def reset(self) -> None:
        """Forget everything: the next sighting of any payload is a scan."""
        with self._lock:
            self._last_seen.clear()
