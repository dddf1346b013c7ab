"""Secrets at rest (DESIGN.md §10): event private keys and webhook secrets are sealed with
AES-256-GCM under a node key kept outside the database.

The node key comes from a ``KeySource``: the OS keyring where one works (sync/restkey.py,
chosen by the app and the CLI), else a 0600 file beside the database (``rest.key``). A
stolen database alone then holds no signing key and no webhook secret. Sealed values are
text, ``enc1:<base64url(nonce | ciphertext)>``, bound to where they belong (table, row) by
the associated data, so a sealed secret copied into another row does not open.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from scanner_app.core.db import PRIVATE_FILE, private_file
from scanner_app.core.errors import TickitzError
from scanner_app.core.storage import secure_delete

PREFIX = "enc1:"
KEY_FILENAME = "rest.key"
KeySource = Callable[[], bytes]


class SealedDataError(TickitzError):
    """A sealed value that this node's key does not open (another key, or tampered)."""

    code = "sealed_data_error"


def file_key_source(data_dir: Path) -> KeySource:
    """The node key in ``data_dir/rest.key`` (0600), made at first use."""
    path = Path(data_dir) / KEY_FILENAME

    def load() -> bytes:
        try:
            raw = path.read_bytes().strip()
        except FileNotFoundError:
            raw = b""
        if not raw:
            raw = base64.urlsafe_b64encode(secrets.token_bytes(32))
            temp = path.with_suffix(".tmp")
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
            try:
                os.write(fd, raw + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(temp, path)  # first writer wins; a racing opener reads its key
            except FileExistsError:
                raw = path.read_bytes().strip()
            finally:
                temp.unlink()
        private_file(path)
        return base64.urlsafe_b64decode(raw)

    return load


class RestCipher:
    """Seals and opens short secrets with the node key (read once, when first needed)."""

    def __init__(self, source: KeySource) -> None:
        self._source = source
        self._aead: AESGCM | None = None

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            key = self._source()
            if len(key) != 32:
                raise SealedDataError("the node key must be 32 bytes")
            self._aead = AESGCM(key)
        return self._aead

    def seal(self, text: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._cipher().encrypt(nonce, text.encode("utf-8"), context.encode("utf-8"))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, value: str, context: str) -> str:
        """The plain text of a sealed value; a value not sealed yet is returned as it is
        (a database from before sealing, until ``seal_existing`` converted it)."""
        if not value.startswith(PREFIX):
            return value
        raw = base64.urlsafe_b64decode(value[len(PREFIX) :])
        try:
            plain = self._cipher().decrypt(raw[:12], raw[12:], context.encode("utf-8"))
        except InvalidTag:
            raise SealedDataError(
                "a sealed secret does not open with this node's key (was the data directory "
                "copied without its key, or the keyring entry removed?)"
            ) from None
        return plain.decode("utf-8")

    def open_many(self, values: list[tuple[str, str]]) -> list[str]:
        """``open`` for many (sealed value, context) pairs, all sealed (one key lookup)."""
        aead, decode = self._cipher(), base64.urlsafe_b64decode
        out = []
        try:
            for value, context in values:
                raw = decode(value[len(PREFIX) :])
                out.append(aead.decrypt(raw[:12], raw[12:], context.encode()).decode("utf-8"))
        except InvalidTag:
            raise SealedDataError("a sealed secret does not open with this node's key") from None
        return out


def key_context(event_id: str, kid: str) -> str:
    return f"event_keys:{event_id}:{kid}"


def webhook_context(webhook_id: str) -> str:
    return f"webhooks:{webhook_id}"


def seal_existing(conn: sqlite3.Connection, cipher: RestCipher) -> int:
    """Convert plain private keys and webhook secrets in place (inside the caller's
    transaction); returns how many were sealed. Running it again changes nothing."""
    sealed = 0
    with secure_delete(conn):  # no plain copy left in freed cells
        rows = conn.execute(
            "SELECT event_id, kid, private_pem FROM event_keys"
            " WHERE private_pem IS NOT NULL AND private_pem NOT LIKE 'enc1:%'"
        ).fetchall()
        for row in rows:
            conn.execute(
                "UPDATE event_keys SET private_pem = ? WHERE event_id = ? AND kid = ?",
                (
                    cipher.seal(row["private_pem"], key_context(row["event_id"], row["kid"])),
                    row["event_id"],
                    row["kid"],
                ),
            )
            sealed += 1
        hooks = conn.execute(
            "SELECT id, secret FROM webhooks WHERE secret NOT LIKE 'enc1:%'"
        ).fetchall()
        for row in hooks:
            conn.execute(
                "UPDATE webhooks SET secret = ? WHERE id = ?",
                (cipher.seal(row["secret"], webhook_context(row["id"])), row["id"]),
            )
            sealed += 1
    return sealed
