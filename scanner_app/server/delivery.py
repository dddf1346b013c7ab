"""The webhook delivery worker: a thread that drains the persistent queue with backoff.

It also writes the keys' last-used times now and then (one small transaction, off the
request path).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import threading
import time

import httpx

from scanner_app.server.hub import Hub

log = logging.getLogger("scanner_app.server.webhooks")
SIGNATURE_HEADER = "Tickitz-Signature"
_IDLE_WAIT = 5.0


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (DESIGN.md §6)."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def backoff(attempts: int, base: float, cap: float) -> float:
    """Delay before the next try: base * 2^(attempts-1), capped, with +-20% jitter so
    endpoints that come back are not hit by every queued delivery at once."""
    delay = min(cap, base * (2 ** max(attempts - 1, 0)))
    return delay * random.uniform(0.8, 1.2)


class DeliveryWorker:
    """Sends due deliveries one at a time; woken early when a transaction queued new ones."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.config = hub.config
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_flush = time.monotonic()

    def start(self) -> None:
        self.hub.webhooks.on_enqueue.append(self._wake.set)
        self._thread = threading.Thread(target=self._run, name="webhook-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._wake.set in self.hub.webhooks.on_enqueue:
            self.hub.webhooks.on_enqueue.remove(self._wake.set)
        self._flush_usage()

    def _run(self) -> None:
        with httpx.Client(timeout=self.config.webhook_timeout, follow_redirects=False) as client:
            while not self._stop.is_set():
                try:
                    if self.config.deliver_webhooks:
                        self._deliver_due(client)
                    if time.monotonic() - self._last_flush >= self.config.usage_flush_seconds:
                        self._flush_usage()
                except Exception:  # a bad row or a locked database must not kill the worker
                    log.exception("webhook worker iteration failed")
                self._wake.wait(self._wait_seconds())
                self._wake.clear()

    def _wait_seconds(self) -> float:
        wait = min(_IDLE_WAIT, self.config.usage_flush_seconds)
        if not self.config.deliver_webhooks:
            return wait
        due = self.hub.webhooks.next_due()
        if due is not None:
            wait = min(wait, max(0.0, (due - self.hub.node.clock()).total_seconds()))
        return max(wait, 0.01)

    def _deliver_due(self, client: httpx.Client) -> None:
        while not self._stop.is_set():
            batch = self.hub.webhooks.due(limit=20)
            if not batch:
                return
            for delivery in batch:
                if self._stop.is_set():
                    return
                self._deliver(client, delivery)

    def _deliver(self, client: httpx.Client, delivery: dict) -> None:
        body = delivery["body"].encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "tickitz-scanner-hub",
            SIGNATURE_HEADER: sign(delivery["secret"], body, int(time.time())),
            "Tickitz-Delivery": delivery["id"],
        }
        try:
            response = client.post(delivery["url"], content=body, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            # InvalidURL and the idna codec's UnicodeError are not HTTPErrors; uncaught,
            # one bad row would stop every delivery queued behind it.
            error = f"{type(exc).__name__}: {exc}"[:500]
        else:
            if 200 <= response.status_code < 300:
                self.hub.webhooks.mark_delivered(delivery["id"])
                return
            error = f"HTTP {response.status_code}"
        base, cap = self.config.webhook_backoff
        delay = backoff(delivery["attempts"] + 1, base, cap)
        log.info(
            "webhook %s to %s failed (%s); retry in %.1fs",
            delivery["id"],
            delivery["url"],
            error,
            delay,
        )
        self.hub.webhooks.mark_failed(delivery["id"], error, delay)

    def _flush_usage(self) -> None:
        self._last_flush = time.monotonic()
        keys, devices = self.hub.usage.take()
        try:
            self.hub.keys.record_use(keys, devices)
        except Exception:
            log.exception("could not record key usage")
