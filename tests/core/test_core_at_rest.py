"""At rest (DESIGN.md §10): 0700 folders, 0600 database/WAL/SHM/key files, private keys and
webhook secrets sealed with the node key (here the 0600 file: this machine has no keyring
backend), data from before converted on open, and names erased when they must go."""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
from datetime import timedelta

import pytest

from scanner_app.core.atrest import KEY_FILENAME, SealedDataError
from scanner_app.core.demo_data import build_demo
from scanner_app.core.door import Door
from scanner_app.core.node import DB_FILENAME, Node
from scanner_app.core.privacy import expire_names, forget_names
from scanner_app.core.timeutil import parse_iso
from scanner_app.core.webhooks import WebhookStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def file_bytes(data_dir) -> bytes:
    """Everything SQLite wrote: the database and whatever is still in its WAL."""
    return b"".join(
        (data_dir / name).read_bytes()
        for name in (DB_FILENAME, DB_FILENAME + "-wal")
        if (data_dir / name).exists()
    )


def test_folders_0700_and_database_wal_shm_key_0600(tmp_path):
    data = tmp_path / "gate"
    with Node.open(data) as node:
        build_demo(node, tickets=3)  # writes (WAL, SHM) and makes the node key
        assert mode(data) == 0o700
        for name in (DB_FILENAME, DB_FILENAME + "-wal", DB_FILENAME + "-shm", KEY_FILENAME):
            assert mode(data / name) == 0o600, name


def test_files_left_world_readable_by_an_older_version_are_narrowed(tmp_path):
    data = tmp_path / "old"
    with Node.open(data) as node:
        build_demo(node, tickets=3)
    os.chmod(data, 0o755)
    for name in os.listdir(data):
        os.chmod(data / name, 0o644)
    with Node.open(data):
        assert mode(data) == 0o700
        assert {n: mode(data / n) for n in os.listdir(data)} == {n: 0o600 for n in os.listdir(data)}


def test_private_keys_and_webhook_secrets_never_reach_the_file(tmp_path):
    data = tmp_path / "hub"
    with Node.open(data) as node:
        scenario = build_demo(node, tickets=3)
        hooks = WebhookStore(node.db, node.clock, node.cipher)
        secret = hooks.register("https://hooks.example.com/t", ["ticket.used"])["secret"]
        pem = node.events.signing_key(scenario.event_id).private_pem
        assert "PRIVATE KEY" in pem  # opened for signing, in memory only
        stored = node.db.query("SELECT private_pem FROM event_keys WHERE private_pem IS NOT NULL")
        assert stored and all(r[0].startswith("enc1:") for r in stored)
        assert node.tickets.issue(scenario.event_id, "VIP", "Grace H.")  # still signs
        with node.db.write() as conn:
            hooks.enqueue(conn, "ticket.used", {"ticketId": "tkt_x"})
        assert hooks.due()[0]["secret"] == secret  # opened for the signature
    raw = file_bytes(data)
    assert b"PRIVATE KEY" not in raw and secret.encode() not in raw
    assert pem.splitlines()[1].encode() not in raw


def _plain_database(data):
    """A hub database as the version before sealing left it: plain PEM, plain secret."""
    with Node.open(data) as node:
        scenario = build_demo(node, tickets=3)
        pem = node.events.signing_key(scenario.event_id).private_pem
        kid = node.events.signing_key(scenario.event_id).kid
        hooks = WebhookStore(node.db, node.clock, node.cipher)
        hook = hooks.register("https://hooks.example.com/t", ["ticket.used"])
    conn = sqlite3.connect(data / DB_FILENAME)
    conn.execute("UPDATE event_keys SET private_pem = ? WHERE kid = ?", (pem, kid))
    conn.execute("UPDATE webhooks SET secret = ? WHERE id = ?", (hook["secret"], hook["id"]))
    conn.commit()
    conn.close()
    return scenario, pem, hook


def test_opening_an_older_database_seals_what_it_held_in_plain(tmp_path):
    data = tmp_path / "hub"
    scenario, pem, hook = _plain_database(data)
    with Node.open(data) as node:
        rows = node.db.query("SELECT private_pem FROM event_keys WHERE private_pem IS NOT NULL")
        assert all(r[0].startswith("enc1:") for r in rows)
        secret = node.db.query_one("SELECT secret FROM webhooks")[0]
        assert secret.startswith("enc1:")
        assert node.events.signing_key(scenario.event_id).private_pem == pem
        hooks = WebhookStore(node.db, node.clock, node.cipher)
        with node.db.write() as conn:
            hooks.enqueue(conn, "ticket.used", {"ticketId": "tkt_x"})
        assert hooks.due()[0]["secret"] == hook["secret"]
    conn = sqlite3.connect(data / DB_FILENAME)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert b"PRIVATE KEY" not in file_bytes(data)  # secure_delete left no plain copy
    with Node.open(data) as again:  # a second open changes nothing
        assert again.events.signing_key(scenario.event_id).private_pem == pem


def test_a_database_without_its_node_key_says_so(tmp_path):
    data = tmp_path / "hub"
    with Node.open(data) as node:
        event_id = build_demo(node, tickets=3).event_id
    (data / KEY_FILENAME).unlink()  # copied without its key
    with Node.open(data) as node:
        with pytest.raises(SealedDataError, match="does not open with this node's key"):
            node.events.signing_key(event_id)
        # Verifying needs only public keys: the door still works.
        assert node.checkin.scan(
            node.db.query_one("SELECT qr_payload FROM tickets")[0], Door.of([event_id])
        ).success


def test_names_are_erased_seven_days_after_the_event_ends(tmp_path):
    with Node.open(tmp_path / "gate") as node:
        scenario = build_demo(node, tickets=4)
        end = parse_iso(node.events.get(scenario.event_id)["endsAt"])
        named = node.db.query("SELECT id, attendee_name FROM tickets WHERE attendee_name > ''")
        first = node.names.open(named[0]["attendee_name"], named[0]["id"]).split()[0]
        assert expire_names(node.db, end + timedelta(days=6, hours=23)) == 0
        assert node.tickets.search(first)
        erased = expire_names(node.db, end + timedelta(days=7, minutes=1))
        assert erased > 0
        names = node.db.query_one(
            "SELECT COUNT(*) FROM tickets WHERE event_id = ? AND attendee_name IS NOT NULL",
            (scenario.event_id,),
        )[0]
        assert names == 0
        assert node.db.query("SELECT COUNT(*) FROM tickets")[0][0] > 0  # tickets stay
        assert not [r for r in node.tickets.search(first) if r["eventId"] == scenario.event_id]
        forget_names(node.db)  # every event (a revoked device)
        assert forget_names(node.db) == 0  # nothing left to erase
