"""The full-width verdict panel: colour + icon + words, readable from two metres."""

from __future__ import annotations

from datetime import tzinfo

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from scanner_app.core.models import ScanResult
from scanner_app.gui import assets
from scanner_app.gui.sounds import SoundPlayer
from scanner_app.gui.verdict import READY, Kind, Verdict, verdict_for
from scanner_app.gui.widgets.plain import PlainLabel

DEFAULT_HOLD_MS = 3000
MESSAGE_HOLD_MS = 6000  # the least time a message stays up


class VerdictPanel(QFrame):
    """Shows the latest verdict, then falls back to Ready after ``hold_ms``.

    ``show_result`` takes a ScanResult (DESIGN.md section 4). A new result replaces
    the current one immediately and restarts the hold timer.
    """

    verdict_shown = Signal(object)  # Verdict, after it is applied to the widgets

    def __init__(
        self,
        *,
        hold_ms: int = DEFAULT_HOLD_MS,
        sounds: SoundPlayer | None = None,
        tz: tzinfo | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("verdictPanel")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(160)
        self.sounds = sounds
        self._tz = tz
        self._verdict = READY
        self._hold_ms = max(0, hold_ms)
        self._hold = QTimer(self, singleShot=True, interval=self._hold_ms)
        self._hold.timeout.connect(self.reset)

        self.icon_label = PlainLabel(objectName="verdictIcon")
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label = PlainLabel(objectName="verdictTitle")
        self.name_label = PlainLabel(objectName="verdictName")
        self.tier_label = PlainLabel(objectName="verdictTier")
        self.detail_label = PlainLabel(objectName="verdictDetail")
        for label in (self.title_label, self.name_label, self.tier_label, self.detail_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            label.setWordWrap(True)
        self.title_label.setWordWrap(False)

        text = QVBoxLayout()
        text.setSpacing(2)
        text.addStretch(1)
        for label in (self.title_label, self.name_label, self.tier_label, self.detail_label):
            text.addWidget(label)
        text.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(24, 12, 24, 12)
        row.setSpacing(24)
        row.addWidget(self.icon_label, 0)
        row.addLayout(text, 1)
        self._apply(READY)

    @property
    def verdict(self) -> Verdict:
        return self._verdict

    @property
    def hold_ms(self) -> int:
        return self._hold_ms

    @hold_ms.setter
    def hold_ms(self, value: int) -> None:
        self._hold_ms = max(0, int(value))

    def is_holding(self) -> bool:
        """True while a verdict is on screen waiting to return to Ready."""
        return self._hold.isActive()

    def show_result(self, result: ScanResult) -> Verdict:
        """Display a ScanResult, play its sound and start the hold timer."""
        return self.show_verdict(verdict_for(result, self._tz))

    def show_verdict(self, verdict: Verdict) -> Verdict:
        self._apply(verdict)
        if self.sounds is not None:
            self.sounds.play(verdict.sound)
        if verdict.kind is Kind.READY:
            self._hold.stop()
        else:
            self._hold.start(self._hold_ms)
        return verdict

    def show_message(
        self, title: str, detail: str = "", icon: str = "ready", *, hold: bool = True
    ) -> None:
        """A neutral, non-verdict message (e.g. 'Connected') in the Ready colours. It goes
        back to Ready like a verdict (held a little longer, it has more to read), unless
        ``hold`` is False: then it stays until replaced (e.g. 'Connecting…')."""
        self._apply(Verdict(Kind.READY, title, detail, "", ""), icon=icon)
        if hold:
            self._hold.start(max(self._hold_ms, MESSAGE_HOLD_MS))
        else:
            self._hold.stop()

    def reset(self) -> None:
        """Back to Ready (the hold timer's timeout)."""
        self._hold.stop()
        self._apply(READY)

    def _apply(self, verdict: Verdict, icon: str | None = None) -> None:
        self._verdict = verdict
        self._icon_name = icon or verdict.icon
        self.title_label.setText(verdict.title)
        self.name_label.setText(verdict.name)
        self.name_label.setVisible(bool(verdict.name))
        self.tier_label.setText(verdict.tier)
        self.tier_label.setVisible(bool(verdict.tier))
        self.detail_label.setText(verdict.detail)
        self.detail_label.setVisible(bool(verdict.detail))
        self.setAccessibleName(f"{verdict.title}. {verdict.name} {verdict.tier}. {verdict.detail}")
        self.setStyleSheet(
            f"#verdictPanel {{ background-color: {verdict.background}; border-radius: 10px; }}"
            f"#verdictPanel QLabel {{ color: {verdict.foreground}; background: transparent; }}"
        )
        self._restyle()
        self.verdict_shown.emit(verdict)

    def _restyle(self) -> None:
        """Scale fonts and the icon with the panel height so a big screen reads from afar."""
        h = max(self.height(), self.minimumHeight())
        side = int(min(h * 0.62, self.width() * 0.22))
        self.icon_label.setFixedSize(side, side)
        self.icon_label.setPixmap(
            assets.svg_pixmap(
                self._icon_name, side, self._verdict.foreground, self.devicePixelRatioF()
            )
        )
        self._font(self.title_label, h * 0.20, bold=True)
        self._font(self.name_label, h * 0.15, bold=True)
        self._font(self.tier_label, h * 0.10)
        # On a rejection the reason is what staff must tell the guest: as large as the name
        # on an admission (it was the smallest text on the screen, about 18 px).
        rejected = self._verdict.kind is Kind.REJECT
        self._font(self.detail_label, h * (0.15 if rejected else 0.085), bold=rejected)

    @staticmethod
    def _font(label: QLabel, pixels: float, *, bold: bool = False) -> None:
        font = QFont(label.font())
        font.setPixelSize(max(12, int(pixels)))
        font.setBold(bold)
        label.setFont(font)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._restyle()
