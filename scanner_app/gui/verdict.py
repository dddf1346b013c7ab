"""ScanResult -> what the door shows and plays. Pure Python (no Qt) so it is unit-testable.

Input is the frozen ScanResult (DESIGN.md section 4) as the node worker emits it. Every verdict
carries an icon and a title as well as a colour, so it reads without colour vision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from scanner_app.core.models import ScanResult


class Kind(StrEnum):
    READY = "ready"
    ADMIT = "admit"
    ALREADY = "already"
    REJECT = "reject"
    EXIT = "exit"


@dataclass(frozen=True, slots=True)
class Style:
    background: str
    foreground: str
    icon: str
    sound: str | None


# Foregrounds chosen for >= 4.5:1 contrast on their background (amber needs dark text).
STYLES: dict[Kind, Style] = {
    Kind.READY: Style("#37474F", "#ECEFF1", "ready", None),
    Kind.ADMIT: Style("#1B7F3B", "#FFFFFF", "check", "admit"),
    Kind.ALREADY: Style("#F2A900", "#1A1A1A", "warning", "warn"),
    Kind.REJECT: Style("#C62828", "#FFFFFF", "cross", "reject"),
    Kind.EXIT: Style("#1565C0", "#FFFFFF", "exit", "exit"),
}

TITLES: dict[Kind, str] = {
    Kind.READY: "Ready",
    Kind.ADMIT: "ADMIT",
    Kind.ALREADY: "ALREADY IN",
    Kind.REJECT: "REJECTED",
    Kind.EXIT: "EXIT",
}

# The closed reason vocabulary of DESIGN.md section 4, in words gate staff can say aloud.
REASON_TEXT: dict[str, str] = {
    "malformed": "Not a ticket",
    "bad_signature": "Forged ticket",
    "unknown_key": "Unknown signing key",
    "unknown_event": "Unknown event",
    "wrong_event": "Wrong event",
    "not_yet_valid": "Not valid yet",
    "expired": "Ticket expired",
    "revoked": "Ticket cancelled",
    "event_cancelled": "Event cancelled",
    "tier_not_allowed": "Tier not allowed at this gate",
    "already_checked_in": "Already checked in",
    "not_checked_in": "Not checked in",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """Everything the verdict panel needs to paint one outcome."""

    kind: Kind
    title: str
    detail: str
    name: str
    tier: str
    offline: bool = False

    @property
    def style(self) -> Style:
        return STYLES[self.kind]

    @property
    def background(self) -> str:
        return self.style.background

    @property
    def foreground(self) -> str:
        return self.style.foreground

    @property
    def icon(self) -> str:
        return self.style.icon

    @property
    def sound(self) -> str | None:
        return self.style.sound


READY = Verdict(Kind.READY, TITLES[Kind.READY], "Scan a ticket", "", "")


def reason_text(reason: str | None) -> str:
    """Plain words for a reason code; unknown codes are shown as-is, never hidden."""
    if not reason:
        return "Rejected"
    return REASON_TEXT.get(reason, reason.replace("_", " ").capitalize())


def clock(iso: str | None, tz: tzinfo | None = None) -> str:
    """'19:32' in local time (or ``tz``) for an ISO 8601 UTC timestamp; '' if unusable."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return ""
    if moment.tzinfo is None:
        return moment.strftime("%H:%M")
    return moment.astimezone(tz).strftime("%H:%M")


def _text(value: object) -> str:
    return str(value) if value not in (None, "") else ""


def verdict_for(result: ScanResult, tz: tzinfo | None = None) -> Verdict:
    """Map a ScanResult to the verdict to display."""
    name = _text(result.attendee_name)
    tier = _text(result.tier_name)
    offline = bool(result.offline)
    reason = result.reason
    if result.success:
        at = clock(result.checked_in_at, tz)
        if result.direction == "out":
            return Verdict(Kind.EXIT, TITLES[Kind.EXIT], _join("Exit", at), name, tier, offline)
        return Verdict(Kind.ADMIT, TITLES[Kind.ADMIT], _join("Admitted", at), name, tier, offline)
    if result.already_checked_in or reason == "already_checked_in":
        return Verdict(
            Kind.ALREADY, TITLES[Kind.ALREADY], _first_admitted(result, tz), name, tier, offline
        )
    return Verdict(Kind.REJECT, TITLES[Kind.REJECT], reason_text(reason), name, tier, offline)


def _join(label: str, at: str) -> str:
    return f"{label} {at}" if at else label


def _first_admitted(result: ScanResult, tz: tzinfo | None) -> str:
    """'First admitted 19:32 at Gate 2', degrading gracefully when fields are missing."""
    text = "First admitted"
    at = clock(result.first_checked_in_at, tz)
    if at:
        text += f" {at}"
    where = _text(result.first_scanned_by)
    if where:
        text += f" at {where}"
    return text if (at or where) else "Already checked in"
