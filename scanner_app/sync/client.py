"""A typed httpx client for the Tickitz API (DESIGN.md §6), the same at every hop.

Bearer key; the seed's error envelope mapped to exceptions (errors.py); `Retry-After` and
`X-RateLimit-*` honoured; only idempotent requests are retried (GETs, and the batch upload,
which the upstream dedupes by check-in id). The key never appears in reprs or messages.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from scanner_app import __version__
from scanner_app.core.models import NODE_HEADER
from scanner_app.core.timeutil import Clock, utc_now
from scanner_app.core.validate import valid_host
from scanner_app.sync.clock import parse_http_date
from scanner_app.sync.errors import (
    BadResponse,
    RateLimited,
    SyncError,
    Unreachable,
    Untrusted,
    api_error,
)
from scanner_app.sync.tls import explain_failure, fingerprint_of, pinned_context, speaks_tls

log = logging.getLogger(__name__)

MAX_BATCH = 500
DEFAULT_TIMEOUT = 10.0
CONNECT_TIMEOUT = 3.0
DateObserver = Callable[[datetime, datetime, datetime], object]
_JSON = {"Content-Type": "application/json"}


def api_base(url: str) -> str:
    """Normalise a hub or central address to its `/v1` base (`http://h:8000` works too)."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)  # raises ValueError for a bad [IPv6] literal
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"not an http(s) address: {url!r} ({exc})") from exc
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(ch.isspace() for ch in text)
    ):
        raise ValueError(f"not an http(s) address: {url!r}")
    if not valid_host(parts.hostname):
        raise ValueError(f"not a valid host name: {parts.hostname[:80]!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def is_loopback(url: str) -> bool:
    host = (urlsplit(api_base(url)).hostname or "").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def link_kind(url: str, certificate: str | None) -> str:
    """How a link is protected: 'pinned' (HTTPS, one certificate), 'tls' (HTTPS, system
    CAs), 'loopback' (plain HTTP on this machine) or 'insecure' (plain HTTP over a network)."""
    if api_base(url).startswith("https://"):
        return "pinned" if certificate else "tls"
    return "loopback" if is_loopback(url) else "insecure"


@dataclass(frozen=True)
class RateLimit:
    limit: int | None
    remaining: int | None
    reset_at: float | None  # unix seconds

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimit | None:
        if "x-ratelimit-remaining" not in headers:
            return None
        return cls(
            _number(headers.get("x-ratelimit-limit"), int),
            _number(headers.get("x-ratelimit-remaining"), int),
            _number(headers.get("x-ratelimit-reset"), float),
        )

    def wait_s(self, now: float) -> float:
        """How long to hold off before the next request: 0 unless the window is spent, then
        until one request's worth of the window has passed (never past the reset time)."""
        if self.remaining is None or self.remaining > 0 or self.reset_at is None:
            return 0.0
        one_request = 60.0 / self.limit if self.limit else 1.0
        return max(0.0, min(self.reset_at - now, one_request))


def _number(value: str | None, kind: type) -> Any:
    try:
        return kind(value) if value is not None else None
    except ValueError:
        return None


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        moment = parse_http_date(value)
        return max(0.0, (moment - now).total_seconds()) if moment else None


class TickitzClient:
    """One upstream. Thread-safe (httpx.Client is); `close()` when done."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 2,
        backoff_s: float = 0.25,
        max_retry_wait_s: float = 10.0,
        clock: Clock = utc_now,
        on_date: DateObserver | None = None,
        on_node: Callable[[str], object] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], object] = time.sleep,
        certificate: str | None = None,
        insecure_http: bool = False,
    ) -> None:
        """`certificate` (PEM): trust only it (a hub's pinned certificate); without it an
        https upstream is checked against the system CA store (central). Plain HTTP to
        another machine needs `insecure_http`."""
        self.base_url = api_base(url)
        self.link = link_kind(url, certificate)
        if self.link == "insecure" and not insecure_http:
            raise Untrusted(
                f"{self.base_url} is plain HTTP to another machine: anyone on the network can"
                " read and change it. Use the hub's https:// setup code, or pass"
                " --insecure-http to accept that."
            )
        self.fingerprint = fingerprint_of(certificate) if certificate else None
        verify: Any = pinned_context(certificate) if certificate else True
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_retry_wait_s = max_retry_wait_s
        self.clock = clock
        self.on_date = on_date
        self.on_node = on_node  # may raise (UpstreamReset) to void this response
        self.sleep = sleep
        self.rate_limit: RateLimit | None = None
        self._lock = threading.Lock()
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                **({"Authorization": f"Bearer {api_key}"} if api_key else {}),
                "User-Agent": f"tickitz-scanner/{__version__}",
                "Accept": "application/json",
            },
            # A dead hub on the LAN costs at most the connect timeout, not the read timeout.
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
            transport=transport,
            follow_redirects=False,
            verify=verify,
        )

    def __repr__(self) -> str:
        return f"TickitzClient({self.base_url!r})"  # never the key

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TickitzClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the API -----------------------------------------------------------------------
    def list_events(self) -> list[dict[str, Any]]:
        body = self._request("GET", "/events")
        return _items(body)

    def get_event(self, event_id: str) -> dict[str, Any]:
        return self._request("GET", f"/events/{event_id}")

    def get_jwks(self, event_id: str) -> dict[str, Any]:
        return self._request("GET", f"/events/{event_id}/keys")

    def tickets_page(
        self, event_id: str, after: str | None, limit: int = 1000, *, sealed: bool = False
    ) -> dict:
        """Manifest changes since `after`: {data, nextCursor, hasMore}. ``sealed`` (a private
        gate): names come per ticket sealed (``sealedName``), never in the clear."""
        extra = {"names": "sealed"} if sealed else None
        return self._page(f"/events/{event_id}/tickets", after, limit, extra)

    def checkins_page(self, event_id: str, after: str | None, limit: int = 1000) -> dict:
        """Every node's check-ins since `after`: {data, nextCursor, hasMore}."""
        return self._page(f"/events/{event_id}/checkins", after, limit)

    def batch(
        self, device_id: str, checkins: list[dict[str, Any]], pending: int | None = None
    ) -> list[dict[str, Any]]:
        """Upload <= 500 check-ins; idempotent by id upstream, so safe to resend. `pending`:
        how many this node still holds after the batch (the hub's dashboard shows it)."""
        return self.send_batch(self.batch_body(device_id, checkins, pending))

    @staticmethod
    def batch_body(
        device_id: str, checkins: list[dict[str, Any]], pending: int | None = None
    ) -> bytes:
        """The upload's JSON, made apart from sending so an uploader can encode the next
        batch while one is in flight (the same bytes httpx's `json=` would send)."""
        if len(checkins) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} check-ins per batch")
        payload: dict[str, Any] = {"deviceId": device_id, "checkins": checkins}
        if pending is not None:
            payload["pending"] = max(0, pending)
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8")

    def send_batch(self, body: bytes) -> list[dict[str, Any]]:
        """POST a body from `batch_body`; the answers, one per check-in."""
        answer = self._request("POST", "/checkin/batch", content=body, headers=_JSON)
        return _items(answer, keys=("data", "results", "checkins"))

    def enrol(self, token: str) -> dict[str, Any]:
        """Exchange a setup code's one-time enrolment token for this device's key. Never
        retried: the token is spent by the first answer."""
        return self._request("POST", "/devices/enrol", json={"enrol": token}, retry=False)

    def scan(self, body: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Online scan; never retried (the caller falls back to a local verdict instead)."""
        return self._request("POST", "/checkin/scan", json=body, retry=False, timeout=timeout)

    def _page(
        self, path: str, after: str | None, limit: int, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, **(extra or {})}
        if after:
            params["after"] = after
        body = self._request("GET", path, params=params)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise BadResponse(f"{path}: expected a page with data")
        return body

    # --- plumbing ----------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        retry: bool = True,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            self._respect_rate_limit(retry)
            try:
                return self._send(method, path, timeout, **kwargs)
            except SyncError as exc:
                if not exc.retryable or attempt == attempts - 1:
                    raise
                wait = exc.retry_after
                if wait is None:
                    wait = self.backoff_s * (2**attempt) * random.uniform(0.5, 1.5)
                if wait > self.max_retry_wait_s:
                    raise  # the engine reschedules rather than block this long
                log.info("%s %s failed (%s); retry in %.2f s", method, path, exc, wait)
                self.sleep(wait)
        raise AssertionError("unreachable")

    def _respect_rate_limit(self, may_wait: bool) -> None:
        with self._lock:
            limit = self.rate_limit
        wait = limit.wait_s(time.time()) if limit else 0.0
        if wait <= 0:
            return
        if not may_wait or wait > self.max_retry_wait_s:
            raise RateLimited(429, "rate_limited", "rate-limit window spent", None, wait)
        self.sleep(wait)

    def _send(self, method: str, path: str, timeout: float | None, **kwargs: Any) -> Any:
        if timeout is not None:
            kwargs["timeout"] = timeout
        sent = self.clock()
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            if self.link == "pinned" and "CERTIFICATE_VERIFY_FAILED" in str(exc):
                # Not the pinned certificate: say whose it is (nothing was sent).
                message = explain_failure(self.base_url, self.fingerprint or "")
                raise Untrusted(message or f"{self.base_url}: {exc}") from exc
            raise Unreachable(
                f"{method} {self.base_url}{path}: {type(exc).__name__} {exc}"
            ) from exc
        except httpx.RemoteProtocolError as exc:
            if self.base_url.startswith("http://") and speaks_tls(self.base_url):
                # An HTTPS hub hangs up on plain HTTP: say so instead of "disconnected", and
                # refuse like a wrong pin (connect saves nothing, as it cannot ever work).
                raise Untrusted(
                    f"{self.base_url} speaks HTTPS, not plain HTTP: connect with the hub's setup"
                    " code, or its https:// address and certificate fingerprint (serve prints"
                    " both)"
                ) from exc
            raise Unreachable(
                f"{method} {self.base_url}{path}: {type(exc).__name__} {exc}"
            ) from exc
        except httpx.RequestError as exc:  # transport, and a body that will not decode
            raise Unreachable(
                f"{method} {self.base_url}{path}: {type(exc).__name__} {exc}"
            ) from exc
        received = self.clock()
        self._observe(response, sent, received)
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        if response.is_success:
            if body is None or isinstance(body, str):
                raise BadResponse(f"{response.status_code} without a JSON body")
            return body
        wait = retry_after_s(response.headers.get("retry-after"), received)
        raise api_error(response.status_code, body, wait)

    def _observe(self, response: httpx.Response, sent: datetime, received: datetime) -> None:
        node_id = response.headers.get(NODE_HEADER)
        if node_id and self.on_node is not None:
            self.on_node(node_id)
        limit = RateLimit.from_headers(response.headers)
        if limit is not None:
            with self._lock:
                self.rate_limit = limit
        if self.on_date is not None:
            date = parse_http_date(response.headers.get("date"))
            if date is not None:
                self.on_date(date, sent, received)


def _items(body: Any, keys: tuple[str, ...] = ("data",)) -> list[dict[str, Any]]:
    """A list, or the list under the first of `keys` an envelope has."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in keys:
            if isinstance(body.get(key), list):
                return body[key]
    raise BadResponse("expected a list of results")
