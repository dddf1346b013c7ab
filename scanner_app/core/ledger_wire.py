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


def _schema_text(
    body: dict[str, Any], field: str, *, required: bool = True, **_limits: int
) -> str | None:
    """validate.text for a field the HTTP schema already checked (type, length, control
    characters; `_limits` are the schema's): presence and the strip are left."""
    value = body.get(field)
    if value is None:
        if required:
            raise ValidationError(f"{field} is required", field=field)
        return None
    return value.strip()


def parse_remote_checkin(
    item: Any, device_id: str | None, *, schema_checked: bool = False
) -> dict[str, Any]:
    """Validate one check-in of a batch (DESIGN.md §6) into a row dict.

    `schema_checked`: the item passed the hub's request schema (server/schemas.CheckinIn):
    its texts' types, lengths and characters and its door time's form are not checked again
    (twice cost ~30 us a row, a sixth of the hub's time for an upload); the rules between
    fields, which the schema cannot say, always are."""
    body = v.require_object(item, "checkins[]")
    text = _schema_text if schema_checked else v.text
    checkin_id = text(body, "id", max_length=64)
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
    ticket_id = text(body, "ticketId", required=success, max_length=100)
    voids = text(body, "voids", required=False, max_length=64)
    # The token is not shown to anyone, but it is checked here in any case: the schema
    # bounds only its length.
    proof = v.text(body, "qrPayload", required=False, max_length=MAX_PROOF)
    if schema_checked:
        scanned_at = body.get("scannedAt")
        if not scanned_at:
            raise ValidationError("scannedAt is required", field="scannedAt")
    else:
        scanned_at = v.timestamp(body, "scannedAt", required=True)
    return {
        "id": checkin_id,
        "event_id": text(body, "eventId", max_length=100),
        "ticket_id": ticket_id,
        "device_id": text(body, "deviceId", required=False, max_length=100) or device_id or "",
        "gate": text(body, "scannedBy", max_length=100),
        "scanned_at": scanned_at,
        "direction": direction,
        "success": int(success),
        "reason": reason,
        "kind": "void" if voids else ("manual" if body.get("kind") == "manual" else "scan"),
        "voids_id": voids,
        "attendee_name": text(body, "attendeeName", required=False, max_length=200),
        "tier_name": text(body, "tierName", required=False, max_length=100),
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
