"""Check-in rows on the wire: an upload's item parsed into a row, a row as the upload
and the check-ins feed carry it, and a recorded row answered again as its scan result."""

from __future__ import annotations

import sqlite3
from typing import Any

from scanner_app.core import validate as v
from scanner_app.core.errors import ValidationError
from scanner_app.core.models import DIRECTIONS, REASONS, ScanResult
from scanner_app.core.names import NameCipher

MAX_PROOF = 4096  # tokens.MAX_TOKEN_LENGTH


# Text fields of an uploaded check-in, with their bounds (validate.text's max_length).
_TEXTS = {"id": 64, "eventId": 100, "ticketId": 100, "deviceId": 100, "scannedBy": 100,
          "voids": 64, "attendeeName": 200, "tierName": 100}  # fmt: skip
_REQUIRED = ("id", "eventId", "scannedBy")


def _texts(body: dict[str, Any], schema_checked: bool) -> dict[str, str | None]:
    """The item's text fields, stripped. Unless `schema_checked` (the HTTP schema already
    checked their types, lengths and characters) each one is validated here."""
    if not schema_checked:
        return {
            name: v.text(body, name, required=name in _REQUIRED, max_length=limit)
            for name, limit in _TEXTS.items()
        }
    texts = {name: value.strip() if (value := body.get(name)) is not None else None
             for name in _TEXTS}  # fmt: skip
    for name in _REQUIRED:
        if not texts[name]:
            raise ValidationError(f"{name} is required", field=name)
    return texts


def parse_remote_checkin(
    item: Any, device_id: str | None, *, schema_checked: bool = False
) -> dict[str, Any]:
    """Validate one check-in of a batch (DESIGN.md §6) into a row dict.

    `schema_checked`: the item passed the hub's request schema (server/schemas.CheckinIn):
    its texts' types, lengths and characters and its door time's form are not checked again
    (twice cost ~30 us a row, a sixth of the hub's time for an upload); the rules between
    fields, which the schema cannot say, always are."""
    body = v.require_object(item, "checkins[]")
    texts = _texts(body, schema_checked)
    checkin_id = texts["id"]
    direction = body.get("direction", "in")
    if direction not in DIRECTIONS:
        raise ValidationError(f"checkin {checkin_id}: direction must be in or out", "direction")
    success = body.get("success")
    if not isinstance(success, bool):
        raise ValidationError(f"checkin {checkin_id}: success must be true or false", "success")
    reason = body.get("reason")
    if reason is not None and reason not in REASONS:
        raise ValidationError(f"checkin {checkin_id}: unknown reason {reason!r}", "reason")
    if success and reason is not None:
        raise ValidationError(f"checkin {checkin_id}: a success has no reason", "reason")
    if success and not texts["ticketId"]:
        raise ValidationError("ticketId is required", field="ticketId")
    # The token is not shown to anyone, but it is checked here in any case: the schema
    # bounds only its length.
    proof = v.text(body, "qrPayload", required=False, max_length=MAX_PROOF)
    if schema_checked:
        scanned_at = body.get("scannedAt")
        if not scanned_at:
            raise ValidationError("scannedAt is required", field="scannedAt")
    else:
        scanned_at = v.timestamp(body, "scannedAt", required=True)
    voids = texts["voids"]
    return {
        "id": checkin_id,
        "event_id": texts["eventId"],
        "ticket_id": texts["ticketId"],
        "device_id": texts["deviceId"] or device_id or "",
        "gate": texts["scannedBy"],
        "scanned_at": scanned_at,
        "direction": direction,
        "success": int(success),
        "reason": reason,
        "kind": "void" if voids else ("manual" if body.get("kind") == "manual" else "scan"),
        "voids_id": voids,
        "attendee_name": texts["attendeeName"],
        "tier_name": texts["tierName"],
        "proof": proof if success else None,  # only an admission's token is kept
        "refused": None,
    }


def row_to_wire(row: sqlite3.Row, names: NameCipher, with_proof: bool = False) -> dict[str, Any]:
    """A stored check-in as the batch upload and the check-ins feed carry it. Only the
    upload carries the proof (`qrPayload`): the feed is read by gate keys, which never get
    a ticket's token (DESIGN.md §10)."""
    wire = {
        "id": row["id"],
        "ticketId": row["ticket_id"],
        "eventId": row["event_id"],
        "scannedAt": row["scanned_at"],
        "scannedBy": row["gate"],
        "direction": row["direction"],
        "success": bool(row["success"]),
        "reason": row["reason"],
        "deviceId": row["device_id"],
        "kind": row["kind"],
        "attendeeName": names.open(row["attendee_name"], row["ticket_id"]),
        "tierName": row["tier_name"],
    }
    if row["voids_id"]:
        wire["voids"] = row["voids_id"]
    if with_proof and row["proof"]:
        wire["qrPayload"] = row["proof"]
    return wire


# What a node may learn again about a check-in id it already holds (see _supersedes).


def recorded_result(
    conn: sqlite3.Connection, checkin_id: str, names: NameCipher
) -> ScanResult | None:
    """A recorded check-in answered again as the scan result it was (None: unknown id)."""
    row = conn.execute("SELECT * FROM checkins WHERE id = ?", (checkin_id,)).fetchone()
    if row is None:
        return None
    return ScanResult(
        success=bool(row["success"]),
        already_checked_in=row["reason"] == "already_checked_in",
        attendee_name=names.open(row["attendee_name"], row["ticket_id"]),
        tier_name=row["tier_name"],
        checked_in_at=row["scanned_at"],
        first_checked_in_at=row["first_checked_in_at"],
        reason=row["reason"],
        ticket_id=row["ticket_id"],
        event_id=row["event_id"] or None,
        direction=row["direction"],
        offline=False,
        first_scanned_by=row["first_scanned_by"],
        scanned_by=row["gate"],
        checkin_id=row["id"],
    )
