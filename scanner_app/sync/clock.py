"""The upstream's clock, learned from HTTP `Date` headers (DESIGN.md §5: door times corrected).

`Date` has one-second resolution and servers cache it (uvicorn refreshes it once a second
on its event loop), so each answer only bounds the offset: at some instant between sending
(t0) and receiving (t1) the server's clock read between D and D + 1 s + staleness, hence
offset (server - local) lies in [D - t1, D + 1 s + staleness - t0]. Intersecting recent
bounds narrows it. If the interval holds 0 the offset is 0, so clocks that agree (a hub on
the same machine, NTP-synced laptops) get no correction instead of up to a second of noise
that would reorder admissions between gates; otherwise its midpoint (within ~1 s).
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime
from email.utils import parsedate_to_datetime

SAMPLES = 20
LARGE_SKEW_MS = 2_000.0  # beyond this the status reports the clock as wrong
DATE_STALENESS_MS = 1_500.0  # how old a server's cached Date may be (1 s tick + loop lag)


def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else None


class ClockOffset:
    """Thread-safe estimate of (upstream clock - local clock) in milliseconds."""

    def __init__(self, initial_ms: float = 0.0, large_skew_ms: float = LARGE_SKEW_MS) -> None:
        self._lock = threading.Lock()
        self._bounds: deque[tuple[float, float]] = deque(maxlen=SAMPLES)
        self._offset = float(initial_ms)
        self._learned = False
        self.large_skew_ms = large_skew_ms

    def offset_ms(self) -> float:
        """What CheckinService adds to the local clock; pass this method as clock_offset_ms."""
        with self._lock:
            return self._offset

    @property
    def learned(self) -> bool:
        """True once an upstream answer has been seen in this process."""
        with self._lock:
            return self._learned

    @property
    def large(self) -> bool:
        return abs(self.offset_ms()) > self.large_skew_ms

    def observe(self, server_date: datetime, sent: datetime, received: datetime) -> float:
        """Fold one answer's `Date` in; returns the new estimate."""
        if received < sent:  # the local clock stepped back mid-request: no information
            return self.offset_ms()
        server_ms = server_date.timestamp() * 1000
        low = server_ms - received.timestamp() * 1000
        high = server_ms + 1000 + DATE_STALENESS_MS - sent.timestamp() * 1000
        with self._lock:
            self._bounds.append((low, high))
            lo, hi = self._intersection()
            self._offset = 0.0 if lo <= 0.0 <= hi else (lo + hi) / 2
            self._learned = True
            return self._offset

    def _intersection(self) -> tuple[float, float]:
        lo, hi = self._bounds[-1]
        kept = [self._bounds[-1]]
        for low, high in reversed(list(self._bounds)[:-1]):
            if max(lo, low) > min(hi, high):
                break  # inconsistent with newer answers: a clock was stepped; drop the older
            lo, hi = max(lo, low), min(hi, high)
            kept.append((low, high))
        self._bounds = deque(reversed(kept), maxlen=SAMPLES)
        return lo, hi
