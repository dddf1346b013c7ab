"""Set-based reads behind merging an uploaded batch (ledger.Ledger.merge).

A batch of 500 check-ins used to cost a few SELECTs per row: the ticket of each admission
(proof and tier), an answer per row, the conflict state per ticket. One query per batch
(per chunk of ids: SQLite limits bound parameters) does the same work for all of them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

CHUNK = 500  # well under SQLite's bound-parameter limit
_TICKET_COLUMNS = "id, event_id, status, qr_payload, updated_at, attendee_name, tier_name"
# A ticket's standing movements, oldest door time first (the canonical order).
_STANDING = (
    "SELECT seq, ticket_id, direction, scanned_at, gate, conflict, first_checked_in_at,"
    " first_scanned_by FROM checkins WHERE event_id = ? AND ticket_id IN ({marks})"
    " AND success = 1 AND kind != 'void' AND voided_by IS NULL ORDER BY ticket_id, scanned_at, id"
)
# Of those tickets, the ones whose flags may be wrong: a lone standing movement is
# canonical and needs no work unless it still carries flags (its earlier twin was voided).
# Counted in SQL: materialising every row of a 500-admission batch cost ~10 us a row.
_UNSETTLED = (
    "SELECT ticket_id FROM checkins WHERE event_id = ? AND ticket_id IN ({marks})"
    " AND success = 1 AND kind != 'void' AND voided_by IS NULL GROUP BY ticket_id"
    " HAVING count(*) > 1 OR max(conflict) != 0 OR max(first_checked_in_at IS NOT NULL)"
    " OR max(first_scanned_by IS NOT NULL)"
)
_ANSWER_COLUMNS = (
    "id, event_id, ticket_id, success, reason, conflict, first_checked_in_at, first_scanned_by,"
    " refused"
)


def chunked(values: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _marks(chunk: list[Any]) -> str:
    return ",".join("?" * len(chunk))


def existing_ids(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
    """Which of `ids` are already stored."""
    found: set[str] = set()
    for chunk in chunked(ids):
        sql = f"SELECT id FROM checkins WHERE id IN ({_marks(chunk)})"
        found.update(r[0] for r in conn.execute(sql, chunk))
    return found


def batch_tickets(
    conn: sqlite3.Connection, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], sqlite3.Row]:
    """The manifest rows of (event id, ticket id) pairs, keyed by the pair. A ticket id
    named under another event finds nothing (as `WHERE id = ? AND event_id = ?` would):
    an uploader must not learn another event's ticket by naming its id."""
    wanted = set(pairs)
    found: dict[tuple[str, str], sqlite3.Row] = {}
    for chunk in chunked(sorted({ticket for _event, ticket in wanted})):
        sql = f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id IN ({_marks(chunk)})"
        for row in conn.execute(sql, chunk):
            if (row["event_id"], row["id"]) in wanted:
                found[(row["event_id"], row["id"])] = row
    return found


def conflict_updates(rows: Iterable[sqlite3.Row], reentry: bool) -> list[tuple[Any, ...]]:
    """(conflict, first_checked_in_at, first_scanned_by, seq) for each of one ticket's
    standing movements (in canonical order) whose flags are not what they should be:
    the earliest door time is canonical; later standing admissions are conflicts."""
    updates = []
    anchor = None
    inside = False
    for row in rows:
        if row["direction"] == "out":
            inside = False
            continue
        clash = anchor is not None and (inside or not reentry)
        wanted = (1, anchor["scanned_at"], anchor["gate"]) if clash else (0, None, None)
        if not clash:
            anchor = row
        inside = True
        current = (row["conflict"], row["first_checked_in_at"], row["first_scanned_by"])
        if current != wanted:
            updates.append((*wanted, row["seq"]))
    return updates


def allows_reentry(conn: sqlite3.Connection, event_id: str) -> bool:
    """The event's re-entry rule (entry and exit alternate); False for an unknown event."""
    row = conn.execute("SELECT allow_reentry FROM events WHERE id = ?", (event_id,)).fetchone()
    return bool(row and row["allow_reentry"])


def recompute_many(conn: sqlite3.Connection, touched: set[tuple[str, str]]) -> None:
    """Conflict flags of every (event id, ticket id) in `touched`, one query per event."""
    by_event: dict[str, list[str]] = {}
    for event_id, ticket_id in touched:
        by_event.setdefault(event_id, []).append(ticket_id)
    updates: list[tuple[Any, ...]] = []
    for event_id, tickets in by_event.items():
        allow = allows_reentry(conn, event_id)
        for chunk in chunked(sorted(tickets)):
            sql = _UNSETTLED.format(marks=_marks(chunk))
            chunk = [row[0] for row in conn.execute(sql, (event_id, *chunk))]
            if not chunk:
                continue
            rows = conn.execute(_STANDING.format(marks=_marks(chunk)), (event_id, *chunk))
            ticket: str | None = None
            group: list[sqlite3.Row] = []
            for row in rows:
                if row["ticket_id"] != ticket and group:
                    updates += conflict_updates(group, allow)
                    group = []
                ticket = row["ticket_id"]
                group.append(row)
            updates += conflict_updates(group, allow)
    conn.executemany(
        "UPDATE checkins SET conflict = ?, first_checked_in_at = ?, first_scanned_by = ?"
        " WHERE seq = ?",
        updates,
    )


def answers_for(conn: sqlite3.Connection, ids: list[str]) -> list[dict[str, Any]]:
    """The batch answer (DESIGN.md §6, §10) of each stored check-in id, in order."""
    rows: dict[str, sqlite3.Row] = {}
    for chunk in chunked(sorted(set(ids))):
        sql = f"SELECT {_ANSWER_COLUMNS} FROM checkins WHERE id IN ({_marks(chunk)})"
        rows.update((row["id"], row) for row in conn.execute(sql, chunk))
    return [_answer(conn, rows[checkin_id]) for checkin_id in ids]


def _answer(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    if row["refused"]:
        return {
            "id": row["id"],
            "status": "refused",
            "firstCheckedInAt": None,
            "firstScannedBy": None,
            "reason": row["refused"],
        }
    if row["conflict"]:
        status = "conflict"
    elif row["reason"] == "already_checked_in":
        status = "duplicate"
    else:
        status = "recorded"
    first_at, first_by = row["first_checked_in_at"], row["first_scanned_by"]
    if status == "duplicate" and first_at is None and row["ticket_id"]:
        canonical = conn.execute(
            "SELECT scanned_at, gate FROM checkins WHERE event_id = ? AND ticket_id = ?"
            " AND success = 1 AND direction = 'in' AND conflict = 0 AND voided_by IS NULL"
            " AND kind != 'void' ORDER BY scanned_at, id LIMIT 1",
            (row["event_id"], row["ticket_id"]),
        ).fetchone()
        if canonical:
            first_at, first_by = canonical["scanned_at"], canonical["gate"]
    return {
        "id": row["id"],
        "status": status,
        "firstCheckedInAt": first_at,
        "firstScannedBy": first_by,
        "reason": None,
    }
