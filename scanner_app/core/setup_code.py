"""The `tickitz-setup:` text a hub shows as a gate's setup QR (DESIGN.md §10), written once.

`tickitz-setup:` + base64url(JSON {"v":2,"url","enrol","fp","eventId","gate","exp"}), padded
as the hub always wrote it (readers also accept it unpadded). The hub makes it (server/hub.py),
gates read it (sync/config.py); this module holds only the wire format: the reader's checks of
address and fingerprint stay in sync/.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from scanner_app.core.errors import ValidationError

SETUP_PREFIX = "tickitz-setup:"
VERSION = 2
V1_REFUSED = (
    "This is a version 1 setup code: it carries the gate's key itself, so anyone who saw or"
    " photographed it could act as this gate. It is no longer accepted; make a new setup code"
    " on the hub (Serve this venue > Add gate, or the dashboard) and scan that."
)


@dataclass(frozen=True)
class SetupPayload:
    """A v2 enrolment offer: where the hub is, the certificate to pin, and a one-time token
    to exchange for this gate's key - never the key itself."""

    url: str
    enrol: str
    fp: str | None
    event_id: str | None
    gate: str | None
    exp: int | None  # unix seconds

    def text(self) -> str:
        body = {
            "v": VERSION,
            "url": self.url,
            "enrol": self.enrol,
            "fp": self.fp,
            "eventId": self.event_id,
            "gate": self.gate,
            "exp": self.exp,
        }
        raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
        return SETUP_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii")


def decode_setup(text: str) -> dict[str, Any]:
    """The JSON object of a v2 setup text; ValidationError (field "setup") saying what is
    wrong otherwise, V1_REFUSED for a version 1 code."""
    text = text.strip()
    if not text.startswith(SETUP_PREFIX):
        raise ValidationError(f"setup text must start with {SETUP_PREFIX!r}", field="setup")
    encoded = text[len(SETUP_PREFIX) :].strip()
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("setup text is not base64url JSON", field="setup") from exc
    if isinstance(data, dict) and data.get("v") == 1:
        raise ValidationError(V1_REFUSED, field="setup")
    if not isinstance(data, dict) or data.get("v") != VERSION:
        raise ValidationError("setup text has an unknown version (expected v 2)", field="setup")
    for name in ("url", "enrol"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise ValidationError(f"setup text lacks {name}", field="setup")
    return data
