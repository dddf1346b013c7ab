"""Attendance figures and exports, read-only over the store."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from scanner_app.core.db import Database
from scanner_app.core.names import NameCipher
from scanner_app.core.tickets import sold_count

_STANDING = "success = 1 AND kind != 'void' AND voided_by IS NULL"
EXPORT_COLUMNS = (
    "checkinId",
    "ticketId",
    "eventId",
    "attendeeName",
    "tierName",
    "scannedAt",
    "scannedBy",
    "deviceId",
    "direction",
    "success",
    "reason",
    "kind",
    "voided",
    "conflict",
    "firstCheckedInAt",
    "firstScannedBy",
    "setAsideReason",
    "refused",
)


class Reports:
    def __init__(self, db: Database, names: NameCipher) -> None:
        self.db = db
        self.names = names

    def stats(self, event_id: str) -> dict[str, Any]:
        """Checked in (distinct tickets with a standing admission), capacity, splits."""
        event = self.db.query_one(
            "SELECT max_capacity, allow_reentry FROM events WHERE id = ?", (event_id,)
        )
        admitted = f"event_id = ? AND {_STANDING} AND direction = 'in'"
        checked_in = self.db.query_one(
            f"SELECT COUNT(DISTINCT ticket_id) FROM checkins WHERE {admitted}", (event_id,)
        )[0]
        tiers = self.db.query(
            "SELECT t.name, t.quantity, COUNT(DISTINCT c.ticket_id) AS checked_in FROM tiers t"
            " LEFT JOIN checkins c ON c.event_id = t.event_id AND c.tier_name = t.name"
            " AND c.success = 1 AND c.kind != 'void' AND c.voided_by IS NULL"
            " AND c.direction = 'in' WHERE t.event_id = ? GROUP BY t.id ORDER BY t.position",
            (event_id,),
        )
        gates = self.db.query(
            f"SELECT gate, COUNT(*) AS admissions FROM checkins WHERE {admitted}"
            " GROUP BY gate ORDER BY gate",
            (event_id,),
        )
        rejected = self.db.query(
            "SELECT reason, COUNT(*) AS n FROM checkins WHERE event_id = ? AND success = 0"
            " AND kind != 'void' AND refused IS NULL GROUP BY reason ORDER BY n DESC",
            (event_id,),
        )
        conflicts = self.db.query_one(
            f"SELECT COUNT(*) FROM checkins WHERE {admitted} AND conflict = 1", (event_id,)
        )[0]
        scans = self.db.query_one(
            "SELECT COUNT(*) FROM checkins WHERE event_id = ? AND kind != 'void'"
            " AND refused IS NULL",
            (event_id,),
        )[0]
        tickets = sold_count(self.db.read(), event_id)
        inside = checked_in
        if event is not None and event["allow_reentry"]:
            inside = self._inside(event_id)
        return {
            "eventId": event_id,
            "checkedIn": checked_in,
            "inside": inside,
            "capacity": event["max_capacity"] if event else None,
            "ticketsValid": tickets,
            "scans": scans,
            "byTier": [
                {"tierName": t["name"], "checkedIn": t["checked_in"], "quantity": t["quantity"]}
                for t in tiers
            ],
            "byGate": [{"gate": g["gate"], "admissions": g["admissions"]} for g in gates],
            "rejected": {r["reason"]: r["n"] for r in rejected},
            "conflicts": conflicts,
        }

    def _inside(self, event_id: str) -> int:
        rows = self.db.query(
            f"SELECT ticket_id, direction FROM checkins WHERE event_id = ? AND {_STANDING}"
            " ORDER BY scanned_at, seq",
            (event_id,),
        )
        last: dict[str, str] = {}
        for row in rows:
            last[row["ticket_id"]] = row["direction"]
        return sum(1 for direction in last.values() if direction == "in")

    def checkins(self, event_id: str) -> list[dict[str, Any]]:
        # With the event's rows come the ones filed under no event (something that was not
        # a ticket, scanned at an "any event" gate): the door's audit trail has no gap.
        rows = self.db.query(
            "SELECT * FROM checkins WHERE event_id IN (?, '') ORDER BY scanned_at, seq",
            (event_id,),
        )
        reentry = self.db.query_one("SELECT allow_reentry FROM events WHERE id = ?", (event_id,))
        firsts = first_admissions(rows, bool(reentry and reentry["allow_reentry"]))
        return [
            {
                "checkinId": r["id"],
                "ticketId": r["ticket_id"],
                "eventId": r["event_id"],
                "attendeeName": self.names.open(r["attendee_name"], r["ticket_id"]),
                "tierName": r["tier_name"],
                "scannedAt": r["scanned_at"],
                "scannedBy": r["gate"],
                "deviceId": r["device_id"],
                "direction": r["direction"],
                "success": bool(r["success"]),
                "reason": r["reason"],
                "kind": r["kind"],
                "voided": r["voided_by"] is not None,
                "conflict": bool(r["conflict"]),
                "firstCheckedInAt": firsts.get(r["id"], _stored_first(r))[0],
                "firstScannedBy": firsts.get(r["id"], _stored_first(r))[1],
                "setAsideReason": r["set_aside_reason"],
                # An uploaded admission this node would not take (DESIGN.md §10) is kept as
                # audit with success false and no scan reason: this says why.
                "refused": r["refused"],
            }
            for r in rows
        ]

    def conflicts(self, event_id: str) -> list[dict[str, Any]]:
        return [c for c in self.checkins(event_id) if c["conflict"] and not c["voided"]]

    def export_csv(self, event_id: str) -> str:
        buffer = io.StringIO()
        # RFC 4180 line ends: with "\n" alone, a CR inside a value was written unquoted and
        # started a new row in spreadsheets (a way around the formula guard below).
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for row in self.checkins(event_id):
            # Spreadsheet apps run cells that start with = + - @ as formulas.
            writer.writerow({k: _csv_safe(v) for k, v in row.items()})
        return buffer.getvalue()


def _stored_first(row: sqlite3.Row) -> tuple[str | None, str | None]:
    return row["first_checked_in_at"], row["first_scanned_by"]


def first_admissions(
    rows: Sequence[sqlite3.Row], reentry: bool
) -> dict[str, tuple[str | None, str | None]]:
    """The admission each duplicate or conflicting row points at, as the ledger knows it now.

    A row stores the first admission its node knew when it was made; a node that later
    learns of an earlier admission (another gate, offline) had another answer, so one row's
    firstCheckedInAt differed between nodes' exports. Here it comes from the canonical
    admissions (earliest door time, then id: the order recompute_conflicts uses), which
    every node that holds the same check-ins agrees on."""
    standing = sorted(
        (
            r
            for r in rows
            if r["success"] and r["kind"] != "void" and r["voided_by"] is None and r["ticket_id"]
        ),
        key=lambda r: (r["scanned_at"], r["id"]),
    )
    anchors: dict[str, list[sqlite3.Row]] = defaultdict(list)
    inside: dict[str, bool] = {}
    for row in standing:
        ticket = row["ticket_id"]
        if row["direction"] == "out":
            inside[ticket] = False
            continue
        if not anchors[ticket] or (reentry and not inside.get(ticket)):
            anchors[ticket].append(row)
        inside[ticket] = True
    firsts: dict[str, tuple[str | None, str | None]] = {}
    for row in rows:
        entries = anchors.get(row["ticket_id"] or "")
        points = row["conflict"] or row["reason"] == "already_checked_in"
        if not entries or not (points or row["first_checked_in_at"]):
            continue  # it points at no earlier admission
        key = (row["scanned_at"], row["id"])
        earlier = [a for a in entries if (a["scanned_at"], a["id"]) < key] if reentry else []
        anchor = earlier[-1] if earlier else entries[0]
        if anchor["id"] == row["id"]:
            firsts[row["id"]] = (None, None)  # it is the canonical admission itself
        else:
            firsts[row["id"]] = (anchor["scanned_at"], anchor["gate"])
    return firsts


def _csv_safe(value: Any) -> Any:
    if isinstance(value, bool):  # as in the JSON export, not Python's True/False
        return "true" if value else "false"
    # OWASP's list: tab and carriage return start formulas too in some spreadsheet apps.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
