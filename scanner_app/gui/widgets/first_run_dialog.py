"""First run: connect to a hub or central, run as the venue hub, or open the demo."""

from __future__ import annotations

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from scanner_app.core.models import DEFAULT_GATE
from scanner_app.gui.widgets.plain import PlainLabel, make_plain
from scanner_app.sync.config import SETUP_PREFIX


class FirstRunDialog(QDialog):
    """Non-modal, so the camera keeps scanning behind it: a hub's setup QR held up to
    the camera connects this gate (the app closes the dialog when that succeeds)."""

    connect_requested = Signal(str, str, str, str)  # url, key, event id, gate
    setup_entered = Signal(str)  # pasted "tickitz-setup:..." text
    hub_requested = Signal()
    demo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunDialog")
        self.setWindowTitle("Welcome to Tickitz Scanner")
        self.choice: str | None = None
        self.pages = QStackedWidget()
        self.pages.addWidget(self._choices())
        self.pages.addWidget(self._connect_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        self.resize(560, 380)
        make_plain(self)  # the form's row labels too

    def _choices(self) -> QWidget:
        page = QWidget()
        title = PlainLabel("How will this laptop be used?", objectName="firstRunTitle")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        self.connect_button = QPushButton("Scan at a gate: connect to a hub or Tickitz")
        self.connect_button.setObjectName("primaryButton")
        self.hub_button = QPushButton("Run as the venue hub (other gates connect here)")
        self.demo_button = QPushButton("Open the demo (no camera or server needed)")
        self.connect_button.clicked.connect(lambda: self.pages.setCurrentIndex(1))
        self.hub_button.clicked.connect(lambda: self._choose("hub", self.hub_requested))
        self.demo_button.clicked.connect(lambda: self._choose("demo", self.demo_requested))
        layout = QVBoxLayout(page)
        layout.addWidget(title)
        for button in (self.connect_button, self.hub_button, self.demo_button):
            button.setMinimumHeight(48)
            layout.addWidget(button)
        layout.addStretch(1)
        return page

    def _connect_page(self) -> QWidget:
        page = QWidget()
        hint = PlainLabel(
            "Hold the hub's setup QR up to the camera, scan it with the USB "
            "scanner, or paste its text. Or type the address and key by hand."
        )
        hint.setWordWrap(True)
        self.setup_edit = QLineEdit(placeholderText=f"{SETUP_PREFIX}…")
        self.url_edit = QLineEdit(placeholderText="http://192.168.1.20:8765")
        self.key_edit = QLineEdit(placeholderText="tk_live_…")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.event_edit = QLineEdit(placeholderText="evt_… (blank: every event)")
        self.gate_edit = QLineEdit(DEFAULT_GATE)
        self.error_label = PlainLabel("", objectName="firstRunError")
        self.error_label.setStyleSheet("color: #FF8A80;")
        self.error_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Setup text", self.setup_edit)
        form.addRow("Upstream URL", self.url_edit)
        form.addRow("API key", self.key_edit)
        form.addRow("Event", self.event_edit)
        form.addRow("Gate name", self.gate_edit)
        back = QPushButton("Back")
        back.clicked.connect(lambda: self.pages.setCurrentIndex(0))
        self.go_button = QPushButton("Connect", objectName="primaryButton")
        self.go_button.clicked.connect(self.submit)
        buttons = QHBoxLayout()
        buttons.addWidget(back)
        buttons.addStretch(1)
        buttons.addWidget(self.go_button)
        layout = QVBoxLayout(page)
        layout.addWidget(hint)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        return page

    def submit(self) -> None:
        setup = self.setup_edit.text().strip()
        if setup:
            self.choice = "connect"
            self.setup_entered.emit(setup)
            return
        url, key = self.url_edit.text().strip(), self.key_edit.text().strip()
        if not url or not key:
            self.error_label.setText("Give the setup text, or both the URL and the key")
            return
        self.choice = "connect"
        self.connect_requested.emit(
            url, key, self.event_edit.text().strip(), self.gate_edit.text().strip()
        )

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)

    def set_busy(self, busy: bool) -> None:
        """While the app asks the hub whether it takes the key."""
        self.go_button.setEnabled(not busy)
        self.go_button.setText("Connecting…" if busy else "Connect")
        if busy:
            self.error_label.setText("")

    def _choose(self, choice: str, signal: SignalInstance) -> None:
        self.choice = choice
        signal.emit()
        self.accept()
