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

from scanner_app.core.addresses import RefusedTarget, resolve_target
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
        # No proxies from the environment: the worker connects to the address it checked.
        with httpx.Client(
            timeout=self.config.webhook_timeout, follow_redirects=False, trust_env=False
        ) as client:
            while not self._stop.is_set():
                wait = _IDLE_WAIT
                # Anything (a bad row, a locked or full database, in the wait computation
                # too) is logged and retried: a dead worker stops deliveries and key-usage
                # writes until a restart.
                try:
                    if self.config.deliver_webhooks:
                        self._deliver_due(client)
                    if time.monotonic() - self._last_flush >= self.config.usage_flush_seconds:
                        self._flush_usage()
                    wait = self._wait_seconds()
                except Exception:
                    log.exception("webhook worker iteration failed")
                self._wake.wait(wait)
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
        # The delivery log is readable with a webhooks:write key: it says "delivery failed"
        # and, if the receiver answered, its status - never why a connection failed (refused
        # / timed out / reset would map the network). The hub's own log has the detail.
        try:
            request = self._pinned_request(client, delivery["url"], body, headers)
            response = client.send(request)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, RefusedTarget) as exc:
            # InvalidURL and the idna codec's UnicodeError are not HTTPErrors; uncaught,
            # one bad row would stop every delivery queued behind it.
            detail = f"{type(exc).__name__}: {exc}"[:300]
            error = "delivery failed"
        else:
            if 200 <= response.status_code < 300:
                self.hub.webhooks.mark_delivered(delivery["id"])
                return
            detail = error = f"delivery failed: HTTP {response.status_code}"
        base, cap = self.config.webhook_backoff
        delay = backoff(delivery["attempts"] + 1, base, cap)
        log.info(
            "webhook %s to %s failed (%s); retry in %.1fs",
            delivery["id"],
            delivery["url"],
            detail,
            delay,
        )
        self.hub.webhooks.mark_failed(delivery["id"], error, delay)

    def _pinned_request(
        self, client: httpx.Client, url: str, body: bytes, headers: dict[str, str]
    ) -> httpx.Request:
        """The request to ``url`` sent to the one address its host resolved to and that
        passed the check (no second lookup, so no DNS rebinding). The Host header and, for
        https, the TLS server name and certificate check still use the host name."""
        target = httpx.URL(url)
        port = target.port or (443 if target.scheme == "https" else 80)
        address = resolve_target(target.host, port, self.config.allow_private_webhooks)
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        return client.build_request(
            "POST",
            target.copy_with(host=address),
            content=body,
            headers={**headers, "Host": target.netloc.decode("ascii")},
            extensions=extensions,
        )

    def _flush_usage(self) -> None:
        self._last_flush = time.monotonic()
        keys, devices = self.hub.usage.take()
        try:
            self.hub.keys.record_use(keys, devices)
        except Exception:
            log.exception("could not record key usage")
