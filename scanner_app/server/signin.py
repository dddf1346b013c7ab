"""Who a dashboard request is: the organiser key behind its session cookie (see sessions.py)."""

from __future__ import annotations

from typing import Any

from scanner_app.core.apikeys import ApiKey
from scanner_app.core.errors import NotFound
from scanner_app.server.auth import Principal
from scanner_app.server.hub import Hub
from scanner_app.server.sessions import (
    CSRF_MESSAGE,
    SAFE_METHODS,
    SessionStore,
    cookie_value,
    csrf_ok,
)

SIGN_IN_PATH = "/dashboard/session"
ENDED = "Your dashboard session has ended; sign in again."
# Organiser keys only: a gate's key (or a key that cannot read attendance) is refused.
NEEDED_SCOPES = frozenset({"events:read", "bookings:read"})


def session_principal(
    hub: Hub,
    sessions: SessionStore,
    cookie: bytes,
    csrf: bytes | None,
    method: str,
    state: dict[str, Any],
    path: str = "",
) -> tuple[Principal, str | None]:
    """(the principal, a 403 message when a state-changing request lacks the CSRF token)."""
    token = cookie_value(cookie.decode("latin-1"))
    # The stream and the page's status poll must not keep an idle session alive.
    session = sessions.lookup(token, touch=method != "GET" or path == SIGN_IN_PATH)
    if session is None:
        return Principal(None, ENDED), None
    try:
        key = hub.keys.get(session.key_id)
    except NotFound:
        key = None
    if key is None or key.revoked:
        sessions.end(token)
        return Principal(None, "The key this session was opened with has been revoked."), None
    state["session"] = session
    state["session_token"] = token
    if method not in SAFE_METHODS and not (method == "POST" and path == SIGN_IN_PATH):
        if not csrf_ok(session, csrf.decode("latin-1") if csrf else None):
            return Principal(key, None), CSRF_MESSAGE
    return Principal(key, None), None


def sign_in_problem(key: ApiKey | None) -> str | None:
    """Why this key may not open the dashboard, or None."""
    if key is None:
        return "That key was not accepted. Use the organiser key the hub printed when it started."
    if key.revoked:
        return "That key has been revoked."
    if key.device_id is not None or key.kind == "gate":
        return (
            "That is a gate's key: it can only scan and sync. Sign in with the organiser key "
            "(printed by `tickitz-scanner serve` the first time it started)."
        )
    if not NEEDED_SCOPES <= key.scopes:
        return "That key cannot read events and bookings; sign in with an organiser key."
    return None
