"""The scan screen's toolbar: settings, sync now, serve this venue, mute, kiosk in and out."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QSizePolicy, QToolBar, QWidget


class MainToolbar(QToolBar):
    """The actions; the window connects them. In kiosk mode only "Leave kiosk…" shows."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__("Main", parent, objectName="mainToolbar", movable=False)
        self.settings_action = QAction("Settings…", self, shortcut=QKeySequence("Ctrl+,"))
        self.mute_action = QAction("Mute", self, checkable=True, shortcut=QKeySequence("Ctrl+M"))
        self.kiosk_action = QAction("Kiosk mode", self)
        self.sync_action = QAction("Sync now", self, shortcut=QKeySequence("F5"))
        self.sync_action.setToolTip("Upload and download now, without waiting for the next round")
        self.hub_action = QAction("Serve this venue…", self, visible=False)
        self.leave_kiosk_action = QAction("Leave kiosk…", self, visible=False)
        for action in (
            self.settings_action,
            self.sync_action,
            self.hub_action,
            self.mute_action,
            self.kiosk_action,
        ):
            self.addAction(action)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(spacer)
        self.addAction(self.leave_kiosk_action)

    def show_for(self, *, kiosk: bool, hub_offered: bool) -> None:
        """Unattended, nobody may change settings, sync or serve: only leaving shows."""
        self.settings_action.setVisible(not kiosk)
        self.sync_action.setVisible(not kiosk)
        self.kiosk_action.setVisible(not kiosk)
        self.hub_action.setVisible(not kiosk and hub_offered)
        self.leave_kiosk_action.setVisible(kiosk)
