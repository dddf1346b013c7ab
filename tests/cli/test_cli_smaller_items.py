"""Issue 15's smaller items, each as a user meets it in the terminal."""

from __future__ import annotations

import json
import socket

from scanner_app.core.node import Node


def test_serve_on_a_busy_port_says_so_in_words(cli):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = str(taken.getsockname()[1])
    try:
        result = cli.fail("serve", "--port", port)
    finally:
        taken.close()
    last = result.stderr.strip().splitlines()[-1]
    assert f"port {port} on 127.0.0.1 is already in use" in last
    assert "--port 0" in last


def test_retire_key_takes_a_key_id_that_starts_with_a_dash(cli, published):
    event_id = published["id"]
    (old_key,) = cli.json("event", "keys", event_id)["keys"]
    cli.run("event", "rotate-key", event_id)
    with Node.open(cli.home) as node, node.db.write() as conn:  # base64url: 1 kid in 64
        conn.execute("UPDATE event_keys SET kid = '-qX9kid' WHERE kid = ?", (old_key["kid"],))
    retired = cli.run("event", "retire-key", event_id, "-qX9kid")
    assert "Key -qX9kid retired; 1 key active." in retired.stderr  # not "1 keys"
    assert "-qX9kid" not in {k["kid"] for k in json.loads(retired.stdout)["keys"]}


def test_export_bundle_is_what_import_reads_and_a_cancelled_ticket_stays_refused(
    cli, published, tmp_path
):
    event_id = published["id"]
    kept, cancelled = cli.lines("tickets", "issue", "--event", event_id, "--tier", "GA",
                                "--name", "Guest", "--count", "2")  # fmt: skip
    cli.run("tickets", "cancel", cancelled["id"])  # after issue: the bundle must say so
    bundle = tmp_path / "bundle"
    written = cli.run("event", "export-bundle", event_id, "--output", str(bundle))
    files = json.loads(written.stdout)
    assert "1 key and 2 tickets (1 cancelled)" in written.stderr
    text = (bundle / "tickets.jsonl").read_text()
    assert "qrPayload" not in text and "private" not in (bundle / "jwks.json").read_text()
    gate = tmp_path / "gate"
    imported = cli.run("event", "import", "--event-json", files["event"], "--jwks",
                       files["jwks"], "--tickets", files["tickets"], home=gate)  # fmt: skip
    assert "1 key and 2 tickets." in imported.stderr
    results = cli.lines("scan", "--event", event_id, kept["qrPayload"], cancelled["qrPayload"],
                        home=gate)  # fmt: skip
    assert [r["reason"] for r in results] == [None, "revoked"]
    assert "No event" in cli.fail("event", "export-bundle", "evt_nope", "--output",
                                  str(tmp_path / "x")).stderr  # fmt: skip


def test_a_bundle_with_sealed_names_gives_a_private_gate_names_only_at_the_door(
    cli, published, tmp_path
):
    event_id = published["id"]
    (ticket,) = cli.lines("tickets", "issue", "--event", event_id, "--tier", "GA",
                          "--name", "Wilhelmina Quaxley")  # fmt: skip
    bundle = tmp_path / "bundle"
    files = cli.json("event", "export-bundle", event_id, "--output", str(bundle),
                     "--sealed-names")  # fmt: skip
    text = (bundle / "tickets.jsonl").read_text()
    assert "Quaxley" not in text and '"sealedName": "tkt1:' in text
    gate = tmp_path / "gate"
    configured = cli.json("config", "--private", "on", home=gate)  # kiosks are by default
    assert configured["private"] == "on" and configured["private_names"]
    cli.run("event", "import", "--event-json", files["event"], "--jwks", files["jwks"],
            "--tickets", files["tickets"], home=gate)  # fmt: skip
    assert cli.lines("tickets", "search", "Quaxley", home=gate) == []
    with Node.open(gate) as node:
        (stored,) = [r[0] for r in node.db.query("SELECT attendee_name FROM tickets")]
    assert stored.startswith("tkt1:")
    (result,) = cli.lines("scan", "--event", event_id, ticket["qrPayload"], home=gate)
    assert result["attendeeName"] == "Wilhelmina Quaxley"


def test_demo_terminal_prints_words_not_a_python_dict(cli, tmp_path, monkeypatch):
    import tempfile  # noqa: PLC0415

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    shown = cli.run("demo", "--terminal").stdout
    last = shown.strip().splitlines()[-1]
    assert last.startswith("Checked in: 3 / 550; rejected: 6 (")
    assert "{" not in shown and "'" not in last
    assert "1 already_checked_in" in last and "1 malformed" in last
