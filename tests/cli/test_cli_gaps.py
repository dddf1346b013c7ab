"""Gaps found in the CLI, each through the real CLI (CliRunner) on real SQLite files; strict
scans against a real hub on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn

from scanner_app.core.apikeys import ApiKeyStore, DeviceStore
from scanner_app.core.node import DB_FILENAME, Node
from scanner_app.server.app import create_app


class Hub:
    """The real hub app over `node`, served by uvicorn in a daemon thread (as in tests/sync)."""

    def __init__(self, node: Node) -> None:
        config = uvicorn.Config(
            create_app(node, deliver_webhooks=False),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""

    def __enter__(self) -> Hub:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "hub did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def checkin_rows(home: Path) -> list[sqlite3.Row]:
    """The check-ins in a node's database file, read directly (not through our code)."""
    conn = sqlite3.connect(home / DB_FILENAME)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM checkins WHERE kind = 'scan' ORDER BY seq").fetchall()
    finally:
        conn.close()


@pytest.fixture
def hub_node(tmp_path) -> Iterator[tuple[Node, str, list[dict]]]:
    """A hub node that issues one published event with three tickets."""
    with Node.open(tmp_path / "hub") as node:
        body = {"title": "Strict Night", "tiers": [{"name": "GA", "price": 0, "quantity": 10}]}
        event_id = node.events.create(body)["id"]
        node.events.publish(event_id)
        yield node, event_id, node.tickets.issue(event_id, "GA", "Ada L.", 3)


# --- 1. strict mode -----------------------------------------------------------------------
def test_scan_in_strict_mode_asks_the_hub_and_falls_back_when_it_is_down(
    cli, hub_node, monkeypatch
):
    monkeypatch.setenv("TICKITZ_NO_KEYRING", "1")  # never the developer's keyring
    monkeypatch.delenv("TICKITZ_API_KEY", raising=False)
    node, event_id, tickets = hub_node
    stores = ApiKeyStore(node.db, node.clock)
    key = DeviceStore(node.db, stores, node.clock).create("north", event_id, "north")[1]
    with Hub(node) as hub:
        connected = cli.json(
            "connect", hub.url, "--key", key, "--event", event_id, "--gate", "north", "--strict"
        )
        assert connected["strict"] is True
        cli.run("sync", "--once")  # the gate gets the key set, so it can decide alone later
        (online,) = cli.lines("scan", "--event", event_id, tickets[0]["qrPayload"])
        assert online["success"] and online["offline"] is False
        hub_ids = [r["id"] for r in node.db.query("SELECT id FROM checkins")]
        assert online["checkinId"] in hub_ids  # the hub decided and recorded it
    # The hub is gone: the door still answers, locally, and records the verdict.
    started = time.monotonic()
    fallback, again = cli.lines(
        "scan", "--event", event_id, tickets[1]["qrPayload"], tickets[0]["qrPayload"]
    )
    assert time.monotonic() - started < 5
    assert fallback["success"] and fallback["offline"] is True
    # The hub's earlier admission was stored on the gate, so the local rules see it.
    assert again["reason"] == "already_checked_in" and again["offline"] is True
    rows = {r["id"]: r for r in checkin_rows(cli.home)}
    assert rows[online["checkinId"]]["pushed_at"] is not None
    assert rows[fallback["checkinId"]]["success"] == 1
    assert rows[fallback["checkinId"]]["pushed_at"] is None  # pending: `sync` sends it later


def test_scan_without_strict_mode_stays_local(cli, published):
    ticket = cli.lines("tickets", "issue", "--event", published["id"], "--tier", "GA")[0]
    (result,) = cli.lines("scan", "--event", published["id"], ticket["qrPayload"])
    assert result["success"] and result["offline"] is True


# --- 2. JSON export -----------------------------------------------------------------------
def test_export_json_is_one_document_on_stdout_and_in_the_file(cli, published, tmp_path):
    event_id = published["id"]
    ticket = cli.lines("tickets", "issue", "--event", event_id, "--tier", "GA", "--name", "Zoë")[0]
    scans = cli.lines("scan", "--event", event_id, ticket["qrPayload"], ticket["qrPayload"], "x")
    printed = cli.run("export", "--event", event_id, "--format", "json").stdout
    rows = json.loads(printed)  # one document, not JSON lines
    assert isinstance(rows, list) and [r["checkinId"] for r in rows] == [
        s["checkinId"] for s in scans
    ]
    assert [r["reason"] for r in rows] == [None, "already_checked_in", "malformed"]
    assert rows[0]["attendeeName"] == "Zoë" and rows[0]["success"] is True
    out = tmp_path / "export.json"
    written = cli.run("export", "--event", event_id, "--format", "json", "--output", str(out))
    assert written.stdout == "" and str(out) in written.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == rows


def test_export_json_of_an_event_without_check_ins_is_an_empty_array(cli, published):
    assert cli.json("export", "--event", published["id"], "--format", "json") == []


