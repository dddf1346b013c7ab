"""The ticket manifest: issue, cancel, import, the changes feed and attendee search."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from scanner_app.core import validate as v
from scanner_app.core.db import Database
from scanner_app.core.errors import Conflict, NotFound, SoldOut, ValidationError
from scanner_app.core.events import EventStore
from scanner_app.core.ids import short_id
from scanner_app.core.name_index import NameIndex
from scanner_app.core.names import TICKET_PREFIX, NameCipher, seal_for_ticket
from scanner_app.core.timeutil import Clock, iso_ms, utc_now
from scanner_app.core.tokens import TicketClaims, sign_ticket

MAX_ISSUE = 1000
MAX_FEED_PAGE = 1000
MAX_NAME = 200
MAX_BOOKING_ID = 100


def ticket_json(row: sqlite3.Row, names: NameCipher, with_payload: bool = False) -> dict[str, Any]:
    data = {
        "id": row["id"],
        "eventId": row["event_id"],
        "bookingId": row["booking_id"],
        "attendeeName": names.open(row["attendee_name"], row["id"]),
        "tierName": row["tier_name"],
        "status": row["status"],
        "updatedAt": row["updated_at"],
    }
    if with_payload:
        data["qrPayload"] = row["qr_payload"]
    return data


def _next_seq(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets").fetchone()[0]


_SOLD_OUT_MARK = "webhooks.sold_out."  # node_settings key prefix, + the tier's id


def sold_count(conn: sqlite3.Connection, event_id: str, tier_name: str | None = None) -> int:
    """Valid (not cancelled) tickets of an event, or of one of its tiers."""
    sql = "SELECT COUNT(*) FROM tickets WHERE event_id = ? AND status = 'valid'"
    if tier_name is None:
        return conn.execute(sql, (event_id,)).fetchone()[0]
    return conn.execute(sql + " AND tier_name = ?", (event_id, tier_name)).fetchone()[0]


class TicketBook:
    """Tickets of every event on this node; the manifest that gates pull."""

    def __init__(
        self, db: Database, events: EventStore, names: NameCipher, clock: Clock = utc_now
    ) -> None:
        self.db = db
        self.events = events
        self.names = names  # names are stored sealed (names.py) and searched in memory
        self.index = NameIndex(db, names)
        self.clock = clock

    def get(self, ticket_id: str) -> dict[str, Any]:
        row = self.db.query_one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        if row is None:
            raise NotFound(f"No ticket with ID {ticket_id} exists.")
        return ticket_json(row, self.names, with_payload=True)

    def lookup(self, ticket_id: str) -> dict[str, Any] | None:
        row = self.db.query_one(
            "SELECT id, event_id, attendee_name, tier_name, status FROM tickets WHERE id = ?",
            (ticket_id,),
        )
        if row is None:
            return None
        return {**dict(row), "attendee_name": self.names.open(row["attendee_name"], row["id"])}

    def issue(
        self,
        event_id: str,
        tier_name: str,
        attendee_name: str | None = None,
        quantity: int = 1,
        booking_id: str | None = None,
        on_issued: Callable[[sqlite3.Connection, list[dict[str, Any]]], object] | None = None,
    ) -> list[dict[str, Any]]:
        """Sign `quantity` tickets in one booking; refused for drafts, cancellations, sell-outs.

        `on_issued(conn, tickets)` runs inside the issuing transaction (the hub queues its
        webhooks there, so a crash cannot keep the tickets and lose the notifications).
        """
        if not isinstance(quantity, int) or not 1 <= quantity <= MAX_ISSUE:
            raise ValidationError(f"quantity must be 1..{MAX_ISSUE}", field="quantity")
        # The manifest's limits; a longer name made a token too big for a QR code (or for
        # the door's MAX_TOKEN_LENGTH) after the ticket was already sold.
        for field, value, limit in (
            ("attendeeName", attendee_name, MAX_NAME),
            ("bookingId", booking_id, MAX_BOOKING_ID),
        ):
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                raise ValidationError(f"{field} must be at most {limit} characters", field=field)
            v.refuse_controls(value, field)
        event = self.events.get(event_id)
        if event["status"] != "published":
            status = event["status"]
            raise Conflict(f"Event {event_id} is {status}; tickets need a published event.")
        tier = self.events.tier(event_id, tier_name)
        if tier is None:
            names = ", ".join(t["name"] for t in event["tiers"])
            raise ValidationError(f"No tier {tier_name!r}; tiers are: {names}", field="tierName")
        key = self.events.signing_key(event_id)
        booking_id = booking_id or short_id("bkg")
        issued_at = self.clock()
        now = iso_ms(issued_at)
        with self.db.write() as conn:
            # Counted inside the write lock so two box offices cannot oversell the last seat.
            sold = sold_count(conn, event_id, tier_name)
            if tier["quantity"] is not None and sold + quantity > tier["quantity"]:
                left = max(tier["quantity"] - sold, 0)
                raise SoldOut(f"Tier {tier_name!r} has {left} tickets left, {quantity} asked.")
            seq = _next_seq(conn)
            rows = []
            for offset in range(quantity):
                claims = TicketClaims(
                    jti=short_id("tkt"),
                    evt=event_id,
                    tier=tier_name,
                    iat=int(issued_at.timestamp()),
                    name=attendee_name or None,
                    bkg=booking_id,
                )
                token = sign_ticket(claims, key)
                rows.append(
                    (
                        claims.jti,
                        event_id,
                        booking_id,
                        self.names.seal(attendee_name, claims.jti),
                        tier_name,
                        token,
                        now,
                        seq + offset,
                    )
                )
            conn.executemany(
                "INSERT INTO tickets (id, event_id, booking_id, attendee_name, tier_name, status,"
                " qr_payload, updated_at, seq) VALUES (?,?,?,?,?,'valid',?,?,?)",
                rows,
            )
            stored = conn.execute(
                "SELECT * FROM tickets WHERE event_id = ? AND booking_id = ? AND seq >= ?"
                " ORDER BY seq",
                (event_id, booking_id, seq),
            ).fetchall()
            tickets = [ticket_json(row, self.names, with_payload=True) for row in stored]
            if on_issued is not None:
                on_issued(conn, tickets)
        return tickets

    def cancel(
        self,
        ticket_id: str,
        on_cancelled: Callable[[sqlite3.Connection, sqlite3.Row], None] | None = None,
    ) -> dict[str, Any]:
        """Revoke a ticket; gates learn it on their next manifest pull. ``on_cancelled``
        runs inside the transaction with the cancelled row, only when it was valid."""
        with self.db.write() as conn:
            row = conn.execute("SELECT status FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
            if row is None:
                raise NotFound(f"No ticket with ID {ticket_id} exists.")
            if row["status"] != "cancelled":
                conn.execute(
                    "UPDATE tickets SET status = 'cancelled', updated_at = ?, seq = ? WHERE id = ?",
                    (iso_ms(self.clock()), _next_seq(conn), ticket_id),
                )
                if on_cancelled is not None:
                    cancelled = conn.execute(
                        "SELECT * FROM tickets WHERE id = ?", (ticket_id,)
                    ).fetchone()
                    on_cancelled(conn, cancelled)
        return self.get(ticket_id)

    def sold_out_change(
        self, conn: sqlite3.Connection, event_id: str, tier_name: str
    ) -> dict[str, Any] | None:
        """The event.sold_out data when this tier has just sold out, else None. Once per
        sell-out: a mark in node_settings, cleared when seats free up (run in the writing
        transaction that issued or cancelled)."""
        tier = conn.execute(
            "SELECT id, quantity FROM tiers WHERE event_id = ? AND name = ?", (event_id, tier_name)
        ).fetchone()
        if tier is None or tier["quantity"] is None:
            return None
        sold = sold_count(conn, event_id, tier_name)
        mark = _SOLD_OUT_MARK + tier["id"]
        marked = conn.execute("SELECT 1 FROM node_settings WHERE key = ?", (mark,)).fetchone()
        if sold < tier["quantity"]:
            if marked:
                conn.execute("DELETE FROM node_settings WHERE key = ?", (mark,))
            return None
        if marked:
            return None
        now = iso_ms(self.clock())
        conn.execute("INSERT INTO node_settings (key, value) VALUES (?, ?)", (mark, now))
        limited = conn.execute(
            "SELECT name, quantity FROM tiers WHERE event_id = ? AND quantity IS NOT NULL",
            (event_id,),
        ).fetchall()
        return {
            "eventId": event_id,
            "tierName": tier_name,
            "quantity": tier["quantity"],
            "sold": sold,
            "eventSoldOut": all(
                sold_count(conn, event_id, t["name"]) >= t["quantity"] for t in limited
            ),
        }

    def feed(
        self, event_id: str, after: str | None = None, limit: int = 500, *, sealed: bool = False
    ) -> dict[str, Any]:
        """Manifest changes since a cursor, oldest first; cancelled tickets are revocations.

        ``sealed`` (for a gate set to private): each name comes as ``sealedName``, openable
        only with the ticket's token, and ``attendeeName`` is left out."""
        self.events.get(event_id)
        cursor = _parse_cursor(after)
        limit = max(1, min(int(limit), MAX_FEED_PAGE))
        rows = self.db.query(
            "SELECT * FROM tickets WHERE event_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (event_id, cursor, limit + 1),
        )
        page = rows[:limit]
        next_cursor = str(page[-1]["seq"]) if page else str(cursor)
        data = [ticket_json(r, self.names, with_payload=sealed) for r in page]
        if sealed:
            for entry in data:
                name, token = entry.pop("attendeeName"), entry.pop("qrPayload")
                entry["attendeeName"] = None
                entry["sealedName"] = seal_for_ticket(name, token, entry["id"])
        return {
            "data": data,
            "nextCursor": next_cursor,
            "hasMore": len(rows) > limit,
        }

    def import_manifest(
        self, event_id: str, entries: Iterable[dict[str, Any]], *, private: bool = False
    ) -> int:
        """Apply manifest entries as the feed returns them; later entries win. One transaction.

        Names are stored sealed; ``private`` keeps only the per-ticket ``sealedName`` (a
        plain name sent along is dropped, never stored)."""
        rows = []
        for entry in entries:
            row = manifest_row(event_id, entry)
            if private:
                stored = _sealed_name(entry)
            else:
                stored = self.names.seal(row[3], row[0])
            rows.append((*row[:3], stored, *row[4:]))
        if not rows:
            return 0
        with self.db.write() as conn:
            seq = _next_seq(conn)
            conn.executemany(
                "INSERT INTO tickets (id, event_id, booking_id, attendee_name, tier_name, status,"
                " updated_at, seq) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
                " booking_id=excluded.booking_id, attendee_name=excluded.attendee_name,"
                " tier_name=excluded.tier_name, status=excluded.status,"
                " updated_at=excluded.updated_at, seq=excluded.seq",
                [(*row, seq + i) for i, row in enumerate(rows)],
            )
        return len(rows)

    def search(self, query: str, event_id: str | None = None, limit: int = 20) -> list[dict]:
        """Attendees by name, ticket id or booking id; prefix match on every word."""
        rowids = self.index.search(query or "", event_id, max(1, min(limit, 200)))
        if not rowids:
            return []
        marks = ",".join("?" * len(rowids))
        rows = self.db.query(f"SELECT rowid, * FROM tickets WHERE rowid IN ({marks})", rowids)
        order = {rowid: i for i, rowid in enumerate(rowids)}
        rows.sort(key=lambda r: order[r["rowid"]])
        return [ticket_json(r, self.names) for r in rows]


