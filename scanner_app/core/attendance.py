"""What the organiser's live view shows beyond the totals: arrivals over time, scan rates
per gate, the latest scans, one ticket's history. Read-only over the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from scanner_app.core.db import Database
from scanner_app.core.names import NameCipher
from scanner_app.core.timeutil import iso_ms

_STANDING_IN = "success = 1 AND kind != 'void' AND voided_by IS NULL AND direction = 'in'"
_SCAN_COLUMNS = (
    "id, ticket_id, attendee_name, tier_name, gate, device_id, scanned_at, success, reason,"
    " kind, direction, voided_by, voids_id, conflict, first_checked_in_at, first_scanned_by,"
    " refused"
)


def scan_json(row: Any, names: NameCipher) -> dict[str, Any]:
    return {
        "id": row["id"],
        "ticketId": row["ticket_id"],
        "attendeeName": names.open(row["attendee_name"], row["ticket_id"]),
        "tierName": row["tier_name"],
        "scannedBy": row["gate"],
        "deviceId": row["device_id"],
        "scannedAt": row["scanned_at"],
        "success": bool(row["success"]),
        "reason": row["reason"],
        "kind": row["kind"],
        "direction": row["direction"],
        "voided": row["voided_by"] is not None,
        "voids": row["voids_id"],
        "conflict": bool(row["conflict"]),
        "firstCheckedInAt": row["first_checked_in_at"],
        "firstScannedBy": row["first_scanned_by"],
        # Why an uploaded admission was not taken (DESIGN.md §10), else None: such a row is
        # audit only, and without this the page could only call it a failed scan.
        "refused": row["refused"],
    }


class Attendance:
    def __init__(self, db: Database, names: NameCipher) -> None:
        self.db = db
        self.names = names

    def arrivals(
        self, event_id: str, bucket_s: int = 300, limit: int = 288
    ) -> list[dict[str, Any]]:
        """Standing admissions per `bucket_s` of door time, oldest first, gaps filled with 0
        (the last `limit` buckets: a day of 5-minute bars)."""
        rows = self.db.query(
            "SELECT CAST(strftime('%s', scanned_at) AS INTEGER) / ? AS bucket, COUNT(*) AS n"
            f" FROM checkins WHERE event_id = ? AND {_STANDING_IN}"
            " GROUP BY bucket ORDER BY bucket DESC LIMIT ?",
            (bucket_s, event_id, limit),
        )
        if not rows:
            return []
        counts = {r["bucket"]: r["n"] for r in rows}
        last = rows[0]["bucket"]
        first = max(rows[-1]["bucket"], last - limit + 1)
        return [
            {"at": _iso_unix(b * bucket_s), "admitted": counts.get(b, 0)}
            for b in range(first, last + 1)
        ]

    def gate_rates(self, event_id: str, now: datetime, window_min: int = 10) -> list[dict]:
        """Per gate: scans (any outcome) in the last minute and per minute over the window."""
        since = iso_ms(now - timedelta(minutes=window_min))
        minute = iso_ms(now - timedelta(minutes=1))
        rows = self.db.query(
            "SELECT gate, COUNT(*) AS window, SUM(scanned_at >= ?) AS last_minute,"
            " SUM(success = 1) AS admitted FROM checkins WHERE event_id = ? AND scanned_at >= ?"
            " AND kind != 'void' GROUP BY gate ORDER BY gate",
            (minute, event_id, since),
        )
        return [
            {
                "gate": r["gate"],
                "lastMinute": r["last_minute"] or 0,
                "perMinute": round(r["window"] / window_min, 1),
                "admittedInWindow": r["admitted"] or 0,
            }
            for r in rows
        ]

    def recent(self, event_id: str, limit: int = 25) -> list[dict[str, Any]]:
        """The latest scans as this node stored them (undo entries included), newest first."""
        rows = self.db.query(
            f"SELECT {_SCAN_COLUMNS} FROM checkins WHERE event_id = ? ORDER BY seq DESC LIMIT ?",
            (event_id, limit),
        )
        return [scan_json(r, self.names) for r in rows]

    def conflicts(self, event_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """Standing admissions flagged as a second admission of a ticket, newest first."""
        rows = self.db.query(
            f"SELECT {_SCAN_COLUMNS} FROM checkins WHERE event_id = ? AND conflict = 1"
            " AND success = 1 AND kind != 'void' AND voided_by IS NULL"
            " ORDER BY scanned_at DESC LIMIT ?",
            (event_id, limit),
        )
        return [scan_json(r, self.names) for r in rows]

    def ticket_history(self, ticket_id: str) -> list[dict[str, Any]]:
        """Every scan of a ticket, admitted or refused, in door-time order."""
        rows = self.db.query(
            f"SELECT {_SCAN_COLUMNS} FROM checkins WHERE ticket_id = ? ORDER BY scanned_at, seq",
            (ticket_id,),
        )
        return [scan_json(r, self.names) for r in rows]


def _iso_unix(seconds: int) -> str:
    return iso_ms(datetime.fromtimestamp(seconds, UTC))
