"""The seed's error envelope for every failure: domain errors, validation, routing, crashes.

What the server raises, and the envelope each becomes:

* core.errors.TickitzError and its subclasses - the domain's code and status
* ApiError - the server's own refusals: auth (401), scopes (403), limits (429)...
* BodyTooLarge (a Starlette HTTPException) - 413 while a body streams in
* RequestValidationError (FastAPI) - 400 validation_error naming the field
* anything else - 500 internal_error, logged in full, never shown
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from scanner_app.core.errors import TickitzError

log = logging.getLogger("scanner_app.server")

MAX_BODY_BYTES = 1024 * 1024
_STATUS_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited",
}


class ApiError(Exception):
    """An HTTP error raised by the server itself (auth, scopes, limits)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _STATUS_CODES.get(status, "internal_error")
        self.message = message
        self.field = field
        self.headers = headers or {}


class BodyTooLarge(StarletteHTTPException):
    """Raised while a body streams in; an HTTPException so FastAPI's body parser re-raises it."""

    def __init__(self) -> None:
        super().__init__(413, f"Request body is larger than {MAX_BODY_BYTES} bytes.")


def envelope(
    code: str, message: str, status: int, request_id: str, field: str | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "status": status,
        "requestId": request_id,
    }
    if field:
        error["field"] = field
    return {"error": error}


def request_id_of(request: Request) -> str:
    return getattr(request.state, "request_id", "req_unknown")


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = envelope(code, message, status, request_id_of(request), field)
    return JSONResponse(body, status_code=status, headers=headers)


def field_name(loc: Sequence[Any]) -> str:
    """('body', 'tiers', 0, 'name') -> 'tiers[0].name'; ('query', 'limit') -> 'limit'."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else list(loc)
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name or "body"


def describe_validation(errors: Sequence[Any]) -> tuple[str, str]:
    """(field, message) for the first of pydantic's errors, as the envelope states them."""
    if not errors:
        return "body", "Invalid request."
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "body", "body is not valid JSON"
    field = field_name(first.get("loc", ()))
    if first.get("type") == "missing":
        return field, f"{field} is required"
    return field, f"{field}: {first.get('msg', 'invalid value')}"


def _allowed(request: Request) -> str:
    """Every method of the path (the router only names those of the first route it tried)."""
    table = getattr(request.app.state, "allow_table", None)
    if table is None:
        table = []
        for template, operations in request.app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            table.append((re.compile(f"^{pattern}$"), {m.upper() for m in operations}))
        request.app.state.allow_table = table
    methods: set[str] = set()
    for pattern, operations in table:
        if pattern.match(request.url.path):
            methods |= operations
    # A literal path wins over a template it also fits (/v1/devices/enrol is not a device).
    exact = {m.upper() for m in request.app.openapi()["paths"].get(request.url.path, {})}
    return ", ".join(sorted(exact or methods))


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves in the seed's envelope with the request's id."""

    @app.exception_handler(TickitzError)
    async def domain_error(request: Request, exc: TickitzError) -> JSONResponse:
        if exc.status >= 500:
            log.error("domain error %s: %s", exc.code, exc.message)
        message = exc.message
        if exc.field and exc.field not in message:
            message = f"{exc.field}: {message}"  # a 400 always names its field
        return _respond(request, exc.status, exc.code, message, exc.field)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _respond(request, exc.status, exc.code, exc.message, exc.field, exc.headers)

    def denied(request: Request) -> JSONResponse | None:
        from scanner_app.server.auth import access_error  # noqa: PLC0415 (auth imports us)

        error = access_error(request)
        if error is None:
            return None
        return _respond(request, error.status, error.code, error.message, None, error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if (refused := denied(request)) is not None:
            return refused  # a body found bad before the key was checked: 401/403 first
        # 400 naming the field, not FastAPI's default 422 (the seed's contract).
        field, message = describe_validation(exc.errors())
        sent = request.headers.get("content-type", "")
        if field == "body" and sent and "json" not in sent.lower():
            # FastAPI reads only JSON bodies: a form or text body fails as "not a dictionary".
            message = f"body must be JSON: send Content-Type: application/json, not {sent[:60]}"
        return _respond(request, 400, "validation_error", message, field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and (refused := denied(request)) is not None:
            return refused  # a body FastAPI could not parse, from a caller without access
        code = _STATUS_CODES.get(exc.status_code, "internal_error")
        if exc.status_code == 404:
            message = f"No route {request.method} {request.url.path}."
        elif exc.status_code == 405:
            message = f"Method {request.method} is not allowed on {request.url.path}."
        else:
            message = str(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed(request) or headers.get("Allow", "")
        return _respond(request, exc.status_code, code, message, headers=headers or None)