def _sealed_name(entry: dict[str, Any]) -> str | None:
    """The per-ticket sealed name of a feed entry, if it is one (never a plain name)."""
    value = entry.get("sealedName")
    if isinstance(value, str) and value.startswith(TICKET_PREFIX) and len(value) <= 1000:
        return value
    return None


def _parse_cursor(after: str | None) -> int:
    if after in (None, ""):
        return 0
    message = "after must be a cursor returned by this feed"
    try:
        cursor = int(after)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValidationError(message, field="after") from exc
    if cursor < 0:
        raise ValidationError(message, field="after")
    return cursor


def manifest_row(event_id: str, entry: Any) -> tuple[Any, ...]:
    entry = v.require_object(entry, "ticket")
    ticket_id = v.text(entry, "id", max_length=100)
    status = entry.get("status", "valid")
    if status not in ("valid", "cancelled"):
        raise ValidationError(f"ticket {ticket_id}: status must be valid or cancelled", "status")
    entry_event = entry.get("eventId", event_id)
    if entry_event != event_id:
        raise ValidationError(f"ticket {ticket_id} belongs to {entry_event}", field="eventId")
    return (
        ticket_id,
        event_id,
        v.text(entry, "bookingId", required=False, max_length=100),
        v.text(entry, "attendeeName", required=False, max_length=200),
        v.text(entry, "tierName", max_length=100),
        status,
        v.timestamp(entry, "updatedAt") or "",
    )


def parse_manifest_text(text: str) -> list[dict[str, Any]]:
    """A JSON array, a feed page ({"data": [...]}) or JSON lines."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        parsed = json.loads(stripped)
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, list):
        return parsed
    if isinstance(parsed, dict) and isinstance(parsed.get("data"), list):
        return parsed["data"]
    if isinstance(parsed, dict):
        return [parsed]
    entries = []
    for number, line in enumerate(stripped.splitlines(), start=1):
        if line.strip():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValidationError(f"line {number} is not JSON: {exc.msg}") from exc
    return entries
