"""The scan result contract (DESIGN.md §4)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

REASONS = (
    "malformed",
    "bad_signature",
    "unknown_key",
    "unknown_event",
    "wrong_event",
    "not_yet_valid",
    "expired",
    "revoked",
    "event_cancelled",
    "tier_not_allowed",
    "already_checked_in",
    "not_checked_in",
)
DIRECTIONS = ("in", "out")
DEFAULT_GATE = "gate-1"  # a door's scannedBy when nobody named it (CLI, GUI, sync)
# Every hub response names the node (database) answering; see SyncEngine's reset handling.
NODE_HEADER = "X-Tickitz-Node"


@dataclass(frozen=True)
class ScanResult:
    success: bool
    alreadyCheckedIn: bool  # noqa: N815 - the wire contract's names
    attendeeName: str | None  # noqa: N815
    tierName: str | None  # noqa: N815
    checkedInAt: str  # noqa: N815
    firstCheckedInAt: str | None  # noqa: N815
    reason: str | None
    ticketId: str | None  # noqa: N815
    eventId: str | None  # noqa: N815
    direction: str
    offline: bool
    firstScannedBy: str | None = None  # noqa: N815
    scannedBy: str | None = None  # noqa: N815
    checkinId: str | None = None  # noqa: N815

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def admitted(self) -> bool:
        return self.success and self.direction == "in"


@dataclass(frozen=True)
class UndoResult:
    """A void entry recorded for a standing check-in (the original row is kept)."""

    id: str
    voids: str
    ticketId: str | None  # noqa: N815
    attendeeName: str | None  # noqa: N815

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
