"""'Serve this venue': start the embedded hub, show its address, keys and gate setup QRs."""

from __future__ import annotations

import io
from collections.abc import Sequence

import segno
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from scanner_app.core.errors import ValidationError
from scanner_app.gui.controllers.hub_controller import LOOPBACK, HubController, lan_address
from scanner_app.gui.widgets.plain import PlainLabel, make_plain
from scanner_app.sync import parse_setup

QR_SCALE = 5  # pixels per module: a phone or webcam reads it from a laptop screen


def qr_pixmap(text: str, scale: int = QR_SCALE) -> QPixmap:
    """A QR code of ``text`` (level M, as the tickets use) as a pixmap."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


def setup_hint(*, pinned: bool) -> str:
    return (
        "On the new gate: Welcome → Scan at a gate → hold this QR up to its camera (or copy"
        " the setup text into it). The code works once, for one gate, for 15 minutes; it holds"
        " no key" + (" and pins this hub's certificate." if pinned else ".")
    )


def text_pins(text: str) -> bool:
    try:
        return parse_setup(text).fp is not None
    except ValidationError:
        return False


def _readonly(text: str = "") -> QLineEdit:
    edit = QLineEdit(text)
    edit.setReadOnly(True)
    return edit


def _copy_button(edit: QLineEdit) -> QPushButton:
    button = QPushButton("Copy")
    button.clicked.connect(lambda: QGuiApplication.clipboard().setText(edit.text()))
    return button


class HubDialog(QDialog):
    """Non-modal: the organiser keeps it open while gates are set up. Nothing here
    blocks: the hub answers through its signals."""

    def __init__(
        self,
        hub: HubController,
        events: Sequence[tuple[str, str]],  # (event id, title)
        *,
        port: int = 8765,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("hubDialog")
        self.setWindowTitle("Serve this venue")
        self.hub = hub
        self.error: str = ""
        # Where to listen: this laptop only (the default, as `serve`), or the venue network
        # through this machine's LAN address, shown so staff know what gates will type.
        self.address_combo = QComboBox(objectName="hubAddress")
        self.address_combo.addItem(f"This laptop only ({LOOPBACK})", LOOPBACK)
        lan = lan_address()
        if lan != LOOPBACK:
            self.address_combo.addItem(f"The venue network ({lan})", lan)
        else:
            self.address_combo.addItem("The venue network (no network found)", None)
            self.address_combo.model().item(1).setEnabled(False)
        self.port_spin = QSpinBox(objectName="hubPort")
        self.port_spin.lineEdit().setTextMargins(7, 0, 0, 0)
        self.port_spin.setRange(0, 65535)  # 0: any free port
        self.port_spin.setSpecialValueText("any free port")
        self.port_spin.setValue(port)
        where = QHBoxLayout()
        where.addWidget(self.address_combo, 1)
        where.addWidget(PlainLabel("port"))
        where.addWidget(self.port_spin)
        self.state_label = PlainLabel(objectName="hubState")
        self.state_label.setWordWrap(True)
        self.serve_button = QPushButton(objectName="primaryButton")
        self.serve_button.clicked.connect(self.toggle)

        self.organiser_button = QPushButton("New organiser key")
        self.organiser_button.clicked.connect(self.new_organiser_key)
        self.organiser_key = _readonly()
        self.organiser_key.setPlaceholderText("Shown once: it opens the dashboard")
        # Wide enough to read a whole key (tk_live_ + 43 characters) before copying it.
        sample = "tk_live_" + "W" * 36
        self.organiser_key.setMinimumWidth(self.fontMetrics().horizontalAdvance(sample))
        keys = QGroupBox("Organiser")
        keys_layout = QHBoxLayout(keys)
        keys_layout.addWidget(self.organiser_key, 1)
        keys_layout.addWidget(_copy_button(self.organiser_key))
        keys_layout.addWidget(self.organiser_button)

        self.gate_edit = QLineEdit("Gate 2")
        self.event_combo = QComboBox()
        self.add_gate_button = QPushButton("Add gate")
        self.add_gate_button.clicked.connect(self.add_gate)
        self.set_events(events)
        self.setup_text = _readonly()
        self.setup_hint = PlainLabel(setup_hint(pinned=True))
        self.setup_hint.setWordWrap(True)
        # The QR is shown whole, never squeezed: a clipped finder pattern does not scan.
        self.setup_qr = PlainLabel(objectName="setupQr")
        self.setup_qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        form = QFormLayout()
        form.addRow("Gate name", self.gate_edit)
        form.addRow("Event", self.event_combo)
        form.addRow("", self.add_gate_button)
        setup_row = QHBoxLayout()
        setup_row.addWidget(self.setup_text, 1)
        setup_row.addWidget(_copy_button(self.setup_text))
        form.addRow("Setup text", setup_row)
        form.addRow(self.setup_hint)
        gates = QGroupBox("Add a gate")
        gates_layout = QHBoxLayout(gates)
        gates_layout.addLayout(form, 1)
        gates_layout.addWidget(self.setup_qr, 0, Qt.AlignmentFlag.AlignTop)

        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)  # grows to fit
        layout.addWidget(self.state_label)
        layout.addLayout(where)
        layout.addWidget(self.serve_button)
        layout.addWidget(keys)
        layout.addWidget(gates)
        hub.changed.connect(self._refresh)
        hub.busy_changed.connect(self._refresh)
        hub.failed.connect(self._on_failed)
        hub.organiser_key_made.connect(self.organiser_key.setText)
        hub.gate_made.connect(self._show_setup)
        self._refresh()
        make_plain(self)  # the form's row labels too

    def set_events(self, events: Sequence[tuple[str, str]]) -> None:
        """(event id, title) pairs; the current choice stays selected if still there."""
        current = self.event_combo.currentData()
        self.event_combo.clear()
        for event_id, title in events:
            self.event_combo.addItem(title, event_id)
        index = self.event_combo.findData(current)
        if index >= 0:
            self.event_combo.setCurrentIndex(index)
        self._refresh()

    def toggle(self) -> None:
        self.error = ""
        if self.hub.running:
            self.hub.stop_async()
        else:
            self.hub.start_async(host=self.host, port=self.port)
        self._refresh()

    @property
    def host(self) -> str:
        return self.address_combo.currentData() or LOOPBACK

    @property
    def port(self) -> int:
        return self.port_spin.value()

    @port.setter
    def port(self, value: int) -> None:
        self.port_spin.setValue(value)

    def new_organiser_key(self) -> None:
        self.hub.organiser_key_async()

    def add_gate(self) -> None:
        gate = self.gate_edit.text().strip() or "Gate"
        event_id = self.event_combo.currentData()
        if not event_id:
            self.setup_text.setText("")
            self.setup_hint.setText("Create or import an event first.")
            return
        self.hub.new_gate_async(gate, event_id)

    def _show_setup(self, text: str) -> None:
        self.setup_text.setText(text)
        # What this code does: on loopback the hub speaks plain HTTP and pins nothing (and a
        # "Create or import an event first." from an earlier try is no longer true).
        self.setup_hint.setText(setup_hint(pinned=text_pins(text)))
        pixmap = qr_pixmap(text)
        self.setup_qr.setPixmap(pixmap)
        self.setup_qr.setMinimumSize(pixmap.size())

    def _on_failed(self, message: str) -> None:
        self.error = message
        self._refresh()

    def _refresh(self, *_: object) -> None:
        running, busy = self.hub.running, self.hub.busy
        if busy:
            text = "Stopping…" if running else "Starting the hub…"
        elif running and self.hub.host == LOOPBACK:
            text = (
                f"Serving at {self.hub.public_url}: only this laptop can reach it (the"
                " dashboard is at /). For gates on other laptops, stop, choose the venue"
                " network and serve again."
            )
        elif running:
            text = (
                f"Serving the venue network at {self.hub.public_url}: gates on this network"
                " connect here (the dashboard is at /)."
            )
        else:
            text = "Not serving. Gates cannot reach this laptop."
        if self.error:
            text += f"\n{self.error}"
        self.state_label.setText(text)
        self.serve_button.setText("Stop serving" if running else "Serve this venue")
        self.serve_button.setEnabled(not busy)
        self.address_combo.setEnabled(not running and not busy)
        self.port_spin.setEnabled(not running and not busy)
        self.organiser_button.setEnabled(running and not busy)
        self.add_gate_button.setEnabled(running and not busy and self.event_combo.count() > 0)
