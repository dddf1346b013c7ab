"""The camera package's errors form one tree and keep the builtin bases callers catch."""

from __future__ import annotations

import pytest

from scanner_app.camera import (
    BadBarcode,
    CameraError,
    DecoderUnavailable,
    EndOfStream,
    FileSource,
    SourceError,
    UnreadableImage,
    decode_image_file,
)
from scanner_app.camera.errors import CorpusMissing
from scanner_app.camera.realphotos import load_photos


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (DecoderUnavailable, RuntimeError),
        (SourceError, OSError),
        (UnreadableImage, ValueError),
        (BadBarcode, ValueError),
        (CorpusMissing, FileNotFoundError),
    ],
)
def test_each_error_is_a_camera_error_and_keeps_its_builtin_base(error, builtin):
    assert issubclass(error, CameraError) and issubclass(error, builtin)


def test_end_of_stream_is_a_signal_not_an_error():
    assert not issubclass(EndOfStream, CameraError)


def test_real_failures_raise_camera_errors(tmp_path):
    not_an_image = tmp_path / "ticket.png"
    not_an_image.write_bytes(b"this is text, not a PNG")
    with pytest.raises(CameraError, match="not an image format"):
        decode_image_file(not_an_image)
    with pytest.raises(CameraError, match="not found"):
        load_photos(tmp_path / "no-corpus")
    with pytest.raises(CameraError, match="not open"):
        FileSource(not_an_image).read()
    # A missing file stays the builtin FileNotFoundError, as callers expect.
    with pytest.raises(FileNotFoundError):
        decode_image_file(tmp_path / "missing.png")
