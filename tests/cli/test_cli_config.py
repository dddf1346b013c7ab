"""`config`: the node's configuration from the terminal, the one the app's Settings edit."""

from __future__ import annotations

from scanner_app.core.node import Node
from scanner_app.core.node_config import DEFAULT_GATE, NodeConfig


def test_config_shows_and_changes_the_node_configuration(cli, published):
    shown = cli.json("config")
    assert (shown["gate"], shown["event_ids"], shown["direction"]) == (DEFAULT_GATE, [], "in")
    changed = cli.json(
        "config", "--gate", "north", "--event", published["id"], "--decoder", "zxing"
    )
    assert (changed["gate"], changed["event_ids"]) == ("north", [published["id"]])
    assert cli.json("config") == changed
    with Node.open(cli.home) as node:  # where the app reads it
        assert NodeConfig.load(node).decoder == "zxing"
    back = cli.json("config", "--any-event", "--all-tiers", "--mode", "entry")
    assert back["event_ids"] == [] and back["gate"] == "north"


def test_a_mistyped_event_or_decoder_changes_nothing(cli, published):
    cli.run("config", "--gate", "north")
    assert "evt_nope" in cli.fail("config", "--event", "evt_nope", "--gate", "x").stderr
    assert cli.run("config", "--decoder", "magic", ok=False).exit_code == 2
    assert cli.json("config")["gate"] == "north"


def test_scan_uses_the_node_gate_event_mode_and_tiers(cli):
    event = cli.json("event", "create", "--title", "Fest", "--tier", "VIP:1:5", "--tier",
                     "GA:0:5", "--reentry")  # fmt: skip
    cli.run("event", "publish", event["id"])
    vip, ga = (cli.lines("tickets", "issue", "--event", event["id"], "--tier", t)[0]
               for t in ("VIP", "GA"))  # fmt: skip
    assert "config --event" in cli.fail("scan", vip["qrPayload"]).stderr  # no event anywhere
    cli.run("config", "--gate", "vip-door", "--event", event["id"], "--allow-tier", "VIP")
    results = cli.lines("scan", vip["qrPayload"], ga["qrPayload"])
    assert [(r["scannedBy"], r["reason"]) for r in results] == [
        ("vip-door", None),
        ("vip-door", "tier_not_allowed"),
    ]
    cli.run("config", "--mode", "exit")
    (out,) = cli.lines("scan", vip["qrPayload"])
    assert (out["direction"], out["success"]) == ("out", True)
    (back_in,) = cli.lines("scan", "--entry", vip["qrPayload"])  # the flag wins
    assert (back_in["direction"], back_in["success"]) == ("in", True)
