"""Connecting a gate: the setup QR, URL + key on first run, a wrong key, a dead hub,
the status bar following a real hub going down and back up."""

from __future__ import annotations

import socket
import time

import pytest
from PySide6.QtCore import Qt

from scanner_app.core.demo_data import build_demo
from scanner_app.core.node import Node
from scanner_app.core.node_config import NodeConfig
from scanner_app.gui.settings import Settings
from scanner_app.server.runner import HubServer
from scanner_app.sync import KeyStore, SyncConfig


@pytest.fixture(autouse=True)
def _keys_in_a_file(no_os_keyring):
    """Keys go to the sync layer's 0600 file: CI has no OS keyring."""


def test_status_bar_follows_a_hub_going_down_and_coming_back(make_app, qtbot, node, tmp_path, hub):
    server, scenario, key = hub
    port = server.port
    SyncConfig(url=server.url, event_ids=(scenario.event_id,), gate="Gate 7", interval_s=0.3).save(
        node
    )
    scanner = make_app(
        qtbot,
        node,
        Settings(gate_name="Gate 7", event_id=scenario.event_id),
        tmp_path,
        source_factory=lambda _s: None,
        sync_options={"backoff_s": 0.2, "max_backoff_s": 0.5, "timeout_s": 2.0, "retries": 0},
    )
    KeyStore(node.data_dir, node.device_id).set(key)
    scanner.start()
    label = scanner.window.status.connection_label
    try:
        qtbot.waitUntil(lambda: label.text().startswith("Online"), timeout=15_000)
        assert label.property("state") == "online"
        server.stop()
        qtbot.waitUntil(lambda: label.text().startswith("Offline"), timeout=15_000)
        assert label.property("state") == "offline"
        assert label.toolTip()  # why: e.g. the connection was refused
        assert scanner.window.status.pending_label.isVisible()
        restarted = HubServer(server.node, port=port).start()
        try:
            qtbot.waitUntil(lambda: label.text().startswith("Online"), timeout=20_000)
        finally:
            restarted.stop()
    finally:
        scanner.shutdown()


def test_scanning_a_hub_setup_qr_joins_it(make_app, qtbot, node, tmp_path, hub):
    server, scenario, key = hub
    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start()
    try:
        assert scanner.window.status.connection_label.text() == "Standalone"
        made = server.hub.create_gate("Gate 7", scenario.event_id, "Gate 7", server.url)
        setup = made["setupPayload"]
        scanner.window.submit_payload(setup, "camera")
        qtbot.waitUntil(
            lambda: scanner.window.status.connection_label.text().startswith("Online"),
            timeout=15_000,
        )
        assert scanner.settings.gate_name == "Gate 7"
        assert scanner.settings.event_id == scenario.event_id
        saved = Settings.load(node, tmp_path / "settings.json")  # in the node: as the CLI sees it
        assert saved.upstream_key_stored and saved.gate_name == "Gate 7"
        # The gate pulled the hub's tickets: a hub ticket is admitted here, offline-capable.
        qtbot.waitUntil(lambda: node.events.list() != [], timeout=10_000)
        with qtbot.waitSignal(scanner.window.scan_displayed, timeout=5000) as blocker:
            scanner.window.submit_payload(scenario.ticket_payloads[0], "camera")
        assert blocker.args[0].success is True
        # Still in front of the camera: seen again after the debounce, it must not
        # reconnect (restart sync, store the key again) every few seconds.
        assert scanner.join_upstream(setup) is False
    finally:
        scanner.shutdown()


def test_bad_setup_text_is_refused(make_app, qtbot, node, tmp_path):
    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start()
    try:
        assert scanner.join_upstream("tickitz-setup:not-base64!") is False
        assert scanner.window.verdict.title_label.text() == "Not a valid setup code"
        assert SyncConfig.load(node) is None
    finally:
        scanner.shutdown()


def test_first_run_is_detected_only_on_a_blank_node(node, tmp_path):
    from scanner_app.gui.app import is_first_run

    assert is_first_run(node)
    Settings().save_screen(tmp_path / "settings.json")  # someone's screen says nothing
    assert is_first_run(node)
    NodeConfig(gate="North").save(node)  # `config --gate` or the app's Save
    assert not is_first_run(node)
    other = Node.open(tmp_path / "other")
    try:
        build_demo(other, tickets=3)
        assert not is_first_run(other)
    finally:
        other.close()


