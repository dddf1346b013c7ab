"""The store: durability settings, search, the manifest, undo, manual check-in, and the
ledger's merge of other nodes' check-ins."""

from __future__ import annotations

import csv
import io
import json

import pytest
from scan_helpers import check_shape, publish_event, recorded

from scanner_app.core.door import Door
from scanner_app.core.errors import Conflict, NotFound, ValidationError
from scanner_app.core.node import Node
from scanner_app.core.tickets import parse_manifest_text

# --- durability settings ---------------------------------------------------------------


def pragmas(conn):
    return {
        "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
        "synchronous": conn.execute("PRAGMA synchronous").fetchone()[0],
        "busy_timeout": conn.execute("PRAGMA busy_timeout").fetchone()[0],
    }


def test_wal_full_sync_and_busy_timeout_are_set(node):
    expected = {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 10_000}  # 2 = FULL
    with node.db.write() as conn:
        assert pragmas(conn) == expected
    reader = node.db.read()
    assert pragmas(reader) == expected
    assert reader.execute("PRAGMA query_only").fetchone()[0] == 1
    assert (node.db.path.parent / (node.db.path.name + "-wal")).exists()


def test_a_failed_write_rolls_back(node, issued_event):
    before = node.db.query_one("SELECT COUNT(*) FROM tickets")[0]
    with pytest.raises(RuntimeError), node.db.write() as conn:
        conn.execute(
            "INSERT INTO tickets (id, event_id, tier_name, status, updated_at, seq)"
            " VALUES ('tkt_x', ?, 'GA', 'valid', '', 1)",
            (issued_event["id"],),
        )
        raise RuntimeError("boom")
    assert node.db.query_one("SELECT COUNT(*) FROM tickets")[0] == before


# --- search ----------------------------------------------------------------------------


@pytest.fixture
def people(node, event_id):
    names = ["José Álvarez", "Zoë Brontë", "Ada Lovelace", "Jose Maria Ortega", "Grace Hopper"]
    return {name: node.tickets.issue(event_id, "GA", name)[0] for name in names}


def ids(results):
    return {t["id"] for t in results}


def test_search_by_name_ignores_case_and_diacritics(node, people):
    jose = {people["José Álvarez"]["id"], people["Jose Maria Ortega"]["id"]}
    assert ids(node.tickets.search("jose")) == jose
    assert ids(node.tickets.search("JOSÉ")) == jose
    assert ids(node.tickets.search("jos")) == jose  # prefix of a word
    assert ids(node.tickets.search("alvarez")) == {people["José Álvarez"]["id"]}
    assert ids(node.tickets.search("zoe bronte")) == {people["Zoë Brontë"]["id"]}
    assert ids(node.tickets.search("lovelace ada")) == {people["Ada Lovelace"]["id"]}
    assert node.tickets.search("nobody") == []


def test_search_by_ticket_id_prefix_and_booking_id(node, people):
    ada = people["Ada Lovelace"]
    assert ids(node.tickets.search(ada["id"])) == {ada["id"]}
    assert ids(node.tickets.search(ada["id"][:9])) == {ada["id"]}  # "tkt_" + 5 characters
    assert ids(node.tickets.search(ada["id"][4:12])) == {ada["id"]}  # without the prefix
    assert ids(node.tickets.search(ada["bookingId"])) == {ada["id"]}


def test_search_filters_by_event_and_survives_fts_syntax(node, people, event_id):
    other = publish_event(node, "Elsewhere")
    node.tickets.issue(other["id"], "GA", "José Elsewhere")
    assert len(node.tickets.search("jose")) == 3
    assert len(node.tickets.search("jose", event_id=event_id)) == 2
    for junk in ['"', "AND", "OR NOT", "*", "NEAR(a b)", "jose\"*'", "", "   ", "-", "^x", ")"]:
        node.tickets.search(junk)  # must not raise an FTS syntax error
    assert node.tickets.search("") == []


