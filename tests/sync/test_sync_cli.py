"""`connect` and `sync` as a user runs them (CliRunner in-process, the real hub on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from click.testing import CliRunner
from harness import HubServer, gate_key, issuer_with_event

from scanner_app.cli import cli
from scanner_app.core.node import Node
from scanner_app.sync.config import SyncConfig, make_setup


@pytest.fixture
def hub(tmp_path):
    node, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=3)
    with HubServer(node) as server:
        yield node, server, event_id, tickets


def run(data_dir, *args, env=None):
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=env)
    return result


def last_json(result):
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_connect_scan_offline_then_push_only_says_nothing_is_pending(hub, tmp_path):
    node, server, event_id, tickets = hub
    key = gate_key(node, event_id, "north")
    gate = tmp_path / "gate"
    setup = make_setup(server.url, key, event_id, "north")
    connected = run(gate, "connect", "--setup", setup)
    assert connected.exit_code == 0, connected.output
    summary = last_json(connected)
    assert summary["keyStore"] == "file" and summary["reachable"] is True
    assert summary["events"] == [event_id] and summary["gate"] == "north"
    key_file = gate / "upstream.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key not in connected.output  # never echoed
    once = run(gate, "sync", "--once")
    assert once.exit_code == 0, once.output
    assert last_json(once)["pulledTickets"] == 3
    for ticket in tickets[:2]:
        scanned = run(gate, "scan", "--event", event_id, "--gate", "north", ticket["qrPayload"])
        assert last_json(scanned)["success"]
    pushed = run(gate, "sync", "--push-only")
    assert pushed.exit_code == 0, pushed.output
    assert "Pushed 2 check-ins (2 recorded)." in pushed.stderr
    assert "Nothing is left pending." in pushed.stderr
    assert last_json(pushed)["pending"] == 0
    assert node.reports.stats(event_id)["checkedIn"] == 2


def test_a_refused_key_is_a_clear_error_and_saves_nothing(hub, tmp_path):
    _, server, event_id, _ = hub
    gate = tmp_path / "gate"
    result = run(gate, "connect", server.url, "--key", "tk_live_wrong", "--event", event_id)
    assert result.exit_code == 2
    assert "refused the key (401 unauthorized)" in result.stderr
    assert not (gate / "upstream.key").exists()
    with Node.open(gate) as node:
        assert SyncConfig.load(node) is None


def test_an_unknown_event_or_bad_setup_text_is_refused(hub, tmp_path):
    node, server, event_id, _ = hub
    key = gate_key(node, event_id, "north")
    result = run(tmp_path / "g", "connect", server.url, "--key", key, "--event", "evt_nope")
    assert result.exit_code == 2 and "does not know that event" in result.stderr
    bad = run(tmp_path / "g", "connect", "--setup", "tickitz-setup:not-json")
    assert bad.exit_code == 2 and "base64url JSON" in bad.stderr


def test_an_unreachable_upstream_is_saved_and_sync_reports_what_is_pending(hub, tmp_path):
    node, server, event_id, tickets = hub
    gate = tmp_path / "gate"
    result = run(
        gate,
        "connect",
        "http://127.0.0.1:9",
        "--key",
        "tk_live_later",
        "--event",
        event_id,
        "--gate",
        "west",
    )
    assert result.exit_code == 0, result.output
    assert last_json(result)["reachable"] is False
    assert "not reachable right now" in result.stderr
    with Node.open(gate) as gate_node:
        gate_node.ledger.merge(
            [
                {
                    "id": "chk_1",
                    "eventId": event_id,
                    "ticketId": tickets[0]["id"],
                    "scannedAt": "2026-07-15T19:00:00Z",
                    "scannedBy": "west",
                    "success": True,
                }
            ],
            source="downstream",
        )
    pushed = run(gate, "sync", "--push-only", "--give-up-after", "0")
    assert pushed.exit_code == 1
    assert "1 check-in still pending." in pushed.stderr
    assert "unreachable" in pushed.stderr
    assert last_json(pushed)["pending"] == 1


def test_the_environment_key_wins_and_is_not_stored(hub, tmp_path):
    node, server, event_id, _ = hub
    key = gate_key(node, event_id, "north")
    gate = tmp_path / "gate"
    result = run(gate, "connect", server.url, "--event", event_id, env={"TICKITZ_API_KEY": key})
    assert result.exit_code == 0, result.output
    assert last_json(result)["keyStore"] == "env"
    assert not (gate / "upstream.key").exists()
    synced = run(gate, "sync", "--once", env={"TICKITZ_API_KEY": key})
    assert synced.exit_code == 0 and last_json(synced)["ok"]
    without = run(gate, "sync", "--once")
    assert without.exit_code == 2 and "no API key" in without.stderr
