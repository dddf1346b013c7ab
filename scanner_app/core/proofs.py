"""Proof of presentation: an uploaded admission must carry the token that was scanned.

DESIGN.md §10. A gate key could otherwise upload back-dated admissions of every ticket (so
each real holder is `already_checked_in` at every door) or admissions of tickets that do not
exist. The receiving node checks each new admission's `qrPayload` (signature, event, ticket
id) and that its `scannedAt` is plausible; one that fails is kept as audit with a refusal
reason, and never counts as an admission nor makes another one a duplicate.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from scanner_app.core.ledger_reads import batch_tickets
from scanner_app.core.proof_signatures import SignatureChecks
from scanner_app.core.timeutil import parse_iso
from scanner_app.core.tokens import TicketClaims, TicketVerifier, TokenRejected

REFUSALS = ("missing_proof", "bad_proof", "implausible_time", "unknown_ticket", "revoked")
# How far a door time may sit before the token was made / the gate was enrolled, or after
# the upload arrived: gates correct their clocks from the upstream's Date header, so minutes
# of drift are a broken clock, not a real scan.
SKEW = timedelta(minutes=5)
SKEW_S = SKEW.total_seconds()
_WINDOW = frozenset({"not_yet_valid", "expired"})


# `iat` in a token's claims as this node's own signer writes them (compact JSON). A token
# this node issued is trusted, so its claims need no JSON parser (~9 us a row on upload).
_IAT = re.compile(rb'"iat":(\d{1,12})[,}]')


def _issued_at(token: str) -> int | None:
    """`iat` of a token this node already holds (so already trusts): no signature check."""
    try:
        segment = token.split(".")[1]
        claims = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (IndexError, ValueError):
        return None
    found = _IAT.search(claims)
    if found is not None:
        return int(found.group(1))
    try:  # written some other way (another signer's spacing): parse it
        iat = json.loads(claims).get("iat")
    except (ValueError, AttributeError):
        return None
    return int(iat) if isinstance(iat, int | float) and not isinstance(iat, bool) else None


@lru_cache(maxsize=1024)
def _epoch(timestamp: str) -> float:
    """Seconds since the epoch of a stored timestamp (a gate's enrolment, a cancellation:
    one per batch or a few, so cached)."""
    return parse_iso(timestamp).timestamp()


PROOF_SAMPLE = 8  # rows of an upload that tell whether its tokens are this node's own


def _held_tokens(
    conn: sqlite3.Connection, items: list[dict[str, Any]]
) -> dict[tuple[str, str], str | None]:
    """The token this node holds for each (event, ticket) of `items` that matches the
    proof the item carries."""
    pairs = {(item["eventId"], item["ticketId"]) for item in items}
    stored = {pair: row["qr_payload"] for pair, row in batch_tickets(conn, pairs).items()}
    held = {}
    for item in items:
        pair = (item["eventId"], item["ticketId"])
        token = stored.get(pair)
        if token and hmac.compare_digest(token.encode(), item["qrPayload"].strip().encode()):
            held[pair] = token
    return held


class ProofChecker:
    """Decides whether an uploaded check-in row is refused, and why. With `signatures`,
    the signature checks can be made ahead of the writer (`prepare`, proof_signatures.py);
    `refusal` makes any that were not."""

    def __init__(self, verifier: TicketVerifier, signatures: SignatureChecks | None = None) -> None:
        self.verifier = verifier
        self.signatures = signatures

    def warm(self) -> None:
        """Start the signature workers now rather than on the first big upload."""
        if self.signatures is not None:
            self.signatures.warm()

    def close(self) -> None:
        if self.signatures is not None:
            self.signatures.close()

    def prepare_batch(self, conn: sqlite3.Connection, items: list[dict[str, Any]]) -> None:
        """`prepare` for an upload as the hub takes it (`conn`: a read connection): the
        writer still decides every row (`refusal`), so what is prepared here only saves
        it time.

        Tokens this node holds (it issued the tickets) need no signature check, and reading
        them all here as well as in the writer cost ~10 us a row: a few rows tell which
        kind of batch this is. All held: nothing to prepare; none held (the tickets came
        from central): every proof goes to the workers unread; a mix: all are read."""
        proved = [
            item
            for item in items
            if item.get("success") and item.get("qrPayload")
            and isinstance(item.get("eventId"), str) and isinstance(item.get("ticketId"), str)
        ]  # fmt: skip
        if not proved:
            return  # nothing to prove (malformed rows are the ledger's to refuse)
        sample = proved[:PROOF_SAMPLE]
        held = _held_tokens(conn, sample)
        if len(proved) > len(sample):
            if len(held) == len(sample):
                return  # this node's own tokens: the writer compares them
            if held:
                held = _held_tokens(conn, proved)  # a mix: read them all
        self.prepare(proved, held)

    def prepare(
        self, items: Iterable[Mapping[str, Any]], held: Mapping[tuple[str, str], str | None]
    ) -> None:
        """Verify the signatures of a batch's admissions (wire form, DESIGN.md §6) before
        the batch goes to the writer. `held`: the token this node holds for (event id,
        ticket id), where it holds one (those are compared, not verified)."""
        if self.signatures is None:
            return
        proofs = []
        for item in items:
            token = item.get("qrPayload")
            if not item.get("success") or item.get("voids") or not isinstance(token, str):
                continue
            stored = held.get((item.get("eventId"), item.get("ticketId")))  # type: ignore[arg-type]
            if stored and hmac.compare_digest(stored.encode(), token.strip().encode()):
                continue
            try:
                proofs.append((token, item["eventId"], parse_iso(item["scannedAt"])))
            except (KeyError, TypeError, ValueError):
                continue  # refused by the ledger's own checks
        self.signatures.prepare(proofs)

    def refusal(
        self,
        row: dict[str, Any],
        ticket: sqlite3.Row | None,
        received: datetime,
        enrolled_at: str | None = None,
    ) -> str | None:
        """None when `row` may stand; else one word of REFUSALS. `ticket`: the manifest row
        of the row's ticket in the row's event (status, qr_payload, updated_at), None when
        there is none (ledger_reads.batch_tickets reads them for a whole batch)."""
        if not row["success"] or row["kind"] == "void":
            return None  # failed scans and undos admit nobody: nothing to prove
        token = row.get("proof")
        manual = row["kind"] == "manual"
        if not token and not manual:
            return "missing_proof"
        moment = parse_iso(row["scanned_at"])
        stored = ticket["qr_payload"] if ticket is not None else None
        if not token:
            # Staff admitted this ticket by hand (no phone, no QR): there is nothing to
            # prove, so it stands on the gate's enrolment and the times below alone.
            iat = None
        elif stored and hmac.compare_digest(stored.encode(), token.strip().encode()):
            # The very token this node issued for this ticket of this event: already trusted,
            # so the costly signature check is skipped (the common case on a venue hub).
            iat = _issued_at(stored)
        else:
            checked = self._signed(token, row["event_id"], moment)
            if isinstance(checked, str):
                return checked
            if checked.jti != row["ticket_id"]:
                return "bad_proof"
            iat = checked.iat
        if ticket is None:
            return "unknown_ticket"
        # In epoch seconds: every admission of an upload passes here.
        scanned = moment.timestamp()
        earliest = [_epoch(enrolled_at)] if enrolled_at else []
        if iat is not None:
            earliest.append(iat)
        too_early = bool(earliest) and scanned < max(earliest) - SKEW_S
        if too_early or scanned > received.timestamp() + SKEW_S:
            return "implausible_time"
        if ticket["status"] == "cancelled" and _epoch(ticket["updated_at"]) <= scanned:
            return "revoked"  # cancelled before the door time (a later cancel leaves it be)
        return None

    def _signed(self, token: str, event_id: str, scanned: datetime) -> TicketClaims | str:
        """The claims of a token verified for `event_id` at door time `scanned`, else the
        refusal: what TicketVerifier.verify(token, [event_id], scanned) decides, from the
        prepared signature check when there is one."""
        hit = self.signatures.verified(token) if self.signatures else None
        if hit is None:
            if self.signatures is not None and self.signatures.failed(token):
                return "bad_proof"
            try:
                return self.verifier.verify(token, [event_id], scanned)
            except TokenRejected as rejection:
                return "implausible_time" if rejection.reason in _WINDOW else "bad_proof"
        try:  # in verify's order: the window, then the event
            self.verifier.check_window(hit.claims, scanned)
        except TokenRejected:
            return "implausible_time"
        return hit.claims if hit.claims.evt == event_id else "bad_proof"
