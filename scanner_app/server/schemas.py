"""Request and response bodies (DESIGN.md §4, §6 and the seed), as the OpenAPI spec shows them.

Requests are strict (no "5" for 5) so what the spec rejects, the server rejects; the core
validators still run behind them and name the field of anything the schema cannot say.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from scanner_app.core.models import REASONS
from scanner_app.core.proofs import REFUSALS
from scanner_app.core.timeutil import normalize_iso
from scanner_app.core.validate import control_character
from scanner_app.core.webhooks import EVENT_TYPES


def _iso(value: str) -> str:
    try:
        return normalize_iso(value)
    except (ValueError, TypeError, OverflowError) as exc:  # +14:00 on 0001-01-01 overflows
        raise ValueError("must be an ISO 8601 timestamp") from exc


def _whole(value: Any) -> Any:
    # JSON Schema counts 5.0 as an integer; strict pydantic would not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _plain(value: str) -> str:
    char = control_character(value)
    if char is not None:
        raise ValueError(f"must not contain control characters (U+{ord(char):04X})")
    return value


def _text(max_length: int) -> Any:
    """A string with at least one non-blank character and no control characters (the core
    strips and re-checks)."""
    return Annotated[
        str, Field(min_length=1, max_length=max_length, pattern=r"\S"), AfterValidator(_plain)
    ]


Text64 = _text(64)
Text100 = _text(100)
Text200 = _text(200)


Timestamp = Annotated[
    str, Field(max_length=64, json_schema_extra={"format": "date-time"}), AfterValidator(_iso)
]
Direction = Literal["in", "out"]
Reason = Literal[REASONS]  # type: ignore[valid-type]
EventStatus = Literal["draft", "published", "cancelled"]
WebhookEvent = Literal[EVENT_TYPES]  # type: ignore[valid-type]
Count = Annotated[int, BeforeValidator(_whole), Field(ge=0, le=10**9)]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True)


# --- errors -------------------------------------------------------------------------------
class ErrorBody(BaseModel):
    code: str
    message: str
    status: int
    requestId: str  # noqa: N815
    field: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


# --- events -------------------------------------------------------------------------------
class TierIn(Strict):
    name: Text100
    price: Count = 0
    quantity: Count | None = None


class EventSettings(Strict):
    model_config = ConfigDict(strict=True, extra="allow")
    allowReentry: bool = False  # noqa: N815


class EventCreate(Strict):
    title: Text200
    description: Annotated[str, Field(max_length=5000)] | None = None
    startsAt: Timestamp | None = None  # noqa: N815
    endsAt: Timestamp | None = None  # noqa: N815
    venue: dict[str, Any] | None = None
    tiers: Annotated[list[TierIn], Field(min_length=1, max_length=50)]
    maxCapacity: Count | None = None  # noqa: N815
    settings: EventSettings | None = None


class Tier(BaseModel):
    id: str
    name: str
    price: int
    quantity: int | None


class Event(BaseModel):
    id: str
    title: str
    description: str | None
    startsAt: str | None  # noqa: N815
    endsAt: str | None  # noqa: N815
    venue: dict[str, Any] | None
    tiers: list[Tier]
    maxCapacity: int | None  # noqa: N815
    settings: dict[str, Any]
    status: EventStatus
    createdAt: str  # noqa: N815
    updatedAt: str  # noqa: N815


class EventList(BaseModel):
    data: list[Event]


class Jwks(BaseModel):
    keys: list[dict[str, Any]]


# --- tickets ------------------------------------------------------------------------------
class TicketIssue(Strict):
    tierName: Text100  # noqa: N815
    attendeeName: Annotated[str, Field(max_length=200), AfterValidator(_plain)] | None = None  # noqa: N815
    quantity: Annotated[int, BeforeValidator(_whole), Field(ge=1, le=1000)] = 1


class ManifestEntry(BaseModel):
    id: str
    eventId: str  # noqa: N815
    bookingId: str | None  # noqa: N815
    attendeeName: str | None  # noqa: N815
    tierName: str  # noqa: N815
    status: Literal["valid", "cancelled"]
    updatedAt: str  # noqa: N815


class Ticket(ManifestEntry):
    qrPayload: str | None  # noqa: N815
    qrUrl: str  # noqa: N815


class TicketList(BaseModel):
    data: list[Ticket]


class ManifestPage(BaseModel):
    data: list[ManifestEntry]
    nextCursor: str  # noqa: N815
    hasMore: bool  # noqa: N815


# --- check-in -----------------------------------------------------------------------------
class ScanRequest(Strict):
    qrPayload: Annotated[str, Field(max_length=16384)]  # noqa: N815
    eventId: Text100  # noqa: N815
    scannedBy: Text100  # noqa: N815
    id: Text64 | None = None
    deviceId: Text100 | None = None  # noqa: N815
    direction: Direction = "in"
    allowedTiers: Annotated[list[Text100], Field(max_length=50)] | None = None  # noqa: N815


class ScanResult(BaseModel):
    success: bool
    alreadyCheckedIn: bool  # noqa: N815
    attendeeName: str | None  # noqa: N815
    tierName: str | None  # noqa: N815
    checkedInAt: str  # noqa: N815
    firstCheckedInAt: str | None  # noqa: N815
    reason: Reason | None
    ticketId: str | None  # noqa: N815
    eventId: str | None  # noqa: N815
    direction: Direction
    offline: bool
    firstScannedBy: str | None = None  # noqa: N815
    scannedBy: str | None = None  # noqa: N815
    checkinId: str | None = None  # noqa: N815


# An admission names its ticket and has no reason (the core checks both again).
_ADMISSION_RULE = {
    "if": {"properties": {"success": {"const": True}}, "required": ["success"]},
    "then": {
        "required": ["ticketId"],
        "properties": {"ticketId": {"type": "string"}, "reason": {"type": "null"}},
    },
}


class CheckinIn(Strict):
    model_config = ConfigDict(strict=True, json_schema_extra=_ADMISSION_RULE)

    id: Text64
    ticketId: Text100 | None = None  # noqa: N815
    eventId: Text100  # noqa: N815
    scannedAt: Timestamp  # noqa: N815
    scannedBy: Text100  # noqa: N815
    direction: Direction = "in"
    success: bool
    reason: Reason | None = None
    deviceId: Text100 | None = None  # noqa: N815
    kind: Literal["scan", "manual", "void"] | None = None
    voids: Text64 | None = None
    attendeeName: Annotated[str, Field(max_length=200), AfterValidator(_plain)] | None = None  # noqa: N815
    tierName: Annotated[str, Field(max_length=100), AfterValidator(_plain)] | None = None  # noqa: N815
    # The scanned token: an admission's proof of presentation (DESIGN.md §10).
    qrPayload: Annotated[str, Field(max_length=4096)] | None = None  # noqa: N815


class BatchRequest(Strict):
    deviceId: Text100 | None = None  # noqa: N815
    checkins: Annotated[list[CheckinIn], Field(max_length=500)]
    # The uploader's check-ins still waiting after this batch (the dashboard's "pending").
    pending: Annotated[int, Field(ge=0, le=10**9)] | None = None


class BatchAnswer(BaseModel):
    id: str
    status: Literal["recorded", "duplicate", "conflict", "refused"]
    firstCheckedInAt: str | None  # noqa: N815
    firstScannedBy: str | None  # noqa: N815
    # Why a `refused` check-in does not count (DESIGN.md §10); null otherwise.
    reason: Literal[REFUSALS] | None = None  # type: ignore[valid-type]


class BatchResponse(BaseModel):
    data: list[BatchAnswer]


class CheckinOut(BaseModel):
    id: str
    ticketId: str | None  # noqa: N815
    eventId: str  # noqa: N815
    scannedAt: str  # noqa: N815
    scannedBy: str  # noqa: N815
    direction: Direction
    success: bool
    reason: str | None
    deviceId: str  # noqa: N815
    kind: str
    attendeeName: str | None  # noqa: N815
    tierName: str | None  # noqa: N815
    voids: str | None = None


class CheckinPage(BaseModel):
    data: list[CheckinOut]
    nextCursor: str  # noqa: N815
    hasMore: bool  # noqa: N815


# --- reports ------------------------------------------------------------------------------
class TierStats(BaseModel):
    tierName: str  # noqa: N815
    checkedIn: int  # noqa: N815
    quantity: int | None


class GateStats(BaseModel):
    gate: str
    admissions: int


class Stats(BaseModel):
    eventId: str  # noqa: N815
    checkedIn: int  # noqa: N815
    inside: int
    capacity: int | None
    ticketsValid: int  # noqa: N815
    scans: int
    byTier: list[TierStats]  # noqa: N815
    byGate: list[GateStats]  # noqa: N815
    rejected: dict[str, int]
    conflicts: int


class ConflictEntry(BaseModel):
    checkinId: str  # noqa: N815
    ticketId: str | None  # noqa: N815
    eventId: str  # noqa: N815
    attendeeName: str | None  # noqa: N815
    tierName: str | None  # noqa: N815
    scannedAt: str  # noqa: N815
    scannedBy: str  # noqa: N815
    deviceId: str  # noqa: N815
    direction: str
    firstCheckedInAt: str | None  # noqa: N815
    firstScannedBy: str | None  # noqa: N815


class ConflictList(BaseModel):
    data: list[ConflictEntry]


# --- devices, webhooks, QR ----------------------------------------------------------------
class DeviceCreate(Strict):
    name: Text100
    eventId: Text100  # noqa: N815
    gate: Text100
    url: Annotated[str, Field(max_length=500, pattern=r"^https?://\S+$")] | None = None


class Device(BaseModel):
    id: str
    name: str
    eventId: str  # noqa: N815
    gate: str
    keyId: str  # noqa: N815
    createdAt: str  # noqa: N815
    lastSeenAt: str | None  # noqa: N815
    checkinsReceived: int  # noqa: N815
    revoked: bool
    # As the gate last reported them on a batch upload (None until it does).
    pending: int | None = None
    appVersion: str | None = None  # noqa: N815
    reportedAt: str | None = None  # noqa: N815


class DeviceCreated(Device):
    """The device and its v2 setup code (DESIGN.md §10): the key is not in it."""

    url: str
    setupPayload: str  # noqa: N815
    enrolExpiresAt: str  # noqa: N815


class EnrolRequest(Strict):
    enrol: Annotated[str, Field(min_length=1, max_length=100)]


class Enrolled(BaseModel):
    key: str
    deviceId: str  # noqa: N815
    eventId: str  # noqa: N815
    gate: str


class DeviceList(BaseModel):
    data: list[Device]


class WebhookCreate(Strict):
    url: Annotated[str, Field(max_length=2000, pattern=r"^https?://[^\s/]+\S*$")]
    events: Annotated[list[WebhookEvent], Field(min_length=1, max_length=len(EVENT_TYPES))]


class Webhook(BaseModel):
    id: str
    url: str
    events: list[str]
    createdAt: str  # noqa: N815
    deletedAt: str | None = None  # noqa: N815


class WebhookCreated(Webhook):
    secret: str


class WebhookList(BaseModel):
    data: list[Webhook]


class Delivery(BaseModel):
    id: str
    type: str
    status: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int
    nextAttemptAt: str  # noqa: N815
    lastError: str | None  # noqa: N815
    createdAt: str  # noqa: N815
    deliveredAt: str | None  # noqa: N815


class DeliveryList(BaseModel):
    data: list[Delivery]


class QrRequest(Strict):
    text: Annotated[str, Field(min_length=1, max_length=2000)]
