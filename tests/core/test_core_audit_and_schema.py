"""Where rejected scans are filed, tokens with non-ASCII names, and newer-schema refusal."""

from __future__ import annotations

import base64
import json
import sqlite3

import pytest

from scanner_app.core.db import SchemaTooNew
from scanner_app.core.door import Door
from scanner_app.core.migrations import MIGRATIONS
from scanner_app.core.node import DB_FILENAME, Node


def test_wrong_event_attempt_is_in_the_gates_audit_trail(node, issued_event):
    other = node.events.publish(
        node.events.create({"title": "Other", "tiers": [{"name": "GA", "quantity": 5}]})["id"]
    )
    ticket = node.tickets.issue(other["id"], "GA", "Wanda")[0]
    result = node.checkin.scan(ticket["qrPayload"], Door.of([issued_event["id"]]))
    assert result.reason == "wrong_event"
    exported = node.reports.checkins(issued_event["id"])
    assert [row["reason"] for row in exported] == ["wrong_event"]
    assert exported[0]["ticketId"] == ticket["id"]
    assert node.reports.stats(issued_event["id"])["rejected"] == {"wrong_event": 1}
    assert node.reports.checkins(other["id"]) == []


def test_non_ascii_names_travel_as_utf8_and_admit(node, issued_event):
    name = "José Martínez Ñoño"
    ticket = node.tickets.issue(issued_event["id"], "GA", name)[0]
    payload_segment = ticket["qrPayload"].split(".")[1]
    raw = base64.urlsafe_b64decode(payload_segment + "=" * (-len(payload_segment) % 4))
    assert name.encode("utf-8") in raw  # not \\u00e9 escapes, which would grow the QR code
    assert json.loads(raw)["name"] == name
    result = node.checkin.scan(ticket["qrPayload"], Door.of([issued_event["id"]]))
    assert result.success and result.attendee_name == name


def test_a_database_from_a_newer_app_is_refused_untouched(tmp_path):
    data_dir = tmp_path / "node"
    Node.open(data_dir).close()
    path = data_dir / DB_FILENAME
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(SchemaTooNew, match="newer Tickitz Scanner"):
        Node.open(data_dir)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1


def test_an_upload_without_tier_is_counted_under_the_manifest_tier(node, issued_event):
    ticket = node.tickets.issue(issued_event["id"], "VIP", "Ada")[0]
    upload = {
        "id": "chk_from_a_bare_client",
        "ticketId": ticket["id"],
        "eventId": issued_event["id"],
        "scannedAt": "2026-07-15T19:05:00.000Z",
        "scannedBy": "gate-9",
        "direction": "in",
        "success": True,
        "reason": None,
    }
    assert node.ledger.merge([upload], source="downstream")[0]["status"] == "recorded"
    by_tier = {
        t["tierName"]: t["checkedIn"] for t in node.reports.stats(issued_event["id"])["byTier"]
    }
    assert by_tier == {"GA": 0, "VIP": 1}
    assert node.reports.checkins(issued_event["id"])[0]["attendeeName"] == "Ada"
