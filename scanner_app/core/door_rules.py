"""The door rules: what a verified ticket gets at a door (DESIGN.md §4, §5).

A scan, a manual check-in and a strict gate's local preview all ask ``door_rule``; only
CheckinService commits what it answers.
"""

from __future__ import annotations

import sqlite3

from scanner_app.core.checkin_rows import ticket_state
from scanner_app.core.door import Door
from scanner_app.core.tokens import TicketClaims


def manifest_of(conn: sqlite3.Connection, ticket_id: str) -> sqlite3.Row | None:
    """The ticket's manifest row (name, tier, status), None for a ticket not synced here."""
    return conn.execute(
        "SELECT attendee_name, tier_name, status FROM tickets WHERE id = ?", (ticket_id,)
    ).fetchone()


def door_rule(
    conn: sqlite3.Connection,
    claims: TicketClaims,
    manifest: sqlite3.Row | None,
    tier: str,
    door: Door,
) -> tuple[str | None, str | None, str | None]:
    """The door rules after the token verified: (reason, first admission at, by)."""
    event = conn.execute(
        "SELECT status, allow_reentry FROM events WHERE id = ?", (claims.evt,)
    ).fetchone()
    if event is not None and event["status"] == "cancelled":
        return "event_cancelled", None, None
    if manifest is not None and manifest["status"] == "cancelled":
        return "revoked", None, None
    if door.allowed_tiers and tier not in door.allowed_tiers:
        return "tier_not_allowed", None, None
    reentry = bool(event and event["allow_reentry"])
    state = ticket_state(conn, claims.evt, claims.jti, reentry)
    if door.direction == "in" and (state.inside if reentry else state.admitted):
        return "already_checked_in", state.first_at, state.first_by
    if door.direction == "out" and not state.inside:
        return "not_checked_in", None, None
    return None, None, None
