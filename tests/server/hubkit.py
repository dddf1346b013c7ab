"""Helpers for the hub tests: keys, clients, events, the envelope, a webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from scanner_app.core.apikeys import SCOPES
from scanner_app.server import HubServer

# The receivers run on 127.0.0.1, allowed as `serve --allow-private-webhooks` does.
FAST_WEBHOOKS = {
    "webhook_backoff": (0.2, 0.8),
    "webhook_timeout": 2.0,
    "usage_flush_seconds": 0.3,
    "allow_private_webhooks": True,
}


def make_key(server: HubServer, scopes=SCOPES, name="test", **rates) -> str:
    _, secret = server.hub.keys.create(name, scopes, **rates)
    return secret


def client_for(server: HubServer, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=20)


def create_event(api: httpx.Client, publish: bool = True, **overrides) -> dict:
    body = {
        "title": "Neon Nights",
        "startsAt": "2026-08-10T20:00:00Z",
        "tiers": [{"name": "GA", "price": 4999, "quantity": 100}, {"name": "VIP", "quantity": 3}],
        **overrides,
    }
    response = api.post("/v1/events", json=body)
    assert response.status_code == 201, response.text
    event = response.json()
    if publish:
        event = api.post(f"/v1/events/{event['id']}/publish").json()
    return event


def issue(api: httpx.Client, event_id: str, tier: str = "GA", quantity: int = 1, name="Ada L."):
    response = api.post(
        f"/v1/events/{event_id}/tickets",
        json={"tierName": tier, "attendeeName": name, "quantity": quantity},
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def assert_envelope(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """The seed's error envelope, with the request id echoed in X-Request-Id."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "status", "requestId"}
    assert error["status"] == status
    assert error["requestId"] == response.headers["x-request-id"]
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does: recompute HMAC-SHA256(secret, "<t>.<raw body>")."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    fresh = abs(time.time() - int(parts["t"])) <= tolerance
    return fresh and hmac.compare_digest(expected, parts["v1"])


class Receiver:
    """A tiny webhook receiver on 127.0.0.1 that can be taken down and brought back."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, bytes, dict]] = []
        self.status = 200
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._changed = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(receiver.status)
                self.end_headers()
                if receiver.status < 300:
                    with receiver._changed:
                        receiver.received.append((dict(self.headers), body, json.loads(body)))
                        receiver._changed.notify_all()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.allow_reuse_address = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.received) >= count, timeout)
            return [payload for _, _, payload in self.received]


def enrolled(http: httpx.Client, device: dict) -> dict:
    """The device with its key, as a gate gets it: its setup code's one-time `enrol` token
    exchanged at POST /v1/devices/enrol (DESIGN.md §10)."""
    import base64  # noqa: PLC0415

    encoded = device["setupPayload"].removeprefix("tickitz-setup:")
    offer = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    answer = http.post("/v1/devices/enrol", json={"enrol": offer["enrol"]}, headers={})
    assert answer.status_code == 200, answer.text
    return {**device, "key": answer.json()["key"]}
