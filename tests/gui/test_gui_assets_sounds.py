"""Package-data resources (icons, sounds, stylesheet) and the sound player."""

from __future__ import annotations

import logging
import wave

import pytest

from scanner_app.gui import assets
from scanner_app.gui.sounds import SOUND_NAMES, SoundPlayer

REQUIRED_ICONS = {"check", "warning", "cross", "exit", "camera-off", "app", "ready"}


def test_every_icon_is_bundled_and_renders():
    assert REQUIRED_ICONS <= set(assets.icon_names())
    for name in REQUIRED_ICONS:
        image = assets.svg_pixmap(name, 64, "#FF0000").toImage()
        inked = sum(
            image.pixelColor(x, y).alpha() > 0 for x in range(0, 64, 2) for y in range(0, 64, 2)
        )
        assert inked > 20, f"icon {name} rendered (almost) nothing"


def test_tint_recolours_the_icon():
    image = assets.svg_pixmap("cross", 64, "#00FF00").toImage()
    colours = {
        image.pixelColor(x, y).name()
        for x in range(64)
        for y in range(64)
        if image.pixelColor(x, y).alpha() == 255
    }
    assert colours == {"#00ff00"}


def test_unknown_icon_raises():
    with pytest.raises(FileNotFoundError):
        assets.svg_source("no-such-icon")


def test_app_icon_has_sizes():
    icon = assets.icon("app")
    assert not icon.isNull()
    assert len(icon.availableSizes()) >= 5


@pytest.mark.parametrize("name", SOUND_NAMES)
def test_sounds_are_short_distinct_wavs(name):
    path = assets.sound_path(name)
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 44100)
        seconds = wav.getnframes() / wav.getframerate()
    assert 0.1 < seconds < 0.6  # short: the next ticket is already coming
    others = [assets.sound_path(n).read_bytes() for n in SOUND_NAMES if n != name]
    assert path.read_bytes() not in others


def test_stylesheet_parses_without_qt_warnings(qapp):
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QLabel

    messages: list[str] = []
    previous = qInstallMessageHandler(lambda _mode, _ctx, text: messages.append(text))
    try:
        qapp.setStyleSheet("")
        qapp.setStyleSheet(assets.stylesheet())
        QLabel("x").ensurePolished()  # QSS is parsed lazily, on first polish
    finally:
        qInstallMessageHandler(previous)
    assert not [m for m in messages if "style" in m.lower()], messages
    assert "#verdictPanel" not in assets.stylesheet()  # verdict colours live in verdict.py


def test_player_without_audio_device_warns_and_never_raises(caplog):
    with caplog.at_level(logging.WARNING, logger="scanner_app.gui.sounds"):
        player = SoundPlayer()
    # The test machines have no audio output: the player must say so, not crash.
    assert player.available is False
    assert any("Sounds disabled" in r.message for r in caplog.records)
    assert player.play("admit") is False
    assert player.last_requested == "admit"
    assert player.last_played is None


def test_muted_player_plays_nothing():
    player = SoundPlayer(muted=True)
    assert player.play("reject") is False
    assert player.play(None) is False
    assert player.last_played is None
