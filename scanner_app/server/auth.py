"""Bearer keys and scopes: who is asking (found by the guard) and may they (per route).

A gate device's key (`POST /v1/devices`) is bound to the one event it was made for: it
reaches only that event. Another event is answered as if it did not exist (404 not_found,
the same message as for an unknown id), so a stolen or misconfigured gate learns nothing
about the hub's other events. A scan that names another event in its body is a 403, and a
batch holding another event's check-in a 400 naming the item (see `check_scan`,
`check_batch`). Other keys (organiser keys, hub-to-central keys made by `keys create`)
reach every event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from scanner_app.core.apikeys import ApiKey
from scanner_app.core.errors import NotFound
from scanner_app.server.errors import ApiError
from scanner_app.server.hub import Hub

# Declared in the OpenAPI document by app._openapi (a security dependency per request
# would only parse the header a second time).
SECURITY_SCHEME = {"type": "http", "scheme": "bearer", "description": "An API key: tk_live_..."}


@dataclass(frozen=True)
class Principal:
    """The key a request presented; `problem` says why it cannot be used, if it cannot.
    `event_id`: the one event a gate device's key is bound to (None: every event)."""

    key: ApiKey | None
    problem: str | None
    event_id: str | None = None


class KeyCache:
    """Recently seen keys (with a gate key's event), so a busy gate is not a database read
    per request.

    Entries die after `ttl` seconds and whenever this process creates or revokes a key
    (the store's generation changes): a revocation here is immediate, one made by another
    process (`keys revoke` beside a running hub) within `ttl`. Unknown keys are not cached.
    """

    def __init__(self, ttl: float = 2.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, int, ApiKey, str | None]] = {}

    def lookup(self, hub: Hub, secret: str) -> ApiKey | None:
        return self.find(hub, secret)[0]

    def find(self, hub: Hub, secret: str) -> tuple[ApiKey | None, str | None]:
        """(the key, the event it is bound to if it is a gate device's key) or (None, None)."""
        now = time.monotonic()
        generation = hub.keys.generation
        cached = self._entries.get(secret)
        if cached is not None and cached[0] > now and cached[1] == generation:
            return cached[2], cached[3]
        key = hub.keys.authenticate(secret)
        if key is None:
            return None, None
        event_id = _device_event(hub, key)
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[secret] = (now + self.ttl, generation, key, event_id)
        return key, event_id


def _device_event(hub: Hub, key: ApiKey) -> str | None:
    """The event of the device a key belongs to (a device is never moved to another event)."""
    if key.device_id is None:
        return None
    return hub.devices.get(key.device_id)["eventId"]


def identify(hub: Hub, authorization: bytes | None, cache: KeyCache) -> Principal:
    if not authorization:
        return Principal(None, "Missing API key: send Authorization: Bearer <key>.")
    scheme, _, secret = authorization.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return Principal(None, "Authorization must be: Bearer <key>.")
    key, event_id = cache.find(hub, secret.strip())
    if key is None:
        return Principal(None, "Invalid API key.")
    if key.revoked:
        return Principal(key, "This API key has been revoked.", event_id)
    return Principal(key, None, event_id)


async def get_hub(request: Request) -> Hub:  # async: no thread-pool hop for a lookup
    return request.app.state.hub


def authorize(principal: Principal | None, scope: str) -> ApiKey:
    """The key, if it is usable and holds `scope`; else ApiError 401 or 403."""
    if principal is None or principal.key is None or principal.problem:
        problem = principal.problem if principal else "Missing API key."
        raise ApiError(401, problem or "Invalid API key.", headers={"WWW-Authenticate": "Bearer"})
    if scope not in principal.key.scopes:
        raise ApiError(403, f"This API key lacks the {scope} scope.")
    return principal.key


def require(scope: str) -> Callable[..., ApiKey]:
    """A dependency that admits keys holding `scope` (401 without a usable key, 403 without it)
    and, on a path with an {event_id}, reaching that event (404 for a gate key of another)."""

    async def dependency(request: Request) -> ApiKey:
        principal = getattr(request.state, "principal", None)
        key = authorize(principal, scope)
        event_id = request.path_params.get("event_id")
        if event_id is not None:
            check_event(principal.event_id if principal else None, event_id)
        return key

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    dependency.required_scope = scope  # type: ignore[attr-defined] - for access_error
    return dependency


def access_error(request: Request) -> ApiError | None:
    """The 401/403 the matched route's scope check would raise, or None.

    FastAPI parses a JSON body before it runs dependencies, so a stranger's malformed body
    was answered 400 instead of 401: the error handlers ask this first (auth comes first).
    """
    dependant = getattr(request.scope.get("route"), "dependant", None)
    for dependency in getattr(dependant, "dependencies", ()):
        scope = getattr(dependency.call, "required_scope", None)
        if scope is not None:
            try:
                authorize(getattr(request.state, "principal", None), scope)
            except ApiError as exc:
                return exc
    return None


# --- a gate device's key reaches its own event only ------------------------------------------
async def request_event(request: Request) -> str | None:
    """A dependency: the one event the request's key may reach, or None for every event."""
    principal = getattr(request.state, "principal", None)
    return principal.event_id if principal is not None else None


def check_event(bound: str | None, event_id: str) -> None:
    """404 for another event than a gate key's own, worded as for an unknown event."""
    if bound is not None and event_id != bound:
        raise NotFound(f"No event with ID {event_id} exists.")


def check_ticket(bound: str | None, ticket: dict[str, Any]) -> dict[str, Any]:
    """The ticket, or 404 (worded as for an unknown ticket) if it is another event's."""
    if bound is not None and ticket.get("eventId") != bound:
        raise NotFound(f"No ticket with ID {ticket.get('id')} exists.")
    return ticket


def check_token_reader(key: ApiKey) -> None:
    """403 for a gate device's key: it reads the manifest, never a ticket's signed token or
    its QR (DESIGN.md §10), so a leaked gate key cannot mint working tickets."""
    if key.kind == "gate" or key.device_id is not None:
        raise ApiError(
            403, "A gate key cannot read ticket tokens or QR images; use the manifest feed."
        )


def check_scan(bound: str | None, event_id: str) -> None:
    """403 for a scan that names another event than the gate key's (a scanned ticket of
    another event under the gate's own eventId is answered as usual: reason wrong_event)."""
    if bound is not None and event_id != bound:
        raise ApiError(
            403,
            f"eventId: this gate's key is for event {bound}; it cannot scan for event {event_id}.",
            field="eventId",
        )


def check_batch(bound: str | None, checkins: Sequence[Mapping[str, Any]]) -> None:
    """400 naming the first check-in of another event than the gate key's; nothing is stored.

    The batch's answer for any item it will not take (DESIGN.md §6 has no per-item error
    status): a gate's uploader splits a refused batch until it finds the refused rows,
    keeps those and delivers the rest.
    """
    if bound is None:
        return
    for index, item in enumerate(checkins):
        if item.get("eventId") != bound:
            field = f"checkins[{index}].eventId"
            raise ApiError(
                400,
                f"{field}: check-in {item.get('id')} is for event {item.get('eventId')}; "
                f"this gate's key may upload check-ins of event {bound} only.",
                field=field,
            )
