"""A black-box client kit for the contract suite: only DESIGN.md and the seed's API docs.

Nothing here imports scanner_app: the product is the `tickitz-scanner` executable, started
as a user would start it, and spoken to over HTTP with httpx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import zxingcpp

EXE = str(Path(sys.executable).with_name("tickitz-scanner"))
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
REASONS = {
    "malformed",
    "bad_signature",
    "unknown_key",
    "unknown_event",
    "wrong_event",
    "not_yet_valid",
    "expired",
    "revoked",
    "event_cancelled",
    "tier_not_allowed",
    "already_checked_in",
    "not_checked_in",
}
# DESIGN.md §4: the seed's checkin.scan fields plus these.
SCAN_FIELDS = {
    "success",
    "alreadyCheckedIn",
    "attendeeName",
    "tierName",
    "checkedInAt",
    "firstCheckedInAt",
    "reason",
    "ticketId",
    "eventId",
    "direction",
    "offline",
    "firstScannedBy",
}
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
SEED_ERROR_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    429: "rate_limited",
}


def seed_event(title: str = "Neon Nights", **changes: Any) -> dict[str, Any]:
    """The seed's own `events.create` example body."""
    body = {
        "title": title,
        "description": "An immersive outdoor music experience.",
        "startsAt": "2025-08-10T20:00:00Z",
        "endsAt": "2025-08-11T04:00:00Z",
        "venue": {"name": "Riverside Amphitheatre", "address": "123 River Rd, Austin TX"},
        "tiers": [
            {"name": "Early Bird", "price": 2999, "quantity": 200},
            {"name": "General", "price": 4999, "quantity": 800},
            {"name": "VIP", "price": 12999, "quantity": 100},
        ],
        "maxCapacity": 1100,
        "settings": {
            "requiresApproval": False,
            "resaleEnabled": True,
            "refundPolicy": "72h",
            "queueEnabled": True,
        },
    }
    body.update(changes)
    return body


def run_cli(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    # No key from the environment, and never the developer's own OS keyring (issue 4: the
    # key goes to a 0600 file where there is no keyring).
    env = {k: v for k, v in os.environ.items() if k != "TICKITZ_API_KEY"}
    env["TICKITZ_NO_KEYRING"] = "1"
    return subprocess.run(
        [EXE, "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


class Hub:
    """`tickitz-scanner serve --port 0` on a data dir; stdout and stderr captured throughout."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            [EXE, "--data-dir", str(data_dir), "serve", "--port", "0", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._url_seen = threading.Event()
        self.url = ""
        for stream, sink in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self._drain, args=(stream, sink), daemon=True).start()
        if not self._url_seen.wait(30):
            self.process.kill()
            raise RuntimeError("serve did not start: " + "".join(self.err))
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(self.url + "/v1/events", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        # The organiser key, printed once on stdout (before the address line on stderr).
        self.key = self.out[0].strip() if self.out else None

    def _drain(self, stream: Any, sink: list[str]) -> None:
        for line in stream:
            sink.append(line)
            match = re.search(r"http://([0-9.]+):(\d+)", line)
            if match and not self._url_seen.is_set() and sink is self.err:
                self.url = f"http://{match.group(1)}:{match.group(2)}"
                self._url_seen.set()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    def client(self, key: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=15, **kwargs)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        time.sleep(0.05)  # let the drain threads take the last lines
        return self.process.returncode


def new_key(data_dir: Path, *args: str) -> str:
    """`keys create ...`: only the key on stdout."""
    done = run_cli(data_dir, "keys", "create", *args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tk_"), done.stdout
    return lines[0]


def check_envelope(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """The seed's error envelope, X-Request-Id = requestId, the rate-limit headers."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message", "status", "requestId"} <= set(error), error
    assert error["status"] == status
    assert isinstance(error["message"], str) and error["message"].strip()
    assert isinstance(error["code"], str) and re.fullmatch(r"[a-z_]+", error["code"])
    expected = code or SEED_ERROR_CODES.get(status)
    if expected:
        assert error["code"] == expected, error
    assert error["requestId"] and response.headers["X-Request-Id"] == error["requestId"]
    check_rate_headers(response)
    assert "Traceback" not in response.text and 'File "' not in response.text
    return error


def check_rate_headers(response: httpx.Response) -> tuple[int, int, int]:
    values = []
    for name in RATE_HEADERS:
        assert name in response.headers, (name, dict(response.headers))
        assert re.fullmatch(r"\d+", response.headers[name]), (name, response.headers[name])
        values.append(int(response.headers[name]))
    limit, remaining, reset = values
    assert limit >= 1 and 0 <= remaining <= limit, (limit, remaining)
    assert reset >= int(time.time()) - 1  # a unix timestamp, not a number of seconds
    return limit, remaining, reset


def check_scan_result(result: dict[str, Any]) -> None:
    """DESIGN.md §4: camelCase fields, times ISO 8601 UTC with ms and Z, closed reasons."""
    assert SCAN_FIELDS <= set(result), SCAN_FIELDS - set(result)
    assert all("_" not in name for name in result), result
    assert isinstance(result["success"], bool) and isinstance(result["alreadyCheckedIn"], bool)
    assert isinstance(result["offline"], bool)
    assert result["direction"] in ("in", "out")
    assert ISO_MS_Z.match(result["checkedInAt"]), result["checkedInAt"]
    if result["firstCheckedInAt"] is not None:
        assert ISO_MS_Z.match(result["firstCheckedInAt"]), result["firstCheckedInAt"]
    if result["success"]:
        assert result["reason"] is None and result["alreadyCheckedIn"] is False
    else:
        assert result["reason"] in REASONS, result["reason"]
    assert result["alreadyCheckedIn"] == (result["reason"] == "already_checked_in")


def decode_qr(png: bytes) -> str:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None, "not an image"
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found, "no QR code in the image"
    return found[0].text


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def expected_signature(secret: str, timestamp: str, raw: bytes) -> str:
    message = timestamp.encode() + b"." + raw
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class Receiver:
    """A webhook receiver on 127.0.0.1, port 0: keeps every POST's headers and raw body."""

    def __init__(self, port: int = 0) -> None:
        received = self.received = []
        arrived = self.arrived = threading.Condition()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with arrived:
                    received.append((dict(self.headers), raw))
                    arrived.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> tuple[dict, bytes]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for headers, raw in self.received:
                    if predicate(json.loads(raw)):
                        return headers, raw
                left = deadline - time.monotonic()
                assert left > 0, f"no matching delivery; got {len(self.received)}"
                self.arrived.wait(left)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def enrolled(hub: Hub, device: dict) -> dict:
    """The device with its key, as a gate gets it: the setup code's one-time `enrol` token
    exchanged at POST /v1/devices/enrol (DESIGN.md §10; no API key needed)."""
    encoded = device["setupPayload"].removeprefix("tickitz-setup:")
    offer = json.loads(b64url_decode(encoded.rstrip("=")))
    with hub.client(None) as anonymous:
        answer = anonymous.post("/v1/devices/enrol", json={"enrol": offer["enrol"]})
    assert answer.status_code == 200, answer.text
    return {**device, "key": answer.json()["key"]}
