"""Dashboard sign-in: server-side sessions keyed by a random cookie, with a CSRF token each.

The organiser's key is sent once (`POST /dashboard/session`) and never kept by the browser:
the page holds only an HttpOnly cookie it cannot read and, in memory, the session's CSRF
token, which every state-changing request echoes in `X-CSRF-Token` (SameSite=Strict already
keeps other sites' requests from carrying the cookie; the token covers older browsers and
same-site pages). Sessions live in this process only: a hub restart signs organisers out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "tickitz_session"
CSRF_HEADER = "x-csrf-token"
IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 12 * 3600
MAX_SESSIONS = 1000  # a flood of sign-ins must not grow memory without bound


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass
class Session:
    key_id: str
    csrf: str
    created: float  # unix seconds
    last_seen: float

    def expires_at(self, idle: float, absolute: float) -> float:
        return min(self.last_seen + idle, self.created + absolute)


class SessionStore:
    """Sessions by the SHA-256 of their cookie (the cookie itself is not kept)."""

    def __init__(
        self,
        idle: float = IDLE_SECONDS,
        absolute: float = ABSOLUTE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.idle = idle
        self.absolute = absolute
        self.clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def create(self, key_id: str) -> tuple[str, Session]:
        """(the cookie value, the session)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(key_id, secrets.token_urlsafe(32), now, now)
        with self._lock:
            self._prune(now)
            if len(self._sessions) >= MAX_SESSIONS:  # drop the oldest
                oldest = min(self._sessions, key=lambda d: self._sessions[d].created)
                del self._sessions[oldest]
            self._sessions[_digest(token)] = session
        return token, session

    def lookup(self, token: str | None, touch: bool = True) -> Session | None:
        """The live session for a cookie (its idle clock restarted), or None."""
        if not token or len(token) > 100:
            return None
        digest = _digest(token)
        now = self.clock()
        with self._lock:
            session = self._sessions.get(digest)
            if session is None:
                return None
            if now >= session.expires_at(self.idle, self.absolute):
                del self._sessions[digest]
                return None
            if touch:
                session.last_seen = now
            return session

    def end(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            return self._sessions.pop(_digest(token), None) is not None

    def end_for_key(self, key_id: str) -> None:
        with self._lock:
            for digest in [d for d, s in self._sessions.items() if s.key_id == key_id]:
                del self._sessions[digest]

    def expires_at(self, session: Session) -> float:
        return session.expires_at(self.idle, self.absolute)

    def _prune(self, now: float) -> None:
        expired = [
            d for d, s in self._sessions.items() if now >= s.expires_at(self.idle, self.absolute)
        ]
        for digest in expired:
            del self._sessions[digest]


def csrf_ok(session: Session, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf, presented or "")


def cookie_value(header: str | None) -> str | None:
    """The session cookie's value from a Cookie header (other cookies ignored)."""
    if not header:
        return None
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value.strip() or None
    return None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_MESSAGE = "This request lacks the dashboard's CSRF token; reload the page and try again."
