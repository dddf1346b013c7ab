"""Versioned migrations: a fresh file and a file from an older version both reach the newest
schema, old rows intact and searchable."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
import sqlite_utils

from scanner_app.core.db import Database
from scanner_app.core.door import Door
from scanner_app.core.keys import generate_signing_key
from scanner_app.core.migrations import MIGRATIONS
from scanner_app.core.node import Node
from scanner_app.core.tokens import TicketClaims, sign_ticket

NEWEST = len(MIGRATIONS)
OLD_TABLES = ("events", "tiers", "event_keys", "tickets", "checkins", "node_settings")


def user_version(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_fresh_database_upgrades_to_the_newest_version(tmp_path):
    path = tmp_path / "fresh.db"
    db = Database(path)
    assert db.schema_version == NEWEST >= 3
    tables = {r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert set(OLD_TABLES) | {"api_keys", "devices", "sync_state"} <= tables
    assert not any(t.startswith("tickets_fts") for t in tables)  # names left the index
    db.close()
    assert user_version(path) == NEWEST
    # Reopening runs nothing again.
    again = Database(path)
    assert again.schema_version == NEWEST
    again.close()


@pytest.fixture
def v1_file(tmp_path):
    """A database as version 1 of the app left it: only MIGRATIONS[:1], with real rows."""
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:1]:
        step(sqlite_utils.Database(conn))
    conn.execute("PRAGMA user_version = 1")
    key = generate_signing_key("EdDSA")
    now = "2026-07-01T10:00:00.000Z"
    conn.execute(
        "INSERT INTO events (id, title, status, allow_reentry, created_at, updated_at)"
        " VALUES ('evt_old', 'Legacy Night', 'published', 0, ?, ?)",
        (now, now),
    )
    conn.execute(
        "INSERT INTO tiers (id, event_id, name, price, quantity) VALUES"
        " ('tier_old', 'evt_old', 'GA', 0, 100)"
    )
    conn.execute(
        "INSERT INTO event_keys (event_id, kid, alg, public_jwk, private_pem, created_at)"
        " VALUES ('evt_old', ?, 'EdDSA', ?, ?, ?)",
        (key.kid, json.dumps(key.jwk), key.private_pem, now),
    )
    people = [
        ("tkt_legacyjose0001", "bkg_legacy0001", "José Álvarez"),
        ("tkt_legacyzoe00002", "bkg_legacy0002", "Zoë Brontë"),
        ("tkt_legacyada00003", "bkg_legacy0003", "Ada Lovelace"),
    ]
    tokens = {}
    for seq, (ticket_id, booking, name) in enumerate(people, start=1):
        claims = TicketClaims(jti=ticket_id, evt="evt_old", tier="GA", iat=1_782_000_000)
        tokens[ticket_id] = sign_ticket(claims, key)
        conn.execute(
            "INSERT INTO tickets (id, event_id, booking_id, attendee_name, tier_name, status,"
            " qr_payload, updated_at, seq) VALUES (?, 'evt_old', ?, ?, 'GA', 'valid', ?, ?, ?)",
            (ticket_id, booking, name, tokens[ticket_id], now, seq),
        )
    conn.execute(
        "INSERT INTO checkins (id, event_id, ticket_id, device_id, gate, scanned_at, observed_at,"
        " direction, success, kind, attendee_name, tier_name, received_at) VALUES"
        " ('chk_legacy', 'evt_old', 'tkt_legacyada00003', 'dev_old', 'east', ?, ?, 'in', 1,"
        " 'scan', 'Ada Lovelace', 'GA', ?)",
        ("2026-07-01T20:00:00.000Z", "2026-07-01T20:00:00.000Z", now),
    )
    conn.execute("INSERT INTO node_settings (key, value) VALUES ('device_id', 'dev_old')")
    snapshot = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in OLD_TABLES}
    conn.close()
    return path, snapshot, tokens


def opened_rows(node, table):
    """The rows of ``table`` with each sealed attendee name opened (names.py)."""
    rows = node.db.query(f"SELECT * FROM {table} ORDER BY 1")
    if table not in ("tickets", "checkins"):
        return [tuple(r) for r in rows]
    ticket = "id" if table == "tickets" else "ticket_id"
    out = []
    for r in rows:
        assert not r["attendee_name"] or r["attendee_name"].startswith("enc1:")
        values = dict(r)
        values["attendee_name"] = node.names.open(r["attendee_name"], r[ticket])
        out.append(tuple(values.values()))
    return out


def test_old_database_upgrades_with_data_intact(v1_file):
    path, snapshot, _ = v1_file
    assert user_version(path) == 1
    with Node(Database(path)) as node:
        assert node.db.schema_version == NEWEST
        for table, rows in snapshot.items():
            now_rows = opened_rows(node, table)
            if table == "event_keys":
                # The one change on purpose: the private key is sealed at rest on first open.
                sealed = now_rows[0][4]
                assert sealed.startswith("enc1:") and "PRIVATE KEY" not in sealed
                opened = node.cipher.open(sealed, f"event_keys:evt_old:{now_rows[0][1]}")
                now_rows = [(*now_rows[0][:4], opened, *now_rows[0][5:])]
            # Later migrations append columns (event_keys.retired_*); the old ones are intact.
            assert [r[: len(old)] for r, old in zip(now_rows, rows, strict=True)] == rows, table
        retired = node.db.query("SELECT retired_at, retired_by FROM event_keys")
        assert [tuple(r) for r in retired] == [(None, None)]  # an old key is active
        assert node.device_id == "dev_old"  # the node keeps its identity across the upgrade
    assert user_version(path) == NEWEST


def test_upgrade_seals_plain_names_and_leaves_none_in_the_file(v1_file):
    path, _, _ = v1_file
    plain = ("José Álvarez", "Zoë Brontë", "Ada Lovelace")
    before = path.read_bytes()
    assert all(name.encode() in before for name in plain)  # the old file held them plain
    with Node(Database(path)) as node:
        assert node.setting("names.seal_pending") is None  # done once, at this first open
        on_disk = b"".join(
            p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
        )
        for name in plain:
            for word in name.split():
                assert word.encode() not in on_disk, word
        assert [t["attendeeName"] for t in node.tickets.search("lovelace")] == ["Ada Lovelace"]


def test_search_index_covers_rows_from_before_the_fts_migration(v1_file):
    path, _, _ = v1_file
    with Node(Database(path)) as node:
        assert [t["id"] for t in node.tickets.search("jose")] == ["tkt_legacyjose0001"]
        assert [t["id"] for t in node.tickets.search("zoe bronte")] == ["tkt_legacyzoe00002"]
        assert [t["id"] for t in node.tickets.search("bkg_legacy0003")] == ["tkt_legacyada00003"]
        assert len(node.tickets.search("tkt_legacy")) == 3
        # And rows written after the upgrade are indexed too.
        node.tickets.import_manifest(
            "evt_old", [{"id": "tkt_after", "tierName": "GA", "attendeeName": "Jöse Nuevo"}]
        )
        assert {t["id"] for t in node.tickets.search("jose")} == {
            "tkt_legacyjose0001",
            "tkt_after",
        }


def test_upgraded_node_scans_old_tickets_against_old_checkins(v1_file):
    path, _, tokens = v1_file
    with Node(Database(path)) as node:
        fresh = node.checkin.scan(tokens["tkt_legacyjose0001"], Door.of(["evt_old"]))
        assert fresh.success and fresh.attendee_name == "José Álvarez"
        dup = node.checkin.scan(tokens["tkt_legacyada00003"], Door.of(["evt_old"]))
        assert dup.reason == "already_checked_in"
        assert (dup.first_checked_in_at, dup.first_scanned_by) == (
            "2026-07-01T20:00:00.000Z",
            "east",
        )


def test_a_failing_migration_step_is_rolled_back_whole(v1_file):
    path, _, _ = v1_file
    conn = sqlite3.connect(path, isolation_level=None)
    # A stray table makes step 3 fail after it already created api_keys and devices.
    conn.execute("CREATE TABLE webhooks (id TEXT)")
    conn.close()
    with pytest.raises(sqlite3.OperationalError, match="webhooks"):
        Database(path)
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    assert version == 2  # step 2 committed on its own
    assert "tickets_fts" in tables
    assert "api_keys" not in tables and "devices" not in tables  # step 3 left nothing behind


def open_at_once(path, count=4):
    """`count` connections (as separate processes would have) open one file at the same time."""
    barrier = threading.Barrier(count)
    errors, versions = [], []

    def open_it():
        barrier.wait(timeout=10)
        try:
            db = Database(path)
            versions.append(db.schema_version)
            db.close()
        except Exception as exc:  # collected: the assertion below shows every one
            errors.append(repr(exc))

    threads = [threading.Thread(target=open_it) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors, versions


def test_first_start_by_several_processes_at_once(tmp_path):
    # The GUI's node worker, the embedded server and a CLI command may all open a new data
    # directory at the same moment; each must find (or make) the same newest schema.
    # 20 rounds: the journal-mode switch of a new file lost this race ~1 time in 12.
    for trial in range(20):
        errors, versions = open_at_once(tmp_path / f"fresh-{trial}.db")
        assert errors == []
        assert versions == [NEWEST] * 4


def test_upgrade_by_several_processes_at_once(v1_file):
    path, snapshot, _ = v1_file
    errors, versions = open_at_once(path)
    assert errors == []
    assert versions == [NEWEST] * 4
    with Node(Database(path)) as node:
        assert opened_rows(node, "tickets") == snapshot["tickets"]
        assert len(node.tickets.search("jose")) == 1  # indexed once, not once per opener
