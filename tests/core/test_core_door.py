"""core/door.py: the Door value and LocalCheckProvider, on a real node and SQLite file."""

from __future__ import annotations

import pytest

from scanner_app.core.door import ANY_DOOR, CheckProvider, Door, LocalCheckProvider
from scanner_app.core.errors import ValidationError
from scanner_app.core.models import DEFAULT_GATE, UndoResult
from scanner_app.core.timeutil import parse_iso


def test_a_door_is_a_frozen_hashable_value():
    door = Door.of(["evt_1"], None, "in", ["VIP"])
    assert door == Door(("evt_1",), DEFAULT_GATE, "in", ("VIP",))
    assert hash(door) == hash(Door(("evt_1",), DEFAULT_GATE, "in", ("VIP",)))
    with pytest.raises(AttributeError):
        door.gate = "other"  # type: ignore[misc]
    assert Door(["evt_1"]).event_ids == ("evt_1",)  # lists become tuples
    assert Door().event_filter is None and Door() == ANY_DOOR
    with pytest.raises(ValidationError) as caught:
        Door(direction="sideways")
    assert caught.value.field == "direction"


def test_scans_manual_check_ins_and_undo_all_go_through_the_provider(node, issue, event_id):
    recorded = []
    provider = LocalCheckProvider(node.checkin, on_recorded=lambda: recorded.append(1))
    assert isinstance(provider, CheckProvider)
    door = Door.of([event_id], "north")
    first = provider.scan(issue()["qrPayload"], door, checkin_id="chk_door_1")
    assert first.success and first.offline and first.checkin_id == "chk_door_1"
    assert first.scanned_by == "north"
    manual = provider.check_in_ticket(issue()["id"], door)
    assert manual.success
    void = provider.undo(first.checkin_id, door)
    assert isinstance(void, UndoResult) and void.voids == first.checkin_id
    assert len(recorded) == 3  # each commit lets the sync engine push at once
    vip_only = provider.scan(issue()["qrPayload"], Door.of([event_id], allowed_tiers=["VIP"]))
    assert vip_only.reason == "tier_not_allowed"


def test_the_hub_answers_online_and_files_the_gates_device(node, issue, event_id):
    provider = LocalCheckProvider(node.checkin, offline=False)
    result = provider.scan(issue()["qrPayload"], Door.of([event_id], "east", device_id="dev_g"))
    assert result.success and not result.offline
    row = node.db.query_one("SELECT device_id FROM checkins WHERE id = ?", (result.checkin_id,))
    assert row["device_id"] == "dev_g"


def test_one_token_verification_per_scan(node, issue, event_id, monkeypatch):
    calls = []
    verify = node.checkin.verifier.verify
    monkeypatch.setattr(node.checkin.verifier, "verify", lambda *a: calls.append(1) or verify(*a))
    provider = LocalCheckProvider(node.checkin)
    assert provider.scan(issue()["qrPayload"], Door.of([event_id])).success
    assert provider.scan("not a token", Door.of([event_id])).reason == "malformed"
    assert len(calls) == 2


def test_the_clock_offset_is_given_not_patched(node, issue, event_id):
    shifted = LocalCheckProvider(node.checkin.with_clock_offset(lambda: 90_000.0))
    plain = LocalCheckProvider(node.checkin)
    moved = shifted.scan(issue()["qrPayload"], Door.of([event_id]))
    same = plain.scan(issue()["qrPayload"], Door.of([event_id]))
    row = node.db.query_one(
        "SELECT clock_offset_ms FROM checkins WHERE id = ?", (moved.checkin_id,)
    )
    assert row[0] == 90_000
    assert node.checkin.clock_offset_ms() == 0.0  # the node's own service is untouched
    gap = parse_iso(moved.checked_in_at) - parse_iso(same.checked_in_at)
    assert abs(gap.total_seconds() - 90) < 1  # door time = observed + the given offset
