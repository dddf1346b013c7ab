"""Connects a CameraBridge to the preview and the status bar's fps, and its payloads to
the scan entry; says in words when the camera is missing, unplugged or failing."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject

from scanner_app.gui.controllers.camera_bridge import CameraBridge
from scanner_app.gui.widgets.preview import CameraPreview, Polygon
from scanner_app.gui.widgets.status_bar import StatusBar

# submit(payload, source, seen_at perf_counter)
Submit = Callable[[str, str, float], None]


def shortened(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut in the middle: the end of an error often names the
    file (a long path used to lose it)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 3
    tail = limit - 1 - head
    return f"{text[:head]}…{text[-tail:]}"


class CameraController(QObject):
    """One camera at a time; ``attach(None)`` detaches and shows "No camera"."""

    def __init__(self, preview: CameraPreview, status: StatusBar, submit: Submit) -> None:
        super().__init__(preview)
        self.preview = preview
        self.status = status
        self.submit = submit
        self.camera: CameraBridge | None = None
        self.live = False  # the source says frames are flowing

    def attach(self, camera: CameraBridge | None) -> None:
        if self.camera is not None:
            self.camera.payload.disconnect(self._on_payload)
            self.camera.frame.disconnect(self._on_frame)
            self.camera.fps.disconnect(self.set_fps)
            self.camera.status.disconnect(self._on_status)
            self.camera.error.disconnect(self._on_error)
        self.camera = camera
        self.live = False
        if camera is None:
            self.set_message("No camera")
            return
        camera.payload.connect(self._on_payload)
        camera.frame.connect(self._on_frame)
        camera.fps.connect(self.set_fps)
        camera.status.connect(self._on_status)
        camera.error.connect(self._on_error)
        self.set_message("Starting camera…")

    def _on_payload(self, payload: str, decoded_at: float, decode_ms: float) -> None:
        # Latency is counted from the frame reaching the decoder, not from the callback.
        self.submit(payload, "camera", decoded_at - decode_ms / 1000)

    def _on_frame(self) -> None:
        latest = self.camera.take_frame() if self.camera is not None else None
        if latest is not None:
            self.preview.set_frame(*latest)

    def _on_status(self, state: str, message: str) -> None:
        self.live = state == "connected"
        if state in ("disconnected", "connecting"):
            self.set_message(message.split(";")[0])
        elif state == "ended":
            self.set_message("Video ended")

    def _on_error(self, message: str) -> None:
        """E.g. the source could not be opened: say so instead of 'Starting camera…'."""
        if not self.live:
            self.set_message(f"Camera error: {shortened(message.splitlines()[0], 120)}")

    def show_frame(self, frame: np.ndarray, polygon: Polygon | None = None) -> None:
        self.preview.set_frame(frame, polygon)

    def set_message(self, text: str) -> None:
        """E.g. 'Camera disconnected': on the preview, and no fps in the status bar."""
        self.preview.set_message(text)
        self.status.update_fields(camera_fps=None)

    def set_fps(self, fps: float) -> None:
        # The pipeline reports 0 fps while the camera is gone: the bar says "No camera".
        self.status.update_fields(camera_fps=fps if self.live else None)
