"""An event's signing keys: issue, rotate, retire, import, and the cached set for verifying.

A key is active or retired (`retired_at` set). Retired keys stay in the table, so the
audit trail keeps them, but leave the public JWKS and verification: a ticket signed with
one is refused as `unknown_key`. `retired_by` says who retired it: `local` (an organiser
here, final) or `upstream` (the upstream's JWKS dropped it; undone if it comes back).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from scanner_app.core.atrest import RestCipher, file_key_source, key_context
from scanner_app.core.db import Database
from scanner_app.core.errors import Conflict, NotFound, ValidationError
from scanner_app.core.keys import SigningKey, VerifyKey, generate_signing_key, parse_jwks
from scanner_app.core.timeutil import Clock, iso_ms

log = logging.getLogger(__name__)

# How long a cached key set is trusted before the store is read again. Another process (the
# CLI retiring a key, a sync) changes the file behind this one's back: within this long the
# running hub or gate stops admitting a retired key, at one small read per event per second.
KEY_CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class KeyChanges:
    """What applying an upstream's JWKS changed here."""

    added: int = 0
    retired: int = 0
    restored: int = 0


class EventKeys:
    """The key half of the event store (EventStore inherits it)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        # Private keys are sealed at rest (atrest.py); the node sets its own cipher.
        self.cipher = RestCipher(file_key_source(db.path.parent))
        self.key_cache_seconds = KEY_CACHE_SECONDS
        # event id -> (monotonic time loaded, {kid: key}) of the active keys
        self._key_cache: dict[str, tuple[float, dict[str, VerifyKey]]] = {}
        self._cache_lock = threading.Lock()

    def _require_event(self, event_id: str) -> None:
        if self.db.query_one("SELECT 1 FROM events WHERE id = ?", (event_id,)) is None:
            raise NotFound(f"No event with ID {event_id} exists.")

    # --- reading -------------------------------------------------------------------------
    def jwks(self, event_id: str) -> dict[str, Any]:
        """The event's public key set: active keys only (what gates and tickets rely on)."""
        self._require_event(event_id)
        rows = self.db.query(
            "SELECT public_jwk FROM event_keys WHERE event_id = ? AND retired_at IS NULL"
            " ORDER BY created_at, kid",
            (event_id,),
        )
        return {"keys": [json.loads(r["public_jwk"]) for r in rows]}

    def signing_key(self, event_id: str) -> SigningKey:
        """The newest active private key: the one new tickets are signed with."""
        row = self.db.query_one(
            "SELECT kid, alg, private_pem, public_jwk FROM event_keys WHERE event_id = ?"
            " AND private_pem IS NOT NULL AND retired_at IS NULL"
            " ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (event_id,),
        )
        if row is None:
            raise Conflict(f"This node does not issue tickets for {event_id} (no private key).")
        pem = self.cipher.open(row["private_pem"], key_context(event_id, row["kid"]))
        return SigningKey(row["kid"], row["alg"], pem, json.loads(row["public_jwk"]))

    def verify_keys(self, event_id: str, kid: str | None = None) -> dict[str, VerifyKey] | None:
        """Cached {kid: key} of the active keys; None when this node has no keys for the event
        (an empty dict when it has some but all are retired: their tickets are unknown_key).

        The store is read again on an unknown kid (another process may have added a rotated
        key) and once the cache is older than `key_cache_seconds` (or retired one).
        """
        with self._cache_lock:
            cached = self._key_cache.get(event_id)
        if cached is not None:
            loaded_at, keys = cached
            fresh = time.monotonic() - loaded_at < self.key_cache_seconds
            if fresh and (kid is None or kid in keys):
                return keys
        return self._load_keys(event_id, cached[1] if cached else {})

    def _load_keys(
        self, event_id: str, previous: dict[str, VerifyKey]
    ) -> dict[str, VerifyKey] | None:
        rows = self.db.query(
            "SELECT kid, public_jwk, retired_at FROM event_keys WHERE event_id = ?", (event_id,)
        )
        if not rows:
            return None
        active = [r for r in rows if r["retired_at"] is None]
        # Reuse parsed keys: the once-a-second refresh should cost a query, not key parsing.
        keys = {r["kid"]: previous[r["kid"]] for r in active if r["kid"] in previous}
        new = [json.loads(r["public_jwk"]) for r in active if r["kid"] not in keys]
        for jwk in new:
            # One at a time: a key stored before a check existed (a small-order Ed25519 key)
            # is left out with a warning, its tickets unknown_key, the others still verify.
            try:
                keys.update((k.kid, k) for k in parse_jwks({"keys": [jwk]}))
            except ValidationError as exc:
                log.warning("event %s: stored key left out: %s", event_id, exc.message)
        with self._cache_lock:
            self._key_cache[event_id] = (time.monotonic(), keys)
        return keys

    def _forget_keys(self, event_id: str) -> None:
        with self._cache_lock:
            self._key_cache.pop(event_id, None)

    # --- writing -------------------------------------------------------------------------
    def add_signing_key(self, event_id: str, key: SigningKey) -> dict[str, Any]:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO event_keys (event_id, kid, alg, public_jwk, private_pem, created_at)"
                " VALUES (?,?,?,?,?,?)",
                (
                    event_id,
                    key.kid,
                    key.alg,
                    json.dumps(key.jwk),
                    self.cipher.seal(key.private_pem, key_context(event_id, key.kid)),
                    iso_ms(self.clock()),
                ),
            )
        self._forget_keys(event_id)
        return key.jwk

    def rotate_key(self, event_id: str, alg: str | None = None) -> dict[str, Any]:
        """A new signing key for new tickets; old keys stay in the set so old tickets verify."""
        current = self.signing_key(event_id)
        return self.add_signing_key(event_id, generate_signing_key(alg or current.alg))

    def retire_key(self, event_id: str, kid: str) -> dict[str, Any]:
        """Take a (leaked) key out of the event's set; returns the remaining public JWKS.

        Tickets signed with it stop verifying here at once and on other nodes after their
        next sync. Nothing is deleted: the key row, tickets and check-ins all stay.
        Retiring a retired key changes nothing.
        """
        self._require_event(event_id)
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT private_pem, retired_at FROM event_keys WHERE event_id = ? AND kid = ?",
                (event_id, kid),
            ).fetchone()
            if row is None:
                raise NotFound(f"Event {event_id} has no key with kid {kid[:60]!r}.")
            if row["retired_at"] is None and row["private_pem"] is not None:
                signers = conn.execute(
                    "SELECT count(*) FROM event_keys WHERE event_id = ? AND kid <> ?"
                    " AND private_pem IS NOT NULL AND retired_at IS NULL",
                    (event_id, kid),
                ).fetchone()[0]
                if not signers:
                    raise Conflict(
                        f"Key {kid} is the last signing key of {event_id}: without it no ticket"
                        f" can be issued. Rotate first (`event rotate-key {event_id}`), then"
                        " retire this key."
                    )
            # An organiser's retirement is final here, also of a key a sync had retired.
            conn.execute(
                "UPDATE event_keys SET retired_at = coalesce(retired_at, ?), retired_by = 'local'"
                " WHERE event_id = ? AND kid = ?",
                (iso_ms(self.clock()), event_id, kid),
            )
        self._forget_keys(event_id)
        return self.jwks(event_id)

    def merge_jwks(self, event_id: str, jwks: dict[str, Any]) -> int:
        """Add keys we do not have yet (rotation keeps old keys valid); returns how many."""
        keys = parse_jwks(jwks)
        with self.db.write():
            return self._store_public_keys(event_id, keys)

    def apply_upstream_jwks(self, event_id: str, jwks: dict[str, Any]) -> KeyChanges:
        """Make the upstream's JWKS authoritative for the keys this node has from it.

        New keys are added; an imported key missing upstream is retired; one this sync had
        retired that is back upstream is active again. Keys this node signs with (it is
        their issuer) and keys an organiser retired here are left alone. A malformed or
        empty set is refused (ValidationError) and changes nothing: a bad answer must not
        retire every key.
        """
        keys = parse_jwks(jwks)
        if not keys:
            raise ValidationError("the key set is empty", field="keys")
        upstream = {k.kid for k in keys}
        now = iso_ms(self.clock())
        retired = restored = 0
        with self.db.write() as conn:
            added = self._store_public_keys(event_id, keys)
            held = conn.execute(
                "SELECT kid, retired_by FROM event_keys WHERE event_id = ? AND private_pem IS NULL",
                (event_id,),
            ).fetchall()
            for row in held:
                if row["kid"] not in upstream and row["retired_by"] is None:
                    retired += conn.execute(
                        "UPDATE event_keys SET retired_at = ?, retired_by = 'upstream'"
                        " WHERE event_id = ? AND kid = ?",
                        (now, event_id, row["kid"]),
                    ).rowcount
                elif row["kid"] in upstream and row["retired_by"] == "upstream":
                    restored += conn.execute(
                        "UPDATE event_keys SET retired_at = NULL, retired_by = NULL"
                        " WHERE event_id = ? AND kid = ?",
                        (event_id, row["kid"]),
                    ).rowcount
        self._forget_keys(event_id)  # again after the commit: a reader may have cached the old set
        return KeyChanges(added=added, retired=retired, restored=restored)

    def _store_public_keys(self, event_id: str, keys: list[VerifyKey]) -> int:
        now = iso_ms(self.clock())
        added = 0
        with self.db.write() as conn:
            for key in keys:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO event_keys (event_id, kid, alg, public_jwk, created_at)"
                    " VALUES (?,?,?,?,?)",
                    (event_id, key.kid, key.alg, json.dumps(key.jwk), now),
                )
                added += cur.rowcount
        self._forget_keys(event_id)
        return added
