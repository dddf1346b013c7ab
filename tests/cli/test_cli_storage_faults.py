"""Damaged and failing storage (issue 16 items 2, 3, 5): real files, a real full disk.

Every case ends in one `Error:` line naming the file and the cause, a non-zero exit and
nothing half-written; a damaged database stops the door instead of re-admitting.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from scanner_app.core.node import DB_FILENAME, NODE_MARKER, Node

sys.path.insert(0, str(Path(__file__).parent))
from faultfs import (  # noqa: E402
    can_mount_tmpfs,
    file_size_limit,
    fill_disk,
    run_cli,
    small_disk,
)


def issue_payloads(home: Path, count: int) -> tuple[str, list[str]]:
    with Node.open(home) as node:
        event = node.events.create({"title": "Faults", "tiers": [{"name": "GA"}]})
        node.events.publish(event["id"])
        tickets = node.tickets.issue(event["id"], "GA", "Fay Ult", quantity=count)
    return event["id"], [t["qrPayload"] for t in tickets]


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert lines and lines[-1].startswith("Error: "), stderr
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    return errors[0]


def checkpoint(db_path: Path) -> None:
    """Move the WAL into the main file so page bytes can be copied (as a lost write would)."""
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def revert_index_pages(db_path: Path, old_copy: Path, index: str) -> list[int]:
    """Write the older copy's bytes over every page of ``index``: a lost write."""
    conn = sqlite3.connect(db_path)
    try:
        pages = [r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name = ?", (index,))]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    old = old_copy.read_bytes()
    with open(db_path, "r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * page_size)
            handle.write(old[(page - 1) * page_size : page * page_size])
    return pages


def test_a_reverted_checkins_ticket_index_stops_the_door_until_reindexed(cli, tmp_path, snapshot):
    event_id, payloads = issue_payloads(cli.home, 15)
    db_path = cli.home / DB_FILENAME
    cli.lines("scan", "--event", event_id, *payloads[:5])
    checkpoint(db_path)
    shutil.copy(db_path, tmp_path / "older.db")
    admitted = cli.lines("scan", "--event", event_id, "-", input="\n".join(payloads[5:]))
    assert [r["success"] for r in admitted] == [True] * 10
    checkpoint(db_path)
    assert revert_index_pages(db_path, tmp_path / "older.db", "checkins_ticket")
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"  # why quick_check is not it
    conn.close()
    before = snapshot(cli.home)

    refused = cli.fail("scan", "--event", event_id, "-", input="\n".join(payloads[5:]))
    line = one_error_line(refused.stderr)
    assert str(db_path) in line and "damaged" in line and "checkins_ticket" in line
    assert "doctor --reindex" in line and "hub" in line and "backup" in line
    assert refused.stdout == ""  # not one verdict
    assert snapshot(cli.home) == before

    checked = cli.run("doctor", ok=False)
    assert checked.exit_code == 1
    report = json.loads(checked.stdout)
    assert not report["ok"] and any("checkins_ticket" in p for p in report["problems"])
    assert "--reindex" in one_error_line(checked.stderr)

    repaired = cli.json("doctor", "--reindex")
    assert repaired["ok"] and repaired["reindexed"]
    again = cli.lines("scan", "--event", event_id, "-", input="\n".join(payloads[5:]))
    assert [r["reason"] for r in again] == ["already_checked_in"] * 10


def test_doctor_on_a_sound_database(cli, published):
    report = cli.json("doctor")
    assert report["ok"] and report["problems"] == [] and not report["reindexed"]


def test_doctor_names_damaged_tables_that_reindex_cannot_mend(cli, published, tmp_path):
    db_path = cli.home / DB_FILENAME
    checkpoint(db_path)
    conn = sqlite3.connect(db_path)
    root = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'events'").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(db_path, "r+b") as handle:  # a table page of garbage
        handle.seek((root - 1) * page_size)
        handle.write(b"\xa5" * page_size)
    result = cli.run("doctor", "--reindex", ok=False)
    assert result.exit_code != 0
    line = one_error_line(result.stderr)
    assert str(db_path) in line and ("tables" in line or "damaged" in line)
    assert "Traceback" not in result.stderr


def make_node(home: Path) -> Path:
    with Node.open(home):
        pass
    return home / DB_FILENAME


def break_not_sqlite(home: Path) -> str:
    make_node(home).write_bytes(b"this was overwritten by a text editor\n" * 200)
    return "not a Tickitz Scanner database"


def break_truncated(home: Path) -> str:
    db = make_node(home)
    with Node.open(home) as node:  # enough pages that half of them is a broken tree
        event = node.events.create({"title": "T", "tiers": [{"name": "GA"}]})
        node.events.publish(event["id"])
        node.tickets.issue(event["id"], "GA", "X" * 200, quantity=200)
    os.truncate(db, db.stat().st_size // 2)
    return "damaged"


def break_directory(home: Path) -> str:
    (home / DB_FILENAME).mkdir(parents=True)
    return "is a folder"


def break_empty(home: Path) -> str:
    make_node(home).write_bytes(b"")
    return "is empty (0 bytes)"


def break_missing(home: Path) -> str:
    make_node(home).unlink()
    return "is missing"


BROKEN = {
    "not an SQLite file": break_not_sqlite,
    "truncated": break_truncated,
    "a folder where the file should be": break_directory,
    "0 bytes in a node's folder": break_empty,
    "missing from a node's folder": break_missing,
}


@pytest.mark.parametrize("case", BROKEN)
@pytest.mark.parametrize(
    "command", [("stats", "--event", "evt_x"), ("scan", "--event", "evt_x", "p")]
)
def test_a_broken_database_file_is_one_error_line(cli, case, command):
    cause = BROKEN[case](cli.home)
    before = files(cli.home)
    result = cli.fail(*command)
    line = one_error_line(result.stderr)
    assert str(cli.home / DB_FILENAME) in line and cause in line, line
    assert result.exit_code == 1 and result.stdout == ""
    assert files(cli.home) == before  # nothing written, no new node made in its place


def files(home: Path) -> dict[str, bytes | None]:
    """Every file's bytes (SQLite's empty -wal/-shm companions of an opened file aside)."""
    found: dict[str, bytes | None] = {}
    for path in home.iterdir():
        if path.name.endswith(("-wal", "-shm")) and path.stat().st_size in (0, 32768):
            continue
        found[path.name] = path.read_bytes() if path.is_file() else None
    return found


def test_an_empty_file_in_a_fresh_folder_is_a_new_node(cli):
    cli.home.mkdir()
    (cli.home / DB_FILENAME).write_bytes(b"")  # e.g. a crash before the first write
    cli.run("event", "list")
    assert (cli.home / NODE_MARKER).exists()


def test_a_blank_device_id_is_replaced_not_used(cli, published, caplog):
    conn = sqlite3.connect(cli.home / DB_FILENAME)
    conn.execute("UPDATE node_settings SET value = '' WHERE key = 'device_id'")
    conn.commit()
    conn.close()
    with Node.open(cli.home) as node:
        assert node.device_id.startswith("dev_")
        assert node.setting("device_id") == node.device_id
    assert "device_id was empty" in caplog.text


def test_a_read_only_database_file_is_one_error_line(tmp_path):
    home = tmp_path / "gate"
    event_id, payloads = issue_payloads(home, 2)
    db_path = home / DB_FILENAME
    db_path.chmod(0o444)
    before = db_path.read_bytes()
    result = run_cli(home, "scan", "--event", event_id, payloads[0])
    assert result.returncode == 1 and result.stdout == ""
    line = one_error_line(result.stderr)
    assert str(db_path) in line and "read-only" in line
    assert db_path.read_bytes() == before


def test_an_unwritable_data_folder_is_one_error_line(tmp_path):
    home = tmp_path / "gate"
    event_id, payloads = issue_payloads(home, 1)
    home.chmod(0o555)  # the -wal and -shm files cannot be made
    try:
        result = run_cli(home, "scan", "--event", event_id, payloads[0])
    finally:
        home.chmod(0o700)
    assert result.returncode == 1 and result.stdout == ""
    line = one_error_line(result.stderr)
    assert str(home / DB_FILENAME) in line and "folder is not writable" in line
    (tmp_path / "locked").mkdir(mode=0o555, exist_ok=True)
    fresh = run_cli(tmp_path / "locked" / "new-node", "event", "list")
    assert fresh.returncode == 1
    assert "permission denied" in one_error_line(fresh.stderr)
    assert not (tmp_path / "locked" / "new-node").exists()


def scans_until_the_disk_is_full(home: Path, event_id: str, payloads: list[str], **kwargs):
    """Scan every payload in one `scan -`; returns (printed verdicts, the Error line)."""
    result = run_cli(home, "scan", "--event", event_id, "-", input="\n".join(payloads), **kwargs)
    assert result.returncode == 1, (result.stdout[-500:], result.stderr)
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    return printed, one_error_line(result.stderr)


def committed(home: Path, event_id: str) -> list[tuple[str, int]]:
    conn = sqlite3.connect(home / DB_FILENAME)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute(
            "SELECT id, success FROM checkins WHERE event_id = ? ORDER BY seq", (event_id,)
        ).fetchall()
    finally:
        conn.close()


def test_a_full_disk_stops_with_one_error_line_and_keeps_every_shown_verdict(tmp_path):
    payloads_home = tmp_path / "issuer"
    event_id, payloads = issue_payloads(payloads_home, 400)
    if can_mount_tmpfs(tmp_path / "probe"):
        with small_disk(tmp_path / "disk", 4096) as disk:
            home = disk / "gate"
            shutil.copytree(payloads_home, home)
            filler = fill_disk(disk, leave_kb=256)
            printed, line = scans_until_the_disk_is_full(home, event_id, payloads)
            assert "the disk is full" in line
            check_full_disk_outcome(home, event_id, payloads, printed, line)
            filler.unlink()  # space again: the door carries on and still knows who is in
            check_door_carries_on(home, event_id, payloads, printed)
    else:  # no tmpfs (not root): the same full disk for one process
        home = tmp_path / "gate"
        shutil.copytree(payloads_home, home)
        limit = (home / DB_FILENAME).stat().st_size + 96 * 1024
        printed, line = scans_until_the_disk_is_full(
            home, event_id, payloads, preexec=file_size_limit(limit)
        )
        check_full_disk_outcome(home, event_id, payloads, printed, line)
        check_door_carries_on(home, event_id, payloads, printed)


def check_full_disk_outcome(home, event_id, payloads, printed, line):
    assert str(home / DB_FILENAME) in line
    assert 3 <= len(printed) < len(payloads), len(printed)
    # Every verdict shown is committed, and nothing else is: no half-written scan.
    assert committed(home, event_id) == [(r["checkinId"], int(r["success"])) for r in printed]


def check_door_carries_on(home, event_id, payloads, printed):
    again = run_cli(home, "scan", "--event", event_id, payloads[0], payloads[len(printed)])
    assert again.returncode == 0, again.stderr
    first, next_one = (json.loads(x) for x in again.stdout.splitlines())
    assert first["reason"] == "already_checked_in" and next_one["success"] is True
