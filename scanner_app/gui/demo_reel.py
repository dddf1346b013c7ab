"""The demo's camera: every sample ticket in turn, looping, with new valid tickets each loop.

A looped video showed the same people every time round, so after the first loop the demo
said only ALREADY IN. Here the frames are image files played by ``FileSource``; at the
end of each loop the valid tickets' frames are drawn again with tickets not shown yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from scanner_app.camera import FileSource
from scanner_app.camera.synth import REEL_DISTORTIONS, render_ticket_frame
from scanner_app.core.demo_data import DemoScenario

log = logging.getLogger(__name__)
REEL_FPS = 15.0
FRESH_FROM = 20  # ticket_payloads[:20] are the samples' and the printed QR PNGs'


SIZE = (1280, 720)


def _write(payload: str | None, path: Path, seed: int, size: tuple[int, int] = SIZE) -> None:
    offset = (0.5, 0.5) if payload else None
    # As a door camera sees tickets: phone screens, motion, low light... (one per sample).
    distortion = REEL_DISTORTIONS[seed % len(REEL_DISTORTIONS)] if payload else "clean"
    image = render_ticket_frame(
        payload, size=size, distortion=distortion, seed=seed, offset=offset
    ).image
    # PNG: lossless, so the QR reads exactly as rendered; imencode + tofile for any path.
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise OSError(f"cannot encode a demo frame for {path}")
    tmp = path.with_suffix(".tmp.png")
    np.asarray(data).tofile(tmp)
    tmp.replace(path)  # the camera thread never reads half a file


def render_demo_reel(scenario: DemoScenario, folder: Path, size: tuple[int, int] = SIZE) -> Path:
    """Draw the first loop's frames into ``folder`` (a few seconds); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(None, folder / "empty.png", 0, size)
    for index, sample in enumerate(scenario.samples):
        _write(sample.payload, folder / f"{index:02d}.png", index, size)
    return folder


class DemoReel(FileSource):
    """``FileSource`` over the frames ``render_demo_reel`` drew, looping forever."""

    def __init__(
        self,
        scenario: DemoScenario,
        folder: Path,
        *,
        fps: float = REEL_FPS,
        seconds_per_ticket: float = 1.5,
        gap_seconds: float = 1.5,
        realtime: bool = True,
        size: tuple[int, int] = SIZE,
    ) -> None:
        gap, shown = max(1, round(gap_seconds * fps)), max(1, round(seconds_per_ticket * fps))
        frames: list[Path] = []
        for index in range(len(scenario.samples)):
            frames += [folder / "empty.png"] * gap + [folder / f"{index:02d}.png"] * shown
        frames += [folder / "empty.png"] * gap
        super().__init__(frames, fps=fps, loop=True, realtime=realtime)
        self.name = "the demo reel"
        self.folder = folder
        self.scenario = scenario
        self.loops = 0
        self.size = size
        # The next loop's frames are drawn while this one plays (a frame takes ~0.1-0.8 s).
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-reel")
        self._next: Future[dict[int, tuple[str, Path]]] | None = None
        self._fresh: Iterator[str] = iter(scenario.ticket_payloads[FRESH_FROM:])
        # Which frames show a ticket that is admitted (and its "same ticket again").
        self._admitted = {s.payload for s in scenario.samples if s.expected == "admit"}
        self._current = [s.payload for s in scenario.samples]

    def open(self) -> None:
        super().open()
        if self._next is None:
            self._next = self._pool.submit(self._draw_next)

    def close(self) -> None:
        super().close()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _next_frame(self) -> np.ndarray | None:
        if self._index >= len(self.images):
            self._next_loop()
        return super()._next_frame()

    def _draw_next(self) -> dict[int, tuple[str, Path]]:
        """Frames with new valid tickets for the samples that admitted someone."""
        swap: dict[str, str] = {}
        drawn: dict[int, tuple[str, Path]] = {}
        slot = (self.loops + 1) % 2  # two sets of files: the one playing is never rewritten
        for index, sample in enumerate(self.scenario.samples):
            if sample.payload not in self._admitted:
                continue
            if sample.payload not in swap:
                fresh = next(self._fresh, None)
                if fresh is None:  # every ticket shown: the reel repeats from here on
                    return {}
                swap[sample.payload] = fresh
            path = self.folder / f"{index:02d}-{slot}.png"
            _write(swap[sample.payload], path, index, self.size)
            drawn[index] = (swap[sample.payload], path)
        return drawn

    def _next_loop(self) -> None:
        self.loops += 1
        drawn = self._next.result() if self._next is not None else {}
        for index, (payload, path) in drawn.items():
            self._current[index] = payload
            self.images = [path if _sample_of(p) == index else p for p in self.images]
        if drawn:
            log.info("Demo reel: loop %d shows %d new tickets", self.loops + 1, len(drawn))
        self._next = self._pool.submit(self._draw_next)

    @property
    def payloads(self) -> list[str]:
        """What the reel shows this loop, in order (for tests)."""
        return list(self._current)

    def frame_of(self, index: int) -> Path:
        """The image file sample ``index`` is shown with this loop."""
        return next(p for p in self.images if _sample_of(p) == index)


def _sample_of(path: Path) -> int | None:
    head = path.stem.split("-")[0]
    return int(head) if head.isdigit() else None
