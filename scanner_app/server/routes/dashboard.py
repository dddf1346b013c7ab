"""The organiser dashboard page (the key is typed in the browser, never served)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from scanner_app.server.dashboard_page import CSP, PAGE

router = APIRouter(include_in_schema=False)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@router.get("/", response_class=HTMLResponse)
@router.get("/dashboard", response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    return HTMLResponse(PAGE, headers=_HEADERS)
