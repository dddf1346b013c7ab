"""The Settings dialog: edits a copy of Settings; Save writes the person's screen settings
and hands the node's part to whoever saves it in the data directory (the app)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from scanner_app.camera.decoders import DECODER_CHOICES
from scanner_app.core.errors import ValidationError
from scanner_app.gui.controllers.wedge_filter import WedgeFilter
from scanner_app.gui.settings import Settings, address_problem
from scanner_app.gui.widgets.plain import PlainLabel, make_plain
from scanner_app.gui.widgets.scanner_test import ScannerTestDialog

KeyStore = Callable[[Settings, str], bool]


def _spin(low: int, high: int, value: int, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    # The stylesheet hides the arrow buttons (see style.qss); the value needs the inset
    # the QLineEdits have.
    box.lineEdit().setTextMargins(7, 0, 0, 0)
    box.setRange(low, high)
    box.setValue(value)
    box.setSuffix(suffix)
    return box


def _seconds(low: float, high: float, value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox(decimals=1)
    box.lineEdit().setTextMargins(7, 0, 0, 0)
    box.setRange(low, high)
    box.setValue(value)
    box.setSuffix(" s")
    return box


class SettingsDialog(QDialog):
    """Form over every persisted setting. Secrets are write-only fields.

    ``key_store(settings, key) -> bool`` keeps the upstream key (the app passes the sync
    layer's KeyStore); without one the key field is disabled. ``settings_saved``
    carries the new Settings after the screen part is written to ``path``; the node's
    part (``Settings.node_config()``) is saved by the receiver, off the GUI thread.
    """

    settings_saved = Signal(object)

    def __init__(
        self,
        settings: Settings,
        *,
        path: Path | None = None,
        events: Sequence[Mapping[str, Any]] = (),
        key_store: KeyStore | None = None,
        wedge: WedgeFilter | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self._original = settings
        self._path = path
        self._key_store = key_store
        self._wedge = wedge
        self.scanner_test: ScannerTestDialog | None = None
        self.test_scanner_button = QPushButton("Test your scanner…")
        self.test_scanner_button.clicked.connect(self.open_scanner_test)
        self.result_settings: Settings | None = None
        s = settings

        self.camera_edit = QLineEdit(s.camera, placeholderText="0, 1… or rtsp://… or a file")
        self.width_spin = _spin(160, 7680, s.camera_width)
        self.height_spin = _spin(120, 4320, s.camera_height)
        resolution = QHBoxLayout()
        resolution.addWidget(self.width_spin, 1)
        resolution.addWidget(PlainLabel("×"))
        resolution.addWidget(self.height_spin, 1)
        self.decoder_combo = QComboBox()
        self.decoder_combo.addItems(DECODER_CHOICES)
        self.decoder_combo.setCurrentText(s.decoder)
        self.gate_edit = QLineEdit(s.gate_name)
        # Events by title, not a typed "evt_…" id: the node's events as the worker read them.
        self._events = {e["id"]: e for e in events}
        self.event_combo = QComboBox()
        self.event_combo.addItem("Any event on this laptop", "")
        for event in events:
            self.event_combo.addItem(f"{event['title']} ({event['id']})", event["id"])
        if s.event_id and s.event_id not in self._events:
            self.event_combo.addItem(f"{s.event_id} (not synced yet)", s.event_id)
        self.event_combo.setCurrentIndex(max(0, self.event_combo.findData(s.event_id)))
        if len(s.base.event_ids) > 1 and s.event_id == s.base.event_id:  # `connect --event` x2
            chosen = ", ".join(s.base.event_ids)
            self.event_combo.setItemText(self.event_combo.currentIndex(), f"{chosen} (as set up)")
        self.tiers_edit = QLineEdit(", ".join(s.allowed_tiers))
        self.direction_combo = QComboBox()
        self.direction_combo.addItem("Entry", "in")
        self.direction_combo.addItem("Exit", "out")
        self.direction_combo.setCurrentIndex(0 if s.direction == "in" else 1)
        self.event_combo.currentIndexChanged.connect(self._on_event)
        self._on_event()
        self.upstream_edit = QLineEdit(s.upstream_url, placeholderText="http://hub.local:8765")
        self.key_edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(
            "stored (type to replace)" if s.upstream_key_stored else "API key"
        )
        self.key_edit.setEnabled(key_store is not None)
        # As `connect --interval` allows: a gate set up from the CLI keeps its interval.
        self.sync_spin = _seconds(0.5, 3600, s.sync_interval_s)
        self.strict_check = QCheckBox("Strict online mode (ask the upstream for every scan)")
        self.strict_check.setChecked(s.strict_online)
        self.sounds_check = QCheckBox("Play sounds")
        self.sounds_check.setChecked(s.sounds)
        self.hold_spin = _spin(500, 60_000, s.verdict_hold_ms, " ms")
        self.hold_spin.setSingleStep(250)
        self.kiosk_check = QCheckBox("Start in kiosk mode")
        self.kiosk_check.setChecked(s.kiosk)
        # DESIGN.md §10 "private": a stolen laptop shows only names of tickets shown to it.
        self.private_combo = QComboBox()
        self.private_combo.addItem("Every guest's, except in kiosk mode (default)", "auto")
        self.private_combo.addItem("Only of tickets scanned here (no guest list kept)", "on")
        self.private_combo.addItem("Every guest's, in kiosk mode too", "off")
        self.private_combo.setCurrentIndex(max(0, self.private_combo.findData(s.private)))
        self.private_combo.setToolTip(
            "Names are always encrypted on disk. Kept only of tickets scanned here, a lost"
            " laptop gives away no guest list, and search finds tickets by id only."
        )
        self.pin_edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.pin_edit.setPlaceholderText("unchanged" if s.kiosk_pin_hash else "not set")
        self.pin_confirm = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.error_label = PlainLabel("", objectName="settingsError")
        self.error_label.setStyleSheet("color: #FF8A80;")
        self.error_label.hide()

        form = QFormLayout()
        form.addRow("Camera", self.camera_edit)
        form.addRow("Resolution", resolution)
        form.addRow("Decoder", self.decoder_combo)
        form.addRow("USB scanner", self.test_scanner_button)
        form.addRow("Gate name", self.gate_edit)
        form.addRow("Event", self.event_combo)
        form.addRow("Allowed tiers", self.tiers_edit)
        form.addRow("Mode", self.direction_combo)
        form.addRow("Upstream URL", self.upstream_edit)
        form.addRow("Upstream key", self.key_edit)
        form.addRow("Sync every", self.sync_spin)
        form.addRow("", self.strict_check)
        form.addRow("", self.sounds_check)
        form.addRow("Verdict shown for", self.hold_spin)
        form.addRow("", self.kiosk_check)
        form.addRow("Kiosk PIN", self.pin_edit)
        form.addRow("Repeat PIN", self.pin_confirm)
        form.addRow("Attendee names", self.private_combo)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        make_plain(self)  # the form's row labels too

    def open_scanner_test(self) -> ScannerTestDialog:
        self.scanner_test = ScannerTestDialog(self._wedge, parent=self)
        self.scanner_test.open()
        return self.scanner_test

    def collect(self) -> Settings:
        """A new Settings from the form (secrets not yet applied)."""
        s = copy.deepcopy(self._original)
        s.camera = self.camera_edit.text().strip() or "0"
        s.camera_width = self.width_spin.value()
        s.camera_height = self.height_spin.value()
        s.decoder = self.decoder_combo.currentText()
        s.gate_name = self.gate_edit.text().strip()
        s.event_id = self.event_combo.currentData() or ""
        s.allowed_tiers = [t.strip() for t in self.tiers_edit.text().split(",") if t.strip()]
        s.direction = self.direction_combo.currentData()
        s.upstream_url = self.upstream_edit.text().strip()
        s.sync_interval_s = self.sync_spin.value()
        s.strict_online = self.strict_check.isChecked()
        s.sounds = self.sounds_check.isChecked()
        s.verdict_hold_ms = self.hold_spin.value()
        s.kiosk = self.kiosk_check.isChecked()
        s.private = self.private_combo.currentData()
        return s

    def _chosen_events(self) -> list[Mapping[str, Any]]:
        event_id = self.event_combo.currentData()
        if event_id:
            return [self._events[event_id]] if event_id in self._events else []
        return list(self._events.values())

    def _on_event(self, *_: object) -> None:
        """Tier hint from the chosen event; Exit only for events that allow re-entry."""
        events = self._chosen_events()
        tiers: list[str] = []
        for event in events:
            tiers += [t["name"] for t in event.get("tiers", ()) if t["name"] not in tiers]
        hint = ", ".join(tiers) if tiers else "comma-separated"
        self.tiers_edit.setPlaceholderText(f"All tiers ({hint})")
        reentry = any(e.get("settings", {}).get("allowReentry") for e in events)
        unknown = bool(self.event_combo.currentData()) and not events  # not synced yet
        self.direction_combo.setEnabled(reentry or unknown)
        if not (reentry or unknown):
            self.direction_combo.setCurrentIndex(0)
            self.direction_combo.setToolTip("Exit scans need an event that allows re-entry")
        else:
            self.direction_combo.setToolTip("")

    def _fail(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def save(self) -> None:
        """Validate, apply secrets, write the file, emit ``settings_saved`` and close."""
        s = self.collect()
        pin, again = self.pin_edit.text(), self.pin_confirm.text()
        if pin or again:
            if pin != again:
                self._fail("The two PINs differ")
                return
            if len(pin) < 4:
                self._fail("The PIN needs at least 4 characters")
                return
            s.set_kiosk_pin(pin)
        problem = address_problem(s.upstream_url) if s.upstream_url else None
        if problem:
            self._fail(f"Upstream URL: {problem}")
            return
        if s.kiosk and not s.kiosk_pin_hash:
            self._fail("Set a kiosk PIN before turning kiosk mode on")
            return
        key = self.key_edit.text().strip()
        try:
            s.node_config()
        except ValidationError as exc:
            self._fail(exc.message)
            return
        if key and self._key_store is not None:
            if not self._key_store(s, key):
                self._fail("Could not store the key (see the log)")
                return
            s.upstream_key_stored = True
        s.save_screen(self._path)
        self.result_settings = s
        self.settings_saved.emit(s)
        self.accept()
