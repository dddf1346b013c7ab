"""`connect` and `sync` as a user runs them (CliRunner in-process, the real hub on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from click.testing import CliRunner
from harness import HubServer, gate_key, issuer_with_event

from scanner_app.cli import cli
from scanner_app.core.door import Door
from scanner_app.core.node import Node
from scanner_app.sync.config import SyncConfig


@pytest.fixture
def hub(tmp_path):
    node, event_id, tickets = issuer_with_event(tmp_path / "hub", tickets=3)
    with HubServer(node) as server:
        yield node, server, event_id, tickets


def run(data_dir, *args, env=None):
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=env)
    return result


def setup_code(server, event_id: str, gate: str = "north") -> str:
    """A v2 setup code from the hub, as the dashboard's Add gate makes it."""
    return server.app.state.hub.create_gate(gate, event_id, gate, server.url)["setupPayload"]


def connected_gate(gate, server, event_id: str):
    """A gate data dir connected to the hub with a setup code and synced once."""
    connected = run(gate, "connect", "--setup", setup_code(server, event_id))
    assert connected.exit_code == 0, connected.output
    synced = run(gate, "sync", "--once")
    assert synced.exit_code == 0, synced.output
    return gate


def last_json(result):
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_connect_scan_offline_then_push_only_says_nothing_is_pending(hub, tmp_path):
    node, server, event_id, tickets = hub
    gate = tmp_path / "gate"
    setup = server.app.state.hub.create_gate("north", event_id, "north", server.url)
    # `-`: the code comes on stdin, never in the process list (DESIGN.md §10).
    connected = CliRunner().invoke(
        cli, ["--data-dir", str(gate), "connect", "--setup", "-"], input=setup["setupPayload"]
    )
    assert connected.exit_code == 0, connected.output
    summary = last_json(connected)
    assert summary["keyStore"] == "file" and summary["reachable"] is True
    assert summary["events"] == [event_id] and summary["gate"] == "north"
    key_file = gate / "upstream.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = key_file.read_text().strip()
    assert key.startswith("tk_live_") and key not in connected.output  # never echoed
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


def test_rows_the_hub_refuses_are_set_aside_and_push_only_finishes(hub, tmp_path):
    # Issue 15.2: rows the hub refused stayed "pending" forever, --push-only never said
    # "Nothing is left pending." and its JSON said ok while it exited 1.
    node, server, event_id, tickets = hub
    gate = tmp_path / "gate"
    own, other_event, other_tickets = issuer_with_event(gate, tickets=1)  # not the hub's
    own.close()
    connected_gate(gate, server, event_id)
    assert last_json(run(gate, "scan", tickets[0]["qrPayload"]))["success"]
    assert last_json(run(gate, "scan", "--event", other_event, other_tickets[0]["qrPayload"]))[
        "success"
    ]
    pushed = run(gate, "sync", "--push-only", "--give-up-after", "10")
    report = last_json(pushed)
    assert pushed.exit_code == 0 and report["ok"] is True, pushed.output
    assert (report["pending"], report["setAside"], report["pushed"]) == (0, 1, 1)
    assert "1 check-in set aside: " in pushed.stderr
    assert "Nothing is left pending." in pushed.stderr
    exported = json.loads(run(gate, "export", "--event", other_event, "--format", "json").stdout)
    assert exported[0]["setAsideReason"]  # the audit trail says why it never left
    again = run(gate, "sync", "--retry-set-aside", "--push-only", "--give-up-after", "10")
    assert "1 check-in back in the outbox." in again.stderr
    assert again.exit_code == 0 and last_json(again)["setAside"] == 1  # refused again


def test_push_only_json_and_exit_code_agree_when_it_gives_up(hub, tmp_path):
    node, server, event_id, tickets = hub
    gate = connected_gate(tmp_path / "gate", server, event_id)
    assert last_json(run(gate, "scan", tickets[0]["qrPayload"]))["success"]
    server.__exit__(None, None, None)  # the hub goes away
    pushed = run(gate, "sync", "--push-only", "--give-up-after", "0")
    assert pushed.exit_code == 1
    assert last_json(pushed)["ok"] is False and last_json(pushed)["pending"] == 1


def test_junk_at_an_any_event_gate_is_filed_under_its_event_and_the_hub_takes_it(hub, tmp_path):
    node, server, event_id, tickets = hub
    gate = connected_gate(tmp_path / "gate", server, event_id)
    with Node.open(gate) as gate_node:  # the app's "Any event" gate: no event given
        junk = gate_node.checkin.scan("not a ticket", Door.of(gate="north"))
    assert (junk.event_id, junk.reason) == (event_id, "malformed")
    pushed = run(gate, "sync", "--push-only", "--give-up-after", "10")
    assert pushed.exit_code == 0 and last_json(pushed)["setAside"] == 0, pushed.output
    on_hub = [r for r in node.reports.checkins(event_id) if r["checkinId"] == junk.checkin_id]
    assert [r["reason"] for r in on_hub] == ["malformed"]  # the hub's audit trail has it
