"""QR decoders: zxing-cpp (default), pyzbar/zbar, OpenCV; all restricted to QR codes.

Every decoder takes a greyscale uint8 frame (a BGR frame is converted) and returns
`DecodeResult`s with the text and the code's outline in frame pixels. Restricting to QR
matters: a door camera sees stripes, text and noise that 1D readers happily "decode".
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from scanner_app.camera.errors import DecoderUnavailable
from scanner_app.camera.fallbacks import opencv_qr_bytes, opencv_text, text_of, zbar_qr_symbols
from scanner_app.core.node_config import DECODERS

Point = tuple[float, float]

# The names a node's configuration may hold are core's (the CLI validates with them too);
# "auto" picks the first installed of the rest, in this order of preference.
DECODER_CHOICES: tuple[str, ...] = DECODERS
DECODER_NAMES: tuple[str, ...] = tuple(name for name in DECODERS if name != "auto")

ZBAR_HELP = (
    "pyzbar needs the zbar shared library: install it with `apt-get install libzbar0` "
    "(Debian/Ubuntu) or `brew install zbar` (macOS)"
)


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """One decoded QR code: its text and outline (TL, TR, BR, BL) in frame pixels."""

    text: str
    polygon: tuple[Point, Point, Point, Point]
    decoder: str


@runtime_checkable
class Decoder(Protocol):
    """Anything that turns a greyscale frame into decoded QR codes."""

    name: str

    def decode(self, gray: np.ndarray) -> list[DecodeResult]:
        """Decode every QR code in `gray` (uint8, HxW; HxWx3 BGR is converted)."""
        ...


def to_gray(frame: np.ndarray) -> np.ndarray:
    """A greyscale uint8 view of a BGR, BGRA or already-grey frame."""
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 1:
        return frame[:, :, 0]
    raise ValueError(f"expected a grey, BGR or BGRA image, got an array of shape {frame.shape}")


def quad(points: Sequence[Sequence[float]]) -> tuple[Point, Point, Point, Point]:
    """Four corners as float tuples, clockwise on screen; other shapes become their min-area box."""
    pts = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    if len(pts) != 4:
        pts = cv2.boxPoints(cv2.minAreaRect(pts))
    # Shoelace sign with y pointing down: negative means counter-clockwise on screen.
    x, y = pts[:, 0], pts[:, 1]
    if float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) < 0:
        pts = pts[[0, 3, 2, 1]]
    a, b, c, d = ((float(px), float(py)) for px, py in pts)
    return (a, b, c, d)


def _unique(results: list[DecodeResult]) -> list[DecodeResult]:
    seen: set[str] = set()
    out = []
    for r in results:
        if r.text not in seen:
            seen.add(r.text)
            out.append(r)
    return out


class BaseDecoder:
    """Shared behaviour: `scan` also says whether something code-like was seen but not read."""

    name = "base"

    def decode(self, gray: np.ndarray) -> list[DecodeResult]:
        return self.scan(gray)[0]

    def scan(self, gray: np.ndarray) -> tuple[list[DecodeResult], bool]:
        """Decode; the flag is True when a code was detected but could not be read."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class ZxingDecoder(BaseDecoder):
    """zxing-cpp, QR only. `thorough` also searches rotated and downscaled copies (stills).

    Text mode Plain: the default HRI mode rewrites control characters as "<SOH>" and
    formats GS1 data, so a payload would come back different from what was encoded.
    `binarizer="global"` (GlobalHistogram) reads some codes on curved or unevenly lit
    paper that the default LocalAverage misses, at about half its cost on a 720p frame.
    """

    name = "zxing"

    def __init__(
        self, *, thorough: bool = False, try_invert: bool = True, binarizer: str = "local"
    ) -> None:
        try:
            import zxingcpp
        except ImportError as exc:  # pragma: no cover - zxing-cpp is a hard dependency
            raise DecoderUnavailable(
                f"zxing-cpp is not installed: pip install zxing-cpp ({exc})"
            ) from exc
        self._zx = zxingcpp
        binarizers = {
            "local": zxingcpp.Binarizer.LocalAverage,
            "global": zxingcpp.Binarizer.GlobalHistogram,
        }
        if binarizer not in binarizers:
            raise ValueError(f"unknown binarizer {binarizer!r}; choose local or global")
        self.binarizer = binarizer
        self._kwargs: dict[str, Any] = {
            "formats": zxingcpp.BarcodeFormat.QRCode,
            # QR detection is rotation-invariant already; zxing's rotate/downscale passes
            # cost time on every empty frame, and the fast path does its own downscale.
            "try_rotate": thorough,
            "try_downscale": thorough,
            "try_invert": try_invert,
            "text_mode": zxingcpp.TextMode.Plain,
            "binarizer": binarizers[binarizer],
            "return_errors": True,
        }

    def scan(self, gray: np.ndarray) -> tuple[list[DecodeResult], bool]:
        found = self._zx.read_barcodes(np.ascontiguousarray(to_gray(gray)), **self._kwargs)
        results, suspect = [], False
        for b in found:
            if not b.valid:
                suspect = True
                continue
            p = b.position
            corners = [p.top_left, p.top_right, p.bottom_right, p.bottom_left]
            results.append(DecodeResult(b.text, quad([(c.x, c.y) for c in corners]), self.name))
        return _unique(results), suspect


