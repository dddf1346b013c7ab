"""Check-ins a door records without deciding them (the rules are CheckinService's).

- an upstream's verdict for a strict scan, stored as already pushed;
- a void: undoing a standing check-in adds a void entry, the original row is kept;
- the last standing check-in of this device (what "undo last" undoes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scanner_app.core.checkin_rows import insert_checkin, recompute_conflicts
from scanner_app.core.db import Database
from scanner_app.core.door import Door
from scanner_app.core.errors import Conflict, NotFound, ValidationError
from scanner_app.core.ids import checkin_id as new_checkin_id
from scanner_app.core.ledger_reads import allows_reentry
from scanner_app.core.models import DEFAULT_GATE, ScanResult, UndoResult
from scanner_app.core.names import NameCipher
from scanner_app.core.timeutil import Clock, iso_ms, normalize_iso, shift


class CheckinRecords:
    """Thread-safe; built by CheckinService with the same clock offset and device."""

    def __init__(
        self,
        db: Database,
        names: NameCipher,
        device_id: str,
        clock: Clock,
        clock_offset_ms: Callable[[], float],
        private_names: Callable[[], bool],
    ) -> None:
        self.db = db
        self.names = names
        self.device_id = device_id
        self.clock = clock
        self.clock_offset_ms = clock_offset_ms
        self.private_names = private_names

    def record_upstream(self, theirs: ScanResult, door: Door, *, checkin_id: str) -> ScanResult:
        """Store the upstream's verdict for an online (strict) scan as already pushed, so the
        outbox never re-sends it and a later pull of the same id changes nothing."""
        success, reason = theirs.success, theirs.reason
        checkin_id = theirs.checkin_id or checkin_id  # the upstream's id, if it chose one
        observed = self.clock()
        door_time = normalize_iso(theirs.checked_in_at or iso_ms(observed))
        event_id, ticket_id = theirs.event_id or "", theirs.ticket_id
        first_at, first_by = theirs.first_checked_in_at, theirs.first_scanned_by
        now = iso_ms(self.clock())
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM checkins WHERE id = ?", (checkin_id,)).fetchone():
                raise Conflict(f"Check-in {checkin_id} is already recorded.")
            insert_checkin(
                conn,
                id=checkin_id,
                event_id=event_id,
                ticket_id=ticket_id,
                device_id=self.device_id,
                gate=door.gate,
                scanned_at=door_time,
                observed_at=iso_ms(observed),
                direction=door.direction,
                success=int(success),
                reason=reason,
                attendee_name=None
                if self.private_names()
                else self.names.seal(theirs.attendee_name, ticket_id),
                tier_name=theirs.tier_name,
                first_checked_in_at=first_at,
                first_scanned_by=first_by,
                received_at=now,
                pushed_at=now,
            )
            conn.execute(
                "UPDATE checkins SET upstream_status = 'recorded' WHERE id = ?", (checkin_id,)
            )
            if success and ticket_id:
                recompute_conflicts(conn, event_id, ticket_id, allows_reentry(conn, event_id))
        return ScanResult(
            success=success,
            already_checked_in=reason == "already_checked_in",
            attendee_name=theirs.attendee_name,
            tier_name=theirs.tier_name,
            checked_in_at=door_time,
            first_checked_in_at=first_at,
            reason=reason,
            ticket_id=ticket_id,
            event_id=event_id or None,
            direction=door.direction,
            offline=False,
            first_scanned_by=first_by,
            scanned_by=door.gate,
            checkin_id=checkin_id,
        )

    def undo(self, checkin_id: str, gate: str = DEFAULT_GATE) -> UndoResult:
        """Void a standing check-in: a new void entry; the original row is kept."""
        with self.db.write() as conn:
            row = conn.execute("SELECT * FROM checkins WHERE id = ?", (checkin_id,)).fetchone()
            if row is None:
                raise NotFound(f"No check-in with ID {checkin_id} exists.")
            if not row["success"] or row["kind"] == "void":
                raise ValidationError("Only an accepted check-in can be undone.", field="id")
            if row["voided_by"]:
                raise Conflict(f"Check-in {checkin_id} was already undone.")
            observed = self.clock()
            offset = self.clock_offset_ms()
            void_id = new_checkin_id()
            insert_checkin(
                conn,
                id=void_id,
                event_id=row["event_id"],
                ticket_id=row["ticket_id"],
                device_id=self.device_id,
                gate=gate,
                scanned_at=iso_ms(shift(observed, offset)),
                observed_at=iso_ms(observed),
                clock_offset_ms=round(offset),
                direction=row["direction"],
                success=1,
                reason=None,
                kind="void",
                voids_id=checkin_id,
                attendee_name=row["attendee_name"],
                tier_name=row["tier_name"],
                received_at=iso_ms(observed),
            )
            conn.execute("UPDATE checkins SET voided_by = ? WHERE id = ?", (void_id, checkin_id))
            event_id = row["event_id"]
            recompute_conflicts(conn, event_id, row["ticket_id"], allows_reentry(conn, event_id))
        name = self.names.open(row["attendee_name"], row["ticket_id"])
        return UndoResult(void_id, checkin_id, row["ticket_id"], name)

    def last_checkin(self, gate: str | None = None) -> dict[str, Any] | None:
        """This device's most recent standing check-in (what "undo last" undoes)."""
        sql = (
            "SELECT id, ticket_id, attendee_name, tier_name, scanned_at, direction, gate"
            " FROM checkins WHERE device_id = ? AND success = 1 AND kind != 'void'"
            " AND voided_by IS NULL"
        )
        params: list[Any] = [self.device_id]
        if gate:
            sql += " AND gate = ?"
            params.append(gate)
        row = self.db.query_one(sql + " ORDER BY seq DESC LIMIT 1", params)
        if row is None:
            return None
        return {
            **dict(row),
            "attendee_name": self.names.open(row["attendee_name"], row["ticket_id"]),
        }
