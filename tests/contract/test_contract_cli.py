"""The CLI contract at the level of exit codes and stdout/stderr (issue 2 §5, issue 4 §4):
a gate set up from the hub's setup text scans offline and pushes to the real `serve`."""

from __future__ import annotations

import json
import stat

import pytest
from contractkit import check_scan_result, run_cli


@pytest.fixture(scope="module")
def gate_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("gate")


@pytest.fixture(scope="module")
def device(api, event):
    body = {"name": "Laptop 7", "eventId": event["id"], "gate": "north-7"}
    response = api.post("/v1/devices", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_keys_create_prints_only_the_key_on_stdout(hub):
    done = run_cli(hub.data_dir, "keys", "create", "--name", "script", "--scope", "events:read")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 and done.stdout.startswith("tk_")
    assert done.stdout.strip() not in done.stderr and done.stderr.strip()
    refused = run_cli(hub.data_dir, "keys", "create", "--name", "no scopes")
    assert refused.returncode != 0 and refused.stdout == ""
    assert "Error" in refused.stderr and "Traceback" not in refused.stderr


def test_connect_with_the_setup_text_stores_the_key_privately(
    hub, api, gate_dir, device, event, tmp_path
):
    # `-`: the code is read from stdin, so it is in no process list (DESIGN.md §10).
    done = run_cli(gate_dir, "connect", "--setup", "-", stdin=device["setupPayload"])
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["gate"] == "north-7" and event["id"] in summary["events"]
    key = (gate_dir / "upstream.key").read_text().strip()  # enrolled: the gate's own key
    assert key.startswith("tk_") and key not in device["setupPayload"]
    assert key not in done.stdout + done.stderr
    stored = [p for p in gate_dir.rglob("*") if p.is_file() and key.encode() in p.read_bytes()]
    for path in stored:  # a file, where there is no OS keyring: readable by its owner only
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert run_cli(gate_dir, "connect", "--setup", "tickitz-setup:!!!").returncode != 0
    # The code is spent: a second laptop holding a photo of it cannot join.
    again = run_cli(tmp_path / "thief", "connect", "--setup", device["setupPayload"])
    assert again.returncode != 0 and "already used" in again.stderr
    # base64url with or without its padding: another issuer may leave the '=' out.
    second = api.post(
        "/v1/devices", json={"name": "Laptop 8", "eventId": event["id"], "gate": "north-7"}
    ).json()
    unpadded = run_cli(tmp_path, "connect", "--setup", second["setupPayload"].rstrip("="))
    assert unpadded.returncode == 0, unpadded.stderr
    assert json.loads(unpadded.stdout)["gate"] == "north-7"


def test_a_gate_scans_offline_then_pushes_and_the_hub_agrees(
    api, hub, gate_dir, device, event, issue_tickets
):
    admitted, revoked = issue_tickets(event["id"], tier="General", name="Offline", quantity=2)
    api.post(f"/v1/tickets/{revoked['id']}/cancel")
    pulled = run_cli(gate_dir, "sync", "--once")
    assert pulled.returncode == 0, pulled.stderr
    json.loads(pulled.stdout)  # a machine-readable report on stdout, messages on stderr

    done = run_cli(
        gate_dir,
        "scan",
        "--event",
        event["id"],
        admitted["qrPayload"],
        revoked["qrPayload"],
        "not-a-ticket",
    )
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    for result in results:
        check_scan_result(result)
    assert [r["reason"] for r in results] == [None, "revoked", "malformed"]
    assert results[0]["offline"] is True and results[0]["ticketId"] == admitted["id"]

    pushed = run_cli(gate_dir, "sync", "--push-only")
    assert pushed.returncode == 0, pushed.stderr
    assert "nothing is left pending" in pushed.stderr.lower()
    assert json.loads(pushed.stdout)["pending"] == 0

    online = api.post(
        "/v1/checkin/scan",
        json={"qrPayload": admitted["qrPayload"], "eventId": event["id"], "scannedBy": "hub"},
    ).json()
    assert online["reason"] == "already_checked_in"
    assert online["firstCheckedInAt"] == results[0]["checkedInAt"]
    assert online["firstScannedBy"] == "north-7"  # the gate named in the setup text


def test_bad_input_is_a_clear_error_on_stderr_and_nothing_on_stdout(hub, gate_dir, event):
    for args in (
        ("scan", "--event", event["id"]),  # no payloads
        ("tickets", "issue", "--event", "evt_nope", "--tier", "VIP"),
        ("event", "publish", "evt_nope"),
        ("export", "--event", event["id"], "--format", "xml"),
        ("no-such-command",),
    ):
        done = run_cli(hub.data_dir, *args)
        assert done.returncode != 0, args
        assert done.stdout == "", (args, done.stdout)
        assert "Error" in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
