"""Qt face of ``scanner_app.camera.ScanPipeline``: its thread callbacks become signals.

The pipeline's capture and decode threads call back off the GUI thread; each callback
only emits a signal (queued to the GUI thread). Preview frames are throttled and never
queue up: while one frame waits to be painted, newer ones replace it rather than pile
up, so a slow paint can only lower the preview's frame rate, never add latency.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
from PySide6.QtCore import QObject, Signal

from scanner_app.camera import FrameSource, PipelineStats, ScanPipeline, SourceStatus

log = logging.getLogger(__name__)


class CameraBridge(QObject):
    """Runs a ScanPipeline and re-emits what it sees as Qt signals."""

    # payload text, perf_counter when decoded, decode ms of that frame
    payload = Signal(str, float, float)
    frame = Signal()  # a preview frame is ready: take it with ``take_frame()``
    fps = Signal(float)
    status = Signal(str, str)  # SourceState value, message for staff
    error = Signal(str)

    def __init__(
        self,
        source: FrameSource,
        decoder: str = "auto",
        *,
        debounce_seconds: float = 3.0,
        preview_fps: float = 20.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.source = source
        self._min_interval = 1.0 / preview_fps if preview_fps > 0 else 0.0
        self._lock = threading.Lock()
        self._latest: tuple[np.ndarray, list[tuple[float, float]] | None] | None = None
        self._last_preview = 0.0
        self._last_fps_emit = 0.0
        self.first_frame_at: float | None = None  # perf_counter of the first frame seen
        self.pipeline = ScanPipeline(
            source,
            decoder,
            on_payload=self._on_payload,
            on_stats=self._on_stats,
            on_frame=self._on_frame,
            debounce_seconds=debounce_seconds,
            on_status=self._on_status,
            on_error=self._on_error,
        )

    def start(self) -> None:
        self.pipeline.start()

    def stop(self, timeout: float = 5.0) -> bool:
        return self.pipeline.stop(timeout)

    def stats(self) -> PipelineStats:
        return self.pipeline.stats()

    def take_frame(self) -> tuple[np.ndarray, list[tuple[float, float]] | None] | None:
        """The newest preview frame and its QR outline (GUI thread), or None."""
        with self._lock:
            latest, self._latest = self._latest, None
        return latest

    # --- pipeline callbacks: worker threads, keep them cheap ----------------------------
    def _on_payload(self, text: str) -> None:
        self.payload.emit(text, time.perf_counter(), self.pipeline.stats().decode_ms)

    def _on_frame(self, frame: np.ndarray) -> None:
        now = time.perf_counter()
        if self.first_frame_at is None:
            self.first_frame_at = now
        if now - self._last_preview < self._min_interval:
            return
        self._last_preview = now
        outline = self.pipeline.stats().last_outline
        polygon = [(float(x), float(y)) for x, y in outline] if outline else None
        with self._lock:
            waiting = self._latest is not None
            self._latest = (frame, polygon)
        if not waiting:  # one signal in flight at most; the slot takes the newest frame
            self.frame.emit()

    def _on_stats(self, stats: PipelineStats) -> None:
        now = time.monotonic()
        if now - self._last_fps_emit >= 0.5:
            self._last_fps_emit = now
            self.fps.emit(stats.source_fps)

    def _on_status(self, status: SourceStatus) -> None:
        self.status.emit(status.state.value, status.message)

    def _on_error(self, exc: BaseException) -> None:
        self.error.emit(f"{type(exc).__name__}: {exc}")
