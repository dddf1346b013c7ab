"""The assembled app: a video reel through the real file source and decoder, sync status
against a real hub going down and back up, joining a hub by its setup QR, hub mode."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest
import zxingcpp
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from scanner_app.camera import FileSource, WebcamSource
from scanner_app.camera.synth import write_reel
from scanner_app.core.demo_data import build_demo
from scanner_app.core.node import Node
from scanner_app.gui.app import ScannerApp
from scanner_app.gui.settings import Settings
from scanner_app.gui.sounds import SoundPlayer
from scanner_app.gui.verdict import REASON_TEXT
from scanner_app.server.runner import HubServer
from scanner_app.sync import SyncConfig, make_setup, parse_setup

COLOURS = {
    "ADMIT": "#1B7F3B",
    "ALREADY IN": "#F2A900",
    "REJECTED": "#C62828",
}


@pytest.fixture(autouse=True)
def no_os_keyring(monkeypatch):
    # Keys go to the sync layer's 0600 file: CI has no OS keyring.
    monkeypatch.setenv("TICKITZ_NO_KEYRING", "1")
    monkeypatch.delenv("TICKITZ_API_KEY", raising=False)


@pytest.fixture
def node(tmp_path):
    n = Node.open(tmp_path / "gate")
    yield n
    n.close()


def make_app(qtbot, node, settings, tmp_path, **kwargs):
    scanner = ScannerApp(
        node,
        settings,
        settings_path=tmp_path / "settings.json",
        sounds=SoundPlayer(),
        **kwargs,
    )
    qtbot.addWidget(scanner.window)
    return scanner


def test_reel_reaches_the_verdict_panel_for_every_outcome(qtbot, node, tmp_path):
    scenario = build_demo(node, tickets=5)
    reel = write_reel(
        [s.payload for s in scenario.samples],
        tmp_path / "reel.avi",
        fps=10,
        seconds_per_ticket=0.5,
        gap_seconds=0.4,
    )
    settings = Settings(gate_name="Gate 1", event_id=scenario.event_id, verdict_hold_ms=60_000)
    scanner = make_app(
        qtbot,
        node,
        settings,
        tmp_path,
        source_factory=lambda _s: FileSource(reel),
        debounce_seconds=0.8,
        sync=False,
    )
    seen = []

    def record(result, source, latency_ms):
        panel = scanner.window.verdict
        image = panel.grab().toImage()
        colour = image.pixelColor(6, image.height() // 2).name().upper()
        seen.append((result, source, panel.title_label.text(), panel.detail_label.text(), colour))

    scanner.window.scan_displayed.connect(record)
    scanner.start()
    try:
        qtbot.waitUntil(lambda: len(seen) >= len(scenario.samples), timeout=30_000)
        qtbot.waitUntil(lambda: scanner.window.preview.message == "Video ended", timeout=10_000)
    finally:
        scanner.shutdown()
    assert len(seen) == len(scenario.samples)  # one scan per ticket: debounce works
    for sample, (result, source, title, detail, colour) in zip(scenario.samples, seen, strict=True):
        verdict = "admit" if result["success"] else result["reason"]
        assert verdict == sample.expected, sample.label
        assert source == "camera"
        assert colour == COLOURS[title]
        if title == "REJECTED":  # the reason in plain words, e.g. "Forged ticket"
            assert detail == REASON_TEXT[sample.expected]
    assert [title for _r, _s, title, _d, _c in seen].count("ALREADY IN") == 1
    assert scanner.window.last_latency_ms < 1000


def test_missing_camera_says_so_and_the_door_still_works(qtbot, node, tmp_path):
    scenario = build_demo(node, tickets=3)
    settings = Settings(event_id=scenario.event_id)
    scanner = make_app(
        qtbot,
        node,
        settings,
        tmp_path,
        source_factory=lambda _s: WebcamSource(str(tmp_path / "no-such-camera"), retry_seconds=0.2),
        sync=False,
    )
    scanner.start()
    try:
        qtbot.waitUntil(
            lambda: scanner.window.preview.message.startswith("Camera not available"),
            timeout=10_000,
        )
        assert scanner.window.status.fps_label.text() == "No camera"
        qtbot.wait(1200)  # the pipeline keeps reporting 0 fps: that is still no camera
        assert scanner.window.status.fps_label.text() == "No camera"
        with qtbot.waitSignal(scanner.window.scan_displayed, timeout=3000) as blocker:
            scanner.window.submit_payload(scenario.ticket_payloads[0], "wedge")
        assert blocker.args[0]["success"] is True
    finally:
        scanner.shutdown()


def test_camera_unplug_says_disconnected_and_recovers(qtbot, node, tmp_path):
    # A "camera" that is a video file: when it ends the source sees no frames (an unplug)
    # and reconnects by reopening it; while the file is away it cannot.
    video = tmp_path / "cam.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 30, (320, 240))
    for i in range(90):
        writer.write(np.full((240, 320, 3), i, np.uint8))
    writer.release()
    scanner = make_app(
        qtbot,
        node,
        Settings(),
        tmp_path,
        source_factory=lambda _s: WebcamSource(str(video), retry_seconds=0.2),
        sync=False,
    )
    window = scanner.window
    scanner.start()
    try:
        qtbot.waitUntil(lambda: window.preview.frames_shown > 0, timeout=10_000)
        video.rename(tmp_path / "away.avi")  # unplugged
        qtbot.waitUntil(
            lambda: window.preview.message.startswith("Camera disconnected"), timeout=10_000
        )
        qtbot.wait(1200)
        assert window.preview.message.startswith("Camera disconnected")
        assert window.status.fps_label.text() == "No camera"
        shown = window.preview.frames_shown
        (tmp_path / "away.avi").rename(video)  # plugged back in
        qtbot.waitUntil(lambda: window.preview.frames_shown > shown, timeout=10_000)
        assert window.preview.message == ""
    finally:
        scanner.shutdown()


def test_a_camera_that_cannot_open_says_why(qtbot, node, tmp_path):
    scanner = make_app(
        qtbot,
        node,
        Settings(),
        tmp_path,
        source_factory=lambda _s: FileSource(tmp_path / "missing.avi"),
        sync=False,
    )
    scanner.start()
    try:
        # Was "Starting camera…" forever: the pipeline's error went nowhere.
        qtbot.waitUntil(
            lambda: scanner.window.preview.message.startswith("Camera error"), timeout=5000
        )
        assert "missing.avi" in scanner.window.preview.message
    finally:
        scanner.shutdown()


@pytest.fixture
def hub(tmp_path):
    """A real venue hub (its own node) on a free port, with a gate key for us."""
    hub_node = Node.open(tmp_path / "hub")
    scenario = build_demo(hub_node, tickets=5)
    server = HubServer(hub_node, port=0).start()
    _device, key = server.hub.devices.create("Gate 7", scenario.event_id, "Gate 7")
    yield server, scenario, key
    server.stop()
    hub_node.close()


def test_status_bar_follows_a_hub_going_down_and_coming_back(qtbot, node, tmp_path, hub):
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
    assert scanner._store_key(scanner.settings, key)
    scanner.start()
    label = scanner.window.status.connection_label
    try:
        qtbot.waitUntil(lambda: label.text().startswith("Online"), timeout=15_000)
        assert label.property("state") == "online"
        server.stop()
        qtbot.waitUntil(lambda: label.text().startswith("Offline"), timeout=15_000)
        assert label.property("state") == "offline"
        assert scanner.window.status.pending_label.isVisible()
        restarted = HubServer(server.node, port=port).start()
        try:
            qtbot.waitUntil(lambda: label.text().startswith("Online"), timeout=20_000)
        finally:
            restarted.stop()
    finally:
        scanner.shutdown()


def test_scanning_a_hub_setup_qr_joins_it(qtbot, node, tmp_path, hub):
    server, scenario, key = hub
    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start()
    try:
        assert scanner.window.status.connection_label.text() == "Standalone"
        setup = make_setup(server.url, key, scenario.event_id, "Gate 7")
        scanner.window.submit_payload(setup, "camera")
        qtbot.waitUntil(
            lambda: scanner.window.status.connection_label.text().startswith("Online"),
            timeout=15_000,
        )
        assert scanner.settings.gate_name == "Gate 7"
        assert scanner.settings.event_id == scenario.event_id
        assert Settings.load(tmp_path / "settings.json").upstream_key_stored
        # The gate pulled the hub's tickets: a hub ticket is admitted here, offline-capable.
        qtbot.waitUntil(lambda: node.events.list() != [], timeout=10_000)
        with qtbot.waitSignal(scanner.window.scan_displayed, timeout=5000) as blocker:
            scanner.window.submit_payload(scenario.ticket_payloads[0], "camera")
        assert blocker.args[0]["success"] is True
    finally:
        scanner.shutdown()


def test_bad_setup_text_is_refused(qtbot, node, tmp_path):
    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    scanner.start()
    try:
        assert scanner.join_upstream("tickitz-setup:not-base64!") is False
        assert scanner.window.verdict.title_label.text() == "Not a valid setup code"
        assert SyncConfig.load(node) is None
    finally:
        scanner.shutdown()


def test_hub_mode_serves_and_makes_gate_setup_qrs(qtbot, node, tmp_path):
    scenario = build_demo(node, tickets=3)
    scanner = make_app(
        qtbot, node, Settings(event_id=scenario.event_id), tmp_path, source_factory=lambda _s: None
    )
    scanner.start()
    try:
        qtbot.waitUntil(lambda: scanner.window.events != [])
        dialog = scanner.window.open_hub()
        assert not dialog.add_gate_button.isEnabled()
        dialog.port = 0
        qtbot.mouseClick(dialog.serve_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: scanner.hub.running)
        assert scanner.window.status.hub_label.isVisible()
        assert scanner.hub.public_url in scanner.window.status.hub_label.text()
        assert scanner.hub.public_url in dialog.state_label.text()
        dialog.new_organiser_key()
        qtbot.waitUntil(lambda: dialog.organiser_key.text().startswith("tk_"))
        dialog.gate_edit.setText("North door")
        dialog.add_gate()
        qtbot.waitUntil(lambda: dialog.setup_text.text() != "")
        setup = parse_setup(dialog.setup_text.text())
        assert (setup.url, setup.gate, setup.event_id) == (
            scanner.hub.public_url,
            "North door",
            scenario.event_id,
        )
        # The QR as the dialog shows it scans back to that text (it was clipped before).
        qtbot.waitUntil(lambda: scanner_reads(dialog) == [dialog.setup_text.text()])
        qtbot.mouseClick(dialog.serve_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not scanner.window.status.hub_label.isVisible())
        assert not scanner.hub.running
    finally:
        scanner.shutdown()


def scanner_reads(widget):
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.array(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())[
        :, : image.width() * 3
    ]
    return [r.text for r in zxingcpp.read_barcodes(pixels.reshape(image.height(), -1, 3))]


def test_serving_never_blocks_the_window(qtbot, node, tmp_path, monkeypatch):
    # Starting imports FastAPI and waits for uvicorn: it used to freeze the window.
    started = threading.Event()

    def slow_start(*_args, **_kwargs):
        time.sleep(1.0)
        started.set()
        raise OSError("port 8765 is taken")

    scanner = make_app(qtbot, node, Settings(), tmp_path, source_factory=lambda _s: None)
    monkeypatch.setattr(scanner.hub, "start", slow_start)
    scanner.start()
    try:
        dialog = scanner.window.open_hub()
        t0 = time.perf_counter()
        qtbot.mouseClick(dialog.serve_button, Qt.MouseButton.LeftButton)
        assert time.perf_counter() - t0 < 0.3
        assert "Starting" in dialog.state_label.text()
        assert not dialog.serve_button.isEnabled()
        qtbot.waitUntil(started.is_set, timeout=5000)
        qtbot.waitUntil(lambda: "port 8765 is taken" in dialog.state_label.text())
        assert dialog.serve_button.isEnabled()
    finally:
        scanner.shutdown()


def test_first_run_is_detected_only_on_a_blank_node(node, tmp_path):
    from scanner_app.gui.app import is_first_run

    path = tmp_path / "settings.json"
    assert is_first_run(node, path)
    Settings().save(path)
    assert not is_first_run(node, path)
    path.unlink()
    build_demo(node, tickets=3)
    assert not is_first_run(node, path)


def test_first_run_connect_by_url_and_key(qtbot, node, tmp_path, hub):
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
        assert not dialog.isVisible(), dialog.error_label.text()
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


def test_first_run_bad_address_keeps_the_dialog_open(qtbot, node, tmp_path):
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


def test_first_run_hub_and_demo_choices(qtbot, node, tmp_path, monkeypatch):
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
        assert scanner.window.hub_dialog.isVisible()
        assert (tmp_path / "settings.json").exists()  # first run is over
        dialog = scanner.show_first_run()
        with qtbot.waitSignal(scanner.demo_chosen):
            dialog.demo_button.click()
        assert scanner.demo_requested
    finally:
        scanner.shutdown()


def test_opencv_camera_retry_warnings_are_quiet():
    from scanner_app.gui.app import qt_app

    qt_app()
    # A missing camera made OpenCV print a warning every second of the run.
    assert cv2.utils.logging.getLogLevel() <= cv2.utils.logging.LOG_LEVEL_ERROR
