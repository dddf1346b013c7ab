"""Load icons, sounds and the stylesheet from the ``scanner_app.resources`` package data.

Everything goes through ``importlib.resources`` so the app works from a checkout, a
wheel or a zip/frozen bundle. Files Qt needs by path (sounds) are materialised once
with ``as_file`` and kept for the process lifetime.
"""

from __future__ import annotations

import atexit
import contextlib
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

_PACKAGE = "scanner_app.resources"
# The colour the SVGs are drawn in; replaced at load time to tint an icon.
_SVG_INK = "#000000"

_files = contextlib.ExitStack()
atexit.register(_files.close)


def _root() -> Traversable:
    return resources.files(_PACKAGE)


def icon_names() -> list[str]:
    """Names of every bundled SVG icon (file stem)."""
    return sorted(p.name[:-4] for p in (_root() / "icons").iterdir() if p.name.endswith(".svg"))


@cache
def svg_source(name: str) -> str:
    """The SVG text of icon ``name``; raises FileNotFoundError for an unknown icon."""
    return (_root() / "icons" / f"{name}.svg").read_text(encoding="utf-8")


def svg_pixmap(name: str, size: int, color: str | None = None, dpr: float = 1.0) -> QPixmap:
    """Render icon ``name`` as a square pixmap, optionally tinted ``color``."""
    source = svg_source(name)
    if color:
        source = source.replace(_SVG_INK, color)
    renderer = QSvgRenderer(QByteArray(source.encode("utf-8")))
    side = max(1, round(size * dpr))
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, side, side))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(dpr)
    return pixmap


def icon(name: str, color: str | None = None) -> QIcon:
    """A QIcon for ``name`` rendered at the usual toolbar/window sizes."""
    result = QIcon()
    for side in (16, 24, 32, 48, 64, 128, 256):
        result.addPixmap(svg_pixmap(name, side, color))
    return result


@cache
def sound_path(name: str) -> Path:
    """A real filesystem path for sound ``name`` (``admit``, ``warn``, ``reject``, ``exit``).

    QSoundEffect wants a file URL, so a zipped resource is extracted once and kept.
    """
    resource = _root() / "sounds" / f"{name}.wav"
    if not resource.is_file():
        raise FileNotFoundError(f"no bundled sound {name!r}")
    return _files.enter_context(resources.as_file(resource))


@cache
def stylesheet() -> str:
    """The application stylesheet (QSS)."""
    return (_root() / "style.qss").read_text(encoding="utf-8")
