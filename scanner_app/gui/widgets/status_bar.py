"""The always-visible status strip: counts, gate, connection, uploads, fps, hub address."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QWidget

from scanner_app.gui.status_model import (
    StatusSnapshot,
    connection_text,
    count_text,
    first_sync_detail,
    link_text,
    pending_text,
)
from scanner_app.gui.widgets.plain import PlainLabel, plain_tooltip
from scanner_app.sync.state import ConnectionState


class StatusBar(QFrame):
    """Renders a StatusSnapshot; re-renders every second so the sync age stays true."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self._clock = clock
        self._snapshot = StatusSnapshot()
        self.count_label = PlainLabel(objectName="count")
        self.tiers_label = PlainLabel(objectName="tiers")
        self.gate_label = PlainLabel(objectName="gate")
        self.connection_label = PlainLabel(objectName="connection")
        self.pending_label = PlainLabel(objectName="pending")
        self.fps_label = PlainLabel(objectName="fps")
        self.hub_label = PlainLabel(objectName="hub")
        # Storage failures name a file and a cause written by the OS: plain text, never markup.
        self.storage_label = PlainLabel(objectName="storage")
        self.link_label = PlainLabel(objectName="link")
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.setSpacing(4)
        for label in (self.count_label, self.tiers_label, self.gate_label, self.storage_label):
            row.addWidget(label)
        row.addStretch(1)
        labels = (self.hub_label, self.pending_label, self.link_label, self.connection_label)
        for label in (*labels, self.fps_label):
            row.addWidget(label)
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self._render)
        self._tick.start()
        self._render()

    @property
    def snapshot(self) -> StatusSnapshot:
        return self._snapshot

    def set_snapshot(self, snapshot: StatusSnapshot | Mapping[str, Any]) -> None:
        """Replace the whole snapshot (a StatusSnapshot or a dict for it)."""
        if not isinstance(snapshot, StatusSnapshot):
            snapshot = StatusSnapshot.from_mapping(snapshot)
        self._snapshot = snapshot
        self._render()

    def update_fields(self, **changes: Any) -> None:
        """Change a few fields, e.g. ``update_fields(camera_fps=29.7)``."""
        self.set_snapshot(self._snapshot.with_changes(**changes))

    def _render(self) -> None:
        s = self._snapshot
        self.count_label.setText(f"In: {count_text(s.checked_in, s.capacity)}")
        tiers = " · ".join(f"{t.name} {count_text(t.checked_in, t.capacity)}" for t in s.tiers)
        self.tiers_label.setText(tiers)
        tip = "\n".join(f"{t.name}: {count_text(t.checked_in, t.capacity)}" for t in s.tiers)
        self.count_label.setToolTip(plain_tooltip(tip or "No tiers yet"))
        self.gate_label.setText(f"Gate: {s.gate}" if s.gate else "No gate")
        self.connection_label.setText(connection_text(s, self._clock()))
        detail = [first_sync_detail(s.first_sync)] if s.first_sync else []
        tip = "\n".join(filter(None, [*detail, s.sync_detail]))
        self.connection_label.setToolTip(plain_tooltip(tip))
        state = s.shown_connection.value  # a plain str: the QSS selector compares it
        if self.connection_label.property("state") != state:
            # Dynamic-property selectors in the QSS need a re-polish to take effect.
            self.connection_label.setProperty("state", state)
            self.connection_label.style().unpolish(self.connection_label)
            self.connection_label.style().polish(self.connection_label)
        self.pending_label.setText(pending_text(s))
        why = f"Not uploaded, kept here (see the export): {s.set_aside_reason}"
        self.pending_label.setToolTip(plain_tooltip(why if s.set_aside else ""))
        # Without an upstream nothing is ever uploaded: "pending" would only alarm people.
        self.pending_label.setVisible(s.connection is not ConnectionState.STANDALONE)
        self.fps_label.setText(
            f"{s.camera_fps:.0f} fps" if s.camera_fps is not None else "No camera"
        )
        self.hub_label.setText(f"Hub: {s.hub_address}" if s.hub_address else "")
        self.hub_label.setVisible(bool(s.hub_address))
        self.storage_label.setText(f"Not recording: {s.storage_problem}")
        self.storage_label.setToolTip(plain_tooltip(s.storage_problem))
        self.storage_label.setVisible(bool(s.storage_problem))
        link = link_text(s)
        self.link_label.setText(link[0] if link else "")
        self.link_label.setToolTip(link[1] if link else "")
        self.link_label.setProperty("secure", s.link in ("pinned", "tls"))
        self.link_label.setVisible(link is not None)
        self._fit()

    def _fit(self) -> None:
        """Drop the per-tier row when the bar is too narrow; the count's tooltip keeps it."""
        if not self.tiers_label.text():
            self.tiers_label.hide()
            return
        others = (
            self.count_label,
            self.gate_label,
            self.hub_label,
            self.pending_label,
            self.link_label,
            self.connection_label,
            self.fps_label,
        )
        needed = sum(w.sizeHint().width() + 4 for w in others if not w.isHidden())
        needed += self.tiers_label.sizeHint().width() + 24
        self.tiers_label.setVisible(needed <= self.width())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._fit()