# --- 3. tier specs ------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["bad", "VIP:100", "VIP:abc:5", "VIP:-1:5", "VIP:100:0", "::"])
def test_a_tier_not_in_name_price_qty_form_creates_no_event(cli, spec):
    refused = cli.fail("event", "create", "--title", "T", "--tier", "GA:0:9", "--tier", spec)
    assert refused.exit_code == 2 and "NAME:PRICE:QTY" in refused.stderr
    assert repr(spec) in refused.stderr  # names the spec that was wrong
    assert cli.run("event", "list").stdout == ""


def test_name_price_qty_tiers_are_created_as_given(cli):
    event = cli.json(
        "event", "create", "--title", "T", "--tier", "Early: Bird:0:1", "--tier", "VIP:14999:50"
    )
    tiers = [(t["name"], t["price"], t["quantity"]) for t in event["tiers"]]
    assert tiers == [("Early: Bird", 0, 1), ("VIP", 14999, 50)]
    assert event["maxCapacity"] == 51


# --- 4. imported event times --------------------------------------------------------------
def _import(cli, tmp_path, event: dict, jwks: str, home: Path):
    (tmp_path / "event.json").write_text(json.dumps(event), encoding="utf-8")
    (tmp_path / "jwks.json").write_text(jwks, encoding="utf-8")
    return cli.run(
        "event", "import", "--event-json", str(tmp_path / "event.json"),
        "--jwks", str(tmp_path / "jwks.json"), home=home,
    )  # fmt: skip


def test_event_import_keeps_the_source_created_and_updated_times(cli, published, tmp_path):
    jwks = cli.run("event", "keys", published["id"]).stdout
    source = {
        **published,
        "createdAt": "2025-01-02T03:04:05.678Z",
        "updatedAt": "2025-02-03T04:05:06+01:00",  # any ISO form; stored in the contract's
    }
    gate = tmp_path / "gate"
    imported = json.loads(_import(cli, tmp_path, source, jwks, gate).stdout)
    assert imported["createdAt"] == "2025-01-02T03:04:05.678Z"
    assert imported["updatedAt"] == "2025-02-03T03:05:06.000Z"
    (listed,) = cli.lines("event", "list", home=gate)
    assert (listed["createdAt"], listed["updatedAt"]) == (
        imported["createdAt"],
        imported["updatedAt"],
    )
    # Importing a newer copy moves updatedAt to the source's, never to the import time.
    newer = {**source, "title": "Renamed", "updatedAt": "2025-03-01T00:00:00.000Z"}
    again = json.loads(_import(cli, tmp_path, newer, jwks, gate).stdout)
    assert again["title"] == "Renamed"
    assert (again["createdAt"], again["updatedAt"]) == (
        "2025-01-02T03:04:05.678Z",
        "2025-03-01T00:00:00.000Z",
    )


@pytest.mark.parametrize("bad", [None, "yesterday", 12345, "2025-13-01T00:00:00Z"])
def test_an_event_without_valid_source_times_is_imported_at_import_time(
    cli, published, tmp_path, bad
):
    jwks = cli.run("event", "keys", published["id"]).stdout
    source = {**published, "createdAt": bad, "updatedAt": bad}
    before = time.time()
    imported = json.loads(_import(cli, tmp_path, source, jwks, tmp_path / "gate").stdout)
    for field in ("createdAt", "updatedAt"):
        moment = datetime.fromisoformat(imported[field].replace("Z", "+00:00")).timestamp()
        assert before - 1 <= moment <= time.time() + 1


# --- 5. key rotation ----------------------------------------------------------------------
def _kid(token: str) -> str:
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def test_rotate_key_adds_a_key_and_old_and_new_tickets_both_verify(cli, published, tmp_path):
    event_id = published["id"]
    old_jwks = cli.json("event", "keys", event_id)
    (before,) = cli.lines("tickets", "issue", "--event", event_id, "--tier", "GA")
    rotated = cli.run("event", "rotate-key", event_id, "--alg", "ES256")
    jwks = json.loads(rotated.stdout)
    (old_key,) = old_jwks["keys"]
    assert len(jwks["keys"]) == 2 and jwks["keys"][0] == old_key  # the old key stays active
    new_key = jwks["keys"][1]
    assert new_key["alg"] == "ES256" and "d" not in new_key  # public keys only
    assert new_key["kid"] in rotated.stderr and "2 keys active" in rotated.stderr
    assert cli.json("event", "keys", event_id) == jwks
    (after,) = cli.lines("tickets", "issue", "--event", event_id, "--tier", "GA")
    assert (_kid(before["qrPayload"]), _kid(after["qrPayload"])) == (
        old_key["kid"],
        new_key["kid"],
    )
    tickets = [before["qrPayload"], after["qrPayload"]]
    assert [r["success"] for r in cli.lines("scan", "--event", event_id, *tickets)] == [True, True]

    # A gate that imported only the old set does not know the new key ...
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(published), encoding="utf-8")
    old_file, new_file = tmp_path / "old.json", tmp_path / "new.json"
    old_file.write_text(json.dumps(old_jwks), encoding="utf-8")
    new_file.write_text(rotated.stdout, encoding="utf-8")
    gate = tmp_path / "gate"
    imports = ("event", "import", "--event-json", str(event_file), "--jwks")
    cli.run(*imports, str(old_file), home=gate)
    results = cli.lines("scan", "--event", event_id, *tickets, home=gate)
    assert [r["reason"] for r in results] == [None, "unknown_key"]
    # ... until it imports the printed JWKS: then both verify.
    cli.run(*imports, str(new_file), home=gate)
    (retry,) = cli.lines("scan", "--event", event_id, after["qrPayload"], home=gate)
    assert retry["success"] and retry["reason"] is None


