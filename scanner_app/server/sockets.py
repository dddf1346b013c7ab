"""The hub's sockets under a noisy client: read deadlines and connection caps.

uvicorn closes idle keep-alive connections but has no deadline for a request that is being
sent: a client that sends half a request line and waits keeps its socket (and a file
descriptor) for ever, and forty of them stopped a hub whose descriptor limit was 64
(slowloris). This protocol is uvicorn's own httptools protocol with three additions:

- a request's headers must arrive within ``header_timeout`` of the connection opening (or
  of the first byte of a later request on it), and its body within ``body_timeout`` of the
  headers; otherwise the connection is closed;
- at most ``per_client`` connections per client address and ``total`` in all; a connection
  over either cap is closed at once, before anything is read from it;
- ``total`` never exceeds what the process's descriptor limit leaves room for, and one
  address never holds more than a quarter of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

try:
    import resource
except ImportError:  # Windows: no descriptor limit to respect
    resource = None  # type: ignore[assignment]

log = logging.getLogger("scanner_app.server.sockets")

DESCRIPTORS_KEPT = 48  # for the database, its WAL, the log, the listener, outgoing webhooks


@dataclass(frozen=True, slots=True)
class SocketLimits:
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    per_client: int = 64  # a gate uses one to three; 100 gates behind one NAT need more
    total: int = 1024


def descriptor_room(kept: int = DESCRIPTORS_KEPT) -> int | None:
    """Connections the descriptor limit allows, or None when it is unlimited."""
    if resource is None:
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    return max(4, soft - kept)


class _Tally:
    """Open connections per client address (touched on the event loop thread only)."""

    def __init__(self, limits: SocketLimits) -> None:
        room = descriptor_room()
        self.total = limits.total if room is None else min(limits.total, room)
        # One address never takes more than a quarter of the room: the others still get in.
        self.per_client = min(limits.per_client, max(1, self.total // 4))
        self.open: Counter[str] = Counter()
        self.refused = 0

    def admit(self, host: str) -> bool:
        if self.open.total() >= self.total or self.open[host] >= self.per_client:
            self.refused += 1
            return False
        self.open[host] += 1
        return True

    def release(self, host: str) -> None:
        self.open[host] -= 1
        if self.open[host] <= 0:
            del self.open[host]


def guarded_protocol(limits: SocketLimits) -> type[asyncio.Protocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` enforcing ``limits``."""
    tally = _Tally(limits)

    class GuardedHttpProtocol(HttpToolsProtocol):
        guard = tally

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._peer: str | None = None
            self._deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            peer = transport.get_extra_info("peername")
            host = str(peer[0]) if peer else ""
            if not tally.admit(host):
                if tally.refused % 100 == 1:  # a flood must not flood the log too
                    log.warning(
                        "refused a connection from %s: too many open connections (%d refused)",
                        host,
                        tally.refused,
                    )
                self.transport = transport
                transport.close()
                return
            self._peer = host
            super().connection_made(transport)
            self._arm(limits.header_timeout)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._peer is None:  # refused at the door: uvicorn never saw it
                return
            tally.release(self._peer)
            self._peer = None
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._peer is not None:
                super().data_received(data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm(limits.header_timeout)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            if self.cycle is not None and not self.transport.is_closing():
                self._arm(limits.body_timeout)

        def on_message_complete(self) -> None:
            self._disarm()  # the whole request is here: the app may take its time
            super().on_message_complete()

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                log.info("closed a connection from %s: request not complete in time", self._peer)
                self.transport.close()

    return GuardedHttpProtocol
