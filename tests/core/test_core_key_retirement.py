"""Retiring a leaked signing key: its tickets become unknown_key, nothing is deleted, the
last signing key is refused, and an upstream's JWKS decides the keys imported from it."""

from __future__ import annotations

import json
import sqlite3
import time

import jwt
import pytest
import sqlite_utils

from scanner_app.core.db import Database
from scanner_app.core.door import Door
from scanner_app.core.errors import Conflict, NotFound, ValidationError
from scanner_app.core.keys import generate_signing_key
from scanner_app.core.migrations import MIGRATIONS
from scanner_app.core.node import Node
from scanner_app.core.tokens import TicketClaims, sign_ticket


def kid_of(ticket: dict) -> str:
    return jwt.get_unverified_header(ticket["qrPayload"])["kid"]


def kids(jwks: dict) -> list[str]:
    return [k["kid"] for k in jwks["keys"]]


def counts(node: Node) -> tuple[int, int, int]:
    one = node.db.query_one
    return (
        one("SELECT count(*) FROM tickets")[0],
        one("SELECT count(*) FROM checkins")[0],
        one("SELECT count(*) FROM event_keys")[0],
    )


@pytest.fixture
def rotated(node, event_id):
    """(old ticket, new ticket, old kid, new kid) around one rotation."""
    old = node.tickets.issue(event_id, "GA", "Before")[0]
    old_kid = kid_of(old)
    node.events.rotate_key(event_id)
    new = node.tickets.issue(event_id, "GA", "After")[0]
    return old, new, old_kid, kid_of(new)


def test_a_retired_key_is_unknown_key_and_the_new_key_admits(node, event_id, rotated):
    old, new, old_kid, new_kid = rotated
    admitted = node.checkin.scan(old["qrPayload"], Door.of([event_id]))
    assert admitted.success
    before = counts(node)

    jwks = node.events.retire_key(event_id, old_kid)

    assert kids(jwks) == [new_kid] == kids(node.events.jwks(event_id))
    again = node.checkin.scan(old["qrPayload"], Door.of([event_id]))
    assert (again.success, again.reason) == (False, "unknown_key")
    assert node.checkin.scan(new["qrPayload"], Door.of([event_id])).success
    assert node.events.signing_key(event_id).kid == new_kid
    # Nothing deleted: the key row, both tickets, the earlier admission (plus 2 new scans).
    assert counts(node) == (before[0], before[1] + 2, before[2])
    row = node.db.query_one("SELECT retired_by FROM event_keys WHERE kid = ?", (old_kid,))
    assert row["retired_by"] == "local"


def test_retiring_the_newest_key_signs_new_tickets_with_the_older_one(node, event_id, rotated):
    old, new, old_kid, new_kid = rotated
    node.events.retire_key(event_id, new_kid)
    assert node.events.signing_key(event_id).kid == old_kid
    fresh = node.tickets.issue(event_id, "GA", "Later")[0]
    assert kid_of(fresh) == old_kid
    assert node.checkin.scan(new["qrPayload"], Door.of([event_id])).reason == "unknown_key"
    assert node.checkin.scan(fresh["qrPayload"], Door.of([event_id])).success


def test_the_last_signing_key_is_refused_and_nothing_changes(node, event_id):
    ticket = node.tickets.issue(event_id, "GA", "Only")[0]
    before = node.db.query("SELECT * FROM event_keys")
    with pytest.raises(Conflict, match="rotate-key") as refused:
        node.events.retire_key(event_id, kid_of(ticket))
    assert "last signing key" in refused.value.message
    assert [tuple(r) for r in node.db.query("SELECT * FROM event_keys")] == [
        tuple(r) for r in before
    ]
    assert node.checkin.scan(ticket["qrPayload"], Door.of([event_id])).success


def test_an_unknown_kid_or_event_is_not_found(node, event_id):
    with pytest.raises(NotFound, match="no key with kid 'nope'"):
        node.events.retire_key(event_id, "nope")
    with pytest.raises(NotFound, match="No event"):
        node.events.retire_key("evt_missing", "nope")


def test_retiring_twice_is_idempotent(node, event_id, rotated, clock):
    _, _, old_kid, new_kid = rotated
    first = node.events.retire_key(event_id, old_kid)
    stamp = node.db.query_one("SELECT retired_at FROM event_keys WHERE kid = ?", (old_kid,))[0]
    clock.advance(60)
    assert node.events.retire_key(event_id, old_kid) == first
    again = node.db.query_one("SELECT retired_at FROM event_keys WHERE kid = ?", (old_kid,))[0]
    assert again == stamp and kids(first) == [new_kid]


def test_a_gate_may_retire_its_only_imported_key(node, event_id, other_node):
    ticket = node.tickets.issue(event_id, "GA", "Gate")[0]
    other_node.events.import_event(node.events.get(event_id), node.events.jwks(event_id))
    # A gate signs nothing, so no "last key" rule: the event's tickets are then all refused,
    # as unknown_key (the kid is not in its set), not unknown_event.
    assert other_node.events.retire_key(event_id, kid_of(ticket)) == {"keys": []}
    result = other_node.checkin.scan(ticket["qrPayload"], Door.of([event_id]))
    assert result.reason == "unknown_key"