def test_rotate_key_is_refused_where_the_event_was_only_imported(cli, published, tmp_path):
    event_file, jwks_file = tmp_path / "event.json", tmp_path / "jwks.json"
    event_file.write_text(json.dumps(published), encoding="utf-8")
    jwks_file.write_text(cli.run("event", "keys", published["id"]).stdout, encoding="utf-8")
    gate = tmp_path / "gate"
    cli.run("event", "import", "--event-json", str(event_file), "--jwks", str(jwks_file), home=gate)
    refused = cli.fail("event", "rotate-key", published["id"], home=gate)
    assert "private key" in refused.stderr and refused.stdout == ""
    assert len(cli.json("event", "keys", published["id"], home=gate)["keys"]) == 1
    assert "No event" in cli.fail("event", "rotate-key", "evt_nope").stderr


# --- 6. exit scans without re-entry -------------------------------------------------------
def test_exit_scan_is_refused_for_an_event_without_reentry_and_records_nothing(
    cli, published, snapshot
):
    event_id = published["id"]
    assert published["settings"]["allowReentry"] is False
    ticket = cli.lines("tickets", "issue", "--event", event_id, "--tier", "GA")[0]
    (entry,) = cli.lines("scan", "--event", event_id, ticket["qrPayload"])
    assert entry["success"]
    before = snapshot(cli.home)
    for args in ((ticket["qrPayload"],), ("-",)):
        refused = cli.fail("scan", "--event", event_id, "--exit", *args, input=ticket["qrPayload"])
        assert refused.exit_code == 2 and refused.stdout == ""
        assert "does not allow re-entry" in refused.stderr and event_id in refused.stderr
    assert snapshot(cli.home) == before  # no exit row, nothing else either
    assert cli.json("stats", "--event", event_id)["checkedIn"] == 1


def test_exit_scan_still_works_for_a_reentry_event(cli):
    event = cli.json("event", "create", "--title", "Club", "--tier", "GA:0:5", "--reentry")
    cli.run("event", "publish", event["id"])
    ticket = cli.lines("tickets", "issue", "--event", event["id"], "--tier", "GA")[0]
    scan = ("scan", "--event", event["id"])
    cli.lines(*scan, ticket["qrPayload"])
    (left,) = cli.lines(*scan, "--exit", ticket["qrPayload"])
    assert left["success"] and left["direction"] == "out"


# --- 7. the demo's QR PNGs ----------------------------------------------------------------
def test_the_desktop_demo_says_where_its_qr_pngs_are_and_that_they_go(tmp_path):
    """The real `demo` (offscreen Qt) in a subprocess whose temp dir is in tmp_path."""
    env = {**os.environ, "TMPDIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    log_path = tmp_path / "demo.log"
    with open(log_path, "w") as log:  # a file, not a pipe nobody drains
        process = subprocess.Popen(
            [sys.executable, "-m", "scanner_app", "demo"],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            found = re.search(r"to hold up to a camera: (\S+)", log_path.read_text())
            pngs = sorted(Path(found.group(1)).glob("*.png")) if found else []
            if len(pngs) >= 19:  # every verdict's sample plus 10 more valid tickets
                break
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
    finally:
        process.kill()
        process.wait(10)
    text = log_path.read_text()
    qr_dir = Path(found.group(1))
    assert qr_dir.parent.parent == tmp_path and qr_dir.parent.name.startswith("tickitz-demo-")
    assert "deleted when the demo closes" in text and "--keep" in text
    assert any("forged" in p.name for p in pngs) and any("expired" in p.name for p in pngs)


def test_the_demo_data_dir_is_removed_unless_kept(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where mkdtemp puts it
    gone = cli.run("demo", "--terminal")
    assert "Kept" not in gone.stderr and not list(tmp_path.glob("tickitz-demo-*"))
    kept = cli.run("demo", "--terminal", "--keep")
    (data_dir,) = tmp_path.glob("tickitz-demo-*")
    assert f"Kept the demo's data in {data_dir}" in kept.stderr
    assert (data_dir / DB_FILENAME).exists()
