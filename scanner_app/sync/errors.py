"""Exceptions for talking to an upstream node; the seed's error envelope mapped to types.

The hierarchy (every exception the sync package raises is one of these):

* SyncError - anything that kept a request or a round from giving an answer
    * NotConfigured - the node has no upstream, or no key for it
        * SettingsDamaged - it has one, but its saved settings or key cannot be used
    * Unreachable - no HTTP answer: refused, reset, dropped mid-response, timed out
    * UpstreamReset - the upstream answers from a different database than before
    * BadResponse - a 2xx answer that is not what the API promises
    * InternalError - a bug or an unexpected value inside a round (logged in full)
    * ApiError - an error envelope (or a non-2xx): status, code, message, requestId
        * BadRequest - 400/422
        * Unauthorized - 401
        * Forbidden - 403
        * NotFound - 404
        * RateLimited - 429 (retry_after)
        * ServerError - 5xx
"""

from __future__ import annotations

from typing import Any


class SyncError(Exception):
    """Anything that stopped a request to the upstream from giving an answer."""

    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return False


class Unreachable(SyncError):
    """No HTTP answer: refused, reset, dropped mid-response or timed out."""

    @property
    def retryable(self) -> bool:
        return True


class NotConfigured(SyncError):
    """The node has no upstream, or no key for it."""


class SettingsDamaged(NotConfigured):
    """The node has an upstream, but its saved settings or key cannot be used."""


class BadResponse(SyncError):
    """The upstream answered 2xx with something the API does not promise; not retried."""


class InternalError(SyncError):
    """A bug or an unexpected value inside a sync round; the round failed, the loop lives."""


class Untrusted(SyncError):
    """The link is not the one this node trusts: a certificate that is not the pinned one,
    or plain HTTP to another machine without --insecure-http. Nothing was sent."""


class UpstreamReset(SyncError):
    """The upstream answers from a different database than before (reinstalled, or its
    data folder replaced): cursors into the old one mean nothing there."""

    def __init__(self, known: str, seen: str) -> None:
        super().__init__(f"upstream node changed from {known} to {seen}")
        self.known = known
        self.seen = seen


class ApiError(SyncError):
    """The upstream answered with an error envelope (or a non-2xx without one)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        request_id: str | None = None,
        retry_after: float | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.retry_after = retry_after
        self.field = field  # the envelope's `field` on a 400, e.g. "checkins[3].eventId"

    @property
    def retryable(self) -> bool:
        return self.status == 429 or self.status >= 500


class BadRequest(ApiError):
    """400/422: the upstream refused the request body; resending it will not help."""


class Unauthorized(ApiError):
    """401: missing or invalid API key."""


class Forbidden(ApiError):
    """403: the key lacks a scope."""


class NotFound(ApiError):
    """404: no such resource upstream."""


class RateLimited(ApiError):
    """429: wait `retry_after` seconds."""


class ServerError(ApiError):
    """5xx: the upstream failed; worth retrying later."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    422: BadRequest,
    429: RateLimited,
}


def api_error(status: int, body: Any, retry_after: float | None) -> ApiError:
    """Build the right ApiError from a status and a parsed (or unparsable) body."""
    envelope = body.get("error") if isinstance(body, dict) else None
    if isinstance(envelope, dict):
        code = str(envelope.get("code") or f"http_{status}")
        message = str(envelope.get("message") or "")
        request_id = envelope.get("requestId")
        field = envelope.get("field")
    else:
        code, message, request_id = f"http_{status}", str(body or "")[:200], None
        field = None
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    return kind(
        status,
        code,
        message,
        request_id if isinstance(request_id, str) else None,
        retry_after,
        field if isinstance(field, str) else None,
    )
