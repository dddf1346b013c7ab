"""HTTP routes, one module per resource; `ERRORS` documents the envelope for every status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request

from scanner_app.server.hub import Hub
from scanner_app.server.schemas import ErrorResponse

_ENVELOPE = {"model": ErrorResponse}
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {**_ENVELOPE, "description": description}
    for status, description in (
        (400, "validation_error: the body or a parameter is invalid (names the field)"),
        (401, "unauthorized: missing, invalid or revoked API key"),
        (403, "forbidden: the key lacks the required scope"),
        (404, "not_found: no such resource"),
        (405, "method_not_allowed: see the Allow header"),
        (409, "conflict / sold_out: the resource's state forbids this"),
        (413, "payload_too_large: body over 1 MiB"),
        (429, "rate_limited: see Retry-After"),
        (500, "internal_error"),
    )
}

# Path ids: what the hub makes is short; imported ids are at most 100 characters.
Id = Annotated[str, Path(min_length=1, max_length=100)]
# Feed cursors are what a previous page's nextCursor said (digits; 18 fit SQLite's integer).
Cursor = Annotated[str | None, Query(max_length=18, pattern=r"^[0-9]*$")]


def public_base(request: Request, hub: Hub) -> str:
    """The hub's address as clients should use it (configured, else as this request saw it)."""
    return (hub.config.public_url or str(request.base_url)).rstrip("/")
