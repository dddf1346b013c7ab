"""Still images (`tickitz-scanner scan --image FILE`) and the frame synthesis helpers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from scanner_app.camera import DecoderUnavailable, UnreadableImage, decode_image_file
from scanner_app.camera.synth import (
    DISTORTIONS,
    fake_ticket_payload,
    qr_modules,
    render_ticket_frame,
)


@pytest.mark.parametrize("decoder", ["auto", "zxing", "pyzbar"])
def test_decode_image_file_reads_the_ticket(ticket_png, payloads, decoder):
    assert decode_image_file(ticket_png, decoder=decoder) == [payloads[0]]
    assert decode_image_file(str(ticket_png), decoder=decoder) == [payloads[0]]


def test_jpeg_photo_at_an_angle_and_a_large_size(tmp_path, payloads):
    frame = render_ticket_frame(payloads[2], size=(1280, 720), distortion="tilt", seed=4).image
    big = cv2.resize(frame, (3840, 2160), interpolation=cv2.INTER_CUBIC)  # a phone photo
    path = tmp_path / "photo.jpg"
    cv2.imwrite(str(path), big, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert decode_image_file(path) == [payloads[2]]


def test_image_without_a_code_is_an_empty_list(tmp_path):
    path = tmp_path / "empty.png"
    cv2.imwrite(str(path), render_ticket_frame(None, seed=1).image)
    assert decode_image_file(path) == []


def test_missing_and_unreadable_files_have_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="image file not found: .*nope.png"):
        decode_image_file(tmp_path / "nope.png")
    text = tmp_path / "ticket.png"
    text.write_text("this is not a PNG")
    with pytest.raises(UnreadableImage, match="cannot read image .*ticket.png"):
        decode_image_file(text)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableImage, match="empty.jpg"):
        decode_image_file(empty)
    with pytest.raises(UnreadableImage, match="not a regular file"):
        decode_image_file(tmp_path)


def test_unknown_decoder_name_is_a_clear_error(tmp_path, ticket_png):
    with pytest.raises(ValueError, match="unknown decoder 'nope'"):
        decode_image_file(ticket_png, decoder="nope")
    with pytest.raises(ValueError, match="unknown decoder"):  # checked before the file
        decode_image_file(tmp_path / "missing.png", decoder="nope")


def test_unavailable_decoder_is_reported(monkeypatch, ticket_png):
    monkeypatch.setitem(__import__("sys").modules, "zxingcpp", None)
    with pytest.raises(DecoderUnavailable):
        decode_image_file(ticket_png, decoder="zxing")
    assert decode_image_file(ticket_png) != []  # auto falls back to pyzbar


def test_non_ascii_path(tmp_path, payloads):
    path = tmp_path / "Eintrittskarte für Zoë.png"
    ok, buf = cv2.imencode(".png", render_ticket_frame(payloads[1], seed=2).image)
    assert ok
    path.write_bytes(buf.tobytes())
    assert decode_image_file(path) == [payloads[1]]


def test_fake_payload_looks_like_a_ticket_jwt():
    p = fake_ticket_payload(3)
    assert p == fake_ticket_payload(3) != fake_ticket_payload(4)
    head, body, sig = p.split(".")
    assert 300 <= len(p) <= 400
    assert all(c.isalnum() or c in "-_" for c in head + body + sig)
    assert qr_modules(p).shape == (73, 73)  # version 14 at level M, as DESIGN §9 says


@pytest.mark.parametrize("distortion", DISTORTIONS)
def test_rendered_frames_are_deterministic_and_inside_the_frame(distortion):
    p = fake_ticket_payload(1)
    a = render_ticket_frame(p, size=(640, 480), distortion=distortion, seed=8)
    b = render_ticket_frame(p, size=(640, 480), distortion=distortion, seed=8)
    assert a.image.shape == (480, 640, 3) and a.image.dtype == np.uint8
    assert np.array_equal(a.image, b.image)
    assert a.polygon is not None and a.polygon.shape == (4, 2)
    assert (
        (a.polygon >= 0).all() and (a.polygon[:, 0] < 640).all() and (a.polygon[:, 1] < 480).all()
    )


def test_unknown_distortion_is_refused():
    with pytest.raises(ValueError, match="unknown distortion 'fog'"):
        render_ticket_frame("x" * 20, distortion="fog")
