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


def parse_remote_checkin(item: Any, device_id: str | None) -> dict[str, Any]:
    """Validate one check-in of a batch (DESIGN.md §6) into a row dict."""
    body = v.require_object(item, "checkins[]")
    checkin_id = v.text(body, "id", max_length=64)
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
    ticket_id = v.text(body, "ticketId", required=success, max_length=100)
    voids = v.text(body, "voids", required=False, max_length=64)
    proof = v.text(body, "qrPayload", required=False, max_length=MAX_PROOF)
    return {
        "id": checkin_id,
        "event_id": v.text(body, "eventId", max_length=100),
        "ticket_id": ticket_id,
        "device_id": v.text(body, "deviceId", required=False, max_length=100) or device_id or "",
        "gate": v.text(body, "scannedBy", max_length=100),
        "scanned_at": v.timestamp(body, "scannedAt", required=True),
        "direction": direction,
        "success": int(success),
        "reason": reason,
        "kind": "void" if voids else ("manual" if body.get("kind") == "manual" else "scan"),
        "voids_id": voids,
        "attendee_name": v.text(body, "attendeeName", required=False, max_length=200),
        "tier_name": v.text(body, "tierName", required=False, max_length=100),
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