def test_a_running_node_stops_admitting_a_key_another_process_retired(
    node, event_id, rotated, clock
):
    old, _, old_kid, _ = rotated
    node.events.key_cache_seconds = 0.05
    assert node.checkin.scan(old["qrPayload"], Door.of([event_id])).success  # cache filled
    # `tickitz-scanner event retire-key` runs in its own process on the same file.
    with Node.open(node.data_dir, clock=clock) as cli_process:
        cli_process.events.retire_key(event_id, old_kid)
    time.sleep(0.1)
    result = node.checkin.scan(old["qrPayload"], Door.of([event_id]))
    assert result.reason == "unknown_key"


# --- the upstream's JWKS is authoritative for imported keys -------------------------------
@pytest.fixture
def gate(node, event_id, other_node, rotated):
    """other_node holding both keys of `node`'s event, imported (public only)."""
    other_node.events.import_event(node.events.get(event_id), node.events.jwks(event_id))
    return other_node


def test_a_key_dropped_upstream_is_retired_and_comes_back(node, event_id, gate, rotated):
    old, new, old_kid, new_kid = rotated
    node.events.retire_key(event_id, old_kid)
    changes = gate.events.apply_upstream_jwks(event_id, node.events.jwks(event_id))
    assert (changes.added, changes.retired, changes.restored) == (0, 1, 0)
    assert kids(gate.events.jwks(event_id)) == [new_kid]
    assert gate.checkin.scan(old["qrPayload"], Door.of([event_id])).reason == "unknown_key"
    assert gate.checkin.scan(new["qrPayload"], Door.of([event_id])).success

    # The upstream lists it again (say the retirement was a mistake made there).
    both = {"keys": [*node.events.jwks(event_id)["keys"], old_key_jwk(gate, old_kid)]}
    changes = gate.events.apply_upstream_jwks(event_id, both)
    assert (changes.added, changes.retired, changes.restored) == (0, 0, 1)
    assert sorted(kids(gate.events.jwks(event_id))) == sorted([old_kid, new_kid])
    assert gate.checkin.scan(old["qrPayload"], Door.of([event_id])).success


def old_key_jwk(node: Node, kid: str) -> dict:
    row = node.db.query_one("SELECT public_jwk FROM event_keys WHERE kid = ?", (kid,))
    return json.loads(row[0])


def test_a_key_retired_by_the_organiser_here_stays_retired(node, event_id, gate, rotated):
    old, _, old_kid, _ = rotated
    gate.events.retire_key(event_id, old_kid)
    changes = gate.events.apply_upstream_jwks(event_id, node.events.jwks(event_id))
    assert changes.restored == 0
    assert gate.checkin.scan(old["qrPayload"], Door.of([event_id])).reason == "unknown_key"


@pytest.mark.parametrize(
    "bad",
    [{"keys": []}, {}, {"keys": "x"}, {"keys": [{"kty": "OKP"}]}, []],
    ids=["empty", "no-keys", "not-a-list", "bad-key", "not-an-object"],
)
def test_an_empty_or_malformed_upstream_set_retires_nothing(event_id, gate, rotated, bad):
    old, _, _, _ = rotated
    before = [tuple(r) for r in gate.db.query("SELECT * FROM event_keys ORDER BY kid")]
    with pytest.raises(ValidationError):
        gate.events.apply_upstream_jwks(event_id, bad)
    assert [tuple(r) for r in gate.db.query("SELECT * FROM event_keys ORDER BY kid")] == before
    assert gate.checkin.scan(old["qrPayload"], Door.of([event_id])).success


def test_an_issuer_never_retires_its_own_keys_from_an_upstream_set(node, event_id, rotated):
    _, _, old_kid, new_kid = rotated
    stranger = generate_signing_key()
    changes = node.events.apply_upstream_jwks(event_id, {"keys": [stranger.jwk]})
    assert (changes.added, changes.retired) == (1, 0)
    assert sorted(kids(node.events.jwks(event_id))) == sorted([old_kid, new_kid, stranger.kid])


# --- the schema step ----------------------------------------------------------------------
def test_a_database_from_the_previous_schema_opens_and_can_retire(tmp_path):
    """A file as the app left it before key retirement (schema 4), with two keys and a ticket."""
    path = tmp_path / "v4.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:4]:
        step(sqlite_utils.Database(conn))
    conn.execute("PRAGMA user_version = 4")
    now = "2026-07-01T10:00:00.000Z"
    conn.execute(
        "INSERT INTO events (id, title, status, allow_reentry, created_at, updated_at)"
        " VALUES ('evt_old', 'Legacy', 'published', 0, ?, ?)",
        (now, now),
    )
    conn.execute("INSERT INTO tiers (id, event_id, name) VALUES ('tier_old', 'evt_old', 'GA')")
    old, new = generate_signing_key(), generate_signing_key()
    for key, created in ((old, now), (new, "2026-07-02T10:00:00.000Z")):
        conn.execute(
            "INSERT INTO event_keys (event_id, kid, alg, public_jwk, private_pem, created_at)"
            " VALUES ('evt_old', ?, 'EdDSA', ?, ?, ?)",
            (key.kid, json.dumps(key.jwk), key.private_pem, created),
        )
    token = sign_ticket(TicketClaims(jti="tkt_old", evt="evt_old", tier="GA", iat=1), old)
    conn.close()

    with Node(Database(path)) as node:
        assert node.db.schema_version == len(MIGRATIONS) >= 5
        assert sorted(kids(node.events.jwks("evt_old"))) == sorted([old.kid, new.kid])
        assert node.checkin.scan(token, Door.of(["evt_old"])).success
        assert kids(node.events.retire_key("evt_old", old.kid)) == [new.kid]
        assert node.checkin.scan(token, Door.of(["evt_old"])).reason == "unknown_key"
