"""The outermost layer: request ids, who is asking, rate limits, body size, response headers.

A plain ASGI middleware (not BaseHTTPMiddleware): it runs on every request of a hot path.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanner_app.core.models import NODE_HEADER
from scanner_app.server.auth import KeyCache, identify
from scanner_app.server.errors import MAX_BODY_BYTES, BodyTooLarge, envelope
from scanner_app.server.fastpath import FastRoutes
from scanner_app.server.hub import Hub
from scanner_app.server.sessions import SessionStore
from scanner_app.server.signin import session_principal

_NODE_HEADER = NODE_HEADER.lower().encode()
log = logging.getLogger("scanner_app.server")


def new_request_id() -> str:
    return "req_" + secrets.token_hex(10)  # 80 random bits; a ULID costs 10x more per request


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        hub: Hub,
        max_body: int = MAX_BODY_BYTES,
        sessions: SessionStore | None = None,
    ) -> None:
        self.app = app
        self.hub = hub
        self.sessions = sessions or SessionStore()
        self.max_body = max_body
        self.keys = KeyCache()
        # Which database answers: a gate that sees this change knows its cursors are void.
        self.node_id = hub.node.device_id.encode()
        self.fast = FastRoutes(hub)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        authorization = length = cookie = csrf = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                length = value
            elif name == b"cookie":
                cookie = value
            elif name == b"x-csrf-token":
                csrf = value
        refusal = None
        if authorization is None and cookie is not None:  # the dashboard (sessions.py)
            principal, refusal = session_principal(
                self.hub,
                self.sessions,
                cookie,
                csrf,
                scope.get("method", "GET"),
                state,
                scope.get("path", ""),
            )
        else:
            principal = identify(self.hub, authorization, self.keys)
        state["principal"] = principal
        key = principal.key if principal.problem is None else None
        if key is not None:
            self.hub.usage.record(key, time.time())
            decision = self.hub.limiter.hit(key.id, key.rate_limit, key.rate_burst)
        else:
            # Unauthenticated requests share a bucket per client address: it also slows
            # anyone guessing keys.
            client = scope.get("client") or ("unknown", 0)
            limit, burst = self.hub.config.anonymous_rate
            decision = self.hub.limiter.hit(f"ip:{client[0]}", limit, burst)
        extra = [
            (b"x-request-id", request_id.encode()),
            (_NODE_HEADER, self.node_id),
            *decision.headers(),
        ]
        if not decision.allowed:
            message = f"Too many requests; retry in {decision.retry_after} s."
            await _send_error(send, 429, "rate_limited", message, request_id, extra)
            return
        if refusal is not None:
            await _send_error(send, 403, "forbidden", refusal, request_id, extra)
            return
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared < 0:
                await _send_error(
                    send, 400, "validation_error", "Bad Content-Length.", request_id, extra
                )
                return
            if declared > self.max_body:
                message = f"Request body is larger than {self.max_body} bytes."
                await _send_error(send, 413, "payload_too_large", message, request_id, extra)
                return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:  # chunked bodies have no Content-Length
                    raise BodyTooLarge()
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            if self.fast.wants(scope):
                status, body, headers = await self.fast.handle(
                    scope, limited_receive, principal, request_id
                )
                started = True
                await send(
                    {"type": "http.response.start", "status": status, "headers": headers + extra}
                )
                await send({"type": "http.response.body", "body": body})
                return
            await self.app(scope, limited_receive, send_with_headers)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            message = "Something went wrong on this hub; the request was not completed."
            await _send_error(send, 500, "internal_error", message, request_id, extra)


async def _send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    request_id: str,
    headers: list[tuple[bytes, bytes]],
) -> None:
    body = json.dumps(envelope(code, message, status, request_id)).encode()
    response_headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": body})
