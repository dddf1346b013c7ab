"""Attendee names at rest (DESIGN.md §10): sealed in every byte SQLite writes (file and
WAL), searchable in memory while the app runs; per ticket on a private gate, so a name
opens only with the token of its own ticket. Real files, the real 0600 key file (this
machine has no keyring backend: the file fallback is what the app uses here)."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from scanner_app.core.door import Door
from scanner_app.core.errors import ValidationError
from scanner_app.core.names import TICKET_PREFIX, open_for_ticket, seal_for_ticket
from scanner_app.core.node import DB_FILENAME, Node
from scanner_app.core.node_config import NodeConfig
from scanner_app.core.privacy import forget_names

NAMES = ("Wilhelmina Quaxley", "Bartholomew Zinkovsky", "Ottoline Fénnimore")
PULLED = "Peregrine Vowlesworth"  # a name only another gate's check-in carries


def file_bytes(data_dir) -> bytes:
    return b"".join(
        (data_dir / name).read_bytes()
        for name in (DB_FILENAME, DB_FILENAME + "-wal")
        if (data_dir / name).exists()
    )


def spellings(name: str) -> list[bytes]:
    """Every way a word of the name could sit in the file (UTF-8, NFD, folded)."""
    found = []
    for word in name.split():
        for form in (word, word.casefold(), unicodedata.normalize("NFD", word)):
            found += [form.encode("utf-8"), form.encode("utf-16-le")]
    return found


def hub_with_tickets(path):
    """A node that issues one published event with a ticket per name."""
    hub = Node.open(path)
    event_id = hub.events.create(
        {"title": "Neon Nights", "tiers": [{"name": "GA", "price": 0, "quantity": 100}]}
    )["id"]
    hub.events.publish(event_id)
    tickets = [hub.tickets.issue(event_id, "GA", name)[0] for name in NAMES]
    return hub, event_id, tickets


def copy_event(hub: Node, gate: Node, event_id: str, *, sealed: bool = False) -> None:
    """What a pull does, without HTTP: the event, its public keys and the manifest."""
    gate.events.import_event(hub.events.get(event_id))
    gate.events.apply_upstream_jwks(event_id, hub.events.jwks(event_id))
    page = hub.tickets.feed(event_id, limit=1000, sealed=sealed)
    gate.tickets.import_manifest(event_id, page["data"], private=sealed)


def pulled_checkin(event_id: str, ticket_id: str) -> dict:
    return {
        "id": "chk_fromsouthgate0001",
        "eventId": event_id,
        "ticketId": ticket_id,
        "scannedAt": "2026-07-01T20:00:00.000Z",
        "scannedBy": "south",
        "direction": "in",
        "success": True,
        "deviceId": "dev_south",
        "attendeeName": PULLED,
        "tierName": "GA",
    }


@pytest.mark.skipif(sys.platform == "win32", reason="reads the open database file")
def test_no_name_in_the_gate_database_or_wal_yet_search_finds_them(tmp_path):
    hub, event_id, tickets = hub_with_tickets(tmp_path / "hub")
    gate = Node.open(tmp_path / "gate")
    copy_event(hub, gate, event_id)
    gate.ledger.merge([pulled_checkin(event_id, tickets[1]["id"])], source="upstream")
    scanned = gate.checkin.scan(tickets[0]["qrPayload"], Door.of([event_id]))
    assert scanned.success and scanned.attendee_name == NAMES[0]
    raw = file_bytes(gate.data_dir)
    assert (gate.data_dir / (DB_FILENAME + "-wal")).stat().st_size > 0  # the WAL is read too
    assert tickets[2]["id"].encode() in raw  # what is not personal is there to be found
    for name in (*NAMES, PULLED):
        for form in spellings(name):
            assert form not in raw, form
    # While the app runs, the names are searchable (opened in memory only).
    assert [t["attendeeName"] for t in gate.tickets.search("fenni")] == [NAMES[2]]
    assert [t["id"] for t in gate.tickets.search("ottoline fennimore")] == [tickets[2]["id"]]
    assert gate.tickets.search("zinkovsky bartholomew")[0]["id"] == tickets[1]["id"]
    assert gate.tickets.search(tickets[2]["bookingId"])[0]["id"] == tickets[2]["id"]
    # What leaves the gate for the hub carries the name in the clear (over the link only).
    assert {c["attendeeName"] for c in gate.ledger.outbox()} == {NAMES[0]}
    assert gate.checkin.records.last_checkin()["attendee_name"] == NAMES[0]
    gate.close()
    assert all(form not in file_bytes(gate.data_dir) for form in spellings(NAMES[0]))
    with Node.open(tmp_path / "gate") as again:  # the next start opens them again
        assert [t["id"] for t in again.tickets.search("wilhelmina")] == [tickets[0]["id"]]
    hub.close()


def test_search_follows_writes_of_another_process_and_erasure(tmp_path):
    hub, event_id, tickets = hub_with_tickets(tmp_path / "hub")
    app = Node.open(tmp_path / "gate")
    cli = Node.open(tmp_path / "gate")  # the CLI (or the sync) writing the same file
    assert app.tickets.search("quaxley") == []
    copy_event(hub, cli, event_id)
    assert [t["attendeeName"] for t in app.tickets.search("quaxley")] == [NAMES[0]]
    cli.tickets.import_manifest(
        event_id,
        [{"id": "tkt_late", "tierName": "GA", "attendeeName": "Quaxley Junior", "status": "valid"}],
    )
    assert {t["id"] for t in app.tickets.search("quax")} >= {"tkt_late"}
    # A renamed ticket is found by its new name only (checked one by one until a rebuild).
    cli.tickets.import_manifest(
        event_id, [{**tickets[1], "attendeeName": "Bartholomew Plumtree", "status": "valid"}]
    )
    assert [t["attendeeName"] for t in app.tickets.search("plumtree")] == ["Bartholomew Plumtree"]
    assert app.tickets.search("zinkovsky") == []
    many = [
        {"id": f"tkt_bulk{i:04d}", "tierName": "GA", "attendeeName": f"Bulk Person{i}"}
        for i in range(600)  # more changes than are checked one by one: built again
    ]
    cli.tickets.import_manifest(event_id, many)
    assert len(app.tickets.search("bulk", limit=200)) == 200
    assert [t["id"] for t in app.tickets.search("person599")] == ["tkt_bulk0599"]
    assert app.tickets.search("zinkovsky") == []
    forget_names(cli.db)  # a revoked device: names go, and the index in memory with them
    assert app.tickets.search("quaxley") == []
    assert [t["id"] for t in app.tickets.search("tkt_late")] == ["tkt_late"]
    app.close()
    cli.close()
    hub.close()


def test_a_name_sealed_per_ticket_opens_only_with_its_own_token(tmp_path):
    hub, _event_id, tickets = hub_with_tickets(tmp_path / "hub")
    own, other = tickets[0]["qrPayload"], tickets[1]["qrPayload"]
    sealed = seal_for_ticket("Wilhelmina Quaxley", own, tickets[0]["id"])
    assert sealed.startswith(TICKET_PREFIX) and "Quaxley" not in sealed
    assert open_for_ticket(sealed, own, tickets[0]["id"]) == "Wilhelmina Quaxley"
    assert open_for_ticket(sealed, other, tickets[0]["id"]) is None  # another ticket's QR
    assert open_for_ticket(sealed, own, tickets[1]["id"]) is None  # moved to another row
    header, body, _sig = own.split(".")
    assert open_for_ticket(sealed, f"{header}.{body}.", tickets[0]["id"]) is None
    assert open_for_ticket(sealed, "not a token", tickets[0]["id"]) is None
    hub.close()


@pytest.mark.skipif(sys.platform == "win32", reason="reads the open database file")
def test_private_gate_shows_a_name_only_for_the_ticket_presented(tmp_path):
    hub, event_id, tickets = hub_with_tickets(tmp_path / "hub")
    # The manifest's name differs from the token's (renamed after issue): the name shown
    # at the door must come from the sealed manifest entry, not just from the token.
    renamed = {**tickets[0], "attendeeName": "Wilhelmina Quaxley-Hart", "status": "valid"}
    hub.tickets.import_manifest(event_id, [renamed])
    gate = Node.open(tmp_path / "gate")
    NodeConfig(kiosk=True).save(gate)  # a kiosk: private unless set otherwise
    assert gate.private_names()
    copy_event(hub, gate, event_id, sealed=True)
    stored = gate.db.query("SELECT attendee_name, qr_payload FROM tickets")
    assert all(r["attendee_name"].startswith(TICKET_PREFIX) for r in stored)
    assert all(r["qr_payload"] is None for r in stored)  # no token kept: the key stays away
    assert gate.tickets.search("quaxley") == []  # search shows no names
    assert [t["attendeeName"] for t in gate.tickets.search(tickets[1]["id"])] == [None]
    gate.ledger.merge([pulled_checkin(event_id, tickets[1]["id"])], source="upstream")
    result = gate.checkin.scan(tickets[0]["qrPayload"], Door.of([event_id]))
    assert result.success and result.attendee_name == "Wilhelmina Quaxley-Hart"
    names_kept = gate.db.query_one("SELECT COUNT(*) FROM checkins WHERE attendee_name IS NOT NULL")[
        0
    ]
    assert names_kept == 0  # neither its own scans nor other gates' admissions
    raw = file_bytes(gate.data_dir)
    for name in (*NAMES, PULLED, "Quaxley-Hart"):
        assert all(form not in raw for form in spellings(name))
    gate.close()
    hub.close()


def test_private_setting_defaults_on_for_kiosks_only(tmp_path):
    assert NodeConfig(kiosk=True).private_names and not NodeConfig().private_names
    assert not NodeConfig(kiosk=True, private="off").private_names
    assert NodeConfig(private="on").private_names
    with pytest.raises(ValidationError, match="private must be one of auto, on, off"):
        NodeConfig(private="yes")
    with Node.open(tmp_path / "gate") as node:
        assert not node.private_names()
        NodeConfig(private="on").save(node)
        assert node.private_names() and NodeConfig.load(node).private == "on"
