"""The node key that seals secrets at rest (core/atrest.py), from the OS keyring.

The keyring entry is named after the data directory's node (its device id), so each node
on a laptop has its own. Where no keyring backend works (a bare X session, CI, this kind of
server) the key is the 0600 ``rest.key`` file in the data directory instead; a key already
in that file is moved into the keyring once one works.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import secrets
from pathlib import Path

from scanner_app.core.atrest import KEY_FILENAME, KeySource, file_key_source
from scanner_app.sync.credentials import KEYRING_SERVICE, keyring_usable

log = logging.getLogger(__name__)


def rest_key_source(data_dir: Path | str, account: str) -> KeySource:
    """A KeySource for Node(rest_key=...): keyring first, the 0600 file otherwise."""
    data_dir = Path(data_dir)
    fallback = file_key_source(data_dir)
    entry = f"rest-key:{account}"

    def load() -> bytes:
        if not keyring_usable():
            return fallback()
        try:
            import keyring  # noqa: PLC0415 (probes D-Bus: only when a key is needed)

            stored = keyring.get_password(KEYRING_SERVICE, entry)
            if stored:
                return base64.urlsafe_b64decode(stored)
            file = data_dir / KEY_FILENAME
            key = fallback() if file.exists() else secrets.token_bytes(32)
            keyring.set_password(KEYRING_SERVICE, entry, base64.urlsafe_b64encode(key).decode())
            with contextlib.suppress(FileNotFoundError):
                file.unlink()  # the keyring holds it now
            return key
        except Exception as exc:
            log.warning("OS keyring unusable (%s); using %s", type(exc).__name__, KEY_FILENAME)
            return fallback()

    return load
