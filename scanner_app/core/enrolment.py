"""Enrolment offers: a gate's setup code carries a one-time token, never its key (§10).

The hub makes a device with a key nobody has seen; `offer` gives a short-lived, single-use
enrolment token for it; `redeem` exchanges that token, once, for a fresh secret of the
device's key (the only moment the key exists outside the hub, and only as a hash inside).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Any

from scanner_app.core.apikeys import KEY_PREFIX, ApiKeyStore, DeviceStore, hash_key
from scanner_app.core.db import Database
from scanner_app.core.errors import TickitzError
from scanner_app.core.timeutil import Clock, iso_ms, parse_iso, utc_now

ENROL_PREFIX = "tk_enrol_"
DEFAULT_TTL = timedelta(minutes=15)
_DISPLAY_PREFIX = len(KEY_PREFIX) + 4


class EnrolmentRefused(TickitzError):
    """The one answer for an unknown, used or expired token (which one is not revealed)."""

    status = 401
    code = "unauthorized"


class EnrolmentStore:
    def __init__(
        self, db: Database, keys: ApiKeyStore, devices: DeviceStore, clock: Clock = utc_now
    ) -> None:
        self.db = db
        self.keys = keys
        self.devices = devices
        self.clock = clock

    def offer(self, device_id: str, ttl: timedelta = DEFAULT_TTL) -> tuple[str, str]:
        """(a new enrolment token, when it expires as ISO UTC) for a device."""
        self.devices.get(device_id)
        token = ENROL_PREFIX + secrets.token_urlsafe(24)
        now = self.clock()
        expires = iso_ms(now + ttl)
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO enrolments (token_hash, device_id, created_at, expires_at)"
                " VALUES (?,?,?,?)",
                (hash_key(token), device_id, iso_ms(now), expires),
            )
        return token, expires

    def redeem(self, token: str) -> tuple[dict[str, Any], str]:
        """(the device, its key's new secret); EnrolmentRefused if the token cannot be used.
        The token is spent in the same transaction that sets the key, so two gates racing
        with one code get one key between them."""
        refused = EnrolmentRefused(
            "This enrolment code is unknown, already used or expired; ask the organiser for a"
            " new setup code."
        )
        if not isinstance(token, str) or not token.startswith(ENROL_PREFIX) or len(token) > 100:
            raise refused
        digest = hash_key(token)
        now = self.clock()
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT e.token_hash, e.device_id, e.expires_at, e.used_at, d.key_id,"
                " k.revoked_at FROM enrolments e JOIN devices d ON d.id = e.device_id"
                " JOIN api_keys k ON k.id = d.key_id WHERE e.token_hash = ?",
                (digest,),
            ).fetchone()
            if row is None or not hmac.compare_digest(row["token_hash"], digest):
                raise refused
            if row["used_at"] or row["revoked_at"] or parse_iso(row["expires_at"]) <= now:
                raise refused
            conn.execute(
                "UPDATE enrolments SET used_at = ? WHERE token_hash = ?", (iso_ms(now), digest)
            )
            # Every other open offer of this device dies too: one device per key.
            conn.execute(
                "UPDATE enrolments SET used_at = ? WHERE device_id = ? AND used_at IS NULL",
                (iso_ms(now), row["device_id"]),
            )
            conn.execute(
                "UPDATE api_keys SET key_hash = ?, prefix = ? WHERE id = ?",
                (hash_key(secret), secret[:_DISPLAY_PREFIX], row["key_id"]),
            )
        self.keys.generation += 1  # cached lookups of the old (never shown) secret die
        return self.devices.get(row["device_id"]), secret
