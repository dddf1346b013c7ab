"""The door's decision seam: one ``Door`` value in, one frozen ``ScanResult`` out.

Every scan, manual check-in and undo a door makes - the GUI's worker, the CLI's `scan`,
the hub's `POST /v1/checkin/scan` - goes through a ``CheckProvider``. Which one a node
uses is chosen in one place, ``scanner_app.sync.door.check_provider``:

- ``LocalCheckProvider`` (here): verify the token locally, apply the door rules
  (``CheckinService``), commit, answer. Standalone gates, plain synced gates and the hub.
- ``OnlineCheckProvider`` (``scanner_app.sync.door``): strict mode; asks the upstream
  first within a deadline and falls back to this provider under the same check-in id.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from scanner_app.core.errors import ValidationError
from scanner_app.core.models import DEFAULT_GATE, DIRECTIONS, ScanResult, UndoResult

if TYPE_CHECKING:  # checkin.py decides on a Door: it imports this module
    from scanner_app.core.checkin import CheckinService, Presented


@dataclass(frozen=True, slots=True)
class Door:
    """Where and how a door scans; replaced wholesale when its settings change."""

    event_ids: tuple[str, ...] = ()  # the events this door admits; empty: any with keys here
    gate: str = DEFAULT_GATE  # scannedBy
    direction: str = "in"
    allowed_tiers: tuple[str, ...] = ()  # empty: every tier
    device_id: str | None = None  # None: this node's own device (a hub names its gate's)

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValidationError("direction must be in or out", field="direction")
        for name in ("event_ids", "allowed_tiers"):
            value = getattr(self, name)
            if not isinstance(value, tuple):  # lists would make the value unhashable
                object.__setattr__(self, name, tuple(value))

    @classmethod
    def of(
        cls,
        event_ids: Collection[str] | None = None,
        gate: str | None = None,
        direction: str = "in",
        allowed_tiers: Collection[str] | None = None,
        device_id: str | None = None,
    ) -> Door:
        """A Door from loose settings values (None or empty meaning "the default")."""
        return cls(
            tuple(event_ids or ()),
            gate or DEFAULT_GATE,
            direction,
            tuple(allowed_tiers or ()),
            device_id,
        )

    @property
    def event_filter(self) -> list[str] | None:
        return list(self.event_ids) or None


ANY_DOOR = Door()  # any event with keys here, every tier, way in, gate-1


@runtime_checkable
class CheckProvider(Protocol):
    """Decides for a door. Every method commits a row before it answers."""

    def scan(self, payload: str, door: Door, *, checkin_id: str | None = None) -> ScanResult:
        """A presented QR payload; ``checkin_id`` is a client-made id (idempotency)."""
        ...

    def check_in_ticket(self, ticket_id: str, door: Door) -> ScanResult:
        """Manual check-in from a search result: the same rules, without a token."""
        ...

    def undo(self, checkin_id: str, door: Door) -> UndoResult:
        """Void a standing check-in (recorded as a void entry, never deleted)."""
        ...

    def close(self) -> None: ...


class LocalCheckProvider:
    """This node's own verdict: one verification, the door rules, a durable commit.

    ``offline`` is what its answers say (a hub answering a gate's online scan says False);
    ``on_recorded`` runs after each commit (a sync engine's ``kick``: push soon).
    """

    def __init__(
        self,
        service: CheckinService,
        *,
        offline: bool = True,
        on_recorded: Callable[[], None] | None = None,
    ) -> None:
        self.service = service
        self.offline = offline
        self.on_recorded = on_recorded

    def scan(self, payload: str, door: Door, *, checkin_id: str | None = None) -> ScanResult:
        return self.decide(self.service.present(payload, door), door, checkin_id)

    def present(self, payload: str, door: Door) -> Presented:
        """The one token verification of a scan (OnlineCheckProvider reuses it)."""
        return self.service.present(payload, door)

    def decide(self, presented: Presented, door: Door, checkin_id: str | None) -> ScanResult:
        result = self.service.decide(presented, door, offline=self.offline, checkin_id=checkin_id)
        self._recorded()
        return result

    def check_in_ticket(self, ticket_id: str, door: Door) -> ScanResult:
        result = self.service.checkin_ticket(ticket_id, door)
        self._recorded()
        return result

    def undo(self, checkin_id: str, door: Door) -> UndoResult:
        result = self.service.records.undo(checkin_id, door.gate)
        self._recorded()
        return result

    def _recorded(self) -> None:
        if self.on_recorded is not None:
            self.on_recorded()

    def close(self) -> None:
        """Nothing to release: the node's database belongs to its owner."""
