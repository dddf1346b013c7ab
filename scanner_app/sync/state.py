"""Sync bookkeeping in the node's `sync_state` table, and the status snapshot the GUI shows."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from scanner_app.core.db import Database


class ConnectionState(StrEnum):
    """A node's link to its upstream: what the engine knows and the status bar shows."""

    STANDALONE = "standalone"  # no upstream: nothing to sync
    SYNCING = "syncing"  # an event's first download is running (shown over the state)
    ONLINE = "online"
    OFFLINE = "offline"  # the upstream cannot be reached; waiting fixes it
    PROBLEM = "problem"  # it answers but refuses something (a key, a 5xx, rows): look


class SyncState:
    """Cursors and times per upstream, so a restart resumes where the last sync stopped."""

    def __init__(self, db: Database, upstream: str) -> None:
        self.db = db
        self.upstream = upstream

    def get(self, name: str) -> str | None:
        row = self.db.query_one(
            "SELECT value FROM sync_state WHERE upstream = ? AND name = ?", (self.upstream, name)
        )
        return row["value"] if row else None

    def get_float(self, name: str) -> float | None:
        value = self.get(name)
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    def set(self, name: str, value: str | float, conn: sqlite3.Connection | None = None) -> None:
        """Upsert; pass `conn` to commit together with the data the value describes."""
        sql = (
            "INSERT INTO sync_state (upstream, name, value) VALUES (?, ?, ?)"
            " ON CONFLICT(upstream, name) DO UPDATE SET value = excluded.value"
        )
        params = (self.upstream, name, str(value))
        if conn is not None:
            conn.execute(sql, params)
            return
        with self.db.write() as writer:
            writer.execute(sql, params)

    def delete(self, name: str, conn: sqlite3.Connection) -> None:
        conn.execute(
            "DELETE FROM sync_state WHERE upstream = ? AND name = ?", (self.upstream, name)
        )

    def forget(self, prefix: str, conn: sqlite3.Connection) -> None:
        """Drop every value whose name starts with ``prefix``, in the caller's transaction."""
        conn.execute(
            "DELETE FROM sync_state WHERE upstream = ? AND name LIKE ? ESCAPE '\\'",
            (self.upstream, prefix.replace("%", r"\%").replace("_", r"\_") + "%"),
        )

    def names(self, prefix: str) -> dict[str, str]:
        rows = self.db.query(
            "SELECT name, value FROM sync_state WHERE upstream = ? AND name LIKE ?",
            (self.upstream, prefix.replace("%", r"\%") + "%"),
        )
        return {r["name"]: r["value"] for r in rows}


@dataclass(frozen=True)
class SyncStatus:
    """A thread-safe snapshot: plain values, safe to hand to another thread."""

    upstream: str
    state: ConnectionState  # ONLINE, OFFLINE or PROBLEM
    reason: str | None  # why offline or degraded (None when online)
    syncing: bool  # a round is running now
    pending: int  # check-ins not yet acknowledged upstream
    last_push_at: float | None  # unix time of the last push that emptied the outbox
    last_pull_at: float | None  # unix time of the last complete pull
    revocation_age_s: float | None  # age of the oldest event's ticket manifest
    clock_offset_ms: float  # upstream clock minus ours, applied to door times
    clock_skew_large: bool
    first_sync: dict[str, Any] | None  # {"eventId", "phase", "done", "estimatedTotal"}
    refused: int = 0  # check-ins this engine set aside (the upstream refused them...)
    set_aside: int = 0  # every check-in set aside on this node: never uploaded, kept as audit
    set_aside_reason: str | None = None  # the newest one's reason
    next_attempt_in_s: float | None = None  # after a failure: when the engine tries again
    rate_limit: dict[str, Any] | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    link: str = "loopback"  # pinned | tls | loopback | insecure (sync.client.link_kind)

    @property
    def last_sync_at(self) -> float | None:
        times = [t for t in (self.last_push_at, self.last_pull_at) if t is not None]
        return max(times) if times else None

    def to_dict(self) -> dict[str, Any]:
        """camelCase for the CLI and JSON edges (the GUI takes the dataclass itself)."""
        data = {_camel(k): v for k, v in asdict(self).items()}
        data["state"] = str(self.state.value)
        data["warnings"] = list(self.warnings)
        data["lastSyncAt"] = self.last_sync_at
        return data


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
