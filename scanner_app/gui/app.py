"""Starting the desktop app: one ``ScannerApp`` owns the window and its background parts.

``run(data_dir, kiosk=...)`` is what ``tickitz-scanner`` (no subcommand) calls. The
demo, the benchmark and the tests build a ``ScannerApp`` directly.
"""

from __future__ import annotations

import logging
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QMessageBox

from scanner_app.camera import FrameSource, WebcamSource
from scanner_app.core.models import ScanResult
from scanner_app.core.node import Node
from scanner_app.core.node_config import NodeConfig
from scanner_app.core.storage import StorageError
from scanner_app.gui import assets
from scanner_app.gui.controllers.camera_bridge import CameraBridge
from scanner_app.gui.controllers.hub_controller import HubController
from scanner_app.gui.controllers.sync_controller import SyncController
from scanner_app.gui.controllers.upstream_controller import UpstreamController
from scanner_app.gui.controllers.wedge_filter import WedgeFilter
from scanner_app.gui.diagnostics import add_copy_action
from scanner_app.gui.settings import Settings, default_path
from scanner_app.gui.sounds import SoundPlayer
from scanner_app.gui.widgets.first_run_dialog import FirstRunDialog
from scanner_app.gui.widgets.main_window import MainWindow
from scanner_app.gui.widgets.plain import message_box
from scanner_app.sync.restkey import rest_key_source

log = logging.getLogger(__name__)
CAMERA_FIELDS = ("camera", "camera_width", "camera_height", "decoder")
SourceFactory = Callable[[Settings], FrameSource | None]


def qt_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication with our name, icon, base font and stylesheet (created once)."""
    # OpenCV warns "can't open camera by index" on every retry (once a second while a
    # camera is unplugged); the preview and the log already say it once, in words.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Tickitz Scanner")
    app.setOrganizationName("Tickitz")
    app.setWindowIcon(assets.icon("app"))
    app.setFont(QFont(app.font().family(), 11))
    app.setStyleSheet(assets.stylesheet())
    return app


def configure_logging() -> None:
    """Our INFO lines on the terminal; httpx's one INFO line per request (158 lines in two
    minutes of a gate syncing every 3 s) only as warnings."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def quit_on_signals(app: QApplication) -> None:
    """Ctrl-C in the terminal and SIGTERM (a service manager, `kill`) close the app the
    normal way: the last scans are flushed, the hub stops, the demo's folder is removed."""

    received: list[int] = []

    def close(signum: int, _frame: object) -> None:
        # exit(), not quit(): quit() asks every window first, and the kiosk window refuses
        # without its PIN - right for the public at the door, wrong for the OS shutting down.
        # No logging here: the handler can run in the middle of a write to stderr, and a
        # second write from it raises "reentrant call", so the app never exited.
        received.append(signum)
        app.exit(0)

    def say_why() -> None:
        if received:
            log.info("%s received: closing", signal.Signals(received[-1]).name)

    app.aboutToQuit.connect(say_why)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, close)
    # Python runs a signal handler only between bytecodes, never while Qt's C++ loop
    # waits; an empty timer hands control back to the interpreter four times a second.
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(250)


def webcam_from_settings(settings: Settings) -> FrameSource:
    return WebcamSource(
        settings.camera_source(), width=settings.camera_width, height=settings.camera_height
    )


