"""Pushing a node's outbox upstream: batches of <= 500, two in flight, answers recorded
with `Ledger.mark_pushed`; a row the upstream refuses is set aside, never retried."""

from __future__ import annotations

import logging
import re
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from scanner_app.core.node import Node
from scanner_app.sync.client import MAX_BATCH, TickitzClient
from scanner_app.sync.errors import BadRequest, BadResponse
from scanner_app.sync.rounds import RoundReport

log = logging.getLogger(__name__)
IN_FLIGHT = 2  # batches sent and not yet answered
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
