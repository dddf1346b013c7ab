"""``tickitz-scanner demo``: the whole app on a throwaway node, no camera or server needed.

A fresh data dir gets a demo event with 200 tickets; the embedded hub serves it on
localhost; a generated video reel of tickets (every verdict: valid, duplicate, forged,
expired, cancelled, wrong event, not a ticket) plays through the real file source and
decoder, looping. ``--camera 0`` uses a webcam instead; the sample tickets are also
written as QR PNGs so a visitor can hold them up to it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import segno
from PySide6.QtCore import QObject, Signal

from scanner_app.camera import FrameSource, WebcamSource
from scanner_app.core.demo_data import DemoScenario, build_demo
from scanner_app.core.node import Node
from scanner_app.gui.app import ScannerApp, configure_logging, qt_app, quit_on_signals
from scanner_app.gui.demo_reel import DemoReel, render_demo_reel
from scanner_app.gui.settings import Settings

log = logging.getLogger(__name__)
QR_DIRNAME = "qr"


def demo_qr_dir(data_dir: Path) -> Path:
    """Where the demo writes its QR PNGs (the CLI names it before the window opens)."""
    return data_dir / QR_DIRNAME


def write_qr_pngs(scenario: DemoScenario, folder: Path, extra_tickets: int = 10) -> list[Path]:
    """Each demo sample (and a few more valid tickets) as a PNG to hold up to a camera.

    A sample, not all 200 tickets: segno takes ~50 ms per ticket-sized QR (measured), so
    all of them would keep a core busy for ~10 s while the demo starts.
    """
    folder.mkdir(parents=True, exist_ok=True)
    items = [(s.label, s.payload) for s in scenario.samples]
    items += [("valid ticket", p) for p in scenario.ticket_payloads[10 : 10 + extra_tickets]]
    paths = []
    for index, (label, payload) in enumerate(items, start=1):
        path = folder / f"{index:02d}-{label.replace(' ', '-')}.png"
        segno.make(payload, error="m").save(str(path), scale=6, border=4)
        paths.append(path)
    return paths


class _ReelMaker(QObject):
    """Renders the reel on a helper thread (several seconds) while the window is up."""

    done = Signal(str)
    failed = Signal(str)
    thread: threading.Thread | None = None

    def start(self, scenario: DemoScenario, path: Path) -> None:
        def work() -> None:
            try:
                self.done.emit(str(render_demo_reel(scenario, path)))
            except Exception as exc:  # shown on the preview; the rest of the demo works
                log.exception("Demo reel failed")
                self.failed.emit(str(exc))

        self.thread = threading.Thread(target=work, name="demo-reel", daemon=True)
        self.thread.start()


def demo_settings(scenario: DemoScenario) -> Settings:
    return Settings(gate_name="Demo gate", event_id=scenario.event_id, verdict_hold_ms=2500)


def run_demo(data_dir: Path, camera: str | None = None) -> int:
    """Run the demo app until its window closes; returns the exit code."""
    configure_logging()
    app = qt_app()
    with Node.open(data_dir / "node") as node:
        scenario = build_demo(node, tickets=200)
        settings = demo_settings(scenario)
        settings.node_config().save(node)  # the demo node is a gate like any other
        qr_dir = demo_qr_dir(data_dir)
        helpers = [
            threading.Thread(
                target=write_qr_pngs, args=(scenario, qr_dir), name="demo-qr", daemon=True
            )
        ]
        helpers[0].start()
        reel: dict[str, Path] = {}

        def source(_settings: Settings) -> FrameSource | None:
            if camera is not None:
                return WebcamSource(int(camera) if camera.isdigit() else camera)
            if "path" in reel:  # new valid tickets every loop: someone new is admitted
                return DemoReel(scenario, reel["path"])
            return None

        scanner = ScannerApp(
            node,
            settings,
            settings_path=data_dir / "settings.json",
            source_factory=source,
            debounce_seconds=2.0,
            sync=False,
        )
        app.aboutToQuit.connect(scanner.shutdown)
        quit_on_signals(app)
        scanner.start()
        # Off the GUI thread; the demo still scans if the hub does not start.
        scanner.hub.changed.connect(lambda url: url and log.info("Demo hub (dashboard) at %s", url))
        scanner.hub.start_async(host="127.0.0.1", port=0)
        log.info("QR codes of the sample tickets, to hold up to a camera: %s", qr_dir)
        if camera is None:
            scanner.window.set_camera_message("Preparing the demo reel…")
            maker = _ReelMaker()
            maker.done.connect(lambda p: (reel.update(path=Path(p)), scanner.start_camera()))
            maker.failed.connect(lambda e: scanner.window.set_camera_message(f"No reel: {e}"))
            maker.start(scenario, data_dir / "demo-reel")
            helpers.append(maker.thread)
        code = app.exec()
        scanner.shutdown()
        _finish(helpers)
    return code


def _finish(helpers: list[threading.Thread | None]) -> None:
    """Wait for the QR and reel writers: closed early (Ctrl-C while the reel renders), the
    process would otherwise end inside OpenCV's writer and abort, and the data folder would
    be removed under a thread still writing to it."""
    running = [t for t in helpers if t is not None and t.is_alive()]
    if running:
        log.info("Waiting for the demo's %s to finish…", " and ".join(t.name for t in running))
    for thread in running:
        thread.join(60)
