"""Per-key rate limits: a 60-second rolling window per key, in memory.

What a client sees (the seed's "Rate Limiting"), for every key and every per-address bucket
of unauthenticated requests alike:

* ``X-RateLimit-Limit``: requests allowed in any 60 s.
* ``X-RateLimit-Remaining``: Limit minus the accepted requests still in the window, never
  negative. Each accepted request lowers it by exactly one; it only rises when an old
  request leaves the window.
* A request that finds Remaining at 0 is answered 429 ``rate_limited`` and is not counted.
  Its ``Retry-After`` is the whole seconds (>= 1) until a slot frees: until the oldest
  counted request leaves the window.
* ``X-RateLimit-Reset``: the unix time (an integer, rounded up) at which the whole window
  has drained - every request counted so far has left it and Remaining is back to Limit.
  It is when the window "resets"; on a 429, Retry-After says when the first slot frees.

The window is kept in 1-second slots: a key holds at most 61 (second, count) pairs and a
running total, so memory per key is bounded whatever its limit, and a request costs O(1)
(amortised). A request made during second ``s`` counts until second ``s + 61`` begins, so
60 to 61 s: a request may be held up to a second longer than 60 s, never shorter, and no
60 s span ever holds more than Limit accepted requests. Keys whose window has drained are
forgotten (checked every ``_PRUNE_EVERY`` requests).

Burst: ``rate_burst`` (the API's ``rateBurst``, ``--burst`` on the command line) predates
the window and is still accepted and stored. A burst at or above the limit - the seed's
plans (60/80, 100/150, 1,000/1,500) and our defaults - does not apply: the window already
allows the whole Limit at once and never more. A burst below the limit keeps meaning
"requests allowed at once": a bucket of ``burst`` tokens refilled at Limit/60 per second
paces the key as well as the window, Remaining is then the smaller of the two (so it can
also rise between requests as the bucket refills), and Retry-After waits for both.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60
_HELD = WINDOW_SECONDS + 1  # a request made in second s counts until second s + 61
_PRUNE_EVERY = 1000


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int  # requests allowed now, after this one
    reset: int  # unix time at which the window has drained (remaining == limit again)
    retry_after: int  # seconds until one request is allowed (0 when allowed)

    def headers(self) -> list[tuple[bytes, bytes]]:
        pairs = [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset).encode()),
        ]
        if not self.allowed:
            pairs.append((b"retry-after", str(self.retry_after).encode()))
        return pairs


class _Window:
    __slots__ = ("slots", "total", "tokens", "updated")

    def __init__(self, now: float, burst: int) -> None:
        self.slots: deque[list[int]] = deque()  # [second, accepted requests], oldest first
        self.total = 0  # accepted requests in the slots
        self.tokens = float(burst)  # the pacing bucket, used only when burst < limit
        self.updated = now


class RateLimiter:
    """At most `limit` accepted requests per key in any 60 s (see the module docstring).

    `clock` (monotonic seconds) and `wall` (unix seconds) can be injected for tests.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._hits = 0
        self._now = clock
        self._wall = wall

    def hit(self, bucket: str, limit: int, burst: int) -> Decision:
        now = self._now()
        second = math.floor(now)
        paced = burst < limit
        with self._lock:
            window = self._windows.get(bucket)
            if window is None:
                window = self._windows[bucket] = _Window(now, burst)
            slots = window.slots
            while slots and slots[0][0] <= second - _HELD:
                window.total -= slots.popleft()[1]
            remaining = limit - window.total
            if paced:
                rate = limit / WINDOW_SECONDS
                tokens = min(float(burst), window.tokens + (now - window.updated) * rate)
                window.tokens, window.updated = tokens, now
                remaining = min(remaining, int(tokens))
            allowed = remaining >= 1
            if allowed:
                remaining -= 1
                window.total += 1
                if slots and slots[-1][0] == second:
                    slots[-1][1] += 1
                else:
                    slots.append([second, 1])
                if paced:
                    window.tokens -= 1.0
                retry_after = 0
            else:
                remaining = 0
                retry_after = self._retry_after(window, limit, burst, paced, now)
            drained_at = slots[-1][0] + _HELD if slots else now
            self._hits += 1
            if self._hits % _PRUNE_EVERY == 0:
                self._prune(second)
        return Decision(
            allowed=allowed,
            limit=limit,
            remaining=remaining,
            reset=math.ceil(self._wall() + drained_at - now),
            retry_after=retry_after,
        )

    @staticmethod
    def _retry_after(window: _Window, limit: int, burst: int, paced: bool, now: float) -> int:
        wait = 0.0
        excess = window.total - limit + 1  # requests that must leave the window first
        if excess > 0:
            wait = float(WINDOW_SECONDS)  # a limit below 1 never frees a slot
            for second, count in window.slots:
                excess -= count
                if excess <= 0:
                    wait = second + _HELD - now
                    break
        if paced and window.tokens < 1.0:
            wait = max(wait, (1.0 - window.tokens) * WINDOW_SECONDS / limit)
        return max(1, math.ceil(wait))

    def _prune(self, second: int) -> None:
        # A drained window also has a full bucket (it refills within 60 * burst / limit s).
        stale = [
            key
            for key, window in self._windows.items()
            if not window.slots or window.slots[-1][0] <= second - _HELD
        ]
        for key in stale:
            del self._windows[key]