def _load_pyzbar() -> Any:
    """Import pyzbar's decode module or raise DecoderUnavailable naming the missing package."""
    if importlib.util.find_spec("pyzbar") is None:
        raise DecoderUnavailable(f"pyzbar is not installed (pip install pyzbar); {ZBAR_HELP}")
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError) as exc:  # pyzbar raises ImportError when libzbar is missing
        raise DecoderUnavailable(f"{ZBAR_HELP} ({exc})") from exc
    return pyzbar


class PyzbarDecoder(BaseDecoder):
    """The zbar library through pyzbar, restricted to QR (zbar otherwise reads 1D noise)."""

    name = "pyzbar"

    def __init__(self) -> None:
        self._pyzbar = _load_pyzbar()

    def scan(self, gray: np.ndarray) -> tuple[list[DecodeResult], bool]:
        found = zbar_qr_symbols(self._pyzbar, to_gray(gray))
        results = [
            DecodeResult(text, quad(pts), self.name)
            for data, pts in found
            if (text := text_of(data)) is not None
        ]
        return _unique(results), len(results) < len(found)


class OpenCVDecoder(BaseDecoder):
    """OpenCV's QR detector: slow and needs ~4-5 px per module, but always available.

    The Aruco-based detector: in OpenCV 5.0 the classic QRCodeDetector's multi-code call
    found nothing even in perfect synthetic codes, and the Aruco one read more codes faster.
    """

    name = "opencv"

    def __init__(self) -> None:
        self._detector = cv2.QRCodeDetectorAruco()

    def scan(self, gray: np.ndarray) -> tuple[list[DecodeResult], bool]:
        read, unread = opencv_qr_bytes(self._detector, to_gray(gray))
        results = [
            DecodeResult(text, quad(pts), self.name)
            for data, pts in read
            if (text := opencv_text(data)) is not None
        ]
        # Outlines OpenCV saw but could not read (or whose bytes are no text) are suspects.
        return _unique(results), unread > 0 or len(results) < len(read)


_FACTORIES: dict[str, type[BaseDecoder]] = {
    "zxing": ZxingDecoder,
    "pyzbar": PyzbarDecoder,
    "opencv": OpenCVDecoder,
}


def _backend_available(name: str) -> bool:
    try:
        _FACTORIES[name]()
    except DecoderUnavailable:
        return False
    return True


def available_decoders() -> list[str]:
    """Decoder names usable here, in order of preference (zxing, pyzbar, opencv)."""
    return [n for n in DECODER_NAMES if _backend_available(n)]


def make_raw_decoder(name: str) -> BaseDecoder:
    """One backend at full resolution, without the fast path (baselines, stills)."""
    if name == "auto":
        for candidate in DECODER_NAMES:
            try:
                return _FACTORIES[candidate]()
            except DecoderUnavailable:
                continue
        raise DecoderUnavailable("no QR decoder could be loaded")  # pragma: no cover
    try:
        factory = _FACTORIES[name]
    except KeyError:
        choices = ", ".join(DECODER_CHOICES)
        raise ValueError(f"unknown decoder {name!r}; choose one of: {choices}") from None
    return factory()