def test_search_limit(node, event_id):
    node.tickets.issue(event_id, "GA", "Same Name", quantity=30)
    assert len(node.tickets.search("same", limit=5)) == 5
    assert len(node.tickets.search("same")) == 20


# --- manifest import (a gate for an event issued elsewhere) ------------------------------


@pytest.fixture
def gate(node, other_node, event_id):
    """`other_node` as a gate for the issuer's event: event JSON + public JWKS, no manifest."""
    other_node.events.import_event(node.events.get(event_id), node.events.jwks(event_id))
    return other_node


def manifest_of(tickets, **overrides):
    return [
        {
            "id": t["id"],
            "bookingId": t["bookingId"],
            "attendeeName": t["attendeeName"],
            "tierName": t["tierName"],
            "status": overrides.get(t["id"], "valid"),
            "updatedAt": t["updatedAt"],
        }
        for t in tickets
    ]


@pytest.mark.parametrize("form", ["array", "json lines", "feed page"])
def test_manifest_import_with_cancellations(node, gate, event_id, form):
    tickets = node.tickets.issue(event_id, "GA", "Booker", quantity=3)
    entries = manifest_of(tickets, **{tickets[1]["id"]: "cancelled"})
    text = {
        "array": json.dumps(entries),
        "json lines": "\n".join(json.dumps(e) for e in entries) + "\n\n",
        "feed page": json.dumps({"data": entries, "nextCursor": "3", "hasMore": False}),
    }[form]
    assert gate.tickets.import_manifest(event_id, parse_manifest_text(text)) == 3
    verdicts = [gate.checkin.scan(t["qrPayload"], Door.of([event_id])) for t in tickets]
    assert [v.reason for v in verdicts] == [None, "revoked", None]
    assert (
        gate.db.query_one("SELECT COUNT(*) FROM event_keys WHERE private_pem IS NOT NULL")[0] == 0
    )


def test_signed_ticket_missing_from_the_manifest_is_still_admitted(node, gate, event_id):
    listed, unlisted = node.tickets.issue(event_id, "VIP", "Listed", quantity=2)
    gate.tickets.import_manifest(event_id, manifest_of([listed]))
    result = gate.checkin.scan(unlisted["qrPayload"], Door.of([event_id]))
    assert result.success
    # Name and tier come from the signed claims when the manifest has no row.
    assert (result.attendee_name, result.tier_name) == ("Listed", "VIP")


def test_later_manifest_entries_win(node, gate, event_id):
    ticket = node.tickets.issue(event_id, "GA", "Flip Flop")[0]
    gate.tickets.import_manifest(event_id, manifest_of([ticket], **{ticket["id"]: "cancelled"}))
    assert gate.checkin.scan(ticket["qrPayload"], Door.of([event_id])).reason == "revoked"
    gate.tickets.import_manifest(event_id, manifest_of([ticket]))  # reinstated
    assert gate.checkin.scan(ticket["qrPayload"], Door.of([event_id])).success


@pytest.mark.parametrize(
    "entry, words",
    [
        ({"id": "tkt_a", "tierName": "GA", "status": "used"}, "status"),
        ({"id": "tkt_a", "tierName": "GA", "eventId": "evt_other"}, "belongs to"),
        ({"tierName": "GA"}, "id"),
        ({"id": "tkt_a"}, "tierName"),
        ({"id": "tkt_a", "tierName": "GA", "updatedAt": "yesterday"}, "updatedAt"),
        ("tkt_a", "object"),
    ],
)
def test_a_bad_manifest_entry_changes_nothing(gate, event_id, entry, words):
    good = {"id": "tkt_good", "tierName": "GA"}
    before = gate.db.query_one("SELECT COUNT(*) FROM tickets")[0]
    with pytest.raises(ValidationError) as caught:
        gate.tickets.import_manifest(event_id, [good, entry])
    assert words in caught.value.message
    assert gate.db.query_one("SELECT COUNT(*) FROM tickets")[0] == before


def test_manifest_text_that_is_not_json_names_the_line():
    with pytest.raises(ValidationError, match="line 2"):
        parse_manifest_text('{"id": "tkt_a", "tierName": "GA"}\n{oops\n')


