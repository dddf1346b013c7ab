"""Manual entry: search attendees, check one in by hand, undo the last check-in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from scanner_app.gui.verdict import clock
from scanner_app.gui.widgets.plain import PlainLabel

SEARCH_DELAY_MS = 150  # wait for a pause in typing before hitting the index
TICKET_ROLE = Qt.ItemDataRole.UserRole
PRIVATE_NOTE = (
    "Private gate: attendee names are not kept here, so search finds ticket and booking"
    " ids only. A name shows when its ticket is scanned."
)


def looks_like_token(text: str) -> bool:
    """A pasted/typed QR payload (compact JWS: three base64url parts) rather than a search."""
    parts = text.strip().split(".")
    return len(parts) == 3 and len(text.strip()) > 40 and " " not in text.strip()


def door_text(row: Mapping[str, Any]) -> str:
    """'CANCELLED', 'IN since 19:32 at Gate 2', 'left (was in 19:32…)' or 'not in yet'."""
    if row.get("status") != "valid":
        return str(row.get("status") or "invalid").upper()
    at = clock(row.get("firstCheckedInAt"))
    where = f" at {row['firstScannedBy']}" if row.get("firstScannedBy") else ""
    if row.get("inside"):
        return f"IN since {at}{where}" if at else "IN"
    if at:
        return f"left (in {at}{where})"
    return "not in yet"


def result_text(row: Mapping[str, Any]) -> str:
    """Two lines: who, tier and door state; then the ticket and booking ids."""
    name = row.get("attendeeName") or "(no name)"
    ids = " · ".join(str(row[k]) for k in ("id", "bookingId") if row.get(k))
    return f"{name} · {row.get('tierName') or '-'} · {door_text(row)}\n{ids}"


class SearchPanel(QWidget):
    """Search field + results + 'Check in' and 'Undo last…' buttons.

    Emits requests only; the main window runs them on the node worker.
    """

    search_requested = Signal(str)
    payload_entered = Signal(str)  # a full ticket token typed or pasted in the field
    checkin_requested = Signal(str)  # ticket id
    undo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchPanel")
        self.field = QLineEdit(objectName="searchField")
        self.field.setPlaceholderText("Search name, ticket or booking id…")
        self.field.setClearButtonEnabled(True)
        self.results = QListWidget(objectName="searchResults")
        self.results.setAlternatingRowColors(True)
        self.hint = PlainLabel("", objectName="searchHint")
        self.hint.setWordWrap(True)
        self.private_note = PlainLabel(PRIVATE_NOTE, objectName="searchPrivateNote")
        self.private_note.setWordWrap(True)
        self.private_note.setVisible(False)
        self.checkin_button = QPushButton("Check in", objectName="primaryButton")
        self.checkin_button.setEnabled(False)
        self.undo_button = QPushButton("Undo last check-in…", objectName="undoButton")
        buttons = QHBoxLayout()
        buttons.addWidget(self.checkin_button, 1)
        buttons.addWidget(self.undo_button, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field)
        layout.addWidget(self.private_note)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)

        self._debounce = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self._search_now)
        self.field.textChanged.connect(self._on_text)
        self.field.returnPressed.connect(self._on_return)
        self.results.currentItemChanged.connect(self._on_selection)
        self.results.itemActivated.connect(self._on_activated)
        self.checkin_button.clicked.connect(self._checkin_selected)
        self.undo_button.clicked.connect(self.undo_requested)

    def set_private(self, private: bool) -> None:
        """A private gate (DESIGN.md §10) says why its search shows no names."""
        self.private_note.setVisible(private)
        self.field.setPlaceholderText(
            "Search ticket or booking id…" if private else "Search name, ticket or booking id…"
        )

    def selected_ticket(self) -> str | None:
        item = self.results.currentItem()
        return item.data(TICKET_ROLE) if item is not None else None

    def set_results(self, query: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Show rows for ``query``; answers for an outdated query are dropped."""
        if query != self.field.text().strip():
            return
        self.results.clear()
        for row in rows:
            item = QListWidgetItem(result_text(row))
            item.setData(TICKET_ROLE, row.get("id"))
            if row.get("status") != "valid":
                item.setForeground(QColor("#FF8A80"))
            elif row.get("inside"):
                item.setForeground(QColor("#FFD54F"))
            self.results.addItem(item)
        if rows:
            self.results.setCurrentRow(0)
        self.hint.setText("" if rows else f"No attendee matches “{query}”")
        self._on_selection()

    def clear(self) -> None:
        self.field.clear()
        self.results.clear()
        self.hint.clear()

    def _on_text(self, text: str) -> None:
        if looks_like_token(text):
            self._debounce.stop()
            self.hint.setText("Press Enter to scan this ticket")
            return
        if len(text.strip()) >= 2:
            self._debounce.start()
        else:
            self._debounce.stop()
            self.results.clear()
            self.hint.clear()
            self._on_selection()

    def _search_now(self) -> None:
        query = self.field.text().strip()
        if len(query) >= 2 and not looks_like_token(query):
            self.search_requested.emit(query)

    def refresh(self) -> None:
        """Search the current text again (e.g. after a check-in changed who is in)."""
        self._search_now()

    def _on_return(self) -> None:
        text = self.field.text().strip()
        if looks_like_token(text):
            self.field.clear()
            self.payload_entered.emit(text)
        else:
            self._debounce.stop()
            self._search_now()

    def _on_selection(self, *_: object) -> None:
        self.checkin_button.setEnabled(self.selected_ticket() is not None)

    def _on_activated(self, item: QListWidgetItem) -> None:
        self.checkin_requested.emit(item.data(TICKET_ROLE))

    def _checkin_selected(self) -> None:
        ticket = self.selected_ticket()
        if ticket:
            self.checkin_requested.emit(ticket)
