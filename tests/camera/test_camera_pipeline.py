"""The scan pipeline on its worker threads, fed by real OpenCV reading recorded video."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from scanner_app.camera import (
    Debouncer,
    FileSource,
    PipelineStats,
    ScanPipeline,
    SourceState,
    SourceStatus,
    WebcamSource,
    make_decoder,
)
from scanner_app.camera.synth import render_ticket_frame


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class FlakySource:
    """Fault injection: wraps a source; read() raises `fail_times` times after `after` frames."""

    def __init__(self, inner, *, after: int, fail_times: int) -> None:
        self.inner, self.after, self.left = inner, after, fail_times
        self.name = "flaky " + inner.name
        self.reads = 0

    @property
    def status(self) -> SourceStatus:
        return self.inner.status

    def open(self) -> None:
        self.inner.open()

    def read(self):
        self.reads += 1
        if self.reads > self.after and self.left > 0:
            self.left -= 1
            raise OSError("USB hiccup")
        return self.inner.read()

    def close(self) -> None:
        self.inner.close()


class StillSource:
    """Serves one frame forever, as fast as asked (a camera far faster than the decoder)."""

    name = "still"

    def __init__(self, frame: np.ndarray) -> None:
        self.frame = frame
        self.status = SourceStatus(SourceState.CONNECTED, "ok", 0.0)

    def open(self) -> None: ...

    def read(self):
        time.sleep(0.001)
        return self.frame

    def close(self) -> None: ...


def test_recorded_queue_of_tickets_yields_each_ticket_exactly_once(reel, payloads):
    """The key end-to-end test: video file -> FileSource -> worker threads -> payloads."""
    got: list[str] = []
    frames: list[np.ndarray] = []
    stats: list[PipelineStats] = []
    pipe = ScanPipeline(
        FileSource(reel, fps=40),  # 2x the recorded rate: the test takes ~2 s, not 4
        "auto",  # by name, as the GUI asks: the live decoder, passes taking turns
        got.append,
        on_stats=stats.append,
        on_frame=frames.append,
    )
    pipe.start()
    assert pipe.join(timeout=30), "pipeline did not finish the file"
    assert got == payloads  # each once, in queue order
    assert getattr(pipe.decoder, "live", False)
    s = pipe.stats()
    assert s.state == "ended" and s.source_state == "ended"
    assert s.scans == len(payloads) and s.errors == 0
    assert s.frames_decoded + s.frames_dropped == s.frames_captured
    assert s.frames_decoded == len(frames) > 50
    assert 0 < s.decode_ms_avg < 50
    assert frames[0].shape == (720, 1280, 3)
    outlines = [x.last_outline for x in stats if x.last_outline is not None]
    assert outlines and all(len(o) == 4 for o in outlines)
    assert max(x.source_fps for x in stats) > 20


def test_same_ticket_in_view_is_one_scan_until_it_leaves_for_the_window(payloads):
    clock = FakeClock()
    deb = Debouncer(3.0, clock=clock)
    assert deb.accept(payloads[0])
    for _ in range(100):  # held in view for 10 s, seen every 0.1 s
        clock.t += 0.1
        assert not deb.accept(payloads[0])
    assert deb.accept(payloads[1])  # another ticket is its own scan
    clock.t += 2.9
    assert not deb.accept(payloads[0])
    clock.t += 3.0
    assert deb.accept(payloads[0])  # out of view for the window: a new scan
    assert deb.accept(payloads[2], now=clock.t)
    deb.reset()
    assert deb.accept(payloads[0])
    with pytest.raises(ValueError):
        Debouncer(-1)


def test_debouncer_memory_stays_bounded():
    clock = FakeClock()
    deb = Debouncer(1.0, clock=clock)
    for i in range(5000):
        clock.t += 0.01
        assert deb.accept(f"ticket-{i}")
    assert len(deb._last_seen) <= 257  # noqa: SLF001


def test_looping_ticket_is_debounced_per_pipeline(tmp_path, payloads):
    frame = render_ticket_frame(payloads[0], size=(640, 480), seed=1).image
    got_a, got_b = [], []
    a = ScanPipeline(StillSource(frame), "auto", got_a.append)
    b = ScanPipeline(StillSource(frame), "auto", got_b.append)
    with a, b:
        time.sleep(0.5)
    assert got_a == [payloads[0]] and got_b == [payloads[0]]  # per instance, not global
    assert a.stats().frames_decoded > 10


def test_slow_decoder_decodes_the_newest_frame_and_drops_the_rest(payloads):
    frame = render_ticket_frame(payloads[0], size=(640, 480), seed=2).image

    class SlowDecoder:
        name = "slow"

        def __init__(self):
            self.inner = make_decoder()

        def decode(self, gray):
            time.sleep(0.05)
            return self.inner.decode(gray)

    pipe = ScanPipeline(StillSource(frame), SlowDecoder(), lambda _p: None)
    pipe.start()
    time.sleep(0.6)
    assert pipe.stop(timeout=2)
    s = pipe.stats()
    assert s.frames_decoded <= 14  # ~20/s at 50 ms each
    assert s.frames_dropped > 5 * s.frames_decoded  # nothing queued up behind the decoder
    assert s.frames_decoded + s.frames_dropped >= s.frames_captured - 1
    assert s.state == "stopped"


def test_source_that_fails_mid_stream_recovers(reel, payloads):
    errors: list[BaseException] = []
    got: list[str] = []
    src = FlakySource(FileSource(reel, fps=40), after=10, fail_times=4)
    pipe = ScanPipeline(src, make_decoder(), got.append, on_error=errors.append)
    pipe.start()
    assert pipe.join(timeout=30)
    assert got == payloads
    assert len(errors) == 4 and all(isinstance(e, OSError) for e in errors)
    s = pipe.stats()
    assert s.errors == 4 and "USB hiccup" in (s.last_error or "")


def test_callback_errors_are_counted_not_fatal(reel, payloads):
    got: list[str] = []

    def on_payload(p: str) -> None:
        got.append(p)
        if len(got) == 1:
            raise RuntimeError("GUI bug")

    def on_frame(_f) -> None:
        raise ValueError("preview bug")

    pipe = ScanPipeline(FileSource(reel, fps=60), "auto", on_payload, on_frame=on_frame)
    pipe.start()
    assert pipe.join(timeout=30)
    assert got == payloads
    s = pipe.stats()
    assert s.errors == 1 + s.frames_decoded
    assert "preview bug" in (s.last_error or "")


def test_decoder_exception_does_not_kill_the_thread(payloads):
    calls = []

    class Broken:
        name = "broken"

        def decode(self, gray):
            calls.append(1)
            if len(calls) % 2:
                raise RuntimeError("decoder glitch")
            return make_decoder().decode(gray)

    frame = render_ticket_frame(payloads[1], size=(640, 480), seed=3).image
    got: list[str] = []
    with ScanPipeline(StillSource(frame), Broken(), got.append) as pipe:
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.02)
    assert got == [payloads[1]]
    assert pipe.stats().errors >= 1 and not pipe.running


def test_missing_camera_in_a_pipeline_reports_and_stops_cleanly():
    statuses: list[SourceStatus] = []
    stats: list[PipelineStats] = []
    cam = WebcamSource(98, retry_seconds=0.1)
    pipe = ScanPipeline(cam, "auto", lambda _p: None, on_stats=stats.append,
                        on_status=statuses.append)  # fmt: skip
    pipe.start()
    time.sleep(0.8)
    assert pipe.running
    t0 = time.monotonic()
    assert pipe.stop(timeout=3)
    assert time.monotonic() - t0 < 1.5
    assert any(s.state == SourceState.DISCONNECTED for s in statuses)
    # The GUI gets stats while no frames come, so it can show the camera message.
    assert any(x.source_state == "disconnected" for x in stats)
    assert "camera 98" in next(x.source_message for x in stats if x.source_state == "disconnected")
    assert pipe.stats().source_fps == 0.0


def test_unopenable_source_fails_visibly(tmp_path):
    errors: list[BaseException] = []
    pipe = ScanPipeline(FileSource(tmp_path / "missing.avi"), "auto", lambda _p: None,
                        on_error=errors.append)  # fmt: skip
    pipe.start()
    assert pipe.join(timeout=5)
    assert pipe.stats().state == "failed"
    assert isinstance(errors[0], FileNotFoundError)
    assert "missing.avi" in (pipe.stats().last_error or "")


def test_start_twice_is_refused_and_stop_is_idempotent(reel):
    pipe = ScanPipeline(FileSource(reel, loop=True), "auto", lambda _p: None)
    pipe.start()
    with pytest.raises(RuntimeError):
        pipe.start()
    assert pipe.stop() and pipe.stop()
    assert all(t.daemon for t in threading.enumerate() if t.name.startswith("tickitz-"))
