"""The hub's operations that change state, each with its webhooks in the same transaction."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass
from functools import partial
from typing import Any

from scanner_app.core import conflicts as conflict_hook
from scanner_app.core.apikeys import ApiKey, ApiKeyStore, DeviceStore
from scanner_app.core.door import CheckProvider, Door, LocalCheckProvider
from scanner_app.core.enrolment import EnrolmentStore
from scanner_app.core.errors import Conflict
from scanner_app.core.ledger_reads import existing_ids
from scanner_app.core.ledger_wire import recorded_result
from scanner_app.core.node import Node
from scanner_app.core.proof_signatures import SignatureChecks
from scanner_app.core.proofs import ProofChecker
from scanner_app.core.setup_code import SetupPayload
from scanner_app.core.timeutil import iso_ms, parse_iso
from scanner_app.core.webhooks import WebhookStore
from scanner_app.server.live import ChangeSignal
from scanner_app.server.ratelimit import RateLimiter
from scanner_app.server.ticket_used import result_used, used_payload
from scanner_app.server.usage import Usage
from scanner_app.server.writer import GroupWriter

_AGENT_VERSION = re.compile(r"tickitz-scanner/([0-9A-Za-z.+_-]{1,40})")
DESK_GATE = "dashboard"  # the gate name of check-ins made from the organiser's dashboard


@dataclass(frozen=True)
class HubConfig:
    public_url: str | None = None
    anonymous_rate: tuple[int, int] = (1000, 1500)  # per client address, before auth
    webhook_backoff: tuple[float, float] = (2.0, 600.0)  # first retry delay, cap (seconds)
    webhook_timeout: float = 5.0
    deliver_webhooks: bool = True
    usage_flush_seconds: float = 15.0
    # Webhooks to loopback/link-local/private addresses (serve --allow-private-webhooks).
    allow_private_webhooks: bool = False
    # SHA-256 (hex) of the DER certificate this hub serves HTTPS with; None on plain HTTP.
    # Put in setup codes as `fp`, so a gate pins exactly this certificate (DESIGN.md §10).
    fingerprint: str | None = None
    # Processes that check uploaded proofs' signatures (DESIGN.md §10); None: one per core,
    # 1: in the request's thread. `serve` starts them with the hub (`warm_proof_workers`).
    proof_workers: int | None = None
    warm_proof_workers: bool = False


def _setting(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM node_settings WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


class Hub:
    """A node served over HTTP: its stores, limits, usage and the webhook-aware operations."""

    def __init__(
        self,
        node: Node,
        config: HubConfig | None = None,
        provider: CheckProvider | None = None,
    ) -> None:
        self.node = node
        self.config = config or HubConfig()
        # The door decision for gates' online scans: from sync.door.check_provider(node,
        # serving=True) (the CLI and the GUI pass it); a bare Hub(node) decides the same way.
        self.provider = provider or LocalCheckProvider(node.checkin, offline=False)
        self.keys = ApiKeyStore(node.db, node.clock)
        self.devices = DeviceStore(node.db, self.keys, node.clock)
        self.enrolments = EnrolmentStore(node.db, self.keys, self.devices, node.clock)
        self.webhooks = WebhookStore(node.db, node.clock, node.cipher)
        self.limiter = RateLimiter()
        self.usage = Usage()
        self._poke = False
        self.changes = ChangeSignal()  # the dashboard's live view listens (live.py)
        self._reported: dict[str, tuple[int | None, str | None]] = {}
        self.writer = GroupWriter(node.db, after_commit=self._after_commit)
        self._device_gates: dict[str, tuple[str, str]] = {}
        verifier = node.checkin.verifier
        signatures = SignatureChecks(verifier, node.events.verify_keys, self.config.proof_workers)
        self.proofs = ProofChecker(verifier, signatures)

    def now(self) -> str:
        return iso_ms(self.node.clock())

    # --- check-ins (group-committed: see writer.py) ----------------------------------------
    def scan(self, body: dict[str, Any], key: ApiKey) -> dict[str, Any]:
        """An online verdict, answered once committed (blocking form, for ordinary threads)."""
        return self.writer.run(partial(self._scan, body, key))

    async def scan_async(self, body: dict[str, Any], key: ApiKey) -> dict[str, Any]:
        return await asyncio.wrap_future(self.writer.submit(partial(self._scan, body, key)))

    def _scan(self, body: dict[str, Any], key: ApiKey, conn: sqlite3.Connection) -> dict:
        """A repeated client id answers the stored result, never a new scan."""
        client_id = body.get("id")
        if client_id:
            stored = recorded_result(conn, client_id, self.node.names)
            if stored is not None:
                # Only the scan's own event (a gate key names its own): a key that learnt
                # another event's check-in id must not read its stored result.
                if stored.event_id != body["eventId"]:
                    raise Conflict(f"Check-in id {client_id} is already used.")
                return stored.to_wire()
        device_id, gate = self._attribution(key, body.get("deviceId"), body["scannedBy"], conn)
        # CheckinService's own transaction joins this one (the group's), so the check-in,
        # its webhook and the gate's counter are committed together.
        door = Door(
            event_ids=(body["eventId"],),
            gate=gate,
            direction=body.get("direction") or "in",
            allowed_tiers=tuple(body.get("allowedTiers") or ()),
            device_id=device_id,
        )
        result = self.provider.scan(body["qrPayload"], door, checkin_id=client_id)
        if result.admitted and self.webhooks.subscribed("ticket.used"):
            used = result_used(result, device_id or self.node.device_id, "scan")
            self._poke |= bool(self.webhooks.enqueue(conn, "ticket.used", used))
        if key.device_id:
            DeviceStore.count_received(conn, key.device_id, 1, self.now())
        return result.to_wire()

    async def batch_async(
        self,
        device_id: str | None,
        items: list[dict[str, Any]],
        key: ApiKey,
        report: tuple[int | None, str | None] | None = None,
    ) -> list[dict[str, Any]]:
        """`report`: what the uploading gate says about itself (pending, User-Agent), kept
        in the batch's own transaction (a unit of its own cost a second commit a batch)."""
        # Off the event loop and before the writer: signature checks (~155 us of CPU each)
        # made in the writer held every gate's scans behind a batch of proofs.
        await asyncio.to_thread(self.prepare_proofs, items)
        work = partial(self._batch, device_id, items, key, report)
        return await asyncio.wrap_future(self.writer.submit(work))

    def prepare_proofs(self, items: list[dict[str, Any]]) -> None:
        """Check the signatures of a batch's proofs ahead of the writer, which still
        decides every row (ProofChecker.prepare_batch)."""
        self.proofs.prepare_batch(self.node.db.read(), items)

    def _batch(
        self,
        device_id: str | None,
        items: list[dict[str, Any]],
        key: ApiKey,
        report: tuple[int | None, str | None] | None,
        conn: sqlite3.Connection,
    ) -> list[dict[str, Any]]:
        """Merge uploaded check-ins (idempotent by id; items as schemas.CheckinIn dumps
        them); new admissions fire ticket.used."""
        hooked = self.webhooks.subscribed("ticket.used")
        if key.device_id:  # a gate speaks for itself only: see _attribution
            first = device_id or (items[0].get("deviceId") if items else None)
            device_id, gate = self._attribution(key, first, "", conn)
            items = [{**item, "deviceId": device_id, "scannedBy": gate} for item in items]
        known = existing_ids(conn, [item["id"] for item in items])
        watch = self.webhooks.subscribed("checkin.conflict")
        clashes = conflict_hook.standing(conn, items) if watch else set()
        enrolled_at = self.devices.get(key.device_id)["createdAt"] if key.device_id else None
        answers = self.node.ledger.merge(
            items,
            source="downstream",
            device_id=device_id,
            proofs=self.proofs,
            enrolled_at=enrolled_at,
            schema_checked=True,  # both batch routes validate with schemas.BatchRequest
        )
        for data in (
            conflict_hook.new_conflicts(conn, items, clashes, self.node.names) if watch else ()
        ):
            self._poke |= bool(self.webhooks.enqueue(conn, "checkin.conflict", data))
        fresh = []
        for item, answer in zip(items, answers, strict=True):
            if item["id"] not in known:
                known.add(item["id"])
                fresh.append((item, answer))
        for item, answer in fresh if hooked else ():
            admitted = item.get("success") and item.get("direction", "in") == "in"
            admitted = admitted and answer["status"] != "refused"
            if admitted and not item.get("voids") and item.get("kind") != "void":
                wire = {**item, "deviceId": item.get("deviceId") or device_id}
                data = used_payload(wire, "batch", answer["status"] == "conflict")
                self._poke |= bool(self.webhooks.enqueue(conn, "ticket.used", data))
        if key.device_id and fresh:
            DeviceStore.count_received(conn, key.device_id, len(fresh), self.now())
        if report is not None:  # after the merge: a refused batch reports nothing
            self._report(key, *report, conn)
        return answers

    def _attribution(
        self, key: ApiKey, device_id: str | None, gate: str, conn: sqlite3.Connection
    ) -> tuple[str | None, str]:
        """(deviceId, gate) of a check-in. A gate device's key files it under the gate the
        device was enrolled for, and under the one node id bound to the device: the first
        the gate presented (its own, as its local records and feeds name it), never a
        registered device's id nor one another device already holds. Other keys (an
        organiser, a hub forwarding its gates) keep the body's."""
        if not key.device_id:
            return device_id, gate
        known = self._device_gates.get(key.device_id)
        if known is None:
            bound = _setting(conn, f"device_node:{key.device_id}")
            if bound is None:
                bound = device_id or key.device_id
                taken = _setting(conn, f"node_device:{bound}") not in (None, key.device_id)
                other = (
                    bound != key.device_id
                    and conn.execute("SELECT 1 FROM devices WHERE id = ?", (bound,)).fetchone()
                )
                if taken or other:
                    bound = key.device_id
                conn.executemany(
                    "INSERT OR IGNORE INTO node_settings (key, value) VALUES (?, ?)",
                    [
                        (f"device_node:{key.device_id}", bound),
                        (f"node_device:{bound}", key.device_id),
                    ],
                )
            device_gate = self.devices.get(key.device_id)["gate"]
            known = (bound, device_gate)
            self._device_gates[key.device_id] = known
        return known

    # --- the organiser's desk (dashboard): the same door rules as a gate's ------------------
    def manual_checkin(
        self, ticket_id: str, event_id: str, direction: str = "in", gate: str = DESK_GATE
    ) -> dict[str, Any]:
        """A check-in by ticket id (no token) through the hub's check provider (a gate's door
        rules), committed with its ticket.used webhook."""
        return self.writer.run(partial(self._manual, ticket_id, event_id, direction, gate))

    def _manual(
        self, ticket_id: str, event_id: str, direction: str, gate: str, conn: sqlite3.Connection
    ) -> dict[str, Any]:
        door = Door(event_ids=(event_id,), gate=gate, direction=direction)
        result = self.provider.check_in_ticket(ticket_id, door)
        if result.admitted and self.webhooks.subscribed("ticket.used"):
            used = result_used(result, self.node.device_id, "manual")
            self._poke |= bool(self.webhooks.enqueue(conn, "ticket.used", used))
        return result.to_wire()

    def undo(self, checkin_id: str, gate: str = DESK_GATE) -> dict[str, Any]:
        """Void a standing check-in (a new void row; the original is kept)."""
        door = Door(gate=gate)
        return self.writer.run(lambda _conn: self.provider.undo(checkin_id, door).to_wire())

    def _report(
        self, key: ApiKey, pending: int | None, agent: str | None, conn: sqlite3.Connection
    ) -> None:
        """Keep what a gate says about itself on a sync: its pending count and app version
        (writer thread only: it alone touches `_reported`)."""
        if key.device_id is None:
            return
        match = _AGENT_VERSION.search(agent or "")
        report = (pending, match.group(1) if match else None)
        if report == (None, None) or self._reported.get(key.device_id) == report:
            return  # unchanged: no write
        self._reported[key.device_id] = report
        DeviceStore.record_report(conn, key.device_id, *report, self.now())

    def _after_commit(self) -> None:
        self.changes.notify()
        if self._poke:  # only the writer thread touches the flag
            self._poke = False
            self.webhooks.poke()

    # --- tickets -------------------------------------------------------------------------
    def issue(
        self, event_id: str, tier_name: str, attendee_name: str | None, quantity: int
    ) -> list[dict[str, Any]]:

        def notify(conn: sqlite3.Connection, tickets: list[dict[str, Any]]) -> None:
            for ticket in tickets:
                data = {k: v for k, v in ticket.items() if k != "qrPayload"}
                self.webhooks.enqueue(conn, "ticket.created", data)
            self._check_sold_out(conn, event_id, tier_name)

        tickets = self.node.tickets.issue(
            event_id, tier_name, attendee_name, quantity, on_issued=notify
        )
        self.webhooks.poke()
        return tickets

    def cancel_ticket(self, ticket_id: str) -> dict[str, Any]:
        def notify(conn: sqlite3.Connection, ticket: sqlite3.Row) -> None:
            self.webhooks.enqueue(
                conn,
                "booking.cancelled",
                {
                    "bookingId": ticket["booking_id"],
                    "ticketId": ticket_id,
                    "eventId": ticket["event_id"],
                    "attendeeName": ticket["attendee_name"],
                    "tierName": ticket["tier_name"],
                    "cancelledAt": ticket["updated_at"],
                },
            )
            self._check_sold_out(conn, ticket["event_id"], ticket["tier_name"])

        ticket = self.node.tickets.cancel(ticket_id, on_cancelled=notify)
        self.webhooks.poke()
        self.changes.notify()
        return ticket

    def _check_sold_out(self, conn: sqlite3.Connection, event_id: str, tier_name: str) -> None:
        sold_out = self.node.tickets.sold_out_change(conn, event_id, tier_name)
        if sold_out is not None:
            self.webhooks.enqueue(conn, "event.sold_out", sold_out)

    # --- gates ---------------------------------------------------------------------------
    def create_gate(self, name: str, event_id: str, gate: str, url: str) -> dict[str, Any]:
        """A gate device and its v2 setup code for hub `url`: a one-time enrolment offer,
        never the device key (the gate gets that at POST /v1/devices/enrol)."""
        device, _unseen = self.devices.create(name, event_id, gate)
        return self.offer_enrolment(device, url)

    def offer_enrolment(self, device: dict[str, Any], url: str) -> dict[str, Any]:
        token, expires = self.enrolments.offer(device["id"])
        url = url.rstrip("/")
        exp = int(parse_iso(expires).timestamp())
        offer = SetupPayload(
            url, token, self.config.fingerprint, device["eventId"], device["gate"], exp
        )
        payload = offer.text()
        self.changes.notify()
        return {**device, "url": url, "setupPayload": payload, "enrolExpiresAt": expires}

    def enrol(self, token: str) -> dict[str, Any]:
        device, secret = self.enrolments.redeem(token)
        return {
            "key": secret,
            "deviceId": device["id"],
            "eventId": device["eventId"],
            "gate": device["gate"],
        }

    # --- feeds ---------------------------------------------------------------------------
    def checkin_feed(self, event_id: str, after: str | None, limit: int) -> dict[str, Any]:
        self.node.events.get(event_id)
        return self.node.ledger.feed(event_id, after, limit)
