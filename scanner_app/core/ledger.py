"""Check-in rows across nodes: merging remote check-ins, the outbox, the check-ins feed.

The row itself (insert, ticket state, conflict flags) is in checkin_rows.py; its wire
forms in ledger_wire.py; the set-based reads behind a merge in ledger_reads.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from scanner_app.core.checkin_rows import TicketState, insert_checkins, ticket_state
from scanner_app.core.db import Database
from scanner_app.core.errors import ValidationError
from scanner_app.core.ledger_reads import answers_for, batch_tickets, existing_ids, recompute_many
from scanner_app.core.ledger_wire import parse_remote_checkin, row_to_wire
from scanner_app.core.names import NameCipher
from scanner_app.core.proofs import ProofChecker
from scanner_app.core.timeutil import Clock, iso_ms

MAX_FEED_PAGE = 1000
_ROW_COLUMNS = (
    "id, event_id, ticket_id, device_id, gate, scanned_at, observed_at, clock_offset_ms,"
    " direction, success, reason, kind, voids_id, attendee_name, tier_name, source,"
    " received_at, pushed_at"
)


def _fill_from_manifest(row: dict[str, Any], ticket: sqlite3.Row | None, names: NameCipher) -> None:
    """Tier and name from the manifest when an uploader left them out (stats split by tier)."""
    if ticket is not None:
        row["tier_name"] = row["tier_name"] or ticket["tier_name"]
        row["attendee_name"] = row["attendee_name"] or names.open(
            ticket["attendee_name"], row["ticket_id"]
        )


def _apply_void(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    """A void undoes a check-in of its own event (and ticket, when it names one) only: an
    uploader that knows another event's check-in id cannot void it."""
    conn.execute(
        "UPDATE checkins SET voided_by = ? WHERE id = ? AND voided_by IS NULL AND event_id = ?"
        " AND (? IS NULL OR ticket_id = ?) AND kind != 'void'",
        (row["id"], row["voids_id"], row["event_id"], row["ticket_id"], row["ticket_id"]),
    )


_CONTENT = ("ticket_id", "device_id", "gate", "scanned_at", "direction", "success", "reason",
            "kind", "voids_id")  # fmt: skip


def _supersedes(
    existing: sqlite3.Row, row: dict[str, Any], source: str, local_device: str | None
) -> bool:
    """One id, one version on every node (DESIGN.md §5), even after a late strict scan.

    - From downstream: a gate's upload replaces the row this node stored when it answered
      that gate's online (strict) scan under the same id. The gate uploads an id only when
      it never got that answer and showed its own verdict, so the gate's version (its door
      time, its verdict) is the one that happened; it must come from that same device.
    - From upstream: the upstream's current version of a row this node only pulled.
    """
    if all(existing[name] == row[name] for name in _CONTENT):
        return False  # a resend: idempotent, nothing changes
    if source == "upstream":
        return existing["source"] == "upstream" and existing["event_id"] == row["event_id"]
    return (
        existing["source"] == "local"
        and existing["kind"] == "scan"
        and row["kind"] == "scan"
        and existing["device_id"] == row["device_id"]
        and bool(row["device_id"])
        and existing["device_id"] != local_device  # never this node's own door's rows
        and existing["event_id"] == row["event_id"]
        and existing["ticket_id"] in (None, row["ticket_id"])
    )


