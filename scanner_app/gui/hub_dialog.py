"""'Serve this venue': start the embedded hub, show its address, keys and gate setup QRs."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

import segno
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from scanner_app.gui.services import HubService

log = logging.getLogger(__name__)


def qr_pixmap(text: str, scale: int = 5) -> QPixmap:
    """A QR code of ``text`` (level M, as the tickets use) as a pixmap."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


def _readonly(text: str = "") -> QLineEdit:
    edit = QLineEdit(text)
    edit.setReadOnly(True)
    return edit


class HubDialog(QDialog):
    """Non-modal: the organiser keeps it open while gates are set up."""

    def __init__(
        self,
        hub: HubService,
        events: Sequence[tuple[str, str]],  # (event id, title)
        *,
        port: int = 8765,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("hubDialog")
        self.setWindowTitle("Serve this venue")
        self.hub = hub
        self.port = port
        self.state_label = QLabel(objectName="hubState")
        self.state_label.setWordWrap(True)
        self.serve_button = QPushButton(objectName="primaryButton")
        self.serve_button.clicked.connect(self.toggle)

        self.organiser_button = QPushButton("New organiser key")
        self.organiser_button.clicked.connect(self.new_organiser_key)
        self.organiser_key = _readonly()
        self.organiser_key.setPlaceholderText("shown once; opens the dashboard")
        keys = QGroupBox("Organiser")
        keys_layout = QHBoxLayout(keys)
        keys_layout.addWidget(self.organiser_key, 1)
        keys_layout.addWidget(self.organiser_button)

        self.gate_edit = QLineEdit("Gate 2")
        self.event_combo = QComboBox()
        self.set_events(events)
        self.add_gate_button = QPushButton("Add gate")
        self.add_gate_button.clicked.connect(self.add_gate)
        self.setup_qr = QLabel(objectName="setupQr")
        self.setup_qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setup_text = _readonly()
        self.setup_hint = QLabel(
            "On the new gate: first-run → Connect → scan this QR with its camera."
        )
        self.setup_hint.setWordWrap(True)
        gates = QGroupBox("Add a gate")
        form = QFormLayout(gates)
        form.addRow("Gate name", self.gate_edit)
        form.addRow("Event", self.event_combo)
        form.addRow("", self.add_gate_button)
        form.addRow(self.setup_qr)
        form.addRow("Setup text", self.setup_text)
        form.addRow(self.setup_hint)

        layout = QVBoxLayout(self)
        layout.addWidget(self.state_label)
        layout.addWidget(self.serve_button)
        layout.addWidget(keys)
        layout.addWidget(gates)
        hub.changed.connect(self._refresh)
        self._refresh()

    def set_events(self, events: Sequence[tuple[str, str]]) -> None:
        """(event id, title) pairs; the current choice stays selected if still there."""
        current = self.event_combo.currentData()
        self.event_combo.clear()
        for event_id, title in events:
            self.event_combo.addItem(title, event_id)
        index = self.event_combo.findData(current)
        if index >= 0:
            self.event_combo.setCurrentIndex(index)

    def toggle(self) -> None:
        if self.hub.running:
            self.hub.stop()
            return
        try:
            self.hub.start(port=self.port)
        except Exception as exc:  # port taken, no permission...: say it, keep the app up
            log.warning("Hub did not start: %s", exc)
            self.state_label.setText(f"Could not serve on port {self.port}: {exc}")

    def new_organiser_key(self) -> None:
        self.organiser_key.setText(self.hub.organiser_key())

    def add_gate(self) -> None:
        gate = self.gate_edit.text().strip() or "Gate"
        event_id = self.event_combo.currentData()
        if not event_id:
            self.setup_text.setText("")
            self.setup_hint.setText("Create or import an event first.")
            return
        text = self.hub.new_gate(gate, event_id)
        self.setup_text.setText(text)
        self.setup_qr.setPixmap(qr_pixmap(text))

    def _refresh(self, *_: object) -> None:
        running = self.hub.running
        if running:
            self.state_label.setText(
                f"Serving this venue at <b>{self.hub.public_url}</b> "
                "(gates on this network connect here; the dashboard is at /)."
            )
        else:
            self.state_label.setText("Not serving. Gates cannot reach this laptop.")
        self.serve_button.setText("Stop serving" if running else "Serve this venue")
        for widget in (self.organiser_button, self.add_gate_button):
            widget.setEnabled(running)
