"""The assembled app with its camera: a video reel through the real file source and
decoder, a missing, failing and unplugged camera."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np

from scanner_app.camera import FileSource, SourceState, SourceStatus, WebcamSource
from scanner_app.camera.synth import write_reel
from scanner_app.core.demo_data import build_demo
from scanner_app.gui.settings import Settings
from scanner_app.gui.verdict import REASON_TEXT

COLOURS = {
    "ADMIT": "#1B7F3B",
    "ALREADY IN": "#F2A900",
    "REJECTED": "#C62828",
}


def test_reel_reaches_the_verdict_panel_for_every_outcome(make_app, qtbot, node, tmp_path):
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
        verdict = "admit" if result.success else result.reason
        assert verdict == sample.expected, sample.label
        assert source == "camera"
        assert colour == COLOURS[title]
        if title == "REJECTED":  # the reason in plain words, e.g. "Forged ticket"
            assert detail == REASON_TEXT[sample.expected]
    assert [title for _r, _s, title, _d, _c in seen].count("ALREADY IN") == 1
    assert scanner.window.last_latency_ms < 1000


def test_missing_camera_says_so_and_the_door_still_works(make_app, qtbot, node, tmp_path):
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
        assert blocker.args[0].success is True
    finally:
        scanner.shutdown()


def test_camera_unplug_says_disconnected_and_recovers(make_app, qtbot, node, tmp_path):
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


def test_a_camera_that_cannot_open_says_why(make_app, qtbot, node, tmp_path):
    # A long path (as under pytest -n): the message is cut, but not the file's name.
    missing = tmp_path / ("folder-" * 16) / "missing.avi"
    scanner = make_app(
        qtbot,
        node,
        Settings(),
        tmp_path,
        source_factory=lambda _s: FileSource(missing),
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


def test_opencv_camera_retry_warnings_are_quiet():
    from scanner_app.gui.app import qt_app

    qt_app()
    # A missing camera made OpenCV print a warning every second of the run.
    assert cv2.utils.logging.getLogLevel() <= cv2.utils.logging.LOG_LEVEL_ERROR


class StuckCamera:
    """A network camera whose open() hangs (OpenCV waits out its open timeout)."""

    name = "stuck camera"

    def __init__(self) -> None:
        self.status = SourceStatus(SourceState.CONNECTING, "Starting", time.monotonic())
        self.released = threading.Event()

    def open(self) -> None:
        self.released.wait(2.0)

    def read(self):
        return None

    def close(self) -> None:
        pass


def test_switching_cameras_never_blocks_the_window(make_app, qtbot, node, tmp_path):
    stuck = StuckCamera()
    sources = iter([stuck, None])
    scanner = make_app(
        qtbot, node, Settings(), tmp_path, source_factory=lambda _s: next(sources), sync=False
    )
    scanner.start()
    try:
        qtbot.wait(100)
        t0 = time.perf_counter()
        scanner.start_camera()  # e.g. the camera setting changed
        # It waited for the stuck capture thread (up to the 5 s stop timeout).
        assert time.perf_counter() - t0 < 0.3
        assert scanner.window.preview.message == "No camera"
    finally:
        stuck.released.set()
        scanner.shutdown()


def test_the_app_does_not_log_every_http_request():
    # 158 "HTTP Request: GET ..." INFO lines in two minutes of a gate syncing every 3 s.
    import logging  # noqa: PLC0415

    from scanner_app.gui.app import configure_logging  # noqa: PLC0415

    configure_logging()
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)
