"""Undo of the last check-in: ask the node what it was, confirm, then void it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from scanner_app.core.models import UndoResult
from scanner_app.gui.controllers.node_worker import NodeThread
from scanner_app.gui.verdict import clock
from scanner_app.gui.widgets.plain import message_box
from scanner_app.gui.widgets.verdict_panel import VerdictPanel


class UndoFlow(QObject):
    """``request()`` starts it; a non-blocking confirmation (default No) guards the void."""

    def __init__(self, client: NodeThread, verdict: VerdictPanel, window: QWidget) -> None:
        super().__init__(window)
        self.client = client
        self.verdict = verdict
        self.window = window
        self.box: QMessageBox | None = None
        self._pending: dict[str, Any] | None = None
        client.worker.last_checkin.connect(self._confirm)
        client.worker.undone.connect(self._done)

    def request(self) -> None:
        self.client.find_last_checkin()

    def _confirm(self, last: Mapping[str, Any] | None) -> None:
        if last is None:
            self.verdict.show_message("Nothing to undo", "No check-in at this gate yet")
            return
        self._pending = dict(last)
        who = last.get("attendee_name") or last.get("ticket_id")
        when = clock(last.get("scanned_at"))
        box = message_box(
            QMessageBox.Icon.Question,
            "Undo check-in",
            f"Undo the check-in of {who} ({last.get('tier_name') or '-'}) at {when}?\n"
            "The ticket can then be scanned again.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self.window,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)  # Enter must not undo by accident
        box.finished.connect(self._answered)
        self.box = box
        box.open()

    def _answered(self, answer: int) -> None:
        pending, self._pending = self._pending, None
        if answer == QMessageBox.StandardButton.Yes and pending:
            self.client.undo(pending["id"])

    def _done(self, answer: UndoResult) -> None:
        who = answer.attendee_name or answer.ticket_id or ""
        self.verdict.show_message("Check-in undone", who, icon="exit")
