"""Double admissions for the `checkin.conflict` webhook: one ticket admitted at two doors.

Found inside the upload's transaction by comparing the tickets' conflict flags before and
after the merge, so it fires once per new clash whichever side of it arrives first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from scanner_app.core.names import NameCipher

_CONFLICTS = (
    "SELECT * FROM checkins WHERE event_id = ? AND ticket_id = ? AND conflict = 1"
    " AND success = 1 AND kind != 'void' AND voided_by IS NULL"
)


def _tickets(items: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (item["eventId"], item["ticketId"])
        for item in items
        if item.get("success") and item.get("ticketId") and item.get("eventId")
    }


def standing(conn: sqlite3.Connection, items: list[dict[str, Any]]) -> set[str]:
    """Ids of the conflicts already flagged for the batch's admitted tickets."""
    found: set[str] = set()
    for event_id, ticket_id in _tickets(items):
        found.update(row["id"] for row in conn.execute(_CONFLICTS, (event_id, ticket_id)))
    return found


def new_conflicts(
    conn: sqlite3.Connection, items: list[dict[str, Any]], before: set[str], names: NameCipher
) -> list[dict[str, Any]]:
    """A `checkin.conflict` payload for every conflict the merge flagged."""
    payloads = []
    for event_id, ticket_id in sorted(_tickets(items)):
        for row in conn.execute(_CONFLICTS, (event_id, ticket_id)).fetchall():
            if row["id"] not in before:
                payloads.append(_payload(conn, row, names))
    return payloads


def _payload(conn: sqlite3.Connection, later: sqlite3.Row, names: NameCipher) -> dict[str, Any]:
    first = conn.execute(
        "SELECT id, device_id, gate, scanned_at FROM checkins WHERE event_id = ? AND ticket_id = ?"
        " AND scanned_at = ? AND gate = ? AND success = 1 AND kind != 'void'"
        " AND voided_by IS NULL ORDER BY seq LIMIT 1",
        (
            later["event_id"],
            later["ticket_id"],
            later["first_checked_in_at"],
            later["first_scanned_by"],
        ),
    ).fetchone()
    return {
        "ticketId": later["ticket_id"],
        "eventId": later["event_id"],
        "attendeeName": names.open(later["attendee_name"], later["ticket_id"]),
        "tierName": later["tier_name"],
        "first": {
            "checkinId": first["id"] if first else None,
            "scannedBy": later["first_scanned_by"],
            "scannedAt": later["first_checked_in_at"],
            "deviceId": first["device_id"] if first else None,
        },
        "second": {
            "checkinId": later["id"],
            "scannedBy": later["gate"],
            "scannedAt": later["scanned_at"],
            "deviceId": later["device_id"],
        },
    }
