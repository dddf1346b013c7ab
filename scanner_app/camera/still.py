"""Decode QR codes in a still image file (`tickitz-scanner scan --image FILE`)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from scanner_app.camera.decoders import Decoder, ZxingDecoder, make_raw_decoder, to_gray
from scanner_app.camera.errors import UnreadableImage


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as BGR; FileNotFoundError or UnreadableImage with the path."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"image file not found: {p}")
    if not p.is_file():
        raise UnreadableImage(f"cannot read image {p}: not a regular file")
    try:
        # np.fromfile + imdecode, not imread: imread fails silently on non-ASCII paths.
        data = np.fromfile(p, dtype=np.uint8)
    except OSError as exc:
        raise UnreadableImage(f"cannot read image {p}: {exc.strerror or exc}") from exc
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise UnreadableImage(f"cannot read image {p}: not an image format OpenCV can decode")
    return image


SMALL_HEIGHT = 600  # as the live path (ScalingDecoder.min_height): smaller images get 2x


def decode_image_file(path: str | Path, decoder: str | Decoder = "auto") -> list[str]:
    """The texts of all QR codes in an image file, in the order found (may be empty).

    A still is decoded at full resolution with the backend's thorough settings, since
    time matters less than for live video; with zxing a GlobalHistogram pass follows
    when that reads nothing. An image under 600 px tall that still reads nothing is
    upscaled 2x and tried again, as the live path does for small frames. Raises
    FileNotFoundError for a missing file, UnreadableImage for a file that is not an
    image, DecoderUnavailable / ValueError for a decoder name that cannot be used.
    """
    decoders = _still_decoders(decoder)
    gray = to_gray(load_image(path))
    tries = [gray]
    if gray.shape[0] < SMALL_HEIGHT:
        h, w = gray.shape
        tries.append(cv2.resize(gray, (w * 2, h * 2), interpolation=cv2.INTER_LINEAR))
    for image in tries:
        for dec in decoders:
            texts = [r.text for r in dec.decode(image)]
            if texts:
                return texts
    return []


def _still_decoders(decoder: str | Decoder) -> list[Decoder]:
    if not isinstance(decoder, str):
        return [decoder]
    if decoder in ("auto", "zxing") and _zxing_ok():
        return [ZxingDecoder(thorough=True), ZxingDecoder(thorough=True, binarizer="global")]
    return [make_raw_decoder(decoder)]


def _zxing_ok() -> bool:
    try:
        import zxingcpp  # noqa: F401
    except ImportError:  # pragma: no cover - zxing-cpp is a hard dependency
        return False
    return True