# --- undo and manual check-in ------------------------------------------------------------


def test_undo_is_a_void_entry_and_the_ticket_can_be_admitted_again(node, issue, event_id, clock):
    ticket = issue()
    first = node.checkin.scan(ticket["qrPayload"], Door.of([event_id]))
    assert node.checkin.records.last_checkin()["id"] == first.checkin_id
    clock.advance(30)
    void = node.checkin.records.undo(first.checkin_id, gate="supervisor")
    assert void.voids == first.checkin_id and void.ticket_id == ticket["id"]

    original = recorded(node, first)
    assert original["voided_by"] == void.id and original["success"] == 1  # kept, marked
    row = node.db.query_one("SELECT * FROM checkins WHERE id = ?", (void.id,))
    assert (row["kind"], row["voids_id"], row["ticket_id"], row["gate"]) == (
        "void",
        first.checkin_id,
        ticket["id"],
        "supervisor",
    )
    assert node.reports.stats(event_id)["checkedIn"] == 0
    assert node.checkin.records.last_checkin() is None

    clock.advance(30)
    again = node.checkin.scan(ticket["qrPayload"], Door.of([event_id]))
    assert again.success, again.reason
    assert node.db.query_one("SELECT COUNT(*) FROM checkins")[0] == 3  # nothing deleted

    with pytest.raises(Conflict):
        node.checkin.records.undo(first.checkin_id)
    with pytest.raises(ValidationError):
        node.checkin.records.undo(void.id)
    rejected = node.checkin.scan("garbage", Door.of([event_id]))
    with pytest.raises(ValidationError):
        node.checkin.records.undo(rejected.checkin_id)
    with pytest.raises(NotFound):
        node.checkin.records.undo("chk_nope")


def test_manual_checkin_by_ticket_id(node, issue, event_id):
    ticket = issue("VIP", "Walk Up")
    manual = node.checkin.checkin_ticket(ticket["id"], Door.of(event_ids=[event_id], gate="desk"))
    check_shape(manual)
    assert manual.success and (manual.attendee_name, manual.tier_name) == ("Walk Up", "VIP")
    assert recorded(node, manual)["kind"] == "manual"
    # Manual and scanned check-ins share the one-admission rule, both ways.
    assert node.checkin.scan(ticket["qrPayload"], Door.of([event_id])).reason == (
        "already_checked_in"
    )
    assert node.checkin.checkin_ticket(ticket["id"]).reason == "already_checked_in"

    cancelled = issue()
    node.tickets.cancel(cancelled["id"])
    assert node.checkin.checkin_ticket(cancelled["id"]).reason == "revoked"
    other = publish_event(node, "Elsewhere")
    stranger = node.tickets.issue(other["id"], "GA", "Stranger")[0]
    wrong = node.checkin.checkin_ticket(stranger["id"], Door.of([event_id]))
    assert wrong.reason == "wrong_event"
    assert node.checkin.checkin_ticket(
        issue("GA")["id"], Door.of(allowed_tiers=["VIP"])
    ).reason == ("tier_not_allowed")
    with pytest.raises(NotFound):
        node.checkin.checkin_ticket("tkt_doesnotexist")


def test_bad_direction_is_refused_before_anything_is_written(node, issue, event_id):
    with pytest.raises(ValidationError):
        node.checkin.scan(issue()["qrPayload"], Door.of(event_ids=[event_id], direction="sideways"))
    assert node.db.query_one("SELECT COUNT(*) FROM checkins")[0] == 0


def test_reusing_a_checkin_id_is_refused(node, issue, event_id):
    node.checkin.scan(issue()["qrPayload"], Door.of([event_id]), checkin_id="chk_fixed")
    with pytest.raises(Conflict):
        node.checkin.scan(issue()["qrPayload"], Door.of([event_id]), checkin_id="chk_fixed")
    assert node.db.query_one("SELECT COUNT(*) FROM checkins")[0] == 1


