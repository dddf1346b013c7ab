"""Per-key rate limits: a token bucket per key, in memory."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
_PRUNE_EVERY = 1000
_IDLE_SECONDS = 5 * WINDOW_SECONDS


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # unix time at which the bucket is full again
    retry_after: int  # seconds until one request is allowed (0 when allowed)

    def headers(self) -> list[tuple[bytes, bytes]]:
        # The seed's Remaining counts against Limit (requests per minute): a burst allowance
        # above it is real but is not announced, so a client never sees remaining > limit.
        pairs = [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(min(self.remaining, self.limit)).encode()),
            (b"x-ratelimit-reset", str(self.reset).encode()),
        ]
        if not self.allowed:
            pairs.append((b"retry-after", str(self.retry_after).encode()))
        return pairs


class RateLimiter:
    """`limit` requests per 60 s rolling window, with up to `burst` at once.

    A bucket of `burst` tokens refilled at limit/60 per second is that window: over any
    60 s a key gets at most burst + limit requests and, sustained, exactly `limit`.
    """

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)
        self._lock = threading.Lock()
        self._hits = 0
        self._now = time.monotonic
        self._wall = time.time

    def hit(self, bucket: str, limit: int, burst: int) -> Decision:
        rate = limit / WINDOW_SECONDS
        now = self._now()
        with self._lock:
            tokens, updated = self._buckets.get(bucket, (float(burst), now))
            tokens = min(float(burst), tokens + (now - updated) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[bucket] = (tokens, now)
            self._hits += 1
            if self._hits % _PRUNE_EVERY == 0:
                self._prune(now)
        wall = self._wall()
        return Decision(
            allowed=allowed,
            limit=limit,
            remaining=int(tokens),
            reset=math.ceil(wall + (burst - tokens) / rate),
            retry_after=0 if allowed else max(1, math.ceil((1.0 - tokens) / rate)),
        )

    def _prune(self, now: float) -> None:
        # Buckets idle this long have refilled (burst <= 5x limit); dropping them changes nothing.
        stale = [k for k, (_, updated) in self._buckets.items() if now - updated > _IDLE_SECONDS]
        for key in stale:
            del self._buckets[key]
