"""One push and one pull against the upstream; the engine schedules them.

Push: the outbox in batches (<= 500), answers recorded with `Ledger.mark_pushed`.
Pull: event + key set, ticket manifest changes, other nodes' check-ins; each page is
written in one transaction together with its cursor, so a crash never skips or repeats
more than a page (and repeats are idempotent anyway).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from scanner_app.core.errors import ValidationError
from scanner_app.core.node import Node
from scanner_app.core.privacy import forget_names
from scanner_app.sync.client import MAX_BATCH, TickitzClient
from scanner_app.sync.errors import ApiError, BadRequest, BadResponse
from scanner_app.sync.state import SyncState

log = logging.getLogger(__name__)
IN_FLIGHT = 2  # batches sent and not yet answered
Progress = Callable[[dict[str, Any] | None], None]
Fetch = Callable[[str, str | None, int], dict[str, Any]]


@dataclass
class RoundReport:
    """What one run_once did; `error` is set when it stopped early."""

    pushed: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    tickets: int = 0
    checkins: int = 0
    keys_added: int = 0
    keys_retired: int = 0  # imported keys the upstream's JWKS no longer lists
    keys_restored: int = 0  # ... and ones it lists again
    events: list[str] = field(default_factory=list)
    skipped_checkins: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth saying, not a problem
    pending: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # set aside by this run: id -> why
    set_aside: int = 0  # every check-in set aside on this node (never uploaded, kept)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """The round ran to its end (new scans may have arrived meanwhile)."""
        return self.error is None

    @property
    def complete(self) -> bool:
        """Ran to its end and left nothing to upload: what `sync` exits 0 for."""
        return self.ok and not self.pending

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.complete,  # the same answer as the exit code
            "setAside": self.set_aside,
            "pushed": self.pushed,
            "answers": dict(self.answers),
            "pulledTickets": self.tickets,
            "pulledCheckins": self.checkins,
            "keysAdded": self.keys_added,
            "keysRetired": self.keys_retired,
            "keysRestored": self.keys_restored,
            "events": self.events,
            "pending": self.pending,
            "refused": self.refused,
            "warnings": self.warnings,
            "notes": self.notes,
            "error": self.error,
        }


NO_EVENT = "not filed under an event (an 'any event' gate scanned something not a ticket)"


class Pusher:
    """Uploads the outbox. A check-in the upstream refuses (or that names no event, which
    no upstream takes) is set aside in the ledger with the reason: out of the outbox for
    good, kept as audit, shown by status and export. One bad row never blocks the rest,
    nothing is marked as delivered that was not, and nothing stays pending forever.
    ``refused`` holds this engine's set-asides (id -> reason) for its reports."""

    def __init__(self, node: Node, client: TickitzClient, batch_size: int = MAX_BATCH) -> None:
        self.node = node
        self.client = client
        self.batch_size = min(batch_size, MAX_BATCH)
        self.refused: dict[str, str] = {}

    def push(self, report: RoundReport) -> None:
        """Two batches in flight: while the upstream applies one, the next is already on its
        way, and this node reads, encodes and records around them (one at a time left the
        hub's request side idle while its writer worked, and its writer idle in between).

        The upstream applies each batch whole, so only rows whose effect depends on another
        batch being there first care about order: a void of a check-in still in flight, or
        a second movement of one of its tickets. A batch holding one waits for the answers
        of the batches it depends on; so does the last one, whose `pending` count (what the
        gate still holds) must be the one the upstream keeps.
        """
        batch, after = self._next_batch(0)
        if not batch:
            return
        flights: deque[tuple[list[dict[str, Any]], Future[list[dict[str, Any]]]]] = deque()
        unrecorded = 0  # sent (or about to be) and not recorded: still in the pending count
        with ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="tickitz-push") as pool:
            while batch:
                following: list[dict[str, Any]] = []
                if len(batch) >= self.batch_size:
                    following, after = self._next_batch(after)
                unrecorded += len(batch)
                left, body = self._encode(batch, unrecorded)
                # The last batch goes alone: its `pending` is what the upstream keeps.
                while flights and (
                    len(flights) >= IN_FLIGHT
                    or not following
                    or any(_depends(batch, sent) for sent, _ in flights)
                ):
                    unrecorded -= self._land(flights.popleft(), report)
                flights.append((batch, pool.submit(self._send, batch, left, body)))
                batch = following
            while flights:
                self._land(flights.popleft(), report)

    def _land(
        self,
        flight: tuple[list[dict[str, Any]], Future[list[dict[str, Any]]]],
        report: RoundReport,
    ) -> int:
        """Wait for a batch's answers and record them; how many rows it held."""
        batch, answers = flight
        self._record(batch, answers.result(), report)
        return len(batch)

    def _encode(self, batch: list[dict[str, Any]], unrecorded: int) -> tuple[int, bytes]:
        """(what is left after the batches sent and not yet recorded, as the hub's dashboard
        shows per gate; the batch's request body)."""
        left = self.node.ledger.pending_count() - unrecorded
        wires = [_wire(c) for c in batch]
        return left, self.client.batch_body(self.node.device_id, wires, left)

    def _record(
        self, batch: list[dict[str, Any]], answers: list[dict[str, Any]], report: RoundReport
    ) -> None:
        sent = {c["id"] for c in batch}
        known = [a for a in answers if isinstance(a, dict) and a.get("id") in sent]
        self.node.ledger.mark_pushed(known)
        report.pushed += len(known)
        report.answers.update(str(a.get("status")) for a in known)
        missing = sent - {a["id"] for a in known} - set(self.refused)
        if missing:
            raise BadResponse(f"{len(missing)} check-ins not answered")

    def _next_batch(self, after: int) -> tuple[list[dict[str, Any]], int]:
        while True:
            rows, last = self.node.ledger.outbox_after(after, self.batch_size)
            unfiled = {r["id"]: NO_EVENT for r in rows if not r["eventId"]}
            if not unfiled:
                return rows, last
            self._set_aside(unfiled)

    def _set_aside(self, reasons: dict[str, str]) -> None:
        self.node.ledger.set_aside(reasons)
        self.refused.update(reasons)

    def _send(
        self, batch: list[dict[str, Any]], left: int, body: bytes | None = None
    ) -> list[dict[str, Any]]:
        """Send (`body`: the batch already encoded); on a 400 set aside the rows the
        upstream will not take and send the rest.

        A 400 naming `checkins[i]` sets that row aside (all the batch's rows of its event
        when the field is `eventId`: a hub refuses an event, e.g. another gate key's, not a
        row); one naming no row splits the batch in halves until the bad rows are found.
        """
        while batch:
            try:
                if body is not None:
                    return self.client.send_batch(body)
                return self.client.batch(self.node.device_id, [_wire(c) for c in batch], left)
            except BadRequest as exc:
                body = None  # what is sent again is re-encoded
                named = _refused_rows(batch, exc.field)
                if named is None:
                    if len(batch) == 1:
                        named = batch
                    else:
                        middle = len(batch) // 2
                        first = self._send(batch[:middle], left + len(batch) - middle)
                        return first + self._send(batch[middle:], left)
                self._set_aside({row["id"]: exc.message for row in named})
                log.warning(
                    "Upstream refused %d check-in(s), e.g. %s: %s",
                    len(named),
                    named[0]["id"],
                    exc.message,
                )
                set_aside = {row["id"] for row in named}
                batch = [row for row in batch if row["id"] not in set_aside]
        return []


