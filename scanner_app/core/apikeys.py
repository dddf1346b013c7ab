"""API keys and gate devices: creation, hashed storage, lookup, revocation."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scanner_app.core.db import Database
from scanner_app.core.errors import NotFound, ValidationError
from scanner_app.core.ids import short_id
from scanner_app.core.timeutil import Clock, iso_ms, utc_now
from scanner_app.core.validate import refuse_controls

KEY_PREFIX = "tk_live_"
SCOPES = (
    "events:read",
    "events:write",
    "bookings:read",
    "bookings:write",
    "checkin:write",
    "webhooks:write",
)
GATE_SCOPES = ("events:read", "bookings:read", "checkin:write")
KINDS = ("organiser", "gate")
# Requests per minute and burst per key kind (a gate posts far more than an organiser).
DEFAULT_RATES = {"organiser": (1000, 1500), "gate": (6000, 9000)}
_DISPLAY_PREFIX = len(KEY_PREFIX) + 4


def hash_key(secret: str) -> str:
    """SHA-256 hex of a key.

    The keys are 256 random bits, so a fast hash is enough: a slow KDF only helps
    low-entropy secrets such as passwords, and would cost every request.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    scopes: frozenset[str]
    kind: str
    rate_limit: int
    rate_burst: int
    created_at: str
    revoked_at: str | None
    last_used_at: str | None
    device_id: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def to_json(self) -> dict[str, Any]:
        """Public view: never the key or its hash."""
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scopes": sorted(self.scopes),
            "kind": self.kind,
            "rateLimit": self.rate_limit,
            "rateBurst": self.rate_burst,
            "createdAt": self.created_at,
            "revokedAt": self.revoked_at,
            "lastUsedAt": self.last_used_at,
            "deviceId": self.device_id,
        }


_KEY_SQL = "SELECT k.*, d.id AS device_id FROM api_keys k LEFT JOIN devices d ON d.key_id = k.id"


def _from_row(row: sqlite3.Row) -> ApiKey:
    kind = row["kind"]
    limit, burst = DEFAULT_RATES.get(kind, DEFAULT_RATES["organiser"])
    return ApiKey(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=frozenset(json.loads(row["scopes"])),
        kind=kind,
        rate_limit=row["rate_limit"] or limit,
        rate_burst=row["rate_burst"] or burst,
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
        device_id=row["device_id"],
    )


def check_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise ValidationError(
            f"unknown scope {unknown[0]!r}; scopes are: {', '.join(SCOPES)}", field="scopes"
        )
    if not chosen:
        raise ValidationError("a key needs at least one scope", field="scopes")
    return chosen


class ApiKeyStore:
    """Keys are shown once at creation; the store keeps only their SHA-256."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self.db = db
        self.clock = clock
        self.generation = 0  # bumped on every change, so caches of lookups know to forget

    def create(
        self,
        name: str,
        scopes: Iterable[str],
        *,
        kind: str = "organiser",
        rate_limit: int | None = None,
        rate_burst: int | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key: (record, the secret). The secret is not stored and cannot be recovered."""
        with self.db.write() as conn:
            key_id, secret = self.insert(conn, name, scopes, kind, rate_limit, rate_burst)
        self.generation += 1
        return self.get(key_id), secret

    def insert(
        self,
        conn: sqlite3.Connection,
        name: str,
        scopes: Iterable[str],
        kind: str = "organiser",
        rate_limit: int | None = None,
        rate_burst: int | None = None,
    ) -> tuple[str, str]:
        """Insert inside the caller's transaction; returns (key id, secret)."""
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ValidationError("name must be 1..100 characters", field="name")
        if kind not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}", field="kind")
        for field, value in (("rateLimit", rate_limit), ("rateBurst", rate_burst)):
            if value is not None and not 1 <= value <= 10**7:
                raise ValidationError(f"{field} must be 1..10000000", field=field)
        chosen = check_scopes(scopes)
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key_id = short_id("key")
        conn.execute(
            "INSERT INTO api_keys (id, name, prefix, key_hash, scopes, kind, rate_limit,"
            " rate_burst, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                key_id,
                name.strip(),
                secret[:_DISPLAY_PREFIX],
                hash_key(secret),
                json.dumps(chosen),
                kind,
                rate_limit,
                rate_burst,
                iso_ms(self.clock()),
            ),
        )
        return key_id, secret

    def authenticate(self, secret: str) -> ApiKey | None:
        """The key record for a presented secret (revoked ones included), or None."""
        if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
            return None
        digest = hash_key(secret)
        # The lookup is by hash, so timing reveals nothing about the secret itself;
        # compare_digest re-checks the match in constant time anyway.
        row = self.db.query_one(_KEY_SQL + " WHERE k.key_hash = ?", (digest,))
        if row is None or not hmac.compare_digest(row["key_hash"], digest):
            return None
        return _from_row(row)

    def get(self, key_id: str) -> ApiKey:
        row = self.db.query_one(_KEY_SQL + " WHERE k.id = ?", (key_id,))
        if row is None:
            raise NotFound(f"No API key with ID {key_id} exists.")
        return _from_row(row)

    def list(self, include_revoked: bool = True) -> list[ApiKey]:
        sql = _KEY_SQL + ("" if include_revoked else " WHERE k.revoked_at IS NULL")
        return [_from_row(r) for r in self.db.query(sql + " ORDER BY k.created_at, k.id")]

    def ensure_organiser(self) -> str | None:
        """A new all-scopes organiser key when none is active (its secret), else None."""
        with self.db.write() as conn:  # counted and created in one transaction: one key
            active = conn.execute(
                "SELECT COUNT(*) FROM api_keys WHERE kind = 'organiser' AND revoked_at IS NULL"
            ).fetchone()[0]
            if active:
                return None
            _, secret = self.insert(conn, "organiser", SCOPES, "organiser")
        self.generation += 1
        return secret

    def revoke(self, key_id: str) -> ApiKey:
        """Revoked keys answer 401 from the next request on; revoking twice is harmless."""
        with self.db.write() as conn:
            row = conn.execute("SELECT 1 FROM api_keys WHERE id = ?", (key_id,)).fetchone()
            if row is None:
                raise NotFound(f"No API key with ID {key_id} exists.")
            conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (iso_ms(self.clock()), key_id),
            )
        self.generation += 1
        return self.get(key_id)

    def record_use(self, key_times: dict[str, str], device_times: dict[str, str]) -> None:
        """Store last-used / last-seen times collected in memory (one write for many requests)."""
        if not key_times and not device_times:
            return
        with self.db.write() as conn:
            conn.executemany(
                "UPDATE api_keys SET last_used_at = ? WHERE id = ?",
                [(at, key_id) for key_id, at in key_times.items()],
            )
            conn.executemany(
                "UPDATE devices SET last_seen_at = ? WHERE id = ?",
                [(at, device_id) for device_id, at in device_times.items()],
            )