# --- ledger: other nodes' check-ins --------------------------------------------------------


@pytest.fixture
def two_doors(node, gate, event_id, clock):
    """The same ticket admitted at the gate (19:00:00) and at the issuer (19:00:05)."""
    ticket = node.tickets.issue(event_id, "GA", "Screenshot Sharer")[0]
    at_gate = gate.checkin.scan(ticket["qrPayload"], Door.of(event_ids=[event_id], gate="west"))
    clock.advance(5)
    at_hub = node.checkin.scan(ticket["qrPayload"], Door.of(event_ids=[event_id], gate="east"))
    assert at_gate.success and at_hub.success
    return ticket, at_gate, at_hub


def counts(n):
    return n.db.query_one("SELECT COUNT(*), SUM(success) FROM checkins")[:]


def test_merge_is_idempotent(node, gate, two_doors):
    batch = gate.ledger.outbox()
    first = node.ledger.merge(batch, source="downstream")
    after_first = counts(node)
    assert node.ledger.merge(batch, source="downstream") == first
    assert node.ledger.merge(batch[::-1], source="downstream") == first[::-1]
    assert counts(node) == after_first == (2, 2)


def test_a_void_applies_wherever_its_checkin_stands_in_the_batch(node, gate, event_id):
    ticket = node.tickets.issue(event_id, "GA", "Changed Mind")[0]
    door = Door.of(event_ids=[event_id], gate="west")
    admitted = gate.checkin.scan(ticket["qrPayload"], door)
    void = gate.checkin.records.undo(admitted.checkin_id, gate="west")
    admission, undo = gate.ledger.outbox()
    node.ledger.merge([undo, admission], source="downstream")  # the void first
    (row,) = node.db.query("SELECT voided_by FROM checkins WHERE id = ?", (admitted.checkin_id,))
    assert row["voided_by"] == void.id
    assert node.reports.stats(event_id)["checkedIn"] == 0


def test_the_later_admission_elsewhere_is_a_conflict_nothing_deleted(node, gate, two_doors):
    ticket, at_gate, at_hub = two_doors
    # The hub's later admission reaches the gate: flagged, kept.
    (answer,) = gate.ledger.merge(node.ledger.outbox(), source="upstream")
    assert answer == {
        "id": at_hub.checkin_id,
        "status": "conflict",
        "firstCheckedInAt": at_gate.checked_in_at,
        "firstScannedBy": "west",
        "reason": None,
    }
    assert counts(gate) == (2, 2)
    (conflict,) = gate.reports.conflicts(gate.events.list()[0]["id"])
    assert conflict["checkinId"] == at_hub.checkin_id and conflict["ticketId"] == ticket["id"]


def test_an_earlier_admission_arriving_later_becomes_canonical(node, gate, two_doors):
    ticket, at_gate, at_hub = two_doors
    event_id = ticket["eventId"]
    assert node.reports.conflicts(event_id) == []
    # The gate's earlier admission (19:00:00) reaches the hub, which admitted at 19:00:05.
    (answer,) = node.ledger.merge(gate.ledger.outbox(), source="downstream")
    assert answer["status"] == "recorded" and answer["id"] == at_gate.checkin_id
    local = node.db.query_one("SELECT * FROM checkins WHERE id = ?", (at_hub.checkin_id,))
    assert (local["conflict"], local["first_checked_in_at"], local["first_scanned_by"]) == (
        1,
        at_gate.checked_in_at,
        "west",
    )
    assert [c["checkinId"] for c in node.reports.conflicts(event_id)] == [at_hub.checkin_id]
    assert counts(node) == (2, 2)
    assert node.reports.stats(event_id)["checkedIn"] == 1
    # Another scan now points at the canonical (earliest) admission.
    dup = node.checkin.scan(ticket["qrPayload"], Door.of([event_id]))
    assert (dup.first_checked_in_at, dup.first_scanned_by) == (at_gate.checked_in_at, "west")


