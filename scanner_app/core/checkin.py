"""CheckinService: the one code path from a payload (or a ticket id picked by hand) to a
durable verdict (DESIGN.md §4, §5). The rules are door_rules.py; what a door records
without deciding it (a strict answer, a void) is checkin_records.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from scanner_app.core.checkin_records import CheckinRecords
from scanner_app.core.checkin_rows import insert_checkin
from scanner_app.core.db import Database
from scanner_app.core.door import ANY_DOOR, Door
from scanner_app.core.door_rules import door_rule, manifest_of
from scanner_app.core.errors import Conflict, NotFound
from scanner_app.core.events import EventStore
from scanner_app.core.ids import checkin_id as new_checkin_id
from scanner_app.core.models import ScanResult
from scanner_app.core.names import NameCipher
from scanner_app.core.timeutil import Clock, iso_ms, shift, utc_now
from scanner_app.core.tokens import (
    DEFAULT_LEEWAY_SECONDS,
    TicketClaims,
    TicketVerifier,
    TokenRejected,
)


@dataclass(frozen=True)
class Presented:
    """A payload after its one token verification: verified claims (``reason`` None), or the
    rejection (``claims`` set only when the signature verified), and when it was seen."""

    observed: datetime
    claims: TicketClaims | None
    reason: str | None
    payload: str | None = None  # the token: an admission's proof (DESIGN.md §10); opens a name
    # sealed per ticket


class CheckinService:
    """Verify locally, apply the door rules, commit, then answer. Thread-safe."""

    def __init__(
        self,
        db: Database,
        events: EventStore,
        device_id: str,
        clock: Clock = utc_now,
        leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
        clock_offset_ms: Callable[[], float] = lambda: 0.0,
        verifier: TicketVerifier | None = None,
        *,
        names: NameCipher,
        private_names: Callable[[], bool] = lambda: False,
    ) -> None:
        self.db = db
        self.names = names
        # A private gate shows the name of a presented ticket but keeps none in its log.
        self.private_names = private_names
        self.events = events
        self.device_id = device_id
        self.clock = clock
        self.leeway_seconds = leeway_seconds
        # Door time = observed + this (the upstream's clock minus ours, DESIGN.md §5).
        self.clock_offset_ms = clock_offset_ms
        self.verifier = verifier or TicketVerifier(events.verify_keys, leeway_seconds)
        self.records = CheckinRecords(db, names, device_id, clock, clock_offset_ms, private_names)

    def with_clock_offset(self, clock_offset_ms: Callable[[], float]) -> CheckinService:
        """The same service (same verifier and key cache) with door times corrected by
        ``clock_offset_ms``; the door's provider is built with it, nothing is patched."""
        return CheckinService(
            self.db,
            self.events,
            self.device_id,
            self.clock,
            self.leeway_seconds,
            clock_offset_ms,
            self.verifier,
            names=self.names,
            private_names=self.private_names,
        )

    def present(self, payload: str, door: Door = ANY_DOOR) -> Presented:
        """Verify the token once; a door decides on what this returns (see ``decide``)."""
        observed = self.clock()
        try:
            claims = self.verifier.verify(payload, door.event_filter, observed)
        except TokenRejected as rejection:  # claims set only when the signature verified
            return Presented(observed, rejection.claims, rejection.reason)
        return Presented(observed, claims, None, payload.strip())

    def scan(
        self,
        payload: str,
        door: Door = ANY_DOOR,
        *,
        offline: bool = True,
        checkin_id: str | None = None,
    ) -> ScanResult:
        """Every scan gets a ScanResult and a committed row, admitted or not."""
        return self.decide(
            self.present(payload, door), door, offline=offline, checkin_id=checkin_id
        )

    def decide(
        self,
        presented: Presented,
        door: Door = ANY_DOOR,
        *,
        offline: bool = True,
        checkin_id: str | None = None,
    ) -> ScanResult:
        """The door rules and the durable commit for a token already verified by ``present``."""
        if presented.reason is not None:
            ticket = presented.claims
            context_event = door.event_ids[0] if door.event_ids else None
            return self._commit(
                ticket,
                presented.observed,
                door,
                offline,
                checkin_id,
                forced_reason=presented.reason,
                # Filed under the gate's event, so its audit trail shows wrong-event attempts.
                # at an "any event" gate, under the one event this node scans for, if it
                # has just one (a row with no event can never be uploaded to a hub).
                event_id=context_event or (ticket.evt if ticket else None) or self._sole_event(),
            )
        return self._commit(
            presented.claims,
            presented.observed,
            door,
            offline,
            checkin_id,
            proof=presented.payload,
        )

    def preview(self, presented: Presented, door: Door = ANY_DOOR) -> str | None:
        """The reason ``decide`` would give now (None: admit), committing nothing."""
        if presented.reason is not None or presented.claims is None:
            return presented.reason
        conn = self.db.read()
        manifest = manifest_of(conn, presented.claims.jti)
        tier = manifest["tier_name"] if manifest else presented.claims.tier
        return door_rule(conn, presented.claims, manifest, tier, door)[0]

    def _sole_event(self) -> str | None:
        """The node's one published event, or None when it has none or several."""
        rows = self.db.query("SELECT id FROM events WHERE status = 'published' LIMIT 2")
        return rows[0]["id"] if len(rows) == 1 else None

    def checkin_ticket(self, ticket_id: str, door: Door = ANY_DOOR) -> ScanResult:
        """Manual check-in from a search result: the same rules, without a token."""
        row = self.db.query_one(
            "SELECT id, event_id, tier_name, attendee_name, booking_id FROM tickets WHERE id = ?",
            (ticket_id,),
        )
        if row is None:
            raise NotFound(f"No ticket with ID {ticket_id} exists.")
        observed = self.clock()
        claims = TicketClaims(
            jti=row["id"],
            evt=row["event_id"],
            tier=row["tier_name"],
            iat=0,
            name=self.names.open(row["attendee_name"], row["id"]),
            bkg=row["booking_id"],
        )
        wrong = bool(door.event_ids) and claims.evt not in door.event_ids
        return self._commit(
            claims,
            observed,
            door,
            True,
            None,
            forced_reason="wrong_event" if wrong else None,
            kind="manual",
        )

    def _commit(
        self,
        claims: TicketClaims | None,
        observed: datetime,
        door: Door,
        offline: bool,
        checkin_id: str | None,
        *,
        forced_reason: str | None = None,
        event_id: str | None = None,
        kind: str = "scan",
        proof: str | None = None,
    ) -> ScanResult:
        offset = self.clock_offset_ms()
        door_time = iso_ms(shift(observed, offset))
        checkin_id = checkin_id or new_checkin_id()
        event_id = event_id or (claims.evt if claims else None)
        reason, first_at, first_by = forced_reason, None, None
        name = tier = None
        with self.db.write() as conn:
            existing = conn.execute(
                "SELECT id FROM checkins WHERE id = ?", (checkin_id,)
            ).fetchone()
            if existing:
                raise Conflict(f"Check-in {checkin_id} is already recorded.")
            if claims is not None:
                manifest = manifest_of(conn, claims.jti)
                stored = manifest["attendee_name"] if manifest else None
                name = self.names.open_presented(stored, claims.jti, proof) or claims.name
                tier = manifest["tier_name"] if manifest else claims.tier
                if reason is None:
                    reason, first_at, first_by = door_rule(conn, claims, manifest, tier, door)
            success = reason is None
            insert_checkin(
                conn,
                id=checkin_id,
                event_id=event_id or "",
                ticket_id=claims.jti if claims else None,
                device_id=door.device_id or self.device_id,
                gate=door.gate,
                scanned_at=door_time,
                observed_at=iso_ms(observed),
                clock_offset_ms=round(offset),
                direction=door.direction,
                success=int(success),
                reason=reason,
                kind=kind,
                attendee_name=self._kept_name(name, claims),
                tier_name=tier,
                first_checked_in_at=first_at,
                first_scanned_by=first_by,
                received_at=iso_ms(self.clock()),
                # The token an admission was made with travels upstream as its proof of
                # presentation (DESIGN.md §10); a refused scan keeps none.
                proof=proof if success else None,
            )
        return ScanResult(
            success=success,
            already_checked_in=reason == "already_checked_in",
            attendee_name=name,
            tier_name=tier,
            checked_in_at=door_time,
            first_checked_in_at=first_at,
            reason=reason,
            ticket_id=claims.jti if claims else None,
            event_id=event_id,
            direction=door.direction,
            offline=offline,
            first_scanned_by=first_by,
            scanned_by=door.gate,
            checkin_id=checkin_id,
        )

    def _kept_name(self, name: str | None, claims: TicketClaims | None) -> str | None:
        """What the check-in row keeps of the name: sealed, or nothing on a private gate."""
        if claims is None or self.private_names():
            return None
        return self.names.seal(name, claims.jti)