_ROW_FIELD = re.compile(r"checkins\[(\d+)\](?:\.(\w+))?")


def _refused_rows(batch: list[dict[str, Any]], field: str | None) -> list[dict[str, Any]] | None:
    """The rows a 400's `field` names, or None when it names no row of this batch."""
    match = _ROW_FIELD.match(field or "")
    if match is None or int(match.group(1)) >= len(batch):
        return None
    row = batch[int(match.group(1))]
    if match.group(2) == "eventId":
        return [other for other in batch if other.get("eventId") == row.get("eventId")]
    return [row]


def _depends(batch: list[dict[str, Any]], earlier: list[dict[str, Any]]) -> bool:
    """Whether `batch` must reach the upstream after `earlier` has: it voids a check-in of
    `earlier`, or moves one of its tickets again (the answers say which came first)."""
    ids = {c["id"] for c in earlier}
    tickets = {c["ticketId"] for c in earlier if c.get("ticketId")}
    return any(c.get("voids") in ids or c.get("ticketId") in tickets for c in batch)


def _wire(checkin: dict[str, Any]) -> dict[str, Any]:
    # Drop empty optionals: a strict upstream may refuse `null` where it expects a string.
    return {k: v for k, v in checkin.items() if v is not None or k == "reason"}


class Puller:
    """Brings one upstream's view of each event into the node."""

    def __init__(
        self,
        node: Node,
        client: TickitzClient,
        state: SyncState,
        page_size: int = 1000,
        progress: Progress | None = None,
    ) -> None:
        self.node = node
        self.client = client
        self.state = state
        self.page_size = page_size
        self.progress = progress or (lambda _p: None)
        self.revocations_at: dict[str, float] = {}

    def pull(self, event_ids: tuple[str, ...], report: RoundReport) -> None:
        ids = list(event_ids) or [e["id"] for e in self.client.list_events() if "id" in e]
        for event_id in ids:
            if self._event(event_id, report):
                self._tickets(event_id, report)
                self._checkins(event_id, report)
                report.events.append(event_id)

    def _event(self, event_id: str, report: RoundReport) -> bool:
        """Event and key set; False when the upstream lacks the event.

        The upstream's JWKS is authoritative for the keys imported from it: a key it drops
        (retired there) is retired here, one it lists again is active again.
        """
        try:
            event = self.client.get_event(event_id)
            jwks = self.client.get_jwks(event_id)
        except ApiError as exc:
            if exc.status != 404:
                raise
            report.warnings.append(f"{event_id}: not found upstream")
            return False
        digest = hashlib.sha256(json.dumps([event, jwks], sort_keys=True).encode()).hexdigest()
        if digest == self.state.get(f"event:{event_id}:digest"):
            return True  # unchanged: skip the write so scans never wait on it
        # Not one transaction: import_event re-reads the event after committing. A crash in
        # between only means importing the same event again next time.
        imported = self.node.events.import_event(event)
        try:
            changes = self.node.events.apply_upstream_jwks(imported["id"], jwks)
        except ValidationError as exc:
            # A bad answer, not "every key was retired": keep the set this node has. The
            # digest is not stored, so the next round asks again (and warns again).
            report.warnings.append(
                f"{event_id}: the upstream's key set was refused ({exc.message});"
                " keeping the current keys"
            )
            return True
        self.state.set(f"event:{event_id}:digest", digest)
        report.keys_added += changes.added
        report.keys_retired += changes.retired
        report.keys_restored += changes.restored
        if changes.retired:
            report.notes.append(f"{event_id}: {changes.retired} key(s) retired upstream")
        return True

    def _names_mode(self, event_id: str, cursor: str | None) -> tuple[bool, str | None]:
        """(private, cursor): a gate switched to or from ``private`` erases the names it
        has of the event and pulls its manifest again, in the new form (DESIGN.md §10)."""
        private = self.node.private_names()
        mode = "sealed" if private else "plain"
        key = f"tickets:{event_id}:names"
        stored = self.state.get(key)
        if stored == mode:
            return private, cursor
        if cursor is not None and stored != mode and (stored or private):
            forget_names(self.node.db, [event_id])
            cursor = None
        with self.node.db.write() as conn:
            if cursor is None:
                self.state.delete(f"tickets:{event_id}", conn)
            self.state.set(key, mode, conn)
        return private, cursor

    def _tickets(self, event_id: str, report: RoundReport) -> None:
        name = f"tickets:{event_id}"
        private, cursor = self._names_mode(event_id, self.state.get(name))
        first = cursor is None
        estimate = _estimate(self.node, event_id) if first else None
        done = 0
        fetch = partial(_tickets_page, self.client, sealed=private)
        try:
            for page in self._pages(fetch, event_id, cursor):
                if page["data"] or cursor is None:
                    with self.node.db.write() as conn:
                        self.node.tickets.import_manifest(event_id, page["data"], private=private)
                        cursor = str(page.get("nextCursor") or cursor or "")
                        self.state.set(name, cursor, conn)
                done += len(page["data"])
                if first:
                    # The tiers' seats are only a guess of what was sold: the last page says
                    # the real total ("20 / ~500 (4%)" was shown for a 20-ticket event).
                    last = not (page.get("hasMore") and page["data"])
                    total = done if last else (max(estimate, done) if estimate else None)
                    self.progress(
                        {
                            "eventId": event_id,
                            "phase": "tickets",
                            "done": done,
                            "estimatedTotal": total,
                        }
                    )
        finally:
            report.tickets += done
            if first:  # also when the round failed: a stale "40%" would stay on screen
                self.progress(None)
        self.node.tickets.index.follow()  # here, not in the node worker's next search
        # The revocation list is as fresh as this moment (DESIGN.md §6: cancelled = revoked).
        # Kept in memory every pull; written at most once a minute (each write is an fsync).
        now = self.node.clock().timestamp()
        self.revocations_at[event_id] = now
        stored = self.state.get_float(f"revocations_at:{event_id}") or 0.0
        if now - stored >= 60:
            self.state.set(f"revocations_at:{event_id}", now)

    def _checkins(self, event_id: str, report: RoundReport) -> None:
        name = f"checkins:{event_id}"
        cursor = self.state.get(name)
        for page in self._pages(self.client.checkins_page, event_id, cursor):
            if page["data"]:
                with self.node.db.write() as conn:
                    report.skipped_checkins += self._merge(page["data"])
                    cursor = str(page.get("nextCursor") or cursor or "")
                    self.state.set(name, cursor, conn)
            report.checkins += len(page["data"])

    def _pages(self, fetch: Fetch, event_id: str, cursor: str | None) -> Iterator[dict]:
        """Pages from `cursor` on. The next page is fetched while the caller stores this one,
        so the upstream serialises on one core while this node indexes on the other."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tickitz-pull") as pool:
            ahead = pool.submit(fetch, event_id, cursor, self.page_size)
            while True:
                page = ahead.result()
                more = bool(page.get("hasMore") and page["data"])
                if more:
                    ahead = pool.submit(fetch, event_id, str(page["nextCursor"]), self.page_size)
                yield page
                if not more:
                    return

    def _merge(self, items: list[Any]) -> int:
        """Merge a page; a row this node cannot parse is skipped (logged), not a stall."""
        try:
            self.node.ledger.merge(items, source="upstream")
            return 0
        except ValidationError:
            skipped = 0
            for item in items:
                try:
                    self.node.ledger.merge([item], source="upstream")
                except ValidationError as exc:
                    log.warning("Skipping an upstream check-in: %s", exc.message)
                    skipped += 1
            return skipped


def _tickets_page(
    client: TickitzClient, event_id: str, after: str | None, limit: int, *, sealed: bool
) -> dict:
    # Only a private gate asks for sealed names: an upstream from before them is not sent
    # a parameter it may refuse.
    if sealed:
        return client.tickets_page(event_id, after, limit, sealed=True)
    return client.tickets_page(event_id, after, limit)


def _estimate(node: Node, event_id: str) -> int | None:
    """How many tickets a first pull should expect: the tiers' quantities, if known."""
    try:
        event = node.events.get(event_id)
    except Exception:
        return None
    total = sum(t.get("quantity") or 0 for t in event.get("tiers", []))
    return total or event.get("maxCapacity")
