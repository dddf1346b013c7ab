"""Events, tiers and their signing keys: the seed's Events API over the node's store."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from scanner_app.core import validate as v
from scanner_app.core.db import Database
from scanner_app.core.errors import Conflict, NotFound, ValidationError
from scanner_app.core.eventkeys import EventKeys
from scanner_app.core.ids import short_id
from scanner_app.core.keys import generate_signing_key, parse_jwks
from scanner_app.core.timeutil import Clock, iso_ms, utc_now

MAX_TIERS = 50


def _parse_tiers(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise ValidationError("tiers must be a non-empty list", field="tiers")
    if len(raw) > MAX_TIERS:
        raise ValidationError(f"at most {MAX_TIERS} tiers", field="tiers")
    tiers, names = [], set()
    for item in raw:
        tier = v.require_object(item, "tiers[]")
        name = v.text(tier, "name", max_length=100)
        if name in names:
            raise ValidationError(f"duplicate tier name {name!r}", field="tiers")
        names.add(name)
        tiers.append(
            {
                "id": tier.get("id") if isinstance(tier.get("id"), str) else short_id("tier", 10),
                "name": name,
                "price": v.integer(tier, "price", required=False, default=0),
                "quantity": v.integer(tier, "quantity", required=False),
            }
        )
    return tiers


def _source_time(event: dict[str, Any], field: str) -> str | None:
    """An imported event's own timestamp in the contract's form, or None if absent/invalid."""
    try:
        return v.timestamp(event, field)
    except ValidationError:  # a bad time is not worth refusing the event over
        return None


class EventStore(EventKeys):
    """Create, import, publish and cancel events; their keys come from EventKeys."""

    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        super().__init__(db, clock)

    # --- reading -------------------------------------------------------------------------
    def get(self, event_id: str) -> dict[str, Any]:
        row = self.db.query_one("SELECT * FROM events WHERE id = ?", (event_id,))
        if row is None:
            raise NotFound(f"No event with ID {event_id} exists.")
        return self._to_json(row)

    def list(self, status: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM events", ()
        if status:
            sql, params = sql + " WHERE status = ?", (status,)
        return [self._to_json(r) for r in self.db.query(sql + " ORDER BY created_at, id", params)]

    def tier(self, event_id: str, tier_name: str) -> sqlite3.Row | None:
        return self.db.query_one(
            "SELECT * FROM tiers WHERE event_id = ? AND name = ?", (event_id, tier_name)
        )

    def _to_json(self, row: sqlite3.Row) -> dict[str, Any]:
        tiers = self.db.query(
            "SELECT id, name, price, quantity FROM tiers WHERE event_id = ? ORDER BY position",
            (row["id"],),
        )
        settings = json.loads(row["settings"] or "{}")
        settings["allowReentry"] = bool(row["allow_reentry"])
        return {
            "id": row["id"],
            "title": row["title"],
            "description": row["description"],
            "startsAt": row["starts_at"],
            "endsAt": row["ends_at"],
            "venue": json.loads(row["venue"]) if row["venue"] else None,
            "tiers": [dict(t) for t in tiers],
            "maxCapacity": row["max_capacity"],
            "settings": settings,
            "status": row["status"],
            "createdAt": row["created_at"],
            "updatedAt": row["updated_at"],
        }

    # --- writing -------------------------------------------------------------------------
    def create(self, body: dict[str, Any], alg: str = "EdDSA") -> dict[str, Any]:
        """A draft event with a fresh signing key (this node is its issuer)."""
        v.require_object(body)
        event_id = short_id("evt")
        self._write_event(event_id, body, status="draft", origin="local")
        self.add_signing_key(event_id, generate_signing_key(alg))
        return self.get(event_id)

    def _write_event(
        self,
        event_id: str,
        body: dict[str, Any],
        status: str,
        origin: str,
        created_at: str | None = None,
        updated_at: str | None = None,
    ) -> None:
        """Insert or update one event and its tiers; times default to now."""
        title = v.text(body, "title", max_length=200)
        description = v.text(body, "description", required=False, max_length=5000)
        starts_at = v.timestamp(body, "startsAt")
        ends_at = v.timestamp(body, "endsAt")
        if starts_at and ends_at and ends_at < starts_at:
            raise ValidationError("endsAt is before startsAt", field="endsAt")
        tiers = _parse_tiers(body.get("tiers"))
        venue = body.get("venue")
        if venue is not None:
            v.require_object(venue, "venue")
        settings = v.require_object(body.get("settings") or {}, "settings")
        reentry = settings.get("allowReentry", body.get("allowReentry", False))
        if not isinstance(reentry, bool):
            raise ValidationError("settings.allowReentry must be true or false", field="settings")
        default_capacity = sum(t["quantity"] or 0 for t in tiers) or None
        capacity = v.integer(body, "maxCapacity", required=False, default=default_capacity)
        now = iso_ms(self.clock())
        with self.db.write() as conn:
            existing = conn.execute(
                "SELECT created_at FROM events WHERE id = ?", (event_id,)
            ).fetchone()
            row = (
                title,
                description,
                starts_at,
                ends_at,
                json.dumps(venue) if venue else None,
                capacity,
                status,
                int(reentry),
                json.dumps(settings),
                origin,
                updated_at or now,
                created_at or (existing["created_at"] if existing else now),
            )
            if existing:
                conn.execute(
                    "UPDATE events SET title=?, description=?, starts_at=?, ends_at=?, venue=?,"
                    " max_capacity=?, status=?, allow_reentry=?, settings=?, origin=?,"
                    " updated_at=?, created_at=? WHERE id=?",
                    (*row, event_id),
                )
            else:
                conn.execute(
                    "INSERT INTO events (title, description, starts_at, ends_at, venue,"
                    " max_capacity, status, allow_reentry, settings, origin, updated_at,"
                    " created_at, id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (*row, event_id),
                )
            for position, tier in enumerate(tiers):
                conn.execute(
                    "INSERT INTO tiers (id, event_id, name, price, quantity, position)"
                    " VALUES (?,?,?,?,?,?) ON CONFLICT(event_id, name) DO UPDATE SET"
                    " price=excluded.price, quantity=excluded.quantity, position=excluded.position",
                    (tier["id"], event_id, tier["name"], tier["price"], tier["quantity"], position),
                )

    def publish(self, event_id: str) -> dict[str, Any]:
        current = self.get(event_id)["status"]
        if current == "cancelled":
            raise Conflict(f"Event {event_id} is cancelled and cannot be published.")
        self._set_status(event_id, "published")
        return self.get(event_id)

    def cancel(self, event_id: str) -> dict[str, Any]:
        self.get(event_id)
        self._set_status(event_id, "cancelled")
        return self.get(event_id)

    def _set_status(self, event_id: str, status: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE events SET status = ?, updated_at = ? WHERE id = ?",
                (status, iso_ms(self.clock()), event_id),
            )

    def import_event(self, event: dict[str, Any], jwks: dict[str, Any] | None = None) -> dict:
        """Store an event issued elsewhere (GET /v1/events/{id} shape) and its public keys."""
        v.require_object(event, "event")
        event_id = v.text(event, "id", max_length=100)
        status = event.get("status", "published")
        if status not in ("draft", "published", "cancelled"):
            raise ValidationError("status must be draft, published or cancelled", field="status")
        keys = parse_jwks(jwks) if jwks is not None else []
        # The issuer's times, not the import's: this node only holds a copy of its event.
        created_at, updated_at = _source_time(event, "createdAt"), _source_time(event, "updatedAt")
        with self.db.write():
            self._write_event(
                event_id,
                event,
                status=status,
                origin="upstream",
                created_at=created_at,
                updated_at=updated_at,
            )
            self._store_public_keys(event_id, keys)
        return self.get(event_id)
