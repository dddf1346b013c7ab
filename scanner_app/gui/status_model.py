"""The status bar's input: a plain snapshot any layer can fill (no Qt here).

The sync engine and hub will publish dicts; ``StatusSnapshot.from_mapping`` accepts
either snake_case or camelCase keys so they need not import the GUI.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

# "problem": the upstream answers but refuses something (a revoked key, a 5xx, check-ins
# it will not take): unlike "offline", waiting will not fix it; someone must look.
CONNECTION_STATES = ("online", "offline", "problem", "syncing", "standalone")


@dataclass(frozen=True, slots=True)
class TierCount:
    name: str
    checked_in: int
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """Everything the always-visible status bar shows."""

    gate: str = ""
    checked_in: int = 0
    capacity: int | None = None
    tiers: tuple[TierCount, ...] = ()
    connection: str = "standalone"  # one of CONNECTION_STATES
    last_sync_at: float | None = None  # unix time of the last successful sync
    pending_uploads: int = 0
    camera_fps: float | None = None
    hub_address: str | None = None  # set when this laptop serves the venue
    sync_detail: str | None = None  # why offline / what the problem is (the tooltip)

    def with_changes(self, **changes: Any) -> StatusSnapshot:
        return replace(self, **changes)

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


def connection_text(snapshot: StatusSnapshot, now: float | None = None) -> str:
    state = snapshot.connection
    if state == "standalone":
        return "Standalone"
    if state == "syncing":
        return "Syncing…"
    label = {"online": "Online", "problem": "Sync problem"}.get(state, "Offline")
    return f"{label} · synced {age_text(snapshot.last_sync_at, now)}"
