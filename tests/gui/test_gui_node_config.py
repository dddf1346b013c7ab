"""One configuration per node: the CLI and the app read and write the same one (issue 15.1).

A gate joined with `connect --setup` opened in the app shows the same gate, and saving the
app's Settings keeps it connected under the same name; a gate set up in the app is the
gate the CLI scans and syncs as. An older per-user settings file is moved into the node.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scanner_app.cli import cli
from scanner_app.core.node import Node
from scanner_app.core.node_config import NodeConfig
from scanner_app.gui.settings import Settings, migrate_user_settings
from scanner_app.sync import SyncConfig


@pytest.fixture(autouse=True)
def _keys_in_a_file(no_os_keyring):
    """Keys go to the sync layer's 0600 file: CI has no OS keyring."""


def run_cli(data_dir, *args):
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result


def last_json(result):
    return json.loads(result.stdout.strip().splitlines()[-1])


def online(scanner):
    return scanner.window.status.connection_label.text().startswith("Online")


def test_cli_connect_then_app_save_keeps_the_gate_connected_under_its_name(
    make_app, qtbot, tmp_path, hub
):
    server, scenario, _key = hub
    # The hub names a device's scans by its device (gate "north" here), whatever it sends.
    setup = server.hub.create_gate("north", scenario.event_id, "north", server.url)
    gate_dir = tmp_path / "gate"
    run_cli(gate_dir, "connect", "--setup", setup["setupPayload"])
    path = tmp_path / "settings.json"
    with Node.open(gate_dir) as node:
        settings = Settings.load(node, path)
        assert (settings.gate_name, settings.event_id) == ("north", scenario.event_id)
        assert settings.upstream_url == SyncConfig.load(node).upstream
        scanner = make_app(qtbot, node, settings, tmp_path, source_factory=lambda _s: None)
        scanner.start()
        try:
            qtbot.waitUntil(lambda: online(scanner), timeout=15_000)
            assert "north" in scanner.window.status.gate_label.text()
            dialog = scanner.window.open_settings()
            assert dialog.gate_edit.text() == "north"
            assert dialog.upstream_edit.text() == settings.upstream_url
            dialog.decoder_combo.setCurrentText("zxing")
            dialog.sounds_check.setChecked(False)
            dialog.save()
            qtbot.waitUntil(lambda: NodeConfig.load(node).decoder == "zxing", timeout=5000)
            config = SyncConfig.load(node)
            assert config is not None and config.gate == "north"
            assert config.event_ids == (scenario.event_id,)
            with qtbot.waitSignal(scanner.window.scan_displayed, timeout=10_000) as shown:
                scanner.window.submit_payload(scenario.ticket_payloads[0], "camera")
            assert shown.args[0].success is True
        finally:
            scanner.shutdown()
    assert json.loads(path.read_text())["sounds"] is False  # the person's part, per user
    report = last_json(run_cli(gate_dir, "sync", "--once"))
    assert report["ok"] is True and report["pending"] == 0
    rows = server.hub.node.reports.checkins(scenario.event_id)
    assert [r["scannedBy"] for r in rows if r["success"]] == ["north"]  # one door, one name


def test_app_connect_then_cli_scans_and_syncs_as_the_same_gate(make_app, qtbot, tmp_path, hub):
    server, scenario, _key = hub
    _device, key = server.hub.devices.create("south", scenario.event_id, "south")
    gate_dir = tmp_path / "gate"
    with Node.open(gate_dir) as node:
        scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
        scanner.start()
        try:
            assert scanner.connect_upstream(server.url, key, scenario.event_id, "south")
            qtbot.waitUntil(lambda: online(scanner), timeout=15_000)
            qtbot.waitUntil(lambda: node.events.list() != [], timeout=10_000)
        finally:
            scanner.shutdown()
    shown = last_json(run_cli(gate_dir, "config"))
    assert (shown["gate"], shown["event_ids"]) == ("south", [scenario.event_id])
    assert shown["upstream_url"] == server.url.rstrip("/") + "/v1"
    # No --event, no --gate: the node's own, as the app set them.
    verdict = last_json(run_cli(gate_dir, "scan", scenario.ticket_payloads[1]))
    assert verdict["success"] is True
    run_cli(gate_dir, "config", "--gate", "south-2", "--decoder", "opencv")
    run_cli(gate_dir, "sync", "--once")
    rows = server.hub.node.reports.checkins(scenario.event_id)
    assert [r["scannedBy"] for r in rows if r["success"]] == ["south"]
    with Node.open(gate_dir) as node:  # and the gate's own record says the same
        own = node.reports.checkins(scenario.event_id)
        assert [r["scannedBy"] for r in own if r["success"]] == ["south"]
    # The app opened again shows what the CLI changed, still connected.
    with Node.open(gate_dir) as node:
        settings = Settings.load(node, tmp_path / "settings.json")
        assert (settings.gate_name, settings.decoder) == ("south-2", "opencv")
        scanner = make_app(qtbot, node, settings, tmp_path, source_factory=lambda _s: None)
        scanner.start()
        try:
            qtbot.waitUntil(lambda: online(scanner), timeout=15_000)
            assert "south-2" in scanner.window.status.gate_label.text()
        finally:
            scanner.shutdown()


def test_an_old_per_user_file_moves_into_the_node_and_connect_wins(node, tmp_path, caplog):
    path = tmp_path / "settings.json"
    # The CLI joined the hub as "north"; the old app's file had saved its defaults.
    SyncConfig(url="http://hub.local:8765", event_ids=("evt_a",), gate="north").save(node)
    old = {"gate_name": "Gate 1", "upstream_url": "", "event_id": "", "decoder": "zxing",
           "sounds": False, "verdict_hold_ms": 4000, "kiosk": False, "camera": "1"}  # fmt: skip
    path.write_text(json.dumps(old))
    settings = Settings.load(node, path)
    assert (settings.gate_name, settings.event_id) == ("north", "evt_a")
    assert settings.upstream_url == "http://hub.local:8765/v1"
    assert (settings.decoder, settings.camera, settings.sounds) == ("zxing", "1", False)
    assert set(json.loads(path.read_text())) == {
        "sounds",
        "verdict_hold_ms",
        "window_width",
        "window_height",
    }
    assert not migrate_user_settings(node, path)  # once only


def test_an_old_file_gives_a_standalone_node_its_gate(node, tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"gate_name": "East", "direction": "out", "decoder": "magic"}))
    assert migrate_user_settings(node, path)
    config = NodeConfig.load(node)
    assert (config.gate, config.direction, config.decoder) == ("East", "out", "auto")
    assert config.standalone
