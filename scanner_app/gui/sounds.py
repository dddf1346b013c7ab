"""Outcome sounds via QtMultimedia's QSoundEffect, muted on request, silent without audio.

On CI and headless machines there is no audio output (or no QtMultimedia at all when
only PySide6-Essentials is installed); the player then logs one warning and every
``play`` becomes a no-op instead of raising.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QUrl

from scanner_app.gui import assets

log = logging.getLogger(__name__)

SOUND_NAMES = ("admit", "warn", "reject", "exit")


class SoundPlayer(QObject):
    """Plays one short sound per outcome; ``last_requested`` records what was asked for."""

    def __init__(self, *, muted: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.muted = muted
        self.last_requested: str | None = None
        self.last_played: str | None = None
        self._effects: dict[str, QObject] = {}
        self.available = self._load()

    def _load(self) -> bool:
        try:
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
        except ImportError as exc:  # PySide6-Essentials has no QtMultimedia
            log.warning("Sounds disabled: QtMultimedia unavailable (%s)", exc)
            return False
        if not QMediaDevices.audioOutputs():
            log.warning("Sounds disabled: no audio output device")
            return False
        for name in SOUND_NAMES:
            try:
                path = assets.sound_path(name)
            except FileNotFoundError:
                log.warning("Sound %r missing from package data", name)
                continue
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            effect.setVolume(0.8)
            self._effects[name] = effect
        return bool(self._effects)

    def play(self, name: str | None) -> bool:
        """Play ``name``; returns whether a sound actually started."""
        self.last_requested = name
        if not name or self.muted or not self.available:
            return False
        effect = self._effects.get(name)
        if effect is None:
            return False
        try:
            effect.stop()  # a new verdict interrupts the previous sound
            effect.play()
        except RuntimeError as exc:  # backend died mid-session (device unplugged)
            log.warning("Sound %r failed: %s", name, exc)
            return False
        self.last_played = name
        return True
