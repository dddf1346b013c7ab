"""The status bar's input: a plain snapshot (no Qt here), filled from typed values
(``SyncStatus``, stats); the connection is sync's own ``ConnectionState``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from scanner_app.sync.state import ConnectionState, SyncStatus


@dataclass(frozen=True, slots=True)
class TierCount:
    name: str
    checked_in: int
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class FirstSync:
    """How far the first download of an event's ticket list has got (SyncStatus.first_sync)."""

    event_id: str = ""
    done: int = 0
    estimated_total: int | None = None  # the tiers' quantities: a guess, may be exceeded
    phase: str = "tickets"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FirstSync:
        total = data.get("estimatedTotal", data.get("estimated_total"))
        return cls(
            event_id=str(data.get("eventId", data.get("event_id")) or ""),
            done=int(data.get("done") or 0),
            estimated_total=int(total) if total else None,
            phase=str(data.get("phase") or "tickets"),
        )

    @property
    def percent(self) -> int | None:
        if not self.estimated_total:
            return None
        return min(100, self.done * 100 // self.estimated_total)


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """Everything the always-visible status bar shows."""

    gate: str = ""
    checked_in: int = 0
    capacity: int | None = None
    tiers: tuple[TierCount, ...] = ()
    connection: ConnectionState = ConnectionState.STANDALONE
    last_sync_at: float | None = None  # unix time of the last successful sync
    pending_uploads: int = 0
    set_aside: int = 0  # check-ins the upstream will never take (kept here as audit)
    set_aside_reason: str | None = None  # the newest one's reason (the tooltip)
    camera_fps: float | None = None
    hub_address: str | None = None  # set when this laptop serves the venue
    sync_detail: str | None = None  # why offline / what the problem is (the tooltip)
    first_sync: FirstSync | None = None  # set while an event's first download runs
    storage_problem: str = ""  # the node's files failed (disk full...): no verdict is shown
    link: str | None = None  # how the upstream link is protected (sync.client.link_kind)

    def __post_init__(self) -> None:
        if isinstance(self.first_sync, Mapping):  # as SyncStatus.first_sync holds it
            object.__setattr__(self, "first_sync", FirstSync.from_mapping(self.first_sync))
        object.__setattr__(self, "connection", ConnectionState(self.connection))

    @property
    def shown_connection(self) -> ConnectionState:
        """The state the connection label shows (and is coloured by)."""
        if self.first_sync is not None:
            return ConnectionState.SYNCING
        return self.connection

    def with_changes(self, **changes: Any) -> StatusSnapshot:
        return replace(self, **changes)

    def with_sync(self, status: SyncStatus) -> StatusSnapshot:
        """This snapshot with the sync engine's status in it (the one translation)."""
        detail = "; ".join(filter(None, [status.reason, *status.warnings]))
        return replace(
            self,
            connection=status.state,
            last_sync_at=status.last_sync_at,
            pending_uploads=status.pending,
            set_aside=status.set_aside,
            set_aside_reason=status.set_aside_reason,
            sync_detail=detail or None,
            first_sync=FirstSync.from_mapping(status.first_sync) if status.first_sync else None,
            link=status.link,
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> StatusSnapshot:
        """Build from a dict with snake_case or camelCase keys; unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            snake = _snake(key)
            if snake in names:
                values[snake] = value
        tiers = values.get("tiers") or ()
        values["tiers"] = tuple(_tier(t) for t in tiers)
        return cls(**values)


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def _tier(value: TierCount | Mapping[str, Any]) -> TierCount:
    if isinstance(value, TierCount):
        return value
    return TierCount(
        name=str(value.get("name", "")),
        checked_in=int(value.get("checkedIn", value.get("checked_in", 0))),
        capacity=value.get("capacity"),
    )


def pending_text(snapshot: StatusSnapshot) -> str:
    """'Pending: 3', and ' · Set aside: 4' when some check-ins will never be uploaded."""
    text = f"Pending: {snapshot.pending_uploads:,}"
    if snapshot.set_aside:
        text += f" · Set aside: {snapshot.set_aside:,}"
    return text


def count_text(checked_in: int, capacity: int | None) -> str:
    return f"{checked_in:,} / {capacity:,}" if capacity else f"{checked_in:,}"


def age_text(last_sync_at: float | None, now: float | None = None) -> str:
    """'just now', '42 s ago', '5 min ago', '2 h ago' or 'never'."""
    if last_sync_at is None:
        return "never"
    age = max(0.0, (time.time() if now is None else now) - last_sync_at)
    if age < 5:
        return "just now"
    if age < 60:
        return f"{int(age)} s ago"
    if age < 3600:
        return f"{int(age // 60)} min ago"
    return f"{int(age // 3600)} h ago"


def _things(phase: str) -> str:
    return {"checkins": "check-ins"}.get(phase, phase)


def first_sync_text(progress: FirstSync) -> str:
    """'First sync 12% (12,000 / ~100,000 tickets)'; without an estimate '... 12,000 tickets'."""
    if progress.percent is None:
        return f"First sync: {progress.done:,} {_things(progress.phase)}"
    return (
        f"First sync {progress.percent}% "
        f"({progress.done:,} / ~{progress.estimated_total:,} {_things(progress.phase)})"
    )


def first_sync_detail(progress: FirstSync) -> str:
    """The tooltip: which event, and how far its download has got."""
    event = f" of {progress.event_id}" if progress.event_id else ""
    total = f" of about {progress.estimated_total:,}" if progress.estimated_total else ""
    return f"Downloading the {_things(progress.phase)}{event}: {progress.done:,}{total} so far."


LINK_TEXT = {  # DESIGN.md §10: staff see whether the link to the hub can be trusted
    "pinned": ("Secure link", "HTTPS to the hub whose certificate this gate pinned"),
    "tls": ("Secure link", "HTTPS, certificate checked against the system's authorities"),
    "insecure": (
        "NOT SECURE: plain HTTP",
        "Plain HTTP over the network (--insecure-http): anyone on it can read and change it",
    ),
}


def link_text(snapshot: StatusSnapshot) -> tuple[str, str] | None:
    """(label, tooltip) for the link, or None when there is nothing to say (standalone,
    or plain HTTP to this same machine)."""
    if snapshot.connection == "standalone":
        return None
    return LINK_TEXT.get(snapshot.link or "")


def connection_text(snapshot: StatusSnapshot, now: float | None = None) -> str:
    if snapshot.first_sync is not None:
        return first_sync_text(snapshot.first_sync)
    state = snapshot.connection
    if state is ConnectionState.STANDALONE:
        return "Standalone"
    if state is ConnectionState.SYNCING:
        return "Syncing…"
    label = {ConnectionState.ONLINE: "Online", ConnectionState.PROBLEM: "Sync problem"}.get(
        state, "Offline"
    )
    return f"{label} · synced {age_text(snapshot.last_sync_at, now)}"
