"""Damaged key files and sync settings (issue 16 item 4), on a gate set up against a real
hub: a clear message naming the file or setting, never the key's bytes, and a door that
can decide locally keeps deciding."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner
from harness import HubServer, gate_key, issuer_with_event

from scanner_app.cli import cli as cli_group
from scanner_app.core.node import DB_FILENAME, Node
from scanner_app.sync.config import SyncConfig
from scanner_app.sync.credentials import KEY_FILENAME


def run(home, *args, input=None):
    result = CliRunner().invoke(cli_group, ["--data-dir", str(home), *args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture
def gate(tmp_path):
    """A strict gate connected to a live hub, with the event's keys pulled."""
    issuer, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=8)
    key = gate_key(issuer, event_id, "north")
    with HubServer(issuer) as hub:
        home = tmp_path / "gate"
        connected = run(home, "connect", hub.url, "--key", key, "--event", event_id,
                        "--gate", "north", "--strict")  # fmt: skip
        assert connected.exit_code == 0, connected.stderr
        assert run(home, "sync", "--once").exit_code == 0
        yield {"home": home, "key": key, "event": event_id, "hub": hub, "issuer": issuer,
               "payloads": [t["qrPayload"] for t in tickets]}  # fmt: skip
    issuer.close()


def set_setting(home, key, value):
    conn = sqlite3.connect(home / DB_FILENAME)
    conn.execute(
        "INSERT INTO node_settings (key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
    conn.commit()
    conn.close()


def assert_no_key(result, key):
    for text in (result.stdout, result.stderr):
        assert key not in text
        assert key[-12:] not in text  # not even a piece of it


def scan_one(gate, payload):
    result = run(gate["home"], "scan", "--event", gate["event"], payload)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout), result


DAMAGED_KEYS = {
    "not UTF-8": (lambda key: b"\xff\xfe" + key.encode() + b"\n", "not UTF-8"),
    "a space inside": (lambda key: f"{key[:10]} {key[10:]}\n".encode(), "holds spaces"),
    "two lines": (lambda key: f"{key}\n{key}\n".encode(), "holds 2 lines"),
    "a control character": (lambda key: f"{key}\x07\n".encode(), "control"),
}


@pytest.mark.parametrize("case", DAMAGED_KEYS)
def test_a_damaged_key_file_never_stops_a_strict_door_nor_leaks_the_key(gate, case):
    damage, words = DAMAGED_KEYS[case]
    key_file = gate["home"] / KEY_FILENAME
    key_file.write_bytes(damage(gate["key"]))
    verdict, result = scan_one(gate, gate["payloads"][0])
    assert verdict["success"] is True and verdict["offline"] is True  # decided here
    assert str(key_file) in result.stderr and words in result.stderr
    assert "deciding locally" in result.stderr
    assert_no_key(result, gate["key"])

    synced = run(gate["home"], "sync", "--once")
    assert synced.exit_code != 0
    line = synced.stderr.strip().splitlines()[-1]
    assert line.startswith("Error: ") and str(key_file) in line and words in line
    assert "unreachable" not in synced.stderr.lower()
    assert_no_key(synced, gate["key"])


def test_a_key_in_the_environment_with_spaces_is_named_not_shown(gate, monkeypatch):
    monkeypatch.setenv("TICKITZ_API_KEY", f"{gate['key']} trailing-words")
    verdict, result = scan_one(gate, gate["payloads"][1])
    assert verdict["success"] is True
    assert "TICKITZ_API_KEY" in result.stderr
    assert_no_key(result, gate["key"])


def pending(home):
    with Node.open(home) as node:
        return node.ledger.pending_count()


def test_a_damaged_interval_falls_back_and_uploads_still_flow(gate, caplog):
    set_setting(gate["home"], "sync.interval_s", "abc")
    verdict, _ = scan_one(gate, gate["payloads"][2])
    assert verdict["success"] is True
    synced = run(gate["home"], "sync", "--once")
    assert synced.exit_code == 0, synced.stderr
    assert pending(gate["home"]) == 0
    assert "sync.interval_s" in caplog.text and str(gate["home"] / DB_FILENAME) in caplog.text
    with Node.open(gate["home"]) as node:
        assert SyncConfig.load(node).interval_s == 3.0


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("sync.upstream_url", "ftp://user:secret@hub.example/"),
        ("sync.event_ids", "[oops"),
        ("sync.event_ids", '{"evt": 1}'),
    ],
)
def test_a_damaged_upstream_setting_leaves_a_local_door_and_a_clear_sync_error(
    gate, setting, value
):
    set_setting(gate["home"], setting, value)
    verdict, result = scan_one(gate, gate["payloads"][3])
    assert verdict["success"] is True and verdict["offline"] is True
    assert setting in result.stderr and "deciding locally" in result.stderr
    synced = run(gate["home"], "sync", "--once")
    assert synced.exit_code != 0
    line = synced.stderr.strip().splitlines()[-1]
    assert line.startswith("Error: ") and setting in line and "connect" in line
    assert "secret" not in synced.stderr and "secret" not in result.stderr
    assert "Traceback" not in synced.stderr


def test_an_empty_device_id_gets_a_new_one_and_uploads_are_taken(gate):
    verdict, _ = scan_one(gate, gate["payloads"][4])
    set_setting(gate["home"], "device_id", "")
    verdict, _ = scan_one(gate, gate["payloads"][5])
    assert verdict["success"] is True
    synced = run(gate["home"], "sync", "--once")
    assert synced.exit_code == 0, synced.stderr
    assert pending(gate["home"]) == 0
    with Node.open(gate["home"]) as node:
        assert node.device_id.startswith("dev_")
