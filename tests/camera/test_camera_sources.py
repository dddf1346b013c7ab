"""Frame sources through real OpenCV: file playback, image lists, and a webcam source
that loses its camera and gets it back."""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from scanner_app.camera import (
    EndOfStream,
    FileSource,
    FrameSource,
    SourceError,
    SourceState,
    WebcamSource,
)
from scanner_app.camera.synth import render_ticket_frame, write_reel


def drain(src, limit: int = 10_000) -> list[np.ndarray]:
    frames = []
    with pytest.raises(EndOfStream):
        for _ in range(limit):
            frames.append(src.read())
    return frames


def test_reel_plays_every_frame_through_opencv(reel):
    cap = cv2.VideoCapture(str(reel))
    expected = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    src = FileSource(reel, realtime=False)
    assert isinstance(src, FrameSource)
    src.open()
    frames = drain(src)
    assert len(frames) == expected > 50
    assert frames[0].shape == (720, 1280, 3)
    assert src.status.state == SourceState.ENDED
    src.close()


def test_file_source_paces_at_the_given_fps(reel):
    src = FileSource(reel, fps=50)
    src.open()
    t0 = time.monotonic()
    for _ in range(26):
        src.read()
    elapsed = time.monotonic() - t0
    src.close()
    assert 0.45 <= elapsed <= 1.5, elapsed  # 25 intervals at 50 fps = 0.5 s


def test_file_source_loops(tmp_path, payloads):
    path = write_reel(payloads[:1], tmp_path / "one.avi", fps=10, seconds_per_ticket=0.2,
                      gap_seconds=0.1, size=(320, 240))  # fmt: skip
    src = FileSource(path, loop=True, realtime=False)
    src.open()
    frames = [src.read() for _ in range(20)]  # the file has 4 frames
    assert all(f is not None and f.shape == (240, 320, 3) for f in frames)
    src.close()
    assert src.status.state == SourceState.CLOSED


def test_image_list_source(tmp_path, payloads):
    paths = []
    for i, p in enumerate(payloads[:3]):
        paths.append(tmp_path / f"f{i}.png")
        cv2.imwrite(str(paths[-1]), render_ticket_frame(p, size=(640, 480), seed=i).image)
    src = FileSource(paths, fps=100)
    src.open()
    assert len(drain(src)) == 3
    looping = FileSource(paths, realtime=False, loop=True)
    looping.open()
    assert len([looping.read() for _ in range(7)]) == 7


def test_file_source_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.avi"):
        FileSource(tmp_path / "nope.avi").open()
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(SourceError, match="junk.avi"):
        FileSource(junk).open()
    with pytest.raises(FileNotFoundError, match="gone.png"):
        FileSource([tmp_path / "gone.png"]).open()
    bad = tmp_path / "bad.png"
    bad.write_text("hello")
    src = FileSource([bad])
    src.open()
    with pytest.raises(SourceError, match="bad.png"):
        src.read()
    with pytest.raises(ValueError):
        FileSource([])
    with pytest.raises(SourceError, match="not open"):
        FileSource(junk).read()


def test_webcam_at_missing_device_reports_and_keeps_trying():
    statuses = []
    cam = WebcamSource(97, retry_seconds=0.05, on_status=statuses.append)
    assert isinstance(cam, FrameSource)
    cam.open()  # no exception: a door laptop may boot before its camera is plugged in
    assert cam.status.state == SourceState.DISCONNECTED
    assert "Camera not available" in cam.status.message and "camera 97" in cam.status.message
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.3:
        assert cam.read() is None
    cam.close()
    assert [s.state for s in statuses] == [
        SourceState.CONNECTING,
        SourceState.DISCONNECTED,
        SourceState.CLOSED,
    ]


def test_webcam_at_dead_url_reports_without_crashing(tmp_path):
    cam = WebcamSource(str(tmp_path / "no-such-stream.mjpg"), retry_seconds=0.05)
    cam.open()
    assert cam.read() is None
    assert cam.status.state == SourceState.DISCONNECTED
    assert "no-such-stream.mjpg" in cam.status.message
    cam.close()


def test_webcam_source_disconnects_and_reconnects(tmp_path, payloads):
    """A 'camera' whose stream vanishes and comes back: a video path removed and restored."""
    path = write_reel(payloads[:1], tmp_path / "cam.avi", fps=10, seconds_per_ticket=0.3,
                      gap_seconds=0.1, size=(320, 240))  # fmt: skip
    hidden = tmp_path / "unplugged.avi"
    statuses = []
    cam = WebcamSource(str(path), retry_seconds=0.05, max_failures=2, on_status=statuses.append)
    cam.open()
    assert cam.status.message.startswith("Camera connected")
    frames = 0
    while cam.status.state == SourceState.CONNECTED:  # plays to the end = the feed stops
        frames += cam.read() is not None
    assert frames == 5
    os.replace(path, hidden)  # unplugged: reopening fails for a while
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        assert cam.read() is None
    assert cam.status.state == SourceState.DISCONNECTED
    assert cam.status.message.startswith("Camera disconnected")
    os.replace(hidden, path)  # plugged back in
    deadline = time.monotonic() + 2
    got = None
    while got is None and time.monotonic() < deadline:
        got = cam.read()
    assert got is not None and got.shape == (240, 320, 3)
    assert cam.status.message.startswith("Camera reconnected")
    cam.close()
    messages = [s.message.split(":")[0].split(" (")[0] for s in statuses]
    assert "Camera disconnected" in messages and "Camera reconnected" in messages


def test_status_callback_errors_do_not_stop_the_source(reel):
    def boom(_status):
        raise RuntimeError("listener bug")

    src = FileSource(reel, realtime=False, on_status=boom)
    src.open()
    assert src.read() is not None
    src.close()


def test_unicode_paths_work(tmp_path: Path, payloads):
    d = tmp_path / "Kassé Tür"
    path = write_reel(payloads[:1], d / "rêel.avi", fps=10, seconds_per_ticket=0.1,
                      gap_seconds=0.1, size=(320, 240))  # fmt: skip
    src = FileSource(path, realtime=False)
    src.open()
    assert src.read() is not None
    src.close()