class Ledger:
    """Merges check-ins made on other nodes; serves this node's check-ins by cursor."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        local_device: str | None,
        names: NameCipher,
        private_names: Callable[[], bool] = lambda: False,
    ) -> None:
        self.db = db
        self.clock = clock
        self.local_device = local_device  # this node's own device id (its door's rows)
        self.names = names
        # A private gate keeps no names of other gates' admissions either.
        self.private_names = private_names

    def merge(
        self,
        items: list[Any],
        *,
        source: str,
        device_id: str | None = None,
        proofs: ProofChecker | None = None,
        enrolled_at: str | None = None,
        schema_checked: bool = False,
    ) -> list[dict[str, Any]]:
        """Store remote check-ins idempotently by id. `source` is 'downstream' (to forward
        upstream later) or 'upstream' (already there). All validated before anything is
        written (`schema_checked`: see ledger_wire.parse_remote_checkin).

        The whole batch is applied before any answer is made, so two admissions of one
        ticket in one batch (in any order) get the answers a resend gets: the earlier door
        time `recorded`, the later `conflict`; a void applies to its check-in wherever in
        the batch that is. With `proofs` (a hub taking a gate's upload) each new admission
        must prove its presentation (proofs.py); one that cannot is stored as audit,
        `refused`, is not forwarded upstream, and admits nobody.
        """
        rows = [parse_remote_checkin(item, device_id, schema_checked=schema_checked)
                for item in items]  # fmt: skip
        now = iso_ms(self.clock())
        pushed_at = now if source == "upstream" else None
        received = self.clock()
        keep_names = not self.private_names()
        with self.db.write() as conn:
            known = existing_ids(conn, [row["id"] for row in rows])
            # The manifest rows of the batch's tickets, read once: for the proofs, and for
            # tier and name where the uploader left them out (nothing here changes tickets).
            tickets = batch_tickets(
                conn, {(row["event_id"], row["ticket_id"]) for row in rows if row["ticket_id"]}
            )
            touched: set[tuple[str, str]] = set()
            seen: set[str] = set()
            new_rows: list[dict[str, Any]] = []
            carried: list[tuple[str, str]] = []  # (voided_by, id) of replaced versions
            for row in rows:
                if row["id"] in seen:
                    continue  # a repeat inside the batch changes nothing
                seen.add(row["id"])
                if row["id"] in known:
                    existing = conn.execute(
                        "SELECT * FROM checkins WHERE id = ?", (row["id"],)
                    ).fetchone()
                    if not _supersedes(existing, row, source, self.local_device):
                        continue  # idempotent: a resend changes nothing
                    # Delete + insert: a new seq, so the feed carries the new version again.
                    conn.execute("DELETE FROM checkins WHERE id = ?", (row["id"],))
                    if existing["ticket_id"] and existing["ticket_id"] != row["ticket_id"]:
                        touched.add((existing["event_id"], existing["ticket_id"]))
                    if existing["voided_by"]:
                        carried.append((existing["voided_by"], row["id"]))
                row.update(source=source, received_at=now, pushed_at=pushed_at)
                ticket = tickets.get((row["event_id"], row["ticket_id"]))
                refusal = proofs.refusal(row, ticket, received, enrolled_at) if proofs else None
                if refusal is not None:  # kept as audit, admits nobody, never forwarded
                    row.update(success=0, refused=refusal, pushed_at=now)
                    row["upstream_status"] = "refused"
                if row["ticket_id"] and (row["tier_name"] is None or row["attendee_name"] is None):
                    _fill_from_manifest(row, ticket, self.names)
                name = self.names.seal(row["attendee_name"], row["ticket_id"])
                row["attendee_name"] = name if keep_names else None
                new_rows.append(row)
                if row["ticket_id"] and row["success"]:
                    touched.add((row["event_id"], row["ticket_id"]))
            insert_checkins(conn, new_rows)
            conn.executemany("UPDATE checkins SET voided_by = ? WHERE id = ?", carried)
            for row in new_rows:
                if row["voids_id"]:
                    _apply_void(conn, row)
            recompute_many(conn, touched)
            return answers_for(conn, [row["id"] for row in rows])

    def feed(self, event_id: str, after: str | None = None, limit: int = 500) -> dict[str, Any]:
        """Every node's check-ins for an event, in the order this node stored them."""
        try:
            cursor = int(after) if after not in (None, "") else 0
        except (TypeError, ValueError) as exc:
            raise ValidationError("after must be a cursor returned by this feed", "after") from exc
        limit = max(1, min(int(limit), MAX_FEED_PAGE))
        rows = self.db.query(
            f"SELECT seq, refused, {_ROW_COLUMNS} FROM checkins WHERE event_id = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (event_id, max(cursor, 0), limit + 1),
        )
        page = rows[:limit]
        return {
            # A refused upload is audit here, not news for other gates.
            "data": [row_to_wire(r, self.names) for r in page if r["refused"] is None],
            "nextCursor": str(page[-1]["seq"]) if page else str(max(cursor, 0)),
            "hasMore": len(rows) > limit,
        }

    def outbox(self, limit: int = 500) -> list[dict[str, Any]]:
        """Check-ins not yet acknowledged upstream (nor set aside), oldest first."""
        return self.outbox_after(0, limit)[0]

    def outbox_after(self, after: int, limit: int = 500) -> tuple[list[dict[str, Any]], int]:
        """The outbox from the row after `after` (a seq) on, and the last row's seq (`after`
        when none): an uploader reads the next batch while the previous one is in flight."""
        rows = self.db.query(
            f"SELECT seq, {_ROW_COLUMNS}, proof FROM checkins WHERE pushed_at IS NULL"
            " AND set_aside_reason IS NULL AND seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        )
        wire = [row_to_wire(r, self.names, with_proof=True) for r in rows]
        return wire, rows[-1]["seq"] if rows else after

    def requeue_all(self, conn: sqlite3.Connection) -> int:
        """Every check-in this node made or took from downstream is to be uploaded again
        (the upstream lost its database); returns how many."""
        return conn.execute(
            "UPDATE checkins SET pushed_at = NULL, upstream_status = NULL,"
            " set_aside_reason = NULL WHERE source != 'upstream'"
        ).rowcount

    def ticket_state(self, event_id: str, ticket_id: str, reentry: bool) -> TicketState:
        """Whether the ticket is in, and since when (read-only, from any thread)."""
        return ticket_state(self.db.read(), event_id, ticket_id, reentry)

    def pending_count(self) -> int:
        """Check-ins still to upload (set-aside ones are not pending: they never will be)."""
        return self.db.query_one(
            "SELECT COUNT(*) FROM checkins WHERE pushed_at IS NULL AND set_aside_reason IS NULL"
        )[0]

    def set_aside(self, reasons: dict[str, str]) -> None:
        """Take check-ins out of the outbox for good, each with why (kept as audit)."""
        with self.db.write() as conn:
            conn.executemany(
                "UPDATE checkins SET set_aside_reason = ? WHERE id = ? AND pushed_at IS NULL",
                [(reason or "refused by the upstream", cid) for cid, reason in reasons.items()],
            )

    def set_aside_summary(self) -> tuple[int, str | None]:
        """(how many check-ins are set aside, the newest reason)."""
        row = self.db.query_one(
            "SELECT COUNT(*) AS n, (SELECT set_aside_reason FROM checkins"
            " WHERE set_aside_reason IS NOT NULL AND pushed_at IS NULL ORDER BY seq DESC LIMIT 1)"
            " AS reason FROM checkins WHERE set_aside_reason IS NOT NULL AND pushed_at IS NULL"
        )
        return row["n"], row["reason"]

    def retry_set_aside(self) -> int:
        """Put every set-aside check-in back in the outbox (e.g. after fixing the hub)."""
        with self.db.write() as conn:
            return conn.execute(
                "UPDATE checkins SET set_aside_reason = NULL"
                " WHERE set_aside_reason IS NOT NULL AND pushed_at IS NULL"
            ).rowcount

    def mark_pushed(self, answers: list[dict[str, Any]]) -> None:
        """Record upstream's answers; a conflict there flags the local row too."""
        now = iso_ms(self.clock())
        with self.db.write() as conn:
            conn.executemany(
                "UPDATE checkins SET pushed_at = ?, upstream_status = ? WHERE id = ?",
                [(now, a.get("status"), a.get("id")) for a in answers],
            )
            conn.executemany(
                "UPDATE checkins SET conflict = 1, first_checked_in_at = ?,"
                " first_scanned_by = ? WHERE id = ?",
                [
                    (a.get("firstCheckedInAt"), a.get("firstScannedBy"), a.get("id"))
                    for a in answers
                    if a.get("status") == "conflict"
                ],
            )
