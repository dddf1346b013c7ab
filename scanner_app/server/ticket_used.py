"""The `ticket.used` webhook's data: one shape for an uploaded check-in and for an
admission the hub decided itself."""

from __future__ import annotations

from typing import Any

from scanner_app.core.models import ScanResult


def used_payload(wire: dict[str, Any], source: str, conflict: bool = False) -> dict[str, Any]:
    """The ticket.used webhook of a check-in in its wire form (DESIGN.md §6)."""
    return {
        "checkinId": wire["id"],
        "ticketId": wire["ticketId"],
        "eventId": wire["eventId"],
        "attendeeName": wire.get("attendeeName"),
        "tierName": wire.get("tierName"),
        "checkedInAt": wire["scannedAt"],
        "scannedBy": wire["scannedBy"],
        "deviceId": wire.get("deviceId"),
        "source": source,
        "conflict": conflict,
    }


def result_used(result: ScanResult, device_id: str | None, source: str) -> dict[str, Any]:
    """The ticket.used webhook of an admission this hub decided (a scan or the desk's)."""
    return used_payload(
        {
            "id": result.checkin_id,
            "ticketId": result.ticket_id,
            "eventId": result.event_id,
            "attendeeName": result.attendee_name,
            "tierName": result.tier_name,
            "scannedAt": result.checked_in_at,
            "scannedBy": result.scanned_by,
            "deviceId": device_id,
        },
        source,
    )
