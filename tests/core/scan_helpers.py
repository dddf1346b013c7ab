"""Assertions on the scan-result contract (DESIGN.md §4) and on the audit trail."""

from __future__ import annotations

import json
import re

from scanner_app.core.models import REASONS, ScanResult
from scanner_app.core.timeutil import iso_ms

ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
CAMEL = re.compile(r"^[a-z]+(?:[A-Z][a-z]+)*$")
# The seed's checkin.scan response in the order DESIGN.md §4 prints it, then its "plus a few
# fields": where the first admission was, this gate, the client-made id.
WIRE_ORDER = [
    "success",
    "alreadyCheckedIn",
    "attendeeName",
    "tierName",
    "checkedInAt",
    "firstCheckedInAt",
    "reason",
    "ticketId",
    "eventId",
    "direction",
    "offline",
    "firstScannedBy",
    "scannedBy",
    "checkinId",
]
CONTRACT_FIELDS = set(WIRE_ORDER[:11])
EXTRA_FIELDS = set(WIRE_ORDER[11:])


def publish_event(node, title: str = "Other Night", reentry: bool = False, alg: str = "EdDSA"):
    body = {
        "title": title,
        "tiers": [{"name": "GA", "price": 0, "quantity": 1000}, {"name": "VIP", "quantity": 10}],
        "settings": {"allowReentry": reentry},
    }
    event = node.events.create(body, alg=alg)
    return node.events.publish(event["id"])


def check_shape(result: ScanResult, now=None) -> dict:
    """The wire shape of a ScanResult; returns it as the JSON object it travels as."""
    assert isinstance(result, ScanResult)
    wire = json.loads(json.dumps(result.to_wire()))
    assert set(wire) == CONTRACT_FIELDS | EXTRA_FIELDS
    assert all(CAMEL.match(key) for key in wire), sorted(wire)
    assert isinstance(wire["success"], bool)
    assert isinstance(wire["alreadyCheckedIn"], bool)
    assert isinstance(wire["offline"], bool)
    assert wire["direction"] in ("in", "out")
    assert ISO_MS_Z.match(wire["checkedInAt"]), wire["checkedInAt"]
    if now is not None:
        assert wire["checkedInAt"] == iso_ms(now)
    if wire["firstCheckedInAt"] is not None:
        assert ISO_MS_Z.match(wire["firstCheckedInAt"]), wire["firstCheckedInAt"]
    if wire["success"]:
        assert wire["reason"] is None
        assert wire["alreadyCheckedIn"] is False
    else:
        assert wire["reason"] in REASONS
        assert wire["alreadyCheckedIn"] is (wire["reason"] == "already_checked_in")
    if wire["reason"] == "already_checked_in":
        assert wire["firstCheckedInAt"] is not None and wire["firstScannedBy"]
    else:
        assert wire["firstCheckedInAt"] is None and wire["firstScannedBy"] is None
    return wire


def recorded(node, result: ScanResult) -> dict:
    """The committed check-in row of a scan; it must exist and agree with the verdict."""
    row = node.db.query_one("SELECT * FROM checkins WHERE id = ?", (result.checkin_id,))
    assert row is not None, f"scan {result.checkin_id} left no row"
    assert bool(row["success"]) is result.success
    assert row["reason"] == result.reason
    assert row["direction"] == result.direction
    assert row["gate"] == result.scanned_by
    assert row["scanned_at"] == result.checked_in_at
    assert row["ticket_id"] == result.ticket_id
    assert row["event_id"] == (result.event_id or "")
    return dict(row)
