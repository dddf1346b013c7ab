"""Live camera preview: paints numpy BGR/grey frames and outlines the detected QR."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from scanner_app.gui import assets

Polygon = Sequence[tuple[float, float]]


def frame_to_qimage(frame: np.ndarray) -> QImage:
    """Wrap a uint8 HxW (grey) or HxWx3 (BGR) array as a QImage without copying pixels.

    The QImage borrows ``frame``'s buffer: keep the array alive as long as the image.
    Only non-contiguous input (e.g. a strided crop) is copied, since Qt needs packed rows.
    """
    if frame.dtype != np.uint8:
        raise ValueError(f"frame must be uint8, got {frame.dtype}")
    if frame.ndim == 2:
        fmt, channels = QImage.Format.Format_Grayscale8, 1
    elif frame.ndim == 3 and frame.shape[2] == 3:
        fmt, channels = QImage.Format.Format_BGR888, 3
    else:
        raise ValueError(f"frame must be HxW or HxWx3, got shape {frame.shape}")
    if frame.strides[-1] != 1 or (channels == 3 and frame.strides[1] != 3):
        frame = np.ascontiguousarray(frame)
    height, width = frame.shape[:2]
    return QImage(frame.data, width, height, frame.strides[0], fmt)


class CameraPreview(QWidget):
    """Scales the latest frame to fit (aspect kept) and draws the QR polygon over it."""

    OUTLINE = QColor("#00E676")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cameraPreview")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self._frame: np.ndarray | None = None  # keeps the QImage's buffer alive
        self._image: QImage | None = None
        self._polygon: list[tuple[float, float]] = []
        self._message = "Starting camera…"
        self.frames_shown = 0

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(640, 360)

    @property
    def message(self) -> str:
        return self._message

    @property
    def polygon(self) -> list[tuple[float, float]]:
        return list(self._polygon)

    def set_frame(self, frame: np.ndarray, polygon: Polygon | None = None) -> None:
        """Show ``frame`` (uint8 BGR or grey) with an optional QR outline in frame pixels."""
        self._image = frame_to_qimage(frame)
        self._frame = frame
        self._polygon = [(float(x), float(y)) for x, y in polygon] if polygon else []
        self._message = ""
        self.frames_shown += 1
        self.update()

    def set_message(self, text: str) -> None:
        """Replace the picture with a message, e.g. 'Camera disconnected'."""
        self._message = text
        self._image = None
        self._frame = None
        self._polygon = []
        self.update()

    def image_rect(self) -> QRectF:
        """Where the frame lands inside the widget (letterboxed)."""
        if self._image is None:
            return QRectF()
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def map_to_widget(self, x: float, y: float) -> QPointF:
        rect = self.image_rect()
        assert self._image is not None
        return QPointF(
            rect.x() + x * rect.width() / self._image.width(),
            rect.y() + y * rect.height() / self._image.height(),
        )

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self._image is None:
            self._paint_message(painter)
            painter.end()
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(self.image_rect(), self._image)
        if len(self._polygon) >= 3:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(self.OUTLINE, 4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPolygon(QPolygonF([self.map_to_widget(x, y) for x, y in self._polygon]))
        painter.end()

    def _paint_message(self, painter: QPainter) -> None:
        side = min(96, self.height() // 3)
        icon = assets.svg_pixmap("camera-off", side, "#90A4AE", self.devicePixelRatioF())
        top = (self.height() - side) // 2 - 20
        painter.drawPixmap((self.width() - side) // 2, top, icon)
        painter.setPen(QColor("#CFD8DC"))
        font = painter.font()
        font.setPixelSize(max(14, self.height() // 18))
        painter.setFont(font)
        text_rect = QRectF(0, top + side + 8, self.width(), self.height() - top - side - 8)
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, self._message
        )
