"""Camera preview: numpy frames to QImage without copies, QR outline drawn on top."""

from __future__ import annotations

import numpy as np
import pytest

from scanner_app.gui.widgets.preview import CameraPreview, frame_to_qimage


def test_bgr_frame_shares_memory_and_keeps_colours():
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, :] = (255, 0, 0)  # BGR blue
    image = frame_to_qimage(frame)
    assert (image.width(), image.height()) == (64, 48)
    assert image.pixelColor(10, 10).name() == "#0000ff"
    frame[10, 10] = (0, 0, 255)  # BGR red, written after wrapping
    assert image.pixelColor(10, 10).name() == "#ff0000"  # same buffer: no copy was made


def test_grey_frame():
    frame = np.full((20, 30), 200, np.uint8)
    image = frame_to_qimage(frame)
    assert image.pixelColor(3, 3).name() == "#c8c8c8"


def test_strided_crop_is_packed_first():
    frame = np.zeros((40, 40, 3), np.uint8)
    frame[::2, ::2] = (0, 255, 0)
    crop = frame[::2, ::2]
    image = frame_to_qimage(crop)
    assert (image.width(), image.height()) == (20, 20)
    assert image.pixelColor(5, 5).name() == "#00ff00"


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4), np.float32), np.zeros((4, 4, 4), np.uint8), np.zeros(4, np.uint8)]
)
def test_bad_frames_are_refused(bad):
    with pytest.raises(ValueError):
        frame_to_qimage(bad)


@pytest.fixture
def preview(qtbot):
    widget = CameraPreview()
    qtbot.addWidget(widget)
    widget.resize(640, 360)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_frame_fills_the_widget_and_outline_is_drawn(preview):
    frame = np.full((720, 1280, 3), 90, np.uint8)
    square = [(400, 200), (880, 200), (880, 600), (400, 600)]
    preview.set_frame(frame, square)
    image = preview.grab().toImage()
    # 1280x720 into 640x360: scale 0.5, so the outline's left edge is at x=200.
    edge = image.pixelColor(200, 200)
    assert (edge.red(), edge.green(), edge.blue()) == (0, 230, 118)
    assert image.pixelColor(300, 200).name() == "#5a5a5a"  # inside: the frame itself
    assert preview.frames_shown == 1
    assert preview.message == ""


def test_letterboxing_keeps_aspect(preview):
    preview.resize(640, 640)
    preview.set_frame(np.full((360, 640, 3), 255, np.uint8))
    rect = preview.image_rect()
    assert (rect.width(), rect.height(), rect.y()) == (640, 360, 140)
    image = preview.grab().toImage()
    assert image.pixelColor(320, 50).name() == "#000000"
    assert image.pixelColor(320, 320).name() == "#ffffff"


def test_no_polygon_no_outline(preview):
    preview.set_frame(np.full((360, 640), 128, np.uint8), None)
    colours = {preview.grab().toImage().pixelColor(x, 180).name() for x in range(0, 640, 7)}
    assert colours == {"#808080"}


def test_message_replaces_picture(preview):
    preview.set_frame(np.full((360, 640, 3), 255, np.uint8))
    preview.set_message("Camera disconnected")
    assert preview.message == "Camera disconnected"
    image = preview.grab().toImage()
    assert image.pixelColor(5, 5).name() == "#000000"
    lit = sum(
        image.pixelColor(x, y).lightness() > 100 for x in range(640) for y in range(0, 360, 3)
    )
    assert lit > 50  # the camera-off icon and the text are painted
