"""Webhook endpoints and the persistent delivery queue (the HTTP side lives in the server)."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from scanner_app.core.addresses import check_target_host
from scanner_app.core.atrest import RestCipher, file_key_source, webhook_context
from scanner_app.core.db import Database
from scanner_app.core.errors import NotFound, ValidationError
from scanner_app.core.ids import checkin_id, short_id
from scanner_app.core.timeutil import Clock, iso_ms, utc_now
from scanner_app.core.validate import valid_host

EVENT_TYPES = (
    "ticket.used",
    "ticket.created",
    "booking.cancelled",
    "event.sold_out",
    "checkin.conflict",  # one ticket admitted at two doors: both gates and door times
)
MAX_WEBHOOKS = 50
# A delivery is retried with growing delays and given up after this many attempts.
MAX_ATTEMPTS = 15
_SUBSCRIPTION_TTL = 1.0


def _webhook_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "url": row["url"],
        "events": json.loads(row["events"]),
        "createdAt": row["created_at"],
        "deletedAt": row["deleted_at"],
    }


def check_url(url: Any, allow_private: bool = False) -> str:
    """An absolute http(s) URL whose host a client can actually look up, or ValidationError.

    The delivery worker would otherwise meet the bad host on every retry. Loopback,
    link-local, multicast and private targets are refused unless ``allow_private``.
    """
    if not isinstance(url, str) or len(url) > 2000:
        raise ValidationError("url must be an http(s) URL", field="url")
    url = url.strip()
    if any(char.isspace() or not char.isprintable() for char in url):
        raise ValidationError("url must not contain spaces or control characters", field="url")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValidationError("url is not a valid URL", field="url") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationError("url must be an absolute http:// or https:// URL", field="url")
    if not valid_host(host):
        raise ValidationError(f"url has an invalid host name: {host[:80]}", field="url")
    check_target_host(host, allow_private)
    return url


class WebhookStore:
    """Registered endpoints, and deliveries queued in the same transaction as the change."""

    def __init__(
        self, db: Database, clock: Clock = utc_now, cipher: RestCipher | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        # Secrets are sealed at rest (atrest.py): a stolen database cannot sign deliveries.
        self.cipher = cipher or RestCipher(file_key_source(db.path.parent))
        self._subscribed: tuple[float, frozenset[str]] | None = None
        self._lock = threading.Lock()
        self.on_enqueue: list[Any] = []  # callables poked after a commit that queued work

    # --- endpoints -----------------------------------------------------------------------
    def register(
        self, url: str, events: list[str], *, allow_private: bool = False
    ) -> dict[str, Any]:
        """A new endpoint; the answer carries the signing secret (shown here only)."""
        url = check_url(url, allow_private)
        if not isinstance(events, list) or not events:
            raise ValidationError("events must be a non-empty list", field="events")
        unknown = [e for e in events if e not in EVENT_TYPES]
        if unknown:
            raise ValidationError(
                f"unknown event {unknown[0]!r}; events are: {', '.join(EVENT_TYPES)}",
                field="events",
            )
        webhook_id = short_id("whk")
        secret = "whsec_" + secrets.token_urlsafe(32)
        with self.db.write() as conn:
            active = conn.execute(
                "SELECT COUNT(*) FROM webhooks WHERE deleted_at IS NULL"
            ).fetchone()[0]
            if active >= MAX_WEBHOOKS:
                raise ValidationError(f"at most {MAX_WEBHOOKS} webhooks", field="url")
            conn.execute(
                "INSERT INTO webhooks (id, url, events, secret, created_at) VALUES (?,?,?,?,?)",
                (
                    webhook_id,
                    url,
                    json.dumps(sorted(set(events))),
                    self.cipher.seal(secret, webhook_context(webhook_id)),
                    iso_ms(self.clock()),
                ),
            )
        self._forget()
        row = self.db.query_one("SELECT * FROM webhooks WHERE id = ?", (webhook_id,))
        return {**_webhook_json(row), "secret": secret}

    def list(self) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT * FROM webhooks WHERE deleted_at IS NULL ORDER BY created_at, id"
        )
        return [_webhook_json(r) for r in rows]

    def get(self, webhook_id: str) -> dict[str, Any]:
        row = self.db.query_one(
            "SELECT * FROM webhooks WHERE id = ? AND deleted_at IS NULL", (webhook_id,)
        )
        if row is None:
            raise NotFound(f"No webhook with ID {webhook_id} exists.")
        return _webhook_json(row)

    def delete(self, webhook_id: str) -> dict[str, Any]:
        """Soft delete (deliveries keep their history); pending deliveries are dropped."""
        self.get(webhook_id)
        with self.db.write() as conn:
            conn.execute(
                "UPDATE webhooks SET deleted_at = ? WHERE id = ?",
                (iso_ms(self.clock()), webhook_id),
            )
            conn.execute(
                "UPDATE webhook_deliveries SET status = 'cancelled'"
                " WHERE webhook_id = ? AND status = 'pending'",
                (webhook_id,),
            )
        self._forget()
        row = self.db.query_one("SELECT * FROM webhooks WHERE id = ?", (webhook_id,))
        return _webhook_json(row)

    def subscribed(self, event_type: str) -> bool:
        """Whether any endpoint wants this type; cached briefly (asked on every scan)."""
        now = time.monotonic()
        with self._lock:
            cached = self._subscribed
        if cached is None or now - cached[0] > _SUBSCRIPTION_TTL:
            types: set[str] = set()
            for row in self.db.query("SELECT events FROM webhooks WHERE deleted_at IS NULL"):
                types.update(json.loads(row["events"]))
            cached = (now, frozenset(types))
            with self._lock:
                self._subscribed = cached
        return event_type in cached[1]

    def _forget(self) -> None:
        with self._lock:
            self._subscribed = None

    # --- the queue -----------------------------------------------------------------------
    def enqueue(self, conn: sqlite3.Connection, event_type: str, data: dict[str, Any]) -> int:
        """Queue one notification for every subscribed endpoint, inside the caller's transaction.

        The body is fixed now (one id per notification, shared by every endpoint, so
        receivers can de-duplicate retries); only the signature is made at send time.
        """
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown webhook event {event_type}")
        hooks = [
            r["id"]
            for r in conn.execute("SELECT id, events FROM webhooks WHERE deleted_at IS NULL")
            if event_type in json.loads(r["events"])
        ]
        if not hooks:
            return 0
        now = iso_ms(self.clock())
        body = json.dumps(
            {"id": "whe_" + checkin_id()[4:], "type": event_type, "createdAt": now, "data": data},
            separators=(",", ":"),
            ensure_ascii=False,
        )
        conn.executemany(
            "INSERT INTO webhook_deliveries (id, webhook_id, event_type, body, next_attempt_at,"
            " created_at) VALUES (?,?,?,?,?,?)",
            [(short_id("dlv"), hook, event_type, body, now, now) for hook in hooks],
        )
        return len(hooks)

    def poke(self) -> None:
        """Tell the delivery worker that work was committed (call after the transaction)."""
        for callback in self.on_enqueue:
            callback()

    def due(self, limit: int = 20) -> list[dict[str, Any]]:
        """Pending deliveries whose time has come, with their endpoint's URL and secret."""
        rows = self.db.query(
            "SELECT d.id, d.webhook_id, d.event_type, d.body, d.attempts, w.url, w.secret"
            " FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id"
            " WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.deleted_at IS NULL"
            " ORDER BY d.next_attempt_at, d.created_at LIMIT ?",
            (iso_ms(self.clock()), limit),
        )
        return [
            {**r, "secret": self.cipher.open(r["secret"], webhook_context(r["webhook_id"]))}
            for r in map(dict, rows)
        ]

    def next_due(self) -> datetime | None:
        row = self.db.query_one(
            "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'"
        )
        if row is None or row[0] is None:
            return None
        return datetime.fromisoformat(row[0].replace("Z", "+00:00"))

    def mark_delivered(self, delivery_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1,"
                " delivered_at = ?, last_error = NULL WHERE id = ? AND status = 'pending'",
                (iso_ms(self.clock()), delivery_id),
            )

    def mark_failed(self, delivery_id: str, error: str, retry_in: float | None) -> None:
        """Record a failed attempt; retry_in None (or attempts used up) gives up."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT attempts FROM webhook_deliveries WHERE id = ? AND status = 'pending'",
                (delivery_id,),
            ).fetchone()
            if row is None:  # gone, or cancelled (webhook deleted) while it was in flight
                return
            attempts = row["attempts"] + 1
            give_up = retry_in is None or attempts >= MAX_ATTEMPTS
            next_at = self.clock() + timedelta(seconds=retry_in or 0)
            conn.execute(
                "UPDATE webhook_deliveries SET attempts = ?, last_error = ?, status = ?,"
                " next_attempt_at = ? WHERE id = ?",
                (
                    attempts,
                    error[:500],
                    "failed" if give_up else "pending",
                    iso_ms(next_at),
                    delivery_id,
                ),
            )

    def deliveries(self, webhook_id: str, limit: int = 50) -> list[dict[str, Any]]:
        self.get(webhook_id)
        rows = self.db.query(
            "SELECT id, event_type, status, attempts, next_attempt_at, last_error, created_at,"
            " delivered_at FROM webhook_deliveries WHERE webhook_id = ?"
            " ORDER BY created_at DESC, id LIMIT ?",
            (webhook_id, max(1, min(limit, 500))),
        )
        return [
            {
                "id": r["id"],
                "type": r["event_type"],
                "status": r["status"],
                "attempts": r["attempts"],
                "nextAttemptAt": r["next_attempt_at"],
                "lastError": r["last_error"],
                "createdAt": r["created_at"],
                "deliveredAt": r["delivered_at"],
            }
            for r in rows
        ]
