"""Bad input: a non-zero exit, a clear `Error:` line on stderr, and nothing changed."""

from __future__ import annotations

import json

import click
import pytest

from scanner_app.cli import cli as cli_group
from scanner_app.core.keys import generate_signing_key


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def import_files(cli, published, tmp_path):
    """Good event / JWKS / manifest files for an event issued in `cli.home`."""
    ticket = cli.lines("tickets", "issue", "--event", published["id"], "--tier", "GA")[0]
    entry = {"id": ticket["id"], "tierName": "GA", "status": "valid"}
    return {
        "event": write(tmp_path / "event.json", json.dumps(published)),
        "jwks": write(tmp_path / "jwks.json", cli.run("event", "keys", published["id"]).stdout),
        "tickets": write(tmp_path / "tickets.json", json.dumps([entry])),
        "entry": entry,
        "event_id": published["id"],
    }


def broken_imports(files, tmp_path):
    entry = files["entry"]
    private = generate_signing_key().jwk | {"d": "nKmZMIpdw1hAjkMrwHSR9hIBL4dXGqtwf3Vi5JL1w4o"}
    return {
        "tickets not JSON": ("tickets", '{"id": "tkt_a", "tierName": "GA"}\n{oops', "line 2"),
        "ticket status unknown": ("tickets", json.dumps([{**entry, "status": "used"}]), "status"),
        "ticket of another event": (
            "tickets",
            json.dumps([{**entry, "eventId": "evt_other"}]),
            "belongs to",
        ),
        "ticket without tier": ("tickets", json.dumps([{"id": "tkt_x"}]), "tierName"),
        "ticket not an object": ("tickets", json.dumps(["tkt_x"]), "object"),
        "second ticket bad": (
            "tickets",
            json.dumps([entry, {**entry, "id": "tkt_2", "status": "?"}]),
            "status",
        ),
        "jwks with a private key": ("jwks", json.dumps({"keys": [private]}), "private"),
        "jwks not JSON": ("jwks", "{keys: []", "JSON"),
        "jwks of an RSA key": (
            "jwks",
            json.dumps({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r"}]}),
            "unsupported",
        ),
        "event not an object": ("event", "[]", "object"),
        "event without tiers": ("event", json.dumps({"id": "evt_x", "title": "T"}), "tiers"),
        "event status unknown": (
            "event",
            json.dumps({"id": "evt_x", "title": "T", "tiers": [{"name": "GA"}], "status": "live"}),
            "status",
        ),
        "event file missing": ("event", None, "No such file"),
    }


CASES = [
    "tickets not JSON",
    "ticket status unknown",
    "ticket of another event",
    "ticket without tier",
    "ticket not an object",
    "second ticket bad",
    "jwks with a private key",
    "jwks not JSON",
    "jwks of an RSA key",
    "event not an object",
    "event without tiers",
    "event status unknown",
    "event file missing",
]


@pytest.mark.parametrize("case", CASES)
def test_broken_import_writes_no_event(cli, import_files, tmp_path, snapshot, case):
    which, text, words = broken_imports(import_files, tmp_path)[case]
    paths = {k: import_files[k] for k in ("event", "jwks", "tickets")}
    paths[which] = (
        write(tmp_path / f"broken-{which}", text) if text is not None else str(tmp_path / "nope")
    )
    gate = tmp_path / "gate"
    cli.run("event", "list", home=gate)  # the gate exists, empty
    before = snapshot(gate)
    refused = cli.fail(
        "event", "import", "--event-json", paths["event"], "--jwks", paths["jwks"],
        "--tickets", paths["tickets"], home=gate,
    )  # fmt: skip
    assert words in refused.stderr, refused.stderr
    assert refused.stdout == ""
    assert snapshot(gate) == before
    assert cli.run("event", "list", home=gate).stdout == ""


def test_the_good_import_files_do_import(cli, import_files, tmp_path):
    # The control for the test above: only the broken part makes it fail.
    gate = tmp_path / "gate"
    cli.run(
        "event", "import", "--event-json", import_files["event"], "--jwks", import_files["jwks"],
        "--tickets", import_files["tickets"], home=gate,
    )  # fmt: skip
    assert [e["id"] for e in cli.lines("event", "list", home=gate)] == [import_files["event_id"]]


@pytest.mark.parametrize(
    "args, words",
    [
        (["event", "create", "--title", "T", "--tier", "VIP:abc:5"], "whole numbers"),
        (["event", "create", "--title", "T", "--tier", "VIP:5"], "NAME:PRICE:QTY"),
        (["event", "create", "--title", "T", "--tier", "VIP:-5:2"], "price"),
        (["event", "create", "--title", "T", "--tier", "VIP:5:0"], "quantity must be 1 or more"),
        (["event", "create", "--title", "T", "--tier", "VIP:5:-1"], "quantity"),
        (["event", "create", "--title", "T", "--tier", "VIP:4.99:5"], "NAME:PRICE:QTY"),
        (["event", "create", "--title", "T", "--tier", "bad"], "expected NAME:PRICE:QTY"),
        (["event", "create", "--title", "T", "--tier", "GA:0:9", "--tier", "GA:1:2"], "duplicate"),
        (["event", "create", "--title", "T", "--tier", "GA:0:9", "--starts-at", "x"], "startsAt"),
        (
            [
                "event",
                "create",
                "--title",
                "T",
                "--tier",
                "GA:0:9",
                "--starts-at",
                "2026-07-02",
                "--ends-at",
                "2026-07-01",
            ],
            "before",
        ),  # fmt: skip
        (["event", "create", "--title", " ", "--tier", "GA:0:9"], "title"),
        (["event", "create", "--tier", "GA:0:9"], "--title"),
        (["event", "create", "--title", "T"], "--tier"),
        (["event", "publish", "evt_nope"], "No event"),
        (["event", "cancel", "evt_nope"], "No event"),
        (["event", "keys", "evt_nope"], "No event"),
        (["tickets", "issue", "--event", "evt_nope", "--tier", "GA"], "No event"),
        (["tickets", "issue", "--event", "EVT", "--tier", "GA", "--count", "0"], "count"),
        (["tickets", "issue", "--event", "EVT", "--tier", "GA", "--count", "1001"], "count"),
        (["tickets", "issue", "--event", "EVT", "--tier", "GA", "--name", "x" * 201], "200"),
        (["tickets", "cancel", "tkt_nope"], "No ticket"),
        (["scan", "--event", "EVT"], "PAYLOAD"),
        (["scan", "--event", "evt_nope", "payload"], "evt_nope"),
        (["scan", "payload"], "--event"),
        (["stats", "--event", "evt_nope"], "No event"),
        (["export", "--event", "evt_nope"], "No event"),
        (["export", "--event", "EVT", "--format", "xml"], "xml"),
        (["undo", "chk_nope"], "No check-in"),
        (["nonsense"], "No such command"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(cli, published, snapshot, args, words):
    args = [published["id"] if a == "EVT" else a for a in args]
    before = snapshot(cli.home)
    refused = cli.fail(*args)
    assert words in refused.stderr, refused.stderr
    assert refused.stdout == ""
    assert snapshot(cli.home) == before


def test_undo_twice_and_undo_of_a_rejection_are_refused(cli, published, snapshot):
    ticket = cli.lines("tickets", "issue", "--event", published["id"], "--tier", "GA")[0]
    admitted, rejected = cli.lines("scan", "--event", published["id"], ticket["qrPayload"], "x")
    cli.run("undo", admitted["checkinId"])
    before = snapshot(cli.home)
    assert "already undone" in cli.fail("undo", admitted["checkinId"]).stderr
    assert "accepted check-in" in cli.fail("undo", rejected["checkinId"]).stderr
    assert snapshot(cli.home) == before


def all_command_paths(group=cli_group, prefix=()):
    yield prefix
    if isinstance(group, click.Group):
        for name, command in group.commands.items():
            yield from all_command_paths(command, (*prefix, name))


@pytest.mark.parametrize("path", [" ".join(p) or "(root)" for p in all_command_paths()])
def test_help_everywhere(cli, path, snapshot):
    words = [] if path == "(root)" else path.split()
    for flag in ("--help", "-h"):
        shown = cli.run(*words, flag)
        assert shown.stdout.startswith("Usage: "), shown.stdout
        assert len(shown.stdout.splitlines()) >= 3
    assert snapshot(cli.home) == []  # asking for help creates no database


def test_the_commands_of_issue_2_are_all_there():
    paths = {" ".join(p) for p in all_command_paths()}
    wanted = {
        "event create", "event publish", "event list", "event import", "event keys",
        "tickets issue", "tickets cancel", "scan", "export", "stats", "undo",
    }  # fmt: skip
    assert wanted <= paths
