"""The scan pipeline: source -> grey -> decode -> debounce -> callbacks, on worker threads.

Two daemon threads: the capture thread owns the source and keeps only the newest frame
in a one-slot mailbox; the decode thread takes whatever is newest, so when decoding is
slower than the camera, frames are dropped instead of queueing up (latency stays one
frame). Exceptions from the source, the decoder or a callback are logged, counted in
`stats()` and passed to `on_error`; they never end the threads silently.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from scanner_app.camera.debounce import Debouncer
from scanner_app.camera.decoders import Decoder, Point, to_gray
from scanner_app.camera.fastpath import make_decoder
from scanner_app.camera.sources import EndOfStream, FrameSource, SourceState, SourceStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineStats:
    """A snapshot for the GUI's status line and preview overlay."""

    state: str  # "idle", "running", "ended" (finite source done), "stopped", "failed"
    source_state: str
    source_message: str
    source_fps: float  # frames per second arriving from the source, over the last ~2 s
    decode_ms: float  # grey conversion + decode of the last frame
    decode_ms_avg: float
    frames_captured: int
    frames_decoded: int
    frames_dropped: int  # replaced by a newer frame before the decoder took them
    scans: int  # payloads handed to on_payload
    last_outline: tuple[Point, Point, Point, Point] | None  # in the last decoded frame
    frame_size: tuple[int, int] | None  # (width, height) of the last decoded frame
    errors: int
    last_error: str | None


