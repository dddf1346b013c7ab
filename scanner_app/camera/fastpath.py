"""The default decode strategy: the cheapest scale first, a finer one only when worth it.

Measured here (bench/bench_decode.py, on the real photos in ../shared/realworld/qr-photos
pasted into cluttered 720p frames and on 1,149 frames without a code; CPU ms on an
empty 720p frame, the 2 cores shared):
1. zxing (LocalAverage) at half size, ~0.5 ms with the resize: reads big codes, and
   halving also halves blur.
2. zxing GlobalHistogram at full size, no inverted try, ~0.33 ms: reads small,
   low-contrast and curved-paper codes that 1 misses (2-3 px per module, 50-64 px
   wide), which the texture check cannot see at half size.
3. The texture check on the half-size frame, ~0.4 ms.
4. zxing LocalAverage at full size, ~0.95 ms: the complete read, run only when 1 or 2
   saw a code they could not read or 3 finds a patch of QR-like detail (8% of real
   frames without a code; blurry close-ups at ~5 px per module need it).
Every pass on every frame costs ~1.1-2 ms an empty frame (load decides), over the
1.5 ms budget. Live (ScanPipeline), frames take turns: one runs 1 and 3 (and 2 and 4
when promising), the next runs 2 (and 4 when 2 saw a code); a still code gets every
pass within 2 frames (66 ms at 30 fps; a code is held up for 0.5-2 s) and the same
reads (166/179 in frame, raw zxing-cpp 164), for about half the CPU a frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from scanner_app.camera.decoders import (
    BaseDecoder,
    Decoder,
    DecodeResult,
    ZxingDecoder,
    make_raw_decoder,
    to_gray,
)

_TILE = 16
_KERNEL = np.ones((3, 3), np.uint8)


def looks_busy(gray: np.ndarray, threshold: int = 20, ratio: float = 0.25) -> bool:
    """True when some 3x3-tile patch is full of fine detail, as a QR code is.

    Per 16 px tile: the high-pass energy (mean |image - 3x3 mean|) and the contrast
    (standard deviation). A tile is busy when its energy reaches `threshold`, or, for
    low-contrast codes, when it has some contrast (std >= 12) and at least 40% of it
    is fine detail: edges of objects have contrast but little detail, sensor noise has
    detail but little contrast. Eroding the tile map keeps only patches at least 3
    tiles wide, so single edges and text lines drop out. ~0.2 ms on 640x360; measured
    3% false alarms on cluttered empty scenes, no missed code worth a retry.
    """
    h, w = gray.shape[:2]
    th, tw = h // _TILE, w // _TILE
    if th < 3 or tw < 3:
        return True  # too small to judge: let the decoder look
    g = gray[: th * _TILE, : tw * _TILE]  # whole tiles keep INTER_AREA on its fast path
    area = (tw, th)
    detail = cv2.resize(cv2.absdiff(g, cv2.blur(g, (3, 3))), area, interpolation=cv2.INTER_AREA)
    g16 = g.astype(np.uint16)
    mean = cv2.resize(g, area, interpolation=cv2.INTER_AREA).astype(np.float32)
    mean_sq = cv2.resize(g16 * g16, area, interpolation=cv2.INTER_AREA).astype(np.float32)
    std = np.sqrt(np.maximum(mean_sq - mean * mean, 0))
    hp = detail.astype(np.float32)
    busy = (hp >= threshold) | ((std >= 16) & (hp >= ratio * std))
    return bool(cv2.erode(busy.astype(np.uint8), _KERNEL).any())


class ScalingDecoder:
    """Decode at the cheapest useful scale first; retry at a finer one only when promising.

    Frames at least `min_height` tall are tried at half size, then (when `second` is
    given) with `second` at full size, then at full size. Smaller frames are tried as
    they are, with `second`, then upscaled 2x: at 640x480 codes sit near zxing's ~2 px
    per module limit, and bilinear upscaling recovered every such miss measured.

    `live=True` (what ScanPipeline builds) shares the passes between consecutive frames:
    one frame runs the first scale and the texture check, the next the `second` pass,
    each followed by the retry when it is promising. A code held up to a door camera
    stays in view for 15-60 frames, so a still code gets every pass within 2 frames,
    for about half the CPU time a frame. `live=False` runs every pass on every call
    (one-off images; the benchmark's single-frame figures).
    """

    def __init__(
        self,
        inner: BaseDecoder,
        *,
        second: BaseDecoder | None = None,
        min_height: int = 600,
        busy_threshold: int = 20,
        live: bool = False,
    ) -> None:
        self.inner = inner
        self.second = second
        self.name = inner.name
        self.min_height = min_height
        self.busy_threshold = busy_threshold
        self.live = live and second is not None
        self._turn = 0  # live: 0 = first scale and texture check, 1 = the second pass
        # Which path frames took, for the benchmark: read at the first scale ("first"),
        # by the second pass ("second"), at the retry scale ("retry": hit or miss), or
        # no retry worth it ("skipped").
        self.paths: dict[str, int] = {"first": 0, "second": 0, "retry": 0, "skipped": 0}

    def decode(self, gray: np.ndarray) -> list[DecodeResult]:
        g = to_gray(gray)
        if not self.live:
            return self._passes(g, first=True, second=self.second is not None)
        turn, self._turn = self._turn, 1 - self._turn
        return self._passes(g, first=turn == 0, second=turn == 1)

    def _passes(self, g: np.ndarray, *, first: bool, second: bool) -> list[DecodeResult]:
        h, w = g.shape
        big = h >= self.min_height
        start, suspect = g, False
        if first:
            if big:
                start = cv2.resize(g, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
            results, suspect = self.inner.scan(start)
            if results:
                self.paths["first"] += 1
                return [_scaled(r, w / start.shape[1], h / start.shape[0]) for r in results]
        if second and self.second is not None:
            results, suspect2 = self.second.scan(g)
            if results:
                self.paths["second"] += 1
                return results
            suspect = suspect or suspect2
        # The texture check runs at half size either way: its thresholds were tuned
        # there, and at full 640x480 sensor noise alone trips it (20/160 empty frames
        # versus 1/160 at half size).
        if not (suspect or (first and looks_busy(_half_size(g, start), self.busy_threshold))):
            self.paths["skipped"] += 1
            return []
        if not second and self.second is not None:
            # A live frame worth the retry gets the whole one-frame path: the cheap
            # second pass first (small codes the texture check saw), then the retry.
            results, _ = self.second.scan(g)
            if results:
                self.paths["second"] += 1
                return results
        self.paths["retry"] += 1
        if big:
            return self.inner.decode(g)
        up = cv2.resize(g, (w * 2, h * 2), interpolation=cv2.INTER_LINEAR)
        return [_scaled(r, 0.5, 0.5) for r in self.inner.decode(up)]

    def __repr__(self) -> str:
        mode = " live" if self.live else ""
        return f"<ScalingDecoder {self.name} min_height={self.min_height}{mode}>"


def _half_size(g: np.ndarray, start: np.ndarray) -> np.ndarray:
    """`g` at half size: `start` when the first pass already made it."""
    h, w = g.shape
    if start.shape == (h // 2, w // 2):
        return start
    return cv2.resize(g, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def _scaled(r: DecodeResult, sx: float, sy: float) -> DecodeResult:
    # Pixel centres: x in the scaled image maps to (x + 0.5) * sx - 0.5 in the frame.
    pts = tuple(((x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5) for x, y in r.polygon)
    return DecodeResult(r.text, (pts[0], pts[1], pts[2], pts[3]), r.decoder)


def make_decoder(name: str = "auto", *, fast: bool | None = None, live: bool = False) -> Decoder:
    """A QR decoder by name: "auto" (zxing, then pyzbar, then OpenCV), "zxing", "pyzbar", "opencv".

    `fast=True` wraps the backend in `ScalingDecoder` (zxing with a GlobalHistogram
    second pass), `fast=False` gives the plain backend at full resolution. The default
    (None) wraps zxing only: it flags codes it saw but could not read at half size, so
    its retry is reliable; pyzbar and OpenCV lose low-contrast and small codes at half
    size (see the benchmark), and as fallbacks they should rather be slow than blind.
    `live=True` gives the fast path that shares its passes between consecutive frames
    (see ScalingDecoder), for a camera stream. Raises DecoderUnavailable when the
    backend cannot be loaded and ValueError for an unknown name.
    """
    raw = make_raw_decoder(name)
    if fast is None:
        fast = raw.name == "zxing"
    if not fast:
        return raw
    # No inverted try in the second pass: it costs 0.2 ms an empty frame (0.5 -> 0.3), and
    # light-on-dark codes are still tried by the half-size pass and the full-size retry.
    second = (
        ZxingDecoder(binarizer="global", try_invert=False)
        if isinstance(raw, ZxingDecoder)
        else None
    )
    return ScalingDecoder(raw, second=second, live=live)
