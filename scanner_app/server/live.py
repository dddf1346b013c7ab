"""Change signals for the dashboard's live view: any thread says "something changed", each
server-sent-events stream (on the event loop) wakes and sends fresh figures."""

from __future__ import annotations

import asyncio
import threading


class ChangeSignal:
    """A counter bumped after every commit that may change what the dashboard shows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self.closed = False  # the server is stopping: streams end instead of waiting

    @property
    def version(self) -> int:
        return self._version

    def notify(self) -> None:
        """From any thread (the hub's writer, a request thread); cheap when nobody listens."""
        with self._lock:
            self._version += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop has closed (the server is stopping)
                pass

    def close(self) -> None:
        """End every stream (called before the server stops, so it need not wait for them)."""
        self.closed = True
        self.notify()

    async def wait(self, seen: int, timeout: float) -> int:
        """Return the version once it differs from `seen`, or after `timeout` seconds."""
        if self._version != seen:
            return self._version
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.add(entry)
        try:
            if self._version == seen:  # a change between the check and the registration
                try:
                    await asyncio.wait_for(event.wait(), timeout)
                except TimeoutError:
                    pass
        finally:
            with self._lock:
                self._waiters.discard(entry)
        return self._version
