"""core/models.py: the one place the scan result's camelCase wire spelling is written."""

from __future__ import annotations

import json

import pytest
from scan_helpers import WIRE_ORDER

from scanner_app.core.door import Door
from scanner_app.core.errors import ValidationError
from scanner_app.core.models import ScanResult


def test_a_recorded_scan_travels_as_the_contract_and_reads_back_the_same(node, issue, event_id):
    ticket = issue(tier="VIP", name="Ada L.")
    first = node.checkin.scan(ticket["qrPayload"], Door.of(event_ids=[event_id], gate="north"))
    again = node.checkin.scan(ticket["qrPayload"], Door.of(event_ids=[event_id], gate="south"))
    wire = json.loads(json.dumps(again.to_wire()))
    assert list(wire) == WIRE_ORDER  # the hub's fast path writes this dict as it is
    assert wire["alreadyCheckedIn"] is True and wire["reason"] == "already_checked_in"
    assert (wire["attendeeName"], wire["tierName"], wire["ticketId"]) == (
        "Ada L.",
        "VIP",
        ticket["id"],
    )
    assert (wire["firstCheckedInAt"], wire["firstScannedBy"]) == (first.checked_in_at, "north")
    assert (wire["scannedBy"], wire["checkinId"]) == ("south", again.checkin_id)
    assert ScanResult.from_wire(wire) == again


def test_an_undo_travels_camel_cased(node, issue, event_id):
    ticket = issue(name="Grace H.")
    admitted = node.checkin.scan(ticket["qrPayload"], Door.of([event_id]))
    void = node.checkin.records.undo(admitted.checkin_id)
    assert void.to_wire() == {
        "id": void.id,
        "voids": admitted.checkin_id,
        "ticketId": ticket["id"],
        "attendeeName": "Grace H.",
    }


def test_an_answer_that_is_no_scan_result_is_refused_and_absent_fields_read_as_none():
    for bad in ({}, {"success": "yes"}, {"success": False, "reason": "quota_exceeded"}):
        with pytest.raises(ValidationError):
            ScanResult.from_wire(bad)
    seed = ScanResult.from_wire({"success": False, "reason": "already_checked_in"})
    assert seed.already_checked_in and seed.direction == "in" and not seed.offline
    assert (seed.ticket_id, seed.checkin_id, seed.checked_in_at) == (None, None, "")