class DeviceStore:
    """Gate devices: a gate-kind key bound to an event and a gate name."""

    def __init__(self, db: Database, keys: ApiKeyStore, clock: Clock = utc_now) -> None:
        self.db = db
        self.keys = keys
        self.clock = clock

    def create(self, name: str, event_id: str, gate: str) -> tuple[dict[str, Any], str]:
        """(device, the gate key's secret); the key has GATE_SCOPES."""
        for field, value in (("name", name), ("gate", gate), ("eventId", event_id)):
            if not isinstance(value, str) or not value.strip() or len(value) > 100:
                raise ValidationError(f"{field} must be 1..100 characters", field=field)
            refuse_controls(value, field)
        device_id = short_id("dev")
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone() is None:
                raise NotFound(f"No event with ID {event_id} exists.")
            key_id, secret = self.keys.insert(conn, f"gate {name.strip()}", GATE_SCOPES, "gate")
            conn.execute(
                "INSERT INTO devices (id, name, event_id, gate, key_id, created_at)"
                " VALUES (?,?,?,?,?,?)",
                (device_id, name.strip(), event_id, gate.strip(), key_id, iso_ms(self.clock())),
            )
        return self.get(device_id), secret

    def get(self, device_id: str) -> dict[str, Any]:
        row = self.db.query_one(_DEVICE_SQL + " WHERE d.id = ?", (device_id,))
        if row is None:
            raise NotFound(f"No device with ID {device_id} exists.")
        return _device_json(row)

    def list(self, event_id: str | None = None) -> list[dict[str, Any]]:
        sql, params = _DEVICE_SQL, ()
        if event_id:
            sql, params = sql + " WHERE d.event_id = ?", (event_id,)
        return [_device_json(r) for r in self.db.query(sql + " ORDER BY d.created_at", params)]

    def revoke(self, device_id: str) -> dict[str, Any]:
        device = self.get(device_id)
        self.keys.revoke(device["keyId"])
        return self.get(device_id)

    @staticmethod
    def count_received(conn: sqlite3.Connection, device_id: str, count: int, at: str) -> None:
        """Inside the upload's transaction, so the counter matches what was stored."""
        conn.execute(
            "UPDATE devices SET checkins_received = checkins_received + ?, last_seen_at = ?"
            " WHERE id = ?",
            (count, at, device_id),
        )

    @staticmethod
    def record_report(
        conn: sqlite3.Connection, device_id: str, pending: int | None, version: str | None, at: str
    ) -> None:
        """What the gate said about itself on its last sync (a field left out keeps its value)."""
        conn.execute(
            "UPDATE devices SET pending = COALESCE(?, pending),"
            " app_version = COALESCE(?, app_version), reported_at = ? WHERE id = ?",
            (pending, version, at, device_id),
        )


_DEVICE_SQL = "SELECT d.*, k.revoked_at FROM devices d JOIN api_keys k ON k.id = d.key_id"


def _device_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "eventId": row["event_id"],
        "gate": row["gate"],
        "keyId": row["key_id"],
        "createdAt": row["created_at"],
        "lastSeenAt": row["last_seen_at"],
        "checkinsReceived": row["checkins_received"],
        "revoked": row["revoked_at"] is not None,
        "pending": row["pending"],
        "appVersion": row["app_version"],
        "reportedAt": row["reported_at"],
    }
