"""The scan result contract (DESIGN.md §4): snake_case inside, camelCase on the wire only.

``ScanResult.to_wire`` / ``from_wire`` (and ``UndoResult.to_wire``) are the one place the
JSON spelling is written: the hub's responses, the CLI's JSON lines and an upstream's
strict answer all go through them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scanner_app.core.errors import ValidationError

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
    already_checked_in: bool
    attendee_name: str | None
    tier_name: str | None
    checked_in_at: str
    first_checked_in_at: str | None
    reason: str | None
    ticket_id: str | None
    event_id: str | None
    direction: str
    offline: bool
    first_scanned_by: str | None = None
    scanned_by: str | None = None
    checkin_id: str | None = None

    @property
    def admitted(self) -> bool:
        return self.success and self.direction == "in"

    def to_wire(self) -> dict[str, Any]:
        """The §4 JSON object, keys in the contract's order."""
        return {
            "success": self.success,
            "alreadyCheckedIn": self.already_checked_in,
            "attendeeName": self.attendee_name,
            "tierName": self.tier_name,
            "checkedInAt": self.checked_in_at,
            "firstCheckedInAt": self.first_checked_in_at,
            "reason": self.reason,
            "ticketId": self.ticket_id,
            "eventId": self.event_id,
            "direction": self.direction,
            "offline": self.offline,
            "firstScannedBy": self.first_scanned_by,
            "scannedBy": self.scanned_by,
            "checkinId": self.checkin_id,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> ScanResult:
        """A §4 JSON object (an upstream's answer) as the dataclass. ``success`` and
        ``reason`` are checked; an absent optional key reads as None."""
        success, reason = data.get("success"), data.get("reason")
        if not isinstance(success, bool) or (reason is not None and reason not in REASONS):
            raise ValidationError("the upstream's scan answer is not a scan result")
        return cls(
            success=success,
            already_checked_in=data.get("alreadyCheckedIn", reason == "already_checked_in"),
            attendee_name=data.get("attendeeName"),
            tier_name=data.get("tierName"),
            checked_in_at=data.get("checkedInAt") or "",
            first_checked_in_at=data.get("firstCheckedInAt"),
            reason=reason,
            ticket_id=data.get("ticketId"),
            event_id=data.get("eventId"),
            direction=data.get("direction", "in"),
            offline=data.get("offline", False),
            first_scanned_by=data.get("firstScannedBy"),
            scanned_by=data.get("scannedBy"),
            checkin_id=data.get("checkinId"),
        )


@dataclass(frozen=True)
class UndoResult:
    """A void entry recorded for a standing check-in (the original row is kept)."""

    id: str
    voids: str
    ticket_id: str | None
    attendee_name: str | None

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "voids": self.voids,
            "ticketId": self.ticket_id,
            "attendeeName": self.attendee_name,
        }