def test_voiding_the_canonical_admission_promotes_the_next(node, gate, two_doors):
    ticket, at_gate, at_hub = two_doors
    node.ledger.merge(gate.ledger.outbox(), source="downstream")
    node.checkin.records.undo(at_gate.checkin_id)
    local = node.db.query_one("SELECT conflict FROM checkins WHERE id = ?", (at_hub.checkin_id,))
    assert local["conflict"] == 0


def test_a_bad_batch_item_writes_nothing(node, gate, two_doors):
    batch = gate.ledger.outbox() + [{"id": "chk_bad", "success": "yes"}]
    before = counts(node)
    with pytest.raises(ValidationError):
        node.ledger.merge(batch, source="downstream")
    assert counts(node) == before


@pytest.mark.parametrize(
    "change, field",
    [
        ({"direction": "sideways"}, "direction"),
        ({"success": "yes"}, "success"),
        ({"reason": "looked_shifty"}, "reason"),
        ({"reason": "revoked"}, "reason"),  # a success has no reason
        ({"scannedAt": "teatime"}, "scannedAt"),
        ({"eventId": None}, "eventId"),
    ],
)
def test_each_bad_batch_field_is_named(node, gate, two_doors, change, field):
    item = {**gate.ledger.outbox()[0], **change}
    with pytest.raises(ValidationError) as caught:
        node.ledger.merge([item], source="downstream")
    assert caught.value.field == field


def test_feed_pages_by_cursor_and_refuses_a_bad_one(node, gate, two_doors):
    ticket, _, _ = two_doors
    node.ledger.merge(gate.ledger.outbox(), source="downstream")
    first = node.ledger.feed(ticket["eventId"], limit=1)
    assert len(first["data"]) == 1 and first["hasMore"] is True
    rest = node.ledger.feed(ticket["eventId"], after=first["nextCursor"])
    assert len(rest["data"]) == 1 and rest["hasMore"] is False
    assert {first["data"][0]["id"], rest["data"][0]["id"]} == {
        r["id"] for r in node.db.query("SELECT id FROM checkins")
    }
    with pytest.raises(ValidationError) as caught:
        node.ledger.feed(ticket["eventId"], after="not-a-cursor")
    assert caught.value.field == "after"


def test_clock_offset_corrects_door_time_of_scans_and_voids(node, issue, event_id, clock):
    skewed = Node(node.db, clock=clock, clock_offset_ms=lambda: 1500.0)  # this clock is slow
    scan = skewed.checkin.scan(issue()["qrPayload"], Door.of([event_id]))
    assert scan.checked_in_at == "2026-07-15T19:00:01.500Z"
    void = skewed.checkin.records.undo(scan.checkin_id)
    for checkin_id in (scan.checkin_id, void.id):
        row = node.db.query_one(
            "SELECT scanned_at, observed_at, clock_offset_ms FROM checkins WHERE id = ?",
            (checkin_id,),
        )
        assert tuple(row) == ("2026-07-15T19:00:01.500Z", "2026-07-15T19:00:00.000Z", 1500)


def test_csv_export_defuses_spreadsheet_formulas(node, event_id):
    hostile = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", " =1+1", "Plain Name"]
    for sneaky in ("\t=1+1", "\r=1+1"):  # control characters never get in at all
        with pytest.raises(ValidationError, match="control characters"):
            node.tickets.issue(event_id, "GA", sneaky)
    for name in hostile:
        ticket = node.tickets.issue(event_id, "GA", name)[0]
        node.checkin.scan(ticket["qrPayload"], Door.of([event_id]))
    text = node.reports.export_csv(event_id)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(hostile)  # a CR inside a name does not start a new row
    assert text.count("\r\n") == len(hostile) + 1
    exported = [row["attendeeName"] for row in rows]
    assert exported[:4] == ["'" + name for name in hostile[:4]]
    assert exported[4] == " =1+1"  # a leading space does not start a formula
    assert exported[-1] == "Plain Name"
    # The JSON export keeps names as they are: it is data, not a spreadsheet.
    assert [c["attendeeName"] for c in node.reports.checkins(event_id)] == hostile