class ScannerApp(QObject):
    """The window plus camera, sync and hub; ``start()`` and ``shutdown()`` bracket a run."""

    demo_chosen = Signal()

    def __init__(
        self,
        node: Node,
        settings: Settings,
        *,
        settings_path: Path | None = None,
        source_factory: SourceFactory = webcam_from_settings,
        debounce_seconds: float = 3.0,
        sounds: SoundPlayer | None = None,
        sync: bool = True,
        sync_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.node = node
        self.started_at = time.perf_counter()
        self.source_factory = source_factory
        self.debounce_seconds = debounce_seconds
        self.wedge = WedgeFilter()
        self.window = MainWindow(
            node, settings, settings_path=settings_path, sounds=sounds, wedge=self.wedge
        )
        self.camera: CameraBridge | None = None
        self._stopping_cameras: list[CameraBridge] = []
        self.sync = SyncController(node, self)
        self.upstream = UpstreamController(
            self.window, self.sync, enabled=sync, options=sync_options
        )
        self.upstream.connecting.connect(self._on_connecting)
        self.upstream.connected.connect(self._on_connected)
        self.upstream.failed.connect(self._say_failed)
        self.hub = HubController(node, self)
        self.hub.changed.connect(self.window.show_hub_address)
        self.window.settings_changed.connect(self._on_settings_changed)
        self.window.attach_hub(self.hub)
        self.diagnostics_action = add_copy_action(self)
        # Once each, for the log a person sends and for the bundle's smoke test (.ci/run).
        self._camera_ready_logged = False
        self.window.scan_displayed.connect(self._log_first_verdict)
        self._closing = False
        self.first_run: FirstRunDialog | None = None
        self.demo_requested = False

    @property
    def settings(self) -> Settings:
        return self.window.settings

    def start(self, *, kiosk: bool = False) -> None:
        self.node.tickets.index.warm()  # names opened off the worker: no first search waits
        self.start_camera()
        self.restart_sync()
        self.window.show_fitted()
        if kiosk or self.settings.kiosk:
            self.node.kiosk_forced = True  # kiosks keep names per ticket (DESIGN.md §10)
            self.window.enter_kiosk(force=True)

    def start_camera(self) -> None:
        self.stop_camera()
        try:
            source = self.source_factory(self.settings)
        except Exception as exc:  # a bad camera setting must not stop the door
            log.warning("Camera unavailable: %s", exc)
            source = None
        if source is None:
            self.window.attach_camera(None)
            return
        self.camera = CameraBridge(
            source, self.settings.decoder, debounce_seconds=self.debounce_seconds, parent=self
        )
        self.window.attach_camera(self.camera)
        if not self._camera_ready_logged:
            self.camera.frame.connect(self._log_camera_ready)
        self.camera.start()

    def _log_camera_ready(self) -> None:
        if not self._camera_ready_logged:
            self._camera_ready_logged = True
            seconds = time.perf_counter() - self.started_at
            log.info("Camera ready: first frame shown %.2f s after the window was built", seconds)

    def _log_first_verdict(self, result: ScanResult, source: str, latency_ms: float) -> None:
        self.window.scan_displayed.disconnect(self._log_first_verdict)
        outcome = "admit" if result.success else result.reason
        log.info("First verdict shown: %s (%s, %.0f ms)", outcome, source, latency_ms)

    def stop_camera(self, *, wait: bool = False) -> None:
        """Detach the camera and stop it. Stopping joins the capture thread, which can
        sit in a network camera's open() for seconds: unless ``wait`` (shutting down),
        that happens on a helper thread. A new camera on the same device retries until
        the old one lets go of it."""
        camera, self.camera = self.camera, None
        if camera is None:
            return
        self.window.attach_camera(None)
        if wait:
            camera.stop()
            camera.deleteLater()
            return
        self._stopping_cameras = [c for c in self._stopping_cameras if c.pipeline.running]
        self._stopping_cameras.append(camera)

        def stop() -> None:
            camera.stop()
            camera.deleteLater()  # thread-safe: runs on the GUI thread's loop

        threading.Thread(target=stop, name="camera-stop", daemon=True).start()

    def restart_sync(self) -> None:
        """(Re)start the sync engine from the node's saved upstream, if any (async)."""
        self.upstream.restart()

    def join_upstream(self, setup_text: str) -> bool:
        """A hub's setup QR (camera, scanner or typed): check it, then connect."""
        return self.upstream.join(setup_text)

    def connect_upstream(
        self, url: str, key: str, event_id: str | None = None, gate: str | None = None
    ) -> bool:
        """Check the upstream takes ``key``, then save it all and sync. False when the
        address or key is unusable; the answer of the check comes as a message."""
        return self.upstream.connect(url, key, event_id, gate)

    def _on_connecting(self, url: str) -> None:
        self.window.notify("Connecting…", url, hold=False)
        if self.first_run is not None:
            self.first_run.set_busy(True)

    def _on_connected(self, title: str, detail: str) -> None:
        self.window.notify(title, detail, "check" if title == "Connected" else "warning")
        if self.first_run is not None:
            self.first_run.set_busy(False)
            self.first_run.accept()

    def _say_failed(self, title: str, detail: str) -> None:
        self.window.notify(title, detail, "warning")
        if self.first_run is not None and self.first_run.isVisible():
            self.first_run.set_busy(False)
            self.first_run.show_error(f"{title}: {detail}")

    # --- first run ---------------------------------------------------------------------
    def show_first_run(self) -> FirstRunDialog:
        """Offer connect / hub / demo; the camera keeps running behind the dialog."""
        dialog = FirstRunDialog(self.window)
        dialog.setup_entered.connect(self.join_upstream)
        dialog.connect_requested.connect(
            lambda url, key, event, gate: self.connect_upstream(url, key, event, gate)
        )
        dialog.hub_requested.connect(self._become_hub)
        dialog.demo_requested.connect(self._open_demo)
        self.first_run = dialog
        dialog.show()
        return dialog

    def _become_hub(self) -> None:
        self.sync.save_async(self.settings.node_config())  # first run is over
        dialog = self.window.open_hub()
        if dialog is not None:  # with the address and port it shows; then the URL or why not
            dialog.toggle()

    def _open_demo(self) -> None:
        self.demo_requested = True
        self.demo_chosen.emit()  # run() quits the loop and starts the demo

    def _on_settings_changed(self, old: Settings, new: Settings) -> None:
        if any(getattr(old, f) != getattr(new, f) for f in CAMERA_FIELDS):
            self.start_camera()
        self.upstream.on_settings_changed(old, new)

    def shutdown(self) -> None:
        """Stop camera, hub and sync, then the DB worker (queued scans still commit)."""
        if self._closing:
            return
        self._closing = True
        self.stop_camera(wait=True)
        for camera in self._stopping_cameras:  # still stopping from a settings change
            camera.stop()
        self.hub.stop()
        self._save_window_size()
        self.window.use_provider(None)
        self.sync.stop(wait=True)  # after the window's last scans were queued
        self.window.shutdown()

    def _save_window_size(self) -> None:
        """The person's window size, for next time (not in kiosk mode: full screen)."""
        if self.window.kiosk.active or self.window.isMaximized() or not self.window.isVisible():
            return
        size = self.window.size()
        screen = self.settings.screen_dict()
        if (screen["window_width"], screen["window_height"]) == (size.width(), size.height()):
            return
        self.settings.window_width, self.settings.window_height = size.width(), size.height()
        try:
            self.settings.save_screen(self.window.settings_path or default_path())
        except OSError as exc:
            log.warning("Cannot keep the window size: %s", exc)


def is_first_run(node: Node, settings_path: Path | None = None) -> bool:
    """Nothing configured yet: no node configuration (CLI or app), no events."""
    del settings_path  # the per-user file says nothing about this node any more
    return not NodeConfig.saved(node) and not node.events.list()


def show_storage_error(exc: StorageError) -> None:
    """The window cannot open without its database: a dialog says why (plain text)."""
    log.error("%s", exc.message)
    message_box(
        QMessageBox.Icon.Critical,
        "Tickitz Scanner cannot start",
        exc.message,
        QMessageBox.StandardButton.Ok,
    ).exec()


def run(data_dir: Path, kiosk: bool = False, settings_path: Path | None = None) -> int:
    """The desktop app's main loop; returns the exit code."""
    configure_logging()
    app = qt_app()
    keyed = {"rest_key_for": lambda device: rest_key_source(data_dir, device)}
    try:
        opened = Node.open(data_dir, **keyed)
    except StorageError as exc:  # damaged, full, read-only...: say so, never a traceback
        show_storage_error(exc)
        raise
    with opened as node:
        settings = Settings.load(node, settings_path)
        scanner = ScannerApp(node, settings, settings_path=settings_path)
        app.aboutToQuit.connect(scanner.shutdown)
        quit_on_signals(app)
        scanner.demo_chosen.connect(app.quit)
        scanner.start(kiosk=kiosk)
        if not kiosk and is_first_run(node, settings_path):
            scanner.show_first_run()
        code = app.exec()
        scanner.shutdown()
        demo = scanner.demo_requested
    if demo:
        from scanner_app.gui.demo import run_demo  # noqa: PLC0415 (avoids an import cycle)

        with tempfile.TemporaryDirectory(prefix="tickitz-demo-") as folder:
            return run_demo(Path(folder))
    return code