def test_first_run_connect_by_url_and_key(make_app, qtbot, node, tmp_path, hub):
    server, scenario, key = hub
    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start()
    try:
        dialog = scanner.show_first_run()
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        assert dialog.pages.currentIndex() == 1
        dialog.go_button.click()
        assert "URL and the key" in dialog.error_label.text()
        # setText, as a paste would: keys typed at test speed would be a scanner burst.
        dialog.url_edit.setText(server.url)
        dialog.key_edit.setText(key)
        dialog.gate_edit.setText("South")
        qtbot.mouseClick(dialog.go_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
        assert scanner.settings.gate_name == "South"
        qtbot.waitUntil(
            lambda: scanner.window.status.connection_label.text().startswith("Online"),
            timeout=15_000,
        )
        # The first sync brought the hub's event: its title and counters show, without a
        # restart (they stayed "No event yet" and "In: 0").
        qtbot.waitUntil(
            lambda: scanner.window.event_label.text() == "Neon Nights (demo)", timeout=10_000
        )
        assert scanner.window.status.snapshot.capacity == 550
    finally:
        scanner.shutdown()


def test_first_run_bad_address_keeps_the_dialog_open(make_app, qtbot, node, tmp_path):
    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start()
    try:
        dialog = scanner.show_first_run()
        dialog.connect_button.click()
        dialog.key_edit.setText("tk_live_x")
        for bad in ("not a url", "ftp://hub.local"):
            dialog.url_edit.setText(bad)
            dialog.submit()
            assert dialog.isVisible()
            assert dialog.error_label.text().startswith("Not a usable address")
        assert SyncConfig.load(node) is None
    finally:
        scanner.shutdown()


def test_first_run_hub_and_demo_choices(make_app, qtbot, node, tmp_path, monkeypatch):
    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start()
    try:
        monkeypatch.setattr(
            scanner.hub,
            "start",
            lambda *a, **kw: scanner.hub.__class__.start(scanner.hub, host="127.0.0.1", port=0),
        )
        dialog = scanner.show_first_run()
        qtbot.mouseClick(dialog.hub_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: scanner.hub.running)
        qtbot.waitUntil(lambda: scanner.window.hub_dialog.isVisible())
        qtbot.waitUntil(lambda: NodeConfig.saved(node))  # first run is over
        dialog = scanner.show_first_run()
        with qtbot.waitSignal(scanner.demo_chosen):
            dialog.demo_button.click()
        assert scanner.demo_requested
    finally:
        scanner.shutdown()


def first_run_connect(qtbot, scanner, url, key, event=""):
    dialog = scanner.show_first_run()
    dialog.connect_button.click()
    # setText, as a paste would: keys typed at test speed would be a scanner burst.
    dialog.url_edit.setText(url)
    dialog.key_edit.setText(key)
    dialog.event_edit.setText(event)
    return dialog


def test_a_key_the_hub_refuses_is_said_and_nothing_is_saved(make_app, qtbot, node, tmp_path, hub):
    # It used to save anything and say "Connected" (then sync failed quietly).
    server, scenario, _key = hub
    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start()
    try:
        dialog = first_run_connect(qtbot, scanner, server.url, "tk_live_wrong")
        dialog.go_button.click()
        qtbot.waitUntil(lambda: "refused the key" in dialog.error_label.text(), timeout=10_000)
        assert dialog.isVisible() and dialog.go_button.isEnabled()
        assert SyncConfig.load(node) is None
        assert not (tmp_path / "settings.json").exists()
        dialog.key_edit.setText(_key)
        dialog.event_edit.setText("evt_doesnotexist")
        dialog.go_button.click()
        qtbot.waitUntil(lambda: "does not know that event" in dialog.error_label.text())
        assert SyncConfig.load(node) is None
    finally:
        scanner.shutdown()


def test_connecting_never_blocks_the_window(make_app, qtbot, node, tmp_path, monkeypatch):
    # A hub that accepts the connection and never answers: the check waits out its
    # timeout on a helper thread; the window stays live and says "Connecting…".
    monkeypatch.setattr("scanner_app.sync.probe.PROBE_TIMEOUT_S", 1.0)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    scanner = make_app(
        qtbot,
        node,
        Settings(),
        tmp_path,
        source_factory=lambda _s: None,
        sync_options={"timeout_s": 1.0, "retries": 0},
    )
    scanner.start()
    try:
        dialog = first_run_connect(qtbot, scanner, url, "tk_live_abc")
        t0 = time.perf_counter()
        dialog.go_button.click()
        assert time.perf_counter() - t0 < 0.3
        assert dialog.go_button.text() == "Connecting…" and not dialog.go_button.isEnabled()
        # Not reachable is not refused: saved, and sync keeps trying (the hub may be late).
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
        assert scanner.window.verdict.title_label.text() == "Saved: hub not reachable yet"
        # Saved on the sync thread, then the engine starts (and finds the hub silent).
        qtbot.waitUntil(lambda: SyncConfig.load(node) is not None)
        assert SyncConfig.load(node).url == f"{url}/v1"
        assert KeyStore(node.data_dir, node.device_id).get()[0] == "tk_live_abc"
    finally:
        scanner.shutdown()
        silent.close()


def test_clearing_the_upstream_in_settings_stops_syncing(make_app, qtbot, node, tmp_path, hub):
    server, scenario, key = hub
    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start()
    label = scanner.window.status.connection_label
    try:
        scanner.connect_upstream(server.url, key, scenario.event_id, "Gate 7")
        qtbot.waitUntil(lambda: label.text().startswith("Online"), timeout=15_000)
        dialog = scanner.window.open_settings()
        dialog.upstream_edit.setText("")
        dialog.save()
        # It kept syncing with the old hub: the node's saved upstream was never cleared.
        qtbot.waitUntil(lambda: label.text() == "Standalone", timeout=10_000)
        assert SyncConfig.load(node) is None
    finally:
        scanner.shutdown()


def test_a_refused_key_shows_as_a_sync_problem_with_the_reason(
    make_app, qtbot, node, tmp_path, hub
):
    # A revoked or mistyped key made the gate say "Offline", as if the network were down,
    # and never why.
    server, scenario, _key = hub
    SyncConfig(url=server.url, event_ids=(scenario.event_id,), interval_s=0.3).save(node)
    KeyStore(node.data_dir, node.device_id).set("tk_live_revoked")
    scanner = make_app(
        qtbot,
        node,
        Settings(event_id=scenario.event_id),
        tmp_path,
        source_factory=lambda _s: None,
        sync_options={"backoff_s": 0.2, "max_backoff_s": 0.5, "retries": 0},
    )
    scanner.start()
    label = scanner.window.status.connection_label
    try:
        qtbot.waitUntil(lambda: label.text().startswith("Sync problem"), timeout=10_000)
        assert label.property("state") == "problem"
        assert "401" in label.toolTip() or "API key" in label.toolTip()
    finally:
        scanner.shutdown()


def test_sync_now_in_the_toolbar_syncs_at_once(make_app, qtbot, node, tmp_path, hub):
    server, scenario, key = hub
    SyncConfig(url=server.url, event_ids=(scenario.event_id,), gate="Gate 7", interval_s=3600).save(
        node
    )
    KeyStore(node.data_dir, node.device_id).set(key)
    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start()
    try:
        qtbot.waitUntil(lambda: scanner.sync.engine is not None, timeout=10_000)
        # A bool, not None: pytest-qt takes a None answer for "passed".
        qtbot.waitUntil(
            lambda: scanner.sync.engine.status().last_pull_at is not None, timeout=20_000
        )
        count = node.db.query_one("SELECT COUNT(*) FROM tickets")[0]
        server.node.tickets.issue(scenario.event_id, "VIP", "Late Comer", 1)
        assert scanner.window.sync_action.isVisible()
        scanner.window.sync_action.trigger()  # the next pull was an hour away
        qtbot.waitUntil(
            lambda: node.db.query_one("SELECT COUNT(*) FROM tickets")[0] == count + 1,
            timeout=10_000,
        )
    finally:
        scanner.shutdown()
