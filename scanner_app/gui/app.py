"""Starting the desktop app: one ``ScannerApp`` owns the window and its background parts.

``run(data_dir, kiosk=...)`` is what ``tickitz-scanner`` (no subcommand) calls. The
demo, the benchmark and the tests build a ``ScannerApp`` directly.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from scanner_app.camera import FrameSource, WebcamSource
from scanner_app.core.errors import ValidationError
from scanner_app.core.node import Node
from scanner_app.gui import assets
from scanner_app.gui.camera_bridge import CameraBridge
from scanner_app.gui.first_run import FirstRunDialog
from scanner_app.gui.main_window import MainWindow
from scanner_app.gui.services import HubService, SyncService
from scanner_app.gui.settings import Settings, default_path
from scanner_app.gui.sounds import SoundPlayer
from scanner_app.gui.wedge_filter import WedgeFilter
from scanner_app.sync import KeyStore, SyncConfig, api_base, parse_setup

log = logging.getLogger(__name__)
CAMERA_FIELDS = ("camera", "camera_width", "camera_height", "decoder")
SYNC_FIELDS = ("upstream_url", "event_id", "gate_name", "sync_interval_s", "strict_online")
SourceFactory = Callable[[Settings], FrameSource | None]


def qt_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication with our name, icon, base font and stylesheet (created once)."""
    # OpenCV warns "can't open camera by index" on every retry (once a second while a
    # camera is unplugged); the preview and the log already say it once, in words.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    app = QApplication.instance()
    if app is None:
        # QtMultimedia lists every codec library it cannot find; gate staff need none of it.
        os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false")
        app = QApplication(argv if argv is not None else sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Tickitz Scanner")
    app.setOrganizationName("Tickitz")
    app.setWindowIcon(assets.icon("app"))
    app.setFont(QFont(app.font().family(), 11))
    app.setStyleSheet(assets.stylesheet())
    return app


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
        self.sync = SyncService(node, self)
        self.hub = HubService(node, self)
        self._sync_enabled = sync
        self._sync_options = sync_options or {}
        self.sync.status.connect(self._on_sync_status)
        self.window.key_store = self._store_key
        self.window.setup_scanned.connect(self.join_upstream)
        self.hub.changed.connect(lambda url: self.window.status.update_fields(hub_address=url))
        self.window.settings_changed.connect(self._on_settings_changed)
        self.window.attach_hub(self.hub)
        self._closing = False
        self._key_changed = False
        self.first_run: FirstRunDialog | None = None
        self.demo_requested = False

    @property
    def settings(self) -> Settings:
        return self.window.settings

    def start(self, *, kiosk: bool = False) -> None:
        self.start_camera()
        self.restart_sync()
        self.window.show_fitted()
        if kiosk or self.settings.kiosk:
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
        self.camera.start()

    def stop_camera(self) -> None:
        if self.camera is not None:
            self.window.attach_camera(None)
            self.camera.stop()
            self.camera.deleteLater()
            self.camera = None

    def restart_sync(self) -> None:
        """(Re)start the sync engine from the node's saved upstream, if any."""
        if not self._sync_enabled:
            return
        self.window.client.set_engine(None)
        self.window.client.set_engine(self.sync.start(**self._sync_options))
        if self.sync.engine is None:
            self.window.status.update_fields(connection="standalone", last_sync_at=None)
        self._key_changed = False

    def _store_key(self, settings: Settings, key: str) -> bool:
        """The Settings dialog's key field: into the sync KeyStore (keyring or 0600 file)."""
        try:
            KeyStore(self.node.data_dir, self.node.device_id).set(key)
        except (ValueError, OSError) as exc:
            log.warning("Cannot store the upstream key: %s", exc)
            return False
        self._key_changed = True
        return True

    def join_upstream(self, setup_text: str) -> bool:
        """A hub's setup QR (camera, scanner or typed): connect with what it carries."""
        try:
            setup = parse_setup(setup_text)
        except ValidationError as exc:
            self._say_failed("Not a valid setup code", exc.message)
            return False
        return self.connect_upstream(setup.url, setup.key, setup.event_id, setup.gate)

    def connect_upstream(
        self, url: str, key: str, event_id: str | None = None, gate: str | None = None
    ) -> bool:
        """Save the upstream (URL, key, event, gate) and start syncing with it."""
        try:
            api_base(url)
            if any(c.isspace() for c in url.strip()):  # api_base lets "a b" through
                raise ValueError(f"spaces in the address: {url!r}")
        except ValueError as exc:
            self._say_failed("Not a usable address", str(exc))
            return False
        if not self._store_key(self.settings, key):
            self._say_failed("Could not store the key", "An API key is one word")
            return False
        old = self.settings
        new = replace(
            old,
            upstream_url=url,
            upstream_key_stored=True,
            event_id=event_id or old.event_id,
            gate_name=gate or old.gate_name,
        )
        self._save_sync_config(new)
        new.save(self.window.settings_path)
        self.window.apply_settings(new)
        self.restart_sync()
        self.window.verdict.show_message("Connected", f"Syncing with {url}", "check")
        if self.first_run is not None:
            self.first_run.accept()
        return True

    def _say_failed(self, title: str, detail: str) -> None:
        self.window.verdict.show_message(title, detail, "warning")
        if self.first_run is not None and self.first_run.isVisible():
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
        self.settings.save(self.window.settings_path)  # first run is over
        self.window.open_hub()
        self.hub.start_async()  # the dialog shows "Starting…", then the address or why not

    def _open_demo(self) -> None:
        self.demo_requested = True
        self.demo_chosen.emit()  # run() quits the loop and starts the demo

    def _save_sync_config(self, settings: Settings) -> None:
        """The sync layer reads its upstream from the node; keep it in step with Settings."""
        if not settings.upstream_url:
            return
        SyncConfig(
            url=settings.upstream_url,
            event_ids=(settings.event_id,) if settings.event_id else (),
            gate=settings.gate_name or None,
            interval_s=float(settings.sync_interval_s),
            strict=settings.strict_online,
        ).save(self.node)

    def _on_settings_changed(self, old: Settings, new: Settings) -> None:
        if any(getattr(old, f) != getattr(new, f) for f in CAMERA_FIELDS):
            self.start_camera()
        key_changed, self._key_changed = self._key_changed, False
        if key_changed or any(getattr(old, f) != getattr(new, f) for f in SYNC_FIELDS):
            self._save_sync_config(new)
            self.restart_sync()

    def _on_sync_status(self, status: dict) -> None:
        synced = status.get("lastSyncAt")
        if synced is not None and synced != self.window.status.snapshot.last_sync_at:
            # A round finished: it may have brought the event, tickets or other gates'
            # check-ins, so the event title and the counters are read again.
            self.window.client.refresh_events()
        self.window.status.update_fields(
            connection=status.get("connection", "offline"),
            last_sync_at=status.get("lastSyncAt"),
            pending_uploads=status.get("pendingUploads", 0),
        )

    def shutdown(self) -> None:
        """Stop camera, hub and sync, then the DB worker (queued scans still commit)."""
        if self._closing:
            return
        self._closing = True
        self.stop_camera()
        self.hub.stop()
        self.window.client.set_engine(None)
        self.sync.stop(wait=True)
        self.window.shutdown()


def is_first_run(node: Node, settings_path: Path | None) -> bool:
    """Nothing configured yet: no settings file, no events and no upstream."""
    path = settings_path or default_path()
    return not path.exists() and not node.events.list() and SyncConfig.load(node) is None


def run(data_dir: Path, kiosk: bool = False, settings_path: Path | None = None) -> int:
    """The desktop app's main loop; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = qt_app()
    settings = Settings.load(settings_path)
    with Node.open(data_dir) as node:
        scanner = ScannerApp(node, settings, settings_path=settings_path)
        app.aboutToQuit.connect(scanner.shutdown)
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
