"""The organiser dashboard: its page and files, and signing in and out (sessions.py).

Not part of the /v1 API (left out of the OpenAPI document). The key is typed into the page
once and exchanged here for a session cookie; it is never served, stored or put in a URL.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import Field

from scanner_app.server.auth import get_hub
from scanner_app.server.dashboard_page import ASSET_TYPES, ASSETS, CSP, PAGE
from scanner_app.server.errors import ApiError
from scanner_app.server.hub import Hub
from scanner_app.server.schemas import Strict
from scanner_app.server.sessions import COOKIE, Session, SessionStore
from scanner_app.server.signin import ENDED, sign_in_problem

router = APIRouter(include_in_schema=False)
HUB = Depends(get_hub)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


class SignIn(Strict):
    key: Annotated[str, Field(min_length=1, max_length=200)]


@router.get("/", response_class=HTMLResponse)
@router.get("/dashboard", response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    return HTMLResponse(PAGE, headers=_HEADERS)


@router.get("/dashboard/assets/{name}")
def asset(name: str) -> Response:
    body = ASSETS.get(name)
    if body is None:
        raise ApiError(404, f"No dashboard file {name[:60]}.")
    media = ASSET_TYPES["." + name.rsplit(".", 1)[-1]]
    # no-cache: revalidated on every load, so a hub upgrade never runs yesterday's script.
    return Response(body, media_type=media, headers={**_HEADERS, "Cache-Control": "no-cache"})


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(ASSETS["favicon.svg"], media_type="image/svg+xml")


def _sessions(request: Request) -> SessionStore:
    return request.app.state.sessions


def _describe(request: Request, session: Session, key_name: str) -> dict[str, Any]:
    store = _sessions(request)
    return {
        "csrfToken": session.csrf,
        "keyName": key_name,
        "expiresAt": store.expires_at(session),
        "idleSeconds": store.idle,
        "absoluteEndsAt": session.created + store.absolute,
    }


@router.post("/dashboard/session")
def sign_in(body: SignIn, request: Request, response: Response, hub: Hub = HUB) -> dict:
    """Exchange an organiser key for a session cookie (HttpOnly, SameSite=Strict; Secure
    over HTTPS). Gate keys are refused: they are for scanning, not for the dashboard."""
    key = hub.keys.authenticate(body.key.strip())
    problem = sign_in_problem(key)
    if problem is not None:
        status = 403 if key is not None and not key.revoked else 401
        raise ApiError(status, problem, field="key")
    store = _sessions(request)
    store.end(getattr(request.state, "session_token", None))  # a new sign-in replaces it
    token, session = store.create(key.id)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.headers["Cache-Control"] = "no-store"
    return _describe(request, session, key.name)


@router.get("/dashboard/session")
def session_info(request: Request, response: Response, hub: Hub = HUB) -> dict:
    """The open session (its CSRF token for the page's memory), or 401."""
    session: Session | None = getattr(request.state, "session", None)
    if session is None:
        principal = getattr(request.state, "principal", None)
        problem = principal.problem if principal is not None else None
        raise ApiError(401, problem if problem and "revoked" in problem else ENDED)
    response.headers["Cache-Control"] = "no-store"
    return _describe(request, session, hub.keys.get(session.key_id).name)


@router.delete("/dashboard/session", status_code=204)
def sign_out(request: Request) -> Response:
    """End the session on the hub (the cookie no longer opens anything) and drop the cookie."""
    _sessions(request).end(getattr(request.state, "session_token", None))
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