class _Latest:
    """One-slot mailbox: put() replaces the frame, take() empties it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: np.ndarray | None = None
        self.closed = False

    def put(self, frame: np.ndarray) -> bool:
        """Store `frame`; True when it replaced one nobody took (a dropped frame)."""
        with self._cond:
            dropped = self._frame is not None
            self._frame = frame
            self._cond.notify()
            return dropped

    def take(self, timeout: float) -> np.ndarray | None:
        with self._cond:
            if self._frame is None and not self.closed:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            return frame

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class ScanPipeline:
    """Reads frames from `source`, decodes QR codes and calls `on_payload` once per scan.

    Callbacks run on the worker threads and must be cheap (emit a Qt signal, set a
    flag): `on_payload(text)`, `on_frame(bgr_frame)` and `on_stats(PipelineStats)` from
    the decode thread after each frame (`on_stats` also about twice a second while no
    frames come); `on_status(SourceStatus)` from the capture thread when the camera
    connects or drops; `on_error(exc)` from either. The pipeline never writes to a frame
    after handing it to `on_frame`, so keeping a reference is safe.
    """

    def __init__(
        self,
        source: FrameSource,
        decoder: Decoder | str,
        on_payload: Callable[[str], None],
        on_stats: Callable[[PipelineStats], None] | None = None,
        on_frame: Callable[[np.ndarray], None] | None = None,
        debounce_seconds: float = 3.0,
        *,
        on_status: Callable[[SourceStatus], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        # By name: the live fast path, which shares its passes between consecutive frames.
        self.decoder = make_decoder(decoder, live=True) if isinstance(decoder, str) else decoder
        self.debouncer = Debouncer(debounce_seconds, clock)
        self._on_payload, self._on_stats, self._on_frame = on_payload, on_stats, on_frame
        self._on_status, self._on_error = on_status, on_error
        self._clock = clock
        self._slot = _Latest()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._state = "idle"
        self._status: SourceStatus = source.status
        self._arrivals: collections.deque[float] = collections.deque(maxlen=240)
        self._n = {"captured": 0, "decoded": 0, "dropped": 0, "scans": 0, "errors": 0}
        self._decode_ms = self._decode_avg = 0.0
        self._outline: tuple[Point, Point, Point, Point] | None = None
        self._size: tuple[int, int] | None = None
        self._last_error: str | None = None

    # -- control -------------------------------------------------------------------

    def start(self) -> None:
        """Start the capture and decode threads (once per pipeline)."""
        if self._threads:
            raise RuntimeError("ScanPipeline.start() called twice; make a new pipeline")
        self._state = "running"
        self._threads = [
            threading.Thread(target=self._guard, args=(self._capture_loop,), daemon=True,
                             name="tickitz-capture"),
            threading.Thread(target=self._guard, args=(self._decode_loop,), daemon=True,
                             name="tickitz-decode"),
        ]  # fmt: skip
        for t in self._threads:
            t.start()

    def stop(self, timeout: float | None = 5.0) -> bool:
        """Ask both threads to finish and wait up to `timeout`; True when they did."""
        self._stop.set()
        self._slot.close()
        return self.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the threads (e.g. until a file source ends); True when both ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for t in self._threads:
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        done = not any(t.is_alive() for t in self._threads)
        if done and self._state == "running":
            self._state = "stopped"
        return done

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def __enter__(self) -> ScanPipeline:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stats(self) -> PipelineStats:
        """A consistent snapshot of the counters; safe from any thread."""
        now = self._clock()
        with self._lock:
            recent = [t for t in self._arrivals if now - t <= 2.0]
            span = recent[-1] - recent[0] if len(recent) > 1 else 0.0
            return PipelineStats(
                state=self._state,
                source_state=self._status.state.value,
                source_message=self._status.message,
                source_fps=(len(recent) - 1) / span if span > 0 else 0.0,
                decode_ms=self._decode_ms,
                decode_ms_avg=self._decode_avg,
                frames_captured=self._n["captured"],
                frames_decoded=self._n["decoded"],
                frames_dropped=self._n["dropped"],
                scans=self._n["scans"],
                last_outline=self._outline,
                frame_size=self._size,
                errors=self._n["errors"],
                last_error=self._last_error,
            )

    # -- threads -------------------------------------------------------------------

    def _guard(self, loop: Callable[[], None]) -> None:
        try:
            loop()
        except BaseException as exc:  # a bug in a loop: say so loudly, stop cleanly
            self._error(exc, "pipeline thread crashed")
            self._state = "failed"
            self._stop.set()
            self._slot.close()

    def _capture_loop(self) -> None:
        src = self.source
        try:
            src.open()
        except Exception as exc:
            self._error(exc, f"cannot open {getattr(src, 'name', 'source')}")
            self._state = "failed"
            self._slot.close()
            return
        backoff = 0.0
        try:
            while not self._stop.is_set():
                try:
                    frame = src.read()
                except EndOfStream:
                    self._state = "ended"
                    break
                except Exception as exc:
                    # The device may come back: back off (up to 1 s) rather than give up.
                    self._error(exc, "source read failed")
                    backoff = min(1.0, max(0.02, backoff * 2))
                    self._stop.wait(backoff)
                    continue
                self._check_status()
                if frame is None:
                    self._stop.wait(0.005)
                    continue
                backoff = 0.0
                with self._lock:
                    self._n["captured"] += 1
                    self._arrivals.append(self._clock())
                if self._slot.put(frame):
                    with self._lock:
                        self._n["dropped"] += 1
        finally:
            try:
                src.close()
            except Exception as exc:
                self._error(exc, "source close failed")
            self._check_status()
            self._slot.close()

    def _check_status(self) -> None:
        status = self.source.status
        if status is self._status:
            return
        with self._lock:
            self._status = status
            if status.state != SourceState.CONNECTED:
                self._arrivals.clear()  # a lost camera's fps is 0, not its old rate
        self._call(self._on_status, status)

    def _decode_loop(self) -> None:
        last_idle_stats = 0.0
        while True:
            frame = self._slot.take(timeout=0.25)
            if frame is None:
                if self._slot.closed or self._stop.is_set():
                    break
                if time.monotonic() - last_idle_stats >= 0.5:
                    last_idle_stats = time.monotonic()
                    self._call(self._on_stats, self.stats())
                continue
            self._process(frame)
        self._call(self._on_stats, self.stats())

    def _process(self, frame: np.ndarray) -> None:
        t0 = time.perf_counter()
        try:
            results = self.decoder.decode(to_gray(frame))
        except Exception as exc:
            self._error(exc, "decoder failed")
            return
        ms = (time.perf_counter() - t0) * 1000
        with self._lock:
            self._n["decoded"] += 1
            self._decode_ms = ms
            self._decode_avg = ms if self._n["decoded"] == 1 else 0.9 * self._decode_avg + 0.1 * ms
            self._outline = results[0].polygon if results else None
            self._size = (frame.shape[1], frame.shape[0])
        for r in results:
            if r.text and self.debouncer.accept(r.text):
                with self._lock:
                    self._n["scans"] += 1
                self._call(self._on_payload, r.text)
        self._call(self._on_frame, frame)
        self._call(self._on_stats, self.stats())

    def _call(self, callback: Callable[[Any], None] | None, arg: object) -> None:
        if callback is None:
            return
        try:
            callback(arg)
        except Exception as exc:
            self._error(exc, f"callback {getattr(callback, '__name__', callback)!r} failed")

    def _error(self, exc: BaseException, what: str) -> None:
        log.error("%s: %s", what, exc, exc_info=exc)
        with self._lock:
            self._n["errors"] += 1
            self._last_error = f"{what}: {type(exc).__name__}: {exc}"
        if self._on_error is not None:
            try:
                self._on_error(exc)
            except Exception:
                log.exception("on_error callback failed")
