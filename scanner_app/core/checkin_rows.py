"""The check-in row: its one insert, a ticket's standing state, the conflict flags.

Every writer of `checkins` (a door's verdict, a void, a strict answer, merged remote rows)
inserts through ``insert_checkin``; the door rules read ``ticket_state``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from scanner_app.core.ledger_reads import conflict_updates

# The one check-in row insert (local scans, voids, strict answers, merged remote rows).
_ROW_DEFAULTS: dict[str, Any] = {
    "observed_at": None,  # None: the door time
    "clock_offset_ms": 0,
    "kind": "scan",
    "voids_id": None,
    "attendee_name": None,
    "tier_name": None,
    "first_checked_in_at": None,
    "first_scanned_by": None,
    "source": "local",
    "pushed_at": None,
    "proof": None,  # an admission's scanned token (DESIGN.md §10)
    "refused": None,  # why an uploaded admission does not count
    "upstream_status": None,
}
_INSERT_COLUMNS = (
    "id", "event_id", "ticket_id", "device_id", "gate", "scanned_at", "observed_at",
    "clock_offset_ms", "direction", "success", "reason", "kind", "voids_id", "attendee_name",
    "tier_name", "first_checked_in_at", "first_scanned_by", "source", "received_at", "pushed_at",
    "proof", "refused", "upstream_status",
)  # fmt: skip
_INSERT = (
    f"INSERT INTO checkins ({', '.join(_INSERT_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})"
)


_IN_ORDER = itemgetter(*_INSERT_COLUMNS)


def _values(row: dict[str, Any]) -> tuple[Any, ...]:
    values = {**_ROW_DEFAULTS, **row}
    if values["observed_at"] is None:
        values["observed_at"] = values["scanned_at"]
    return _IN_ORDER(values)


def insert_checkin(conn: sqlite3.Connection, **row: Any) -> None:
    """Insert one check-in row: id, event_id, ticket_id, device_id, gate, scanned_at,
    direction, success, reason and received_at are required; the rest default."""
    conn.execute(_INSERT, _values(row))


def insert_checkins(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
    """insert_checkin for many rows in one statement (a merged batch: ~15 us a row less)."""
    conn.executemany(_INSERT, [_values(row) for row in rows])


@dataclass(frozen=True)
class TicketState:
    admitted: bool  # has a standing admission (any 'in')
    inside: bool  # the last standing movement was 'in'
    first_at: str | None  # the canonical first admission (or, with re-entry, the current entry)
    first_by: str | None


def ticket_state(
    conn: sqlite3.Connection, event_id: str, ticket_id: str, reentry: bool
) -> TicketState:
    rows = conn.execute(
        "SELECT direction, scanned_at, gate FROM checkins WHERE event_id = ? AND ticket_id = ?"
        " AND success = 1 AND kind != 'void' AND voided_by IS NULL ORDER BY scanned_at, id",
        (event_id, ticket_id),
    ).fetchall()
    first = entry = None
    inside = False
    for row in rows:
        if row["direction"] == "in":
            first = first or row
            if not inside:
                entry = row
            inside = True
        else:
            inside = False
    anchor = entry if reentry else first
    return TicketState(
        admitted=first is not None,
        inside=inside,
        first_at=anchor["scanned_at"] if anchor else None,
        first_by=anchor["gate"] if anchor else None,
    )


def recompute_conflicts(
    conn: sqlite3.Connection, event_id: str, ticket_id: str, reentry: bool
) -> None:
    """Earliest door time is canonical; later standing admissions are conflicts, never deleted."""
    rows = conn.execute(
        "SELECT seq, direction, scanned_at, gate, conflict, first_checked_in_at, first_scanned_by"
        " FROM checkins WHERE event_id = ? AND ticket_id = ? AND success = 1 AND kind != 'void'"
        " AND voided_by IS NULL ORDER BY scanned_at, id",
        (event_id, ticket_id),
    ).fetchall()
    conn.executemany(
        "UPDATE checkins SET conflict = ?, first_checked_in_at = ?, first_scanned_by = ?"
        " WHERE seq = ?",
        conflict_updates(rows, reentry),
    )
