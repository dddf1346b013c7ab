"""The figures behind the organiser's live view, assembled in one read per refresh."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from scanner_app.core.attendance import Attendance
from scanner_app.core.timeutil import iso_ms, parse_iso
from scanner_app.server.hub import Hub

ONLINE_S = 60  # gates sync every few seconds: a minute of silence is worth a look
STALE_S = 300
LIVE_HOURS = 12  # an event without an end is "live" this long after it starts


def _time(text: str | None) -> datetime | None:
    try:
        return parse_iso(text) if text else None
    except ValueError:
        return None


def suggested_event(events: list[dict[str, Any]], now: datetime) -> str | None:
    """The event an organiser most likely wants: live now, else the next, else the latest
    published one; a draft only when nothing is published (never just the newest row)."""
    published = [e for e in events if e["status"] == "published"]
    live, upcoming, past = [], [], []
    for event in published:
        start, end = _time(event.get("startsAt")), _time(event.get("endsAt"))
        if start is None:
            past.append((datetime.min.replace(tzinfo=now.tzinfo), event))
            continue
        end = end or start + timedelta(hours=LIVE_HOURS)
        if start - timedelta(hours=2) <= now <= end:  # doors open before the start
            live.append((start, event))
        elif start > now:
            upcoming.append((start, event))
        else:
            past.append((start, event))
    for pool, pick in ((live, min), (upcoming, min), (past, max)):
        if pool:
            return pick(pool, key=lambda pair: pair[0])[1]["id"]
    others = [e for e in events if e["status"] != "cancelled"] or events
    return others[-1]["id"] if others else None


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_is_loopback(url: str) -> bool:
    try:
        return is_loopback(urlsplit(url).hostname)
    except ValueError:
        return False


def gate_badge(last_seen: str | None, now: datetime, revoked: bool) -> str:
    if revoked:
        return "revoked"
    seen = _time(last_seen)
    if seen is None:
        return "never"
    age = (now - seen).total_seconds()
    return "online" if age <= ONLINE_S else "stale" if age <= STALE_S else "offline"


def gates(hub: Hub, event_id: str, now: datetime) -> list[dict[str, Any]]:
    rows = hub.devices.list(event_id)
    return [
        {
            **{k: v for k, v in row.items() if k != "keyId"},
            "badge": gate_badge(row["lastSeenAt"], now, row["revoked"]),
        }
        for row in rows
    ]


def overview(hub: Hub, event_id: str) -> dict[str, Any]:
    """Everything the event view draws (the stream sends it whenever it changes)."""
    node = hub.node
    now = node.clock()
    event = node.events.get(event_id)
    stats = node.reports.stats(event_id)
    stats["rejected"] = {reason or "unknown": n for reason, n in stats["rejected"].items()}
    capacity = event["maxCapacity"]
    quantities = [t["quantity"] for t in event["tiers"]]
    if capacity is None and quantities and None not in quantities:
        capacity = sum(quantities)
    attendance = Attendance(node.db, node.names)
    return {
        "event": {
            "id": event["id"],
            "title": event["title"],
            "status": event["status"],
            "startsAt": event["startsAt"],
            "endsAt": event["endsAt"],
            "allowReentry": event["settings"].get("allowReentry", False),
        },
        "checkedIn": stats["checkedIn"],
        "inside": stats["inside"],
        "sold": stats["ticketsValid"],
        "capacity": capacity,
        "scans": stats["scans"],
        "byTier": stats["byTier"],
        "byGate": stats["byGate"],
        "rejected": stats["rejected"],
        "arrivals": attendance.arrivals(event_id),
        "rates": attendance.gate_rates(event_id, now),
        "recent": attendance.recent(event_id),
        "conflicts": attendance.conflicts(event_id),
        "gates": gates(hub, event_id, now),
        "generatedAt": iso_ms(now),
    }
