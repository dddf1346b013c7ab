"""Attendee names at rest (DESIGN.md §10): never plain in a node's database.

Two ways a name is kept, told apart by the stored value's prefix:

- ``enc1:`` sealed with the node key (atrest.RestCipher: OS keyring, else a 0600 file),
  bound to its ticket by the associated data. Opened into memory while the app runs
  (search: name_index.py).
- ``tkt1:`` sealed per ticket, for a gate set to ``private``: the key is derived (HKDF)
  from the signature of the ticket's signed token, which only a holder of the QR code has
  (gates never store tokens), so such a gate can show a name only for a ticket presented
  to it. The hub, which holds the tokens, seals them (as alf.io-PI does).

A value without either prefix is a name from before sealing (until the node's first open
converts it) and is returned as it is.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import sqlite3

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from scanner_app.core.atrest import PREFIX, RestCipher, SealedDataError
from scanner_app.core.storage import secure_delete

log = logging.getLogger(__name__)
TICKET_PREFIX = "tkt1:"
SEAL_PENDING = "names.seal_pending"  # node_settings: set by the schema step, cleared here
GENERATION = "names.generation"  # node_settings: bumped when names are erased in place
_HKDF_SALT = b"tickitz-scanner attendee name v1"


def _context(ticket_id: str) -> str:
    return f"attendee:{ticket_id}"


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ticket_key(token: str) -> bytes | None:
    """The per-ticket key of a compact JWS (from its signature bytes), None if not one."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not parts[2]:
        return None
    try:
        signature = _b64decode(parts[2])
    except (binascii.Error, ValueError):
        return None
    return HKDF(SHA256(), 32, _HKDF_SALT, b"name").derive(signature)


def seal_for_ticket(name: str | None, token: str | None, ticket_id: str) -> str | None:
    """``name`` sealed so that only the holder of ``token`` opens it (None: nothing to seal)."""
    key = ticket_key(token) if token else None
    if key is None or not name:
        return None
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, name.encode("utf-8"), ticket_id.encode("utf-8"))
    return TICKET_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_for_ticket(value: str, token: str, ticket_id: str) -> str | None:
    """The name in a ``tkt1:`` value, or None when ``token`` is not the ticket's token."""
    key = ticket_key(token)
    if key is None or not value.startswith(TICKET_PREFIX):
        return None
    try:
        raw = _b64decode(value[len(TICKET_PREFIX) :])
        plain = AESGCM(key).decrypt(raw[:12], raw[12:], ticket_id.encode("utf-8"))
    except (InvalidTag, binascii.Error, ValueError):
        return None
    return plain.decode("utf-8", "replace")


class NameCipher:
    """Seals and opens the attendee names of one node (thread-safe, key read once)."""

    def __init__(self, rest: RestCipher) -> None:
        self._rest = rest
        self._warned = False

    def seal(self, name: str | None, ticket_id: str | None) -> str | None:
        """What to store for ``name``; a name of no ticket is not kept."""
        if not name or not ticket_id:
            return None
        return self._rest.seal(name, _context(ticket_id))

    def open(self, stored: str | None, ticket_id: str | None) -> str | None:
        """The name a stored value holds, None when there is none or it is sealed per
        ticket. A value this node's key does not open reads as no name (logged once): the
        door must keep working if the keyring entry was lost."""
        if not stored or stored.startswith(TICKET_PREFIX):
            return None
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._rest.open(stored, _context(ticket_id or ""))
        except (SealedDataError, binascii.Error, ValueError, UnicodeDecodeError):
            if not self._warned:
                self._warned = True
                log.warning("An attendee name does not open with this node's key; shown as none")
            return None

    def open_many(self, pairs: list[tuple[str | None, str]]) -> list[str | None]:
        """``open`` for many (stored, ticket id) pairs: the search index's start-up."""
        sealed = [(v, t) for v, t in pairs if v and v.startswith(PREFIX)]
        if len(sealed) < len(pairs):
            return [self.open(v, t) for v, t in pairs]
        try:
            return self._rest.open_many([(v, _context(t)) for v, t in sealed])
        except (SealedDataError, binascii.Error, ValueError, UnicodeDecodeError):
            return [self.open(v, t) for v, t in pairs]  # name by name, as open says

    def open_presented(self, stored: str | None, ticket_id: str, token: str | None) -> str | None:
        """The name for a ticket whose token was just presented (opens ``tkt1:`` too)."""
        if stored and stored.startswith(TICKET_PREFIX):
            return open_for_ticket(stored, token, ticket_id) if token else None
        return self.open(stored, ticket_id)


def seal_existing_names(conn: sqlite3.Connection, names: NameCipher) -> int:
    """Seal the plain names the schema step left (inside the caller's transaction), once:
    only while the schema step's mark is there. Returns how many were sealed."""
    if not conn.execute("SELECT 1 FROM node_settings WHERE key = ?", (SEAL_PENDING,)).fetchone():
        return 0
    sealed = 0
    with secure_delete(conn):  # overwrite what the plain values leave behind
        for table, key in (("tickets", "id"), ("checkins", "ticket_id")):
            rows = conn.execute(
                f"SELECT rowid AS rid, {key} AS ticket_id, attendee_name FROM {table}"
                " WHERE attendee_name IS NOT NULL AND substr(attendee_name, 1, 5) NOT IN (?, ?)",
                (PREFIX, TICKET_PREFIX),
            ).fetchall()
            conn.executemany(
                f"UPDATE {table} SET attendee_name = ? WHERE rowid = ?",
                [(names.seal(r["attendee_name"], r["ticket_id"]), r["rid"]) for r in rows],
            )
            sealed += len(rows)
        conn.execute("DELETE FROM node_settings WHERE key = ?", (SEAL_PENDING,))
    return sealed


def bump_generation(conn: sqlite3.Connection) -> None:
    """Say that names changed without a new manifest seq (erased): indexes reload."""
    conn.execute(
        "INSERT INTO node_settings (key, value) VALUES (?, '1') ON CONFLICT(key)"
        " DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
        (GENERATION,),
    )
