"""Personal data leaves a gate (DESIGN.md §10 "At rest"): attendee names are erased 7 days
(configurable) after their event ends, and at once when the upstream says the gate's device
was revoked (a stolen laptop whose key the organiser withdrew).

Names go from the manifest, the search index (in memory) and the check-in log; ids, tiers and the
check-ins themselves stay (the audit trail, and what is still to upload). The freed pages
are overwritten (``secure_delete``), so the names are not left in the file's free space.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from scanner_app.core.db import Database
from scanner_app.core.names import bump_generation
from scanner_app.core.storage import secure_delete
from scanner_app.core.timeutil import iso_ms

log = logging.getLogger(__name__)

RETENTION_DAYS = 7
RETENTION_SETTING = "personal_data_days"


def forget_names(db: Database, event_ids: list[str] | None = None) -> int:
    """Erase attendee names of ``event_ids`` (None: every event); returns rows changed."""
    where, params = "", ()
    if event_ids is not None:
        if not event_ids:
            return 0
        where = f" AND event_id IN ({','.join('?' * len(event_ids))})"
        params = tuple(event_ids)
    with db.write() as conn:
        with secure_delete(conn):
            changed = conn.execute(
                "UPDATE tickets SET attendee_name = NULL WHERE attendee_name IS NOT NULL" + where,
                params,
            ).rowcount
            changed += conn.execute(
                "UPDATE checkins SET attendee_name = NULL WHERE attendee_name IS NOT NULL" + where,
                params,
            ).rowcount
            if changed:  # the search indexes in memory (this and other processes) reload
                bump_generation(conn)
    if changed:
        log.info("Erased %d attendee names (%s)", changed, ", ".join(event_ids or ["all events"]))
    return changed


def expired_events(db: Database, now: datetime, days: float = RETENTION_DAYS) -> list[str]:
    """Events that ended (or, without an end, started) more than ``days`` ago and still
    hold names here."""
    cutoff = iso_ms(now - timedelta(days=days))
    rows = db.query(
        "SELECT e.id FROM events e WHERE COALESCE(e.ends_at, e.starts_at) < ?"
        " AND EXISTS (SELECT 1 FROM tickets t WHERE t.event_id = e.id"
        " AND t.attendee_name IS NOT NULL)",
        (cutoff,),
    )
    return [r["id"] for r in rows]


def expire_names(db: Database, now: datetime, days: float = RETENTION_DAYS) -> int:
    return forget_names(db, expired_events(db, now, days))
