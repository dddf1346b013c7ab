"""The scan screen: preview, verdict, manual entry, status bar, kiosk and settings.

Construct with an open ``Node`` and ``Settings``; everything touching the database
runs on the ``NodeThread`` worker thread and comes back as signals, so the window
never waits on disk.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from scanner_app.core.door import CheckProvider
from scanner_app.core.models import ScanResult
from scanner_app.core.node import Node
from scanner_app.gui import assets
from scanner_app.gui.controllers.camera_bridge import CameraBridge
from scanner_app.gui.controllers.camera_controller import CameraController
from scanner_app.gui.controllers.hub_controller import HubController
from scanner_app.gui.controllers.node_worker import NodeThread, gate_config
from scanner_app.gui.controllers.wedge_filter import WedgeFilter
from scanner_app.gui.settings import Settings
from scanner_app.gui.sounds import SoundPlayer
from scanner_app.gui.status_model import TierCount
from scanner_app.gui.widgets.hub_dialog import HubDialog
from scanner_app.gui.widgets.kiosk import KioskController
from scanner_app.gui.widgets.main_toolbar import MainToolbar
from scanner_app.gui.widgets.plain import PlainLabel
from scanner_app.gui.widgets.preview import CameraPreview, Polygon
from scanner_app.gui.widgets.search_panel import SearchPanel
from scanner_app.gui.widgets.settings_dialog import SettingsDialog
from scanner_app.gui.widgets.status_bar import StatusBar
from scanner_app.gui.widgets.undo_prompt import UndoFlow
from scanner_app.gui.widgets.verdict_panel import VerdictPanel
from scanner_app.sync.config import SETUP_PREFIX
from scanner_app.sync.state import ConnectionState, SyncStatus

log = logging.getLogger(__name__)
PREFERRED_SIZE = QSize(1280, 800)
REFRESH_MS = 5000


class MainWindow(QMainWindow):
    """The gate's window. ``submit_payload`` is the one entry for camera/wedge/typed scans."""

    # ScanResult dict, source ("camera", "wedge", "typed", "manual"), submit->shown ms
    scan_displayed = Signal(object, str, float)  # ScanResult, source, latency ms
    settings_changed = Signal(object, object)  # old Settings, new Settings
    setup_scanned = Signal(str, str)  # a hub's "tickitz-setup:" code, and its source
    sync_now_requested = Signal()  # staff pressed "Sync now"

    def __init__(
        self,
        node: Node,
        settings: Settings,
        *,
        settings_path: Path | None = None,
        sounds: SoundPlayer | None = None,
        wedge: WedgeFilter | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowIcon(assets.icon("app"))
        self.node = node
        self.settings = settings
        self.settings_path = settings_path
        self.sounds = sounds if sounds is not None else SoundPlayer(muted=not settings.sounds)
        self.wedge = wedge
        self.last_latency_ms: float | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.hub_dialog: HubDialog | None = None
        self.hub: HubController | None = None
        self._maximise = False
        self.events: list[dict[str, Any]] = []  # the node's events, as the worker last read
        # Where the Settings dialog puts the upstream key; the app sets the sync KeyStore.
        self.key_store: Callable[[Settings, str], bool] | None = None

        self.preview = CameraPreview()
        self.search = SearchPanel()
        self.verdict = VerdictPanel(hold_ms=settings.verdict_hold_ms, sounds=self.sounds, tz=tz)
        self.status = StatusBar()
        self.event_label = PlainLabel("", objectName="eventTitle")
        self._build_layout()
        self._build_toolbar()

        # Through self.settings each time: the Settings dialog replaces the object, and a
        # PIN set there must be the one that lets staff out.
        self.kiosk = KioskController(
            self,
            lambda pin: self.settings.check_kiosk_pin(pin),
            has_pin=lambda: bool(self.settings.kiosk_pin_hash),
        )
        self.kiosk.kiosk_changed.connect(self._on_kiosk_changed)
        self.kiosk.exit_refused.connect(
            lambda why: self.verdict.show_message("Kiosk mode", why, icon="warning")
        )

        self.client = NodeThread(node, self)
        worker = self.client.worker
        worker.scanned.connect(self._on_scanned)
        worker.searched.connect(self.search.set_results)
        worker.stats.connect(self._on_stats)
        worker.events.connect(self._on_events)
        worker.failed.connect(self._on_failed)
        # A bound method, not a lambda: a lambda would run on the worker thread, off the GUI's.
        worker.storage_failed.connect(self._on_storage_failed)
        self.search.search_requested.connect(self.client.search)
        self.search.payload_entered.connect(lambda p: self.submit_payload(p, "typed"))
        self.search.checkin_requested.connect(self.client.checkin_ticket)
        self.undo = UndoFlow(self.client, self.verdict, self)
        self.search.undo_requested.connect(self.undo.request)
        if wedge is not None:
            wedge.payload_scanned.connect(lambda p: self.submit_payload(p, "wedge"))
            # A garbled burst is still a scan: the node records it and says "Not a ticket".
            wedge.burst_rejected.connect(lambda text, _why: self.submit_payload(text, "wedge"))
            wedge.install()
        self.camera_view = CameraController(self.preview, self.status, self.submit_payload)
        # Check-ins also arrive from elsewhere (gates uploading to this hub, the CLI):
        # re-read the counters now and then, on the worker.
        self._refresh = QTimer(self, interval=REFRESH_MS)
        self._refresh.timeout.connect(self.client.refresh_events)
        self._refresh.start()
        self.apply_settings(settings)

    # --- construction --------------------------------------------------------------------
    def _build_layout(self) -> None:
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.event_label)
        side_layout.addWidget(self.search, 1)
        top = QHBoxLayout()
        top.addWidget(self.preview, 3)
        top.addWidget(side, 2)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(10, 10, 10, 6)
        layout.addLayout(top, 5)
        layout.addWidget(self.verdict, 4)
        self._body = layout
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(body, 1)
        outer.addWidget(self.status)
        self.setCentralWidget(central)
        if self.settings.window_width and self.settings.window_height:  # this person's size
            self.fit_to_screen(QSize(self.settings.window_width, self.settings.window_height))
        else:
            self.fit_to_screen()

    def fit_to_screen(self, preferred: QSize = PREFERRED_SIZE) -> None:
        """1280x800 where it fits; on a smaller screen (a 1366x768 door laptop) the
        whole available area, so the status bar along the bottom is never cut off."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(preferred)
            return
        room = screen.availableGeometry()
        # Leave room for the window manager's title bar and border.
        fits = preferred.width() + 16 <= room.width() and preferred.height() + 48 <= room.height()
        self.resize(preferred if fits else preferred.boundedTo(room.size() - QSize(16, 48)))
        self._maximise = not fits

    def show_fitted(self) -> None:
        """``show()``, maximised when the screen is smaller than the preferred size."""
        if self._maximise:
            self.showMaximized()
        else:
            self.show()

    def _build_toolbar(self) -> None:
        self.toolbar = MainToolbar(self)
        self.addToolBar(self.toolbar)
        bar = self.toolbar
        self.settings_action, self.sync_action = bar.settings_action, bar.sync_action
        self.hub_action, self.kiosk_action = bar.hub_action, bar.kiosk_action
        self.mute_action = bar.mute_action
        bar.settings_action.triggered.connect(self.open_settings)
        bar.mute_action.toggled.connect(self._set_muted)
        bar.kiosk_action.triggered.connect(self.enter_kiosk)
        bar.sync_action.triggered.connect(self.sync_now_requested)
        bar.hub_action.triggered.connect(self.open_hub)
        bar.leave_kiosk_action.triggered.connect(self.kiosk_exit_requested)

    # --- scanning ------------------------------------------------------------------------
    def submit_payload(
        self, payload: str, source: str = "camera", seen_at: float | None = None
    ) -> None:
        """Queue a scan on the node worker; the verdict arrives via ``_on_scanned``."""
        if payload.startswith(SETUP_PREFIX):
            self.setup_scanned.emit(payload, source)  # joining a hub, not a ticket
        elif payload:
            self.client.scan(payload, source, seen_at)

    def attach_camera(self, camera: CameraBridge | None) -> None:
        """Show ``camera``'s frames and scan what it decodes (None detaches)."""
        self.camera_view.attach(camera)

    @property
    def camera(self) -> CameraBridge | None:
        return self.camera_view.camera

    def show_frame(self, frame: np.ndarray, polygon: Polygon | None = None) -> None:
        self.camera_view.show_frame(frame, polygon)

    def set_camera_message(self, text: str) -> None:
        self.camera_view.set_message(text)

    def _on_scanned(self, result: ScanResult, source: str, submitted: float) -> None:
        self.verdict.show_result(result)
        self.last_latency_ms = (time.perf_counter() - submitted) * 1000
        self.scan_displayed.emit(result, source, self.last_latency_ms)
        if source == "manual":
            self.search.refresh()  # the list shows who is in: show it changed

    def _on_storage_failed(self, why: str) -> None:
        self.status.update_fields(storage_problem=why)

    def _on_failed(self, action: str, message: str) -> None:
        log.warning("%s failed: %s", action, message)
        self.verdict.show_message(f"Could not {action}", message, icon="warning")

    # --- status --------------------------------------------------------------------------
    def _on_stats(self, stats: dict) -> None:
        title = stats.get("eventTitle")
        if not title:
            title = "Waiting for the event…" if self.settings.event_id else "No event yet"
        self.event_label.setText(title)
        tiers = tuple(
            TierCount(t["tierName"], t["checkedIn"], t.get("quantity"))
            for t in stats.get("byTier", ())
        )
        self.status.update_fields(
            checked_in=stats.get("inside", stats.get("checkedIn", 0)) or 0,
            capacity=stats.get("capacity"),
            tiers=tiers,
            pending_uploads=stats.get("pendingUploads", 0),
        )

    # --- facade: what controllers ask of the window (they do not reach its children) ------
    def notify(
        self, title: str, detail: str = "", icon: str = "ready", *, hold: bool = True
    ) -> None:
        """A message in the verdict area ('Connected', 'Sync not set up'...)."""
        self.verdict.show_message(title, detail, icon, hold=hold)

    def use_provider(self, provider: CheckProvider | None) -> None:
        """The door's decision path from the next scan on (None: local)."""
        self.client.set_provider(provider)

    def show_sync(self, status: SyncStatus) -> None:
        """The sync engine's status in the status bar; after a round, re-read the counters
        (it may have brought the event, tickets or other gates' check-ins)."""
        synced = status.last_sync_at
        if synced is not None and synced != self.status.snapshot.last_sync_at:
            self.client.refresh_events()
        self.status.set_snapshot(self.status.snapshot.with_sync(status))

    def show_standalone(self) -> None:
        self.status.update_fields(connection=ConnectionState.STANDALONE, last_sync_at=None)

    def show_hub_address(self, url: str | None) -> None:
        self.status.update_fields(hub_address=url)

    # --- settings ------------------------------------------------------------------------
    def apply_settings(self, settings: Settings) -> None:
        """Push settings into the widgets and the worker (on start and after the dialog)."""
        self.settings = settings
        self.verdict.hold_ms = settings.verdict_hold_ms
        self.sounds.muted = not settings.sounds
        self.mute_action.setChecked(not settings.sounds)
        config = settings.node_config()
        self.client.configure(
            gate_config(
                config.gate_name,
                config.direction,
                config.event_id,
                config.allowed_tiers,
                event_ids=config.event_ids,
            )
        )
        mode = "Exit" if settings.direction == "out" else "Entry"
        self.status.update_fields(gate=f"{config.gate_name} ({mode})")
        self.search.set_private(config.private_names or self.node.kiosk_forced)
        self.setWindowTitle(f"Tickitz Scanner · {config.gate_name}")

    def open_settings(self) -> SettingsDialog | None:
        if self.kiosk.active:
            return None  # kiosk mode: no settings for whoever walks up
        dialog = SettingsDialog(
            self.settings,
            path=self.settings_path,
            events=self.events,
            key_store=self.key_store,
            wedge=self.wedge,
            parent=self,
        )
        dialog.settings_saved.connect(self._on_settings_saved)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _on_settings_saved(self, settings: Settings) -> None:
        old = self.settings
        self.apply_settings(settings)
        self.settings_changed.emit(old, settings)

    # --- hub -----------------------------------------------------------------------------
    def attach_hub(self, hub: HubController) -> None:
        """Offer 'Serve this venue…' (hidden in kiosk mode)."""
        self.hub = hub
        self.hub_action.setVisible(not self.kiosk.active)

    def open_hub(self) -> HubDialog | None:
        if self.hub is None or self.kiosk.active:
            return None
        if self.hub_dialog is None:
            self.hub_dialog = HubDialog(self.hub, self._event_choices(), parent=self)
        self.hub_dialog.show()
        self.hub_dialog.raise_()
        return self.hub_dialog

    def _event_choices(self) -> list[tuple[str, str]]:
        return [(e["id"], e["title"]) for e in self.events if e.get("status") != "cancelled"]

    def _on_events(self, events: list) -> None:
        """The worker re-read the events (start, settings, a sync round): keep a copy for
        the dialogs, so opening one never reads the database on this thread."""
        changed = events != self.events
        self.events = events
        if changed and self.hub_dialog is not None:
            self.hub_dialog.set_events(self._event_choices())

    def _set_muted(self, muted: bool) -> None:
        self.sounds.muted = muted

    # --- kiosk ---------------------------------------------------------------------------
    def enter_kiosk(self, *, force: bool = False) -> None:
        """Kiosk mode. From the toolbar it needs a PIN first, or staff would lock
        themselves out; ``--kiosk`` forces it (leave by restarting without the flag)."""
        if not self.settings.kiosk_pin_hash and not force:
            self.verdict.show_message("Set a kiosk PIN first", "Settings → Kiosk PIN")
            return
        self.kiosk.enter()

    def kiosk_exit_requested(self) -> None:
        self.kiosk.request_exit()

    def _on_kiosk_changed(self, active: bool) -> None:
        self.toolbar.show_for(kiosk=active, hub_offered=self.hub is not None)
        # Unattended: whoever walks up must not search attendees or check people in by hand.
        self.search.setVisible(not active)
        # In kiosk mode people read the verdict from further away: give it more room.
        self._body.setStretch(0, 4 if active else 5)
        self._body.setStretch(1, 5 if active else 4)

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        if event.key() == Qt.Key.Key_Escape and self.kiosk.active:
            self.kiosk.request_exit()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        if self.kiosk.guard_close(event):
            return
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop background work; queued scans still commit before the thread ends."""
        self._refresh.stop()
        if self.wedge is not None:
            self.wedge.uninstall()
        self.client.stop()
