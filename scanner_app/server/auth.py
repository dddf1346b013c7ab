"""Bearer keys and scopes: who is asking (found by the guard) and may they (per route)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from scanner_app.core.apikeys import ApiKey
from scanner_app.server.errors import ApiError
from scanner_app.server.hub import Hub

# Declared in the OpenAPI document by app._openapi (a security dependency per request
# would only parse the header a second time).
SECURITY_SCHEME = {"type": "http", "scheme": "bearer", "description": "An API key: tk_live_..."}


@dataclass(frozen=True)
class Principal:
    """The key a request presented; `problem` says why it cannot be used, if it cannot."""

    key: ApiKey | None
    problem: str | None


class KeyCache:
    """Recently seen keys, so a busy gate is not a database read per request.

    Entries die after `ttl` seconds and whenever this process creates or revokes a key
    (the store's generation changes): a revocation here is immediate, one made by another
    process (`keys revoke` beside a running hub) within `ttl`. Unknown keys are not cached.
    """

    def __init__(self, ttl: float = 2.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, int, ApiKey]] = {}

    def lookup(self, hub: Hub, secret: str) -> ApiKey | None:
        now = time.monotonic()
        generation = hub.keys.generation
        cached = self._entries.get(secret)
        if cached is not None and cached[0] > now and cached[1] == generation:
            return cached[2]
        key = hub.keys.authenticate(secret)
        if key is not None:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[secret] = (now + self.ttl, generation, key)
        return key


def identify(hub: Hub, authorization: bytes | None, cache: KeyCache) -> Principal:
    if not authorization:
        return Principal(None, "Missing API key: send Authorization: Bearer <key>.")
    scheme, _, secret = authorization.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return Principal(None, "Authorization must be: Bearer <key>.")
    key = cache.lookup(hub, secret.strip())
    if key is None:
        return Principal(None, "Invalid API key.")
    if key.revoked:
        return Principal(key, "This API key has been revoked.")
    return Principal(key, None)


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
    """A dependency that admits keys holding `scope` (401 without a usable key, 403 without it)."""

    async def dependency(request: Request) -> ApiKey:
        return authorize(getattr(request.state, "principal", None), scope)

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
