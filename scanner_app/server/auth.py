"""Bearer keys and scopes: who is asking (found by the guard) and may they (per route)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from scanner_app.core.apikeys import ApiKey
from scanner_app.server.errors import ApiError
from scanner_app.server.hub import Hub

# auto_error off: missing keys must leave in the seed's envelope, not FastAPI's 403.
bearer = HTTPBearer(auto_error=False, description="An API key: `tk_live_...`")


@dataclass(frozen=True)
class Principal:
    """The key a request presented; `problem` says why it cannot be used, if it cannot."""

    key: ApiKey | None
    problem: str | None


def identify(hub: Hub, authorization: bytes | None) -> Principal:
    if not authorization:
        return Principal(None, "Missing API key: send Authorization: Bearer <key>.")
    scheme, _, secret = authorization.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return Principal(None, "Authorization must be: Bearer <key>.")
    key = hub.keys.authenticate(secret.strip())
    if key is None:
        return Principal(None, "Invalid API key.")
    if key.revoked:
        return Principal(key, "This API key has been revoked.")
    return Principal(key, None)


def get_hub(request: Request) -> Hub:
    return request.app.state.hub


def require(scope: str) -> Callable[..., ApiKey]:
    """A dependency that admits keys holding `scope` (401 without a usable key, 403 without it)."""

    def dependency(
        request: Request,
        _credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> ApiKey:
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None or principal.key is None or principal.problem:
            problem = principal.problem if principal else "Missing API key."
            raise ApiError(
                401, problem or "Invalid API key.", headers={"WWW-Authenticate": "Bearer"}
            )
        if scope not in principal.key.scopes:
            raise ApiError(403, f"This API key lacks the {scope} scope.")
        return principal.key

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency
