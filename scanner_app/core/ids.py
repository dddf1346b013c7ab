"""Identifiers: short random ids for objects, ULIDs for check-ins (sortable, client-made)."""

from __future__ import annotations

import secrets

from ulid import ULID

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def short_id(prefix: str, length: int = 16) -> str:
    """`prefix_` + 80 random bits; short so ticket QR codes stay small."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def checkin_id() -> str:
    return "chk_" + str(ULID()).lower()
