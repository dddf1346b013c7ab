"""Fixtures for the camera tests: ticket payloads, rendered frames, recorded reels."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from scanner_app.camera.synth import (
    DISTORTIONS,
    fake_ticket_payload,
    render_ticket_frame,
    write_reel,
)

# Frames per (size, distortion) in the success-rate tests: enough to see a rate,
# few enough to keep the camera suite well under a minute on 2 cores.
FRAMES_PER_CLASS = 8
SIZES = ((1280, 720), (640, 480))


@pytest.fixture(scope="session")
def payloads() -> list[str]:
    return [fake_ticket_payload(1000 + i) for i in range(6)]


@pytest.fixture(scope="session")
def frame_sets() -> dict[tuple[tuple[int, int], str], list]:
    """Rendered ticket frames per (size, distortion), plus ("empty") scenes; made once."""
    sets: dict[tuple[tuple[int, int], str], list] = {}
    for size in SIZES:
        for ci, dist in enumerate(DISTORTIONS):
            sets[size, dist] = [
                render_ticket_frame(
                    fake_ticket_payload(seed := 50_000 + 97 * ci + i),
                    size=size,
                    distortion=dist,
                    seed=seed,
                )
                for i in range(FRAMES_PER_CLASS)
            ]
        sets[size, "empty"] = [
            render_ticket_frame(None, size=size, distortion=DISTORTIONS[i % 8], seed=70_000 + i)
            for i in range(FRAMES_PER_CLASS)
        ]
    return sets


@pytest.fixture(scope="session")
def reel(tmp_path_factory: pytest.TempPathFactory, payloads: list[str]) -> Path:
    """A recorded queue of six tickets (one distortion class each) with empty gaps."""
    path = tmp_path_factory.mktemp("reel") / "queue.avi"
    return write_reel(
        payloads,
        path,
        fps=20,
        seconds_per_ticket=0.6,
        gap_seconds=0.3,
        size=(1280, 720),
        distortions=("clean", "rotation", "tilt", "blur", "noise", "small"),
    )


@pytest.fixture
def ticket_png(tmp_path: Path, payloads: list[str]) -> Path:
    path = tmp_path / "ticket.png"
    assert cv2.imwrite(str(path), render_ticket_frame(payloads[0], seed=5).image)
    return path
