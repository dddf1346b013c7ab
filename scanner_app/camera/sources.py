"""Frame sources: a webcam that reconnects by itself, and a file player for demos and tests.

A source is owned by one thread (the pipeline's capture thread): it opens, reads and
closes it there, so OpenCV's capture objects are never touched from two threads.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from scanner_app.camera.errors import EndOfStream, SourceError

log = logging.getLogger(__name__)


class SourceState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ENDED = "ended"
    CLOSED = "closed"


@dataclass(frozen=True)
class SourceStatus:
    """Where a source stands, with a message fit to show gate staff."""

    state: SourceState
    message: str
    since: float  # time.monotonic() of the change


StatusCallback = Callable[[SourceStatus], None]


@runtime_checkable
class FrameSource(Protocol):
    """Where BGR frames come from.

    `read()` returns the next frame (blocking about one frame interval), None when no
    frame could be had just now (the caller tries again), and raises EndOfStream when a
    finite source is done. `open()`, `read()` and `close()` are called from one thread.
    """

    name: str

    @property
    def status(self) -> SourceStatus: ...

    def open(self) -> None: ...

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


class _StatusMixin:
    """Keeps the current status and tells the optional callback about changes."""

    _status: SourceStatus
    _on_status: StatusCallback | None

    def _init_status(self, on_status: StatusCallback | None) -> None:
        self._on_status = on_status
        self._status = SourceStatus(SourceState.CONNECTING, "Starting", time.monotonic())

    @property
    def status(self) -> SourceStatus:
        return self._status

    def _set_status(self, state: SourceState, message: str) -> None:
        if state == self._status.state and message == self._status.message:
            return
        self._status = SourceStatus(state, message, time.monotonic())
        log.info("%s: %s", getattr(self, "name", "source"), message)
        if self._on_status is not None:
            try:
                self._on_status(self._status)
            except Exception:  # a broken status listener must not stop the camera
                log.exception("status callback failed")


class WebcamSource(_StatusMixin):
    """A camera by device index, or a stream URL / file path, via cv2.VideoCapture.

    Never raises for a missing or lost camera: it reports DISCONNECTED ("Camera
    disconnected ...") and retries every `retry_seconds`, then CONNECTED ("Camera
    reconnected") when frames flow again. `max_failures` consecutive failed reads
    count as an unplug.
    """

    def __init__(
        self,
        device: int | str = 0,
        *,
        width: int = 1280,
        height: int = 720,
        fps: float = 30.0,
        fourcc: str | None = "MJPG",
        retry_seconds: float = 1.0,
        max_failures: int = 5,
        on_status: StatusCallback | None = None,
        backend: int = cv2.CAP_ANY,
    ) -> None:
        self.device = device
        self.name = f"camera {device}" if isinstance(device, int) else f"camera {device!s}"
        self.width, self.height, self.fps = width, height, fps
        self.fourcc = fourcc
        self.retry_seconds = retry_seconds
        self.max_failures = max_failures
        self.backend = backend
        self._cap: cv2.VideoCapture | None = None
        self._failures = 0
        self._ever_connected = False
        self._next_try = 0.0
        self._closing = threading.Event()
        self._init_status(on_status)

    def open(self) -> None:
        self._closing.clear()
        self._set_status(SourceState.CONNECTING, f"Connecting to {self.name}")
        self._try_connect()

    def _connect(self) -> cv2.VideoCapture | None:
        if isinstance(self.device, int):
            cap = cv2.VideoCapture(self.device, self.backend)
            if cap.isOpened():
                # MJPG lets USB2 webcams deliver 720p at full rate (raw YUYV often can't).
                if self.fourcc:
                    cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*self.fourcc))
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
                cap.set(cv2.CAP_PROP_FPS, self.fps)
                cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # stale buffered frames only add latency
        else:
            # Bounded waits so a dead network camera cannot hang the capture thread.
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 3000]
            cap = cv2.VideoCapture(str(self.device), self.backend, params)
        if not cap.isOpened():
            cap.release()
            return None
        return cap

    def _try_connect(self) -> bool:
        self._next_try = time.monotonic() + self.retry_seconds
        try:
            cap = self._connect()
        except cv2.error as exc:
            log.warning("%s: open failed: %s", self.name, exc)
            cap = None
        if cap is None:
            verb = "disconnected" if self._ever_connected else "not available"
            self._set_status(
                SourceState.DISCONNECTED,
                f"Camera {verb}: cannot open {self.name}; retrying every {self.retry_seconds:g} s",
            )
            return False
        self._cap, self._failures = cap, 0
        w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        what = "reconnected" if self._ever_connected else "connected"
        self._ever_connected = True
        self._set_status(SourceState.CONNECTED, f"Camera {what} ({self.name}, {w}x{h})")
        return True

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            wait = self._next_try - time.monotonic()
            # Sleep on an event so close() from the owner's stop path is not delayed.
            if wait > 0 and self._closing.wait(min(wait, 0.1)):
                return None
            if time.monotonic() >= self._next_try and not self._closing.is_set():
                self._try_connect()
            return None
        ok, frame = self._cap.read()
        if ok and frame is not None and frame.size:
            self._failures = 0
            return frame
        self._failures += 1
        if self._failures >= self.max_failures:
            self._cap.release()
            self._cap = None
            self._next_try = time.monotonic() + self.retry_seconds
            self._set_status(
                SourceState.DISCONNECTED,
                f"Camera disconnected: no frames from {self.name}; "
                f"retrying every {self.retry_seconds:g} s",
            )
        else:
            time.sleep(0.01)  # a glitch: do not spin on a failing device
        return None

    def close(self) -> None:
        self._closing.set()
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        self._set_status(SourceState.CLOSED, f"{self.name} closed")


class FileSource(_StatusMixin):
    """Plays a video file or a list of image files at `fps`, optionally looping.

    Uses real OpenCV decoding, so it stands in for a camera in the demo and the tests.
    `realtime=False` delivers frames as fast as they are read. Missing or unreadable
    files raise SourceError (a FileNotFoundError for a missing file) from open()/read().
    """

    def __init__(
        self,
        media: str | Path | Sequence[str | Path],
        *,
        fps: float | None = None,
        loop: bool = False,
        realtime: bool = True,
        on_status: StatusCallback | None = None,
    ) -> None:
        if isinstance(media, str | Path):
            self.video: Path | None = Path(media)
            self.images: list[Path] = []
            self.name = f"file {self.video.name}"
        else:
            self.video, self.images = None, [Path(p) for p in media]
            if not self.images:
                raise ValueError("FileSource needs a video file or at least one image")
            self.name = f"{len(self.images)} images"
        self.fps = fps
        self.loop = loop
        self.realtime = realtime
        self._cap: cv2.VideoCapture | None = None
        self._index = 0
        self._t0 = 0.0
        self._count = 0
        self._init_status(on_status)

    def open(self) -> None:
        if self.video is not None:
            if not self.video.is_file():
                raise FileNotFoundError(f"video file not found: {self.video}")
            self._cap = cv2.VideoCapture(str(self.video))
            if not self._cap.isOpened():
                raise SourceError(
                    f"cannot open video file {self.video}: not a video OpenCV can read"
                )
            if self.fps is None:
                self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 30.0
        else:
            missing = [str(p) for p in self.images if not p.is_file()]
            if missing:
                raise FileNotFoundError(f"image file(s) not found: {', '.join(missing[:5])}")
            self.fps = self.fps or 10.0
        self._index, self._count, self._t0 = 0, 0, time.monotonic()
        self._set_status(SourceState.CONNECTED, f"Playing {self.name} at {self.fps:g} fps")

    def _next_frame(self) -> np.ndarray | None:
        if self._cap is not None:
            ok, frame = self._cap.read()
            if ok:
                return frame
            if not self.loop:
                return None
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
            return frame if ok else None
        if self._index >= len(self.images):
            if not self.loop:
                return None
            self._index = 0
        path = self.images[self._index]
        self._index += 1
        frame = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            raise SourceError(f"cannot read image {path}: not an image OpenCV can decode")
        return frame

    def read(self) -> np.ndarray | None:
        state = self._status.state
        if state == SourceState.ENDED:
            raise EndOfStream(self.name)
        if state != SourceState.CONNECTED:
            raise SourceError(f"{self.name} is not open (call open() first)")
        if self.realtime and self.fps:
            # Pace against the start time, not the previous frame, so delays don't accumulate.
            delay = self._t0 + self._count / self.fps - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        frame = self._next_frame()
        if frame is None:
            self._set_status(SourceState.ENDED, f"{self.name} ended after {self._count} frames")
            raise EndOfStream(self.name)
        self._count += 1
        return frame

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        if self._status.state != SourceState.ENDED:
            self._set_status(SourceState.CLOSED, f"{self.name} closed")
