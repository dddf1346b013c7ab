"""The two hot routes (POST /v1/checkin/scan and /batch) without the framework around them.

Profiling 100 gates showed ~2/3 of the event loop's time in FastAPI's routing, dependency
solving and exception layers, not in our code. These routes keep their FastAPI twins
(the OpenAPI document and any other method come from them) and the same contract: the
same models validate the body, the same scope check, the same gate-key-to-its-event check
(auth.check_scan / check_batch, on the event cached with the key), the same envelope.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pydantic
from starlette.types import Receive, Scope

from scanner_app.core.errors import TickitzError
from scanner_app.server.auth import Principal, authorize, check_batch, check_scan
from scanner_app.server.errors import ApiError, BodyTooLarge, describe_validation, envelope
from scanner_app.server.hub import Hub
from scanner_app.server.schemas import BatchRequest, ScanRequest

Answer = tuple[int, Any, dict[str, str]]
_JSON_TYPES = (b"application/json", b"")


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


class FastRoutes:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.routes: dict[str, Callable[[bytes, Any, str | None, Scope], Awaitable[Any]]] = {
            "/v1/checkin/scan": self._scan,
            "/v1/checkin/batch": self._batch,
        }

    def wants(self, scope: Scope) -> bool:
        """POSTs of JSON to a hot path; anything else goes the framework's way."""
        if scope["method"] != "POST" or scope["path"] not in self.routes:
            return False
        for name, value in scope["headers"]:
            if name == b"content-type":
                return value.split(b";")[0].strip().lower() in _JSON_TYPES
        return True

    async def handle(
        self, scope: Scope, receive: Receive, principal: Principal, request_id: str
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        status, data, headers = await self._answer(scope, receive, principal)
        if status >= 400:
            data = envelope(data[0], data[1], status, request_id, data[2])
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        pairs = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        pairs += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        return status, body, pairs

    async def _answer(self, scope: Scope, receive: Receive, principal: Principal) -> Answer:
        try:
            key = authorize(principal, "checkin:write")
            raw = await _read_body(receive)
            route = self.routes[scope["path"]]
            return 200, await route(raw, key, principal.event_id, scope), {}
        except ApiError as exc:
            return exc.status, (exc.code, exc.message, exc.field), exc.headers
        except BodyTooLarge as exc:
            return 413, ("payload_too_large", str(exc.detail), None), {}
        except pydantic.ValidationError as exc:
            field, message = describe_validation(exc.errors())
            return 400, ("validation_error", message, field), {}
        except TickitzError as exc:
            message = exc.message
            if exc.field and exc.field not in message:
                message = f"{exc.field}: {message}"
            return exc.status, (exc.code, message, exc.field), {}

    async def _scan(self, raw: bytes, key: Any, bound: str | None, _: Scope) -> dict[str, Any]:
        body = ScanRequest.model_validate_json(raw)
        check_scan(bound, body.eventId)
        return await self.hub.scan_async(body.model_dump(exclude_none=True), key)

    async def _batch(self, raw: bytes, key: Any, bound: str | None, scope: Scope) -> dict:
        body = BatchRequest.model_validate_json(raw)
        items = [item.model_dump(exclude_none=True) for item in body.checkins]
        check_batch(bound, items)
        agent = next((v for k, v in scope["headers"] if k == b"user-agent"), b"")
        report = (body.pending, agent.decode("latin-1"))
        return {"data": await self.hub.batch_async(body.deviceId, items, key, report)}
