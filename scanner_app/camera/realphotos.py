"""The real-photo corpus (../shared/realworld/qr-photos) as tests and benchmarks use it.

179 photographs of printed QR codes from ZXing's blackbox test sets, each `N.png` with
its expected text in `N.txt`. Three views of them:
- bare: the photo as it is;
- in frame: pasted 1:1 into a cluttered 1280x720 scene (`synth` background), as the door
  camera sees a code held up in front of the room; `mat` px of light paper around the
  photo by default, because 7 of the images are code-only renders with no quiet zone
  (QR needs 4 modules): on a dark scene no decoder can find their finder patterns, and
  a printed or on-screen code always has that margin. `mat=0` is the strict paste;
- negatives: the parts of each photo away from its code(s) (hands, paper, print,
  packaging, screens), pasted 1:1 and 2x into the scene and scaled to fill the frame.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from scanner_app.camera.errors import CorpusMissing
from scanner_app.camera.synth import scene

FRAME = (1280, 720)
DEFAULT_MAT = 8
SCENES = 24  # distinct backdrops, reused: rendering one takes ~35 ms, pasting ~0.1 ms


@dataclass(frozen=True)
class Photo:
    """One corpus image (BGR) and the exact text its code holds."""

    name: str  # "qrcode-2/31.png"
    text: str
    image: np.ndarray


def corpus_dir(repo_root: str | Path) -> Path:
    """Where the corpus lives relative to a checkout: ../shared/realworld/qr-photos."""
    return Path(repo_root).resolve().parent / "shared" / "realworld" / "qr-photos"


def load_photos(root: str | Path) -> list[Photo]:
    """Every image under `root` with its text, sorted by name; CorpusMissing when absent.

    Texts are read as bytes and decoded as UTF-8: text mode would turn the codes'
    CR LF line ends into LF and 25 photos would seem misread.
    """
    base = Path(root)
    if not base.is_dir():
        raise CorpusMissing(f"real-photo corpus not found at {base}")
    paths = sorted(p for p in base.glob("*/*") if p.suffix.lower() in (".png", ".jpg"))
    if not paths:
        raise CorpusMissing(f"no .png/.jpg photos under {base}")
    photos = []
    for p in paths:
        txt = p.with_suffix(".txt")
        if not txt.is_file():
            raise CorpusMissing(f"{p} has no expected text file {txt.name}")
        image = cv2.imdecode(np.fromfile(p, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise CorpusMissing(f"cannot decode corpus image {p}")
        name = f"{p.parent.name}/{p.name}"
        photos.append(Photo(name, txt.read_bytes().decode("utf-8"), image))
    return photos


def with_mat(image: np.ndarray, px: int = DEFAULT_MAT, level: int = 235) -> np.ndarray:
    """The photo on a light border of `px` pixels (the paper or screen around it)."""
    if px <= 0:
        return image
    return cv2.copyMakeBorder(image, px, px, px, px, cv2.BORDER_CONSTANT, value=(level,) * 3)


def in_frame(
    image: np.ndarray, seed: int, *, mat: int = DEFAULT_MAT, size: tuple[int, int] = FRAME
) -> np.ndarray:
    """`image` pasted 1:1 at a seeded place in a cluttered scene of `size` (BGR).

    Images larger than the frame (2 of 179) are scaled down to fit, as a camera zoomed
    out would see them.
    """
    w, h = size
    frame = _backdrop(size, seed % SCENES).copy()
    im = with_mat(image, mat)
    ih, iw = im.shape[:2]
    s = min(1.0, w / iw, h / ih)
    if s < 1:
        im = cv2.resize(im, (int(iw * s), int(ih * s)), interpolation=cv2.INTER_AREA)
        ih, iw = im.shape[:2]
    rng = np.random.default_rng(seed + 1)
    x, y = int(rng.integers(0, w - iw + 1)), int(rng.integers(0, h - ih + 1))
    frame[y : y + ih, x : x + iw] = im
    return frame


@functools.lru_cache(maxsize=2 * SCENES)
def _backdrop(size: tuple[int, int], seed: int) -> np.ndarray:
    image = scene(size, 5000 + seed)
    image.setflags(write=False)
    return image


def framed(photos: list[Photo], *, mat: int = DEFAULT_MAT) -> list[tuple[Photo, np.ndarray]]:
    """Each photo in its own 720p frame (seed from its index, so runs are comparable)."""
    return [(p, in_frame(p.image, 1000 + i, mat=mat)) for i, p in enumerate(photos)]


def code_outlines(gray: np.ndarray) -> list[np.ndarray]:
    """Every QR outline zxing-cpp finds in a bare photo (read or not, either binarizer)."""
    import zxingcpp

    quads = []
    for binarizer in (zxingcpp.Binarizer.LocalAverage, zxingcpp.Binarizer.GlobalHistogram):
        for b in zxingcpp.read_barcodes(
            gray, formats=zxingcpp.BarcodeFormat.QRCode, binarizer=binarizer, return_errors=True
        ):
            p = b.position
            corners = (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
            quads.append(np.float32([(c.x, c.y) for c in corners]))
    return quads


def away_from_codes(
    shape: tuple[int, ...], quads: list[np.ndarray], grow: float = 0.25, min_side: int = 24
) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) left of, right of, above and below the codes grown by `grow`."""
    h, w = shape[:2]
    pts = np.vstack(quads)
    c = pts.mean(0)
    pts = c + (pts - c) * (1 + grow)
    x0, y0 = (max(0, int(v)) for v in np.floor(pts.min(0)))
    x1, y1 = (min(lim, int(v)) for v, lim in zip(np.ceil(pts.max(0)), (w, h), strict=True))
    boxes = [(0, 0, x0, h), (x1, 0, w, h), (0, 0, w, y0), (0, y1, w, h)]
    return [(a, b, c_, d) for a, b, c_, d in boxes if c_ - a >= min_side and d - b >= min_side]


def _cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    ih, iw = image.shape[:2]
    s = max(w / iw, h / ih)
    big = cv2.resize(
        image, (max(w, round(iw * s)), max(h, round(ih * s))), interpolation=cv2.INTER_LINEAR
    )
    y, x = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return big[y : y + h, x : x + w]


def negatives(
    photos: list[Photo], size: tuple[int, int] = FRAME, *, all_views: bool = True
) -> Iterator[tuple[str, np.ndarray]]:
    """(label, BGR frame) of real imagery without a code: 3 frames per code-free crop.

    Photos where zxing-cpp finds no outline at all are skipped (their code could be
    anywhere). 177 photos give 383 crops, so 1,149 frames; `all_views=False` gives one
    view per crop, in turn (383 frames, for tests).
    """
    k = 0
    for p in photos:
        quads = code_outlines(cv2.cvtColor(p.image, cv2.COLOR_BGR2GRAY))
        if not quads:
            continue
        for j, (x0, y0, x1, y1) in enumerate(away_from_codes(p.image.shape, quads)):
            crop = p.image[y0:y1, x0:x1]
            k += 1
            views = range(3) if all_views else (k % 3,)
            for v in views:
                label = f"{p.name}#{j} {('1:1', '2x', 'fill')[v]}"
                if v == 0:
                    yield label, in_frame(crop, 9000 + k, mat=0, size=size)
                elif v == 1:
                    double = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
                    yield label, in_frame(double, 19000 + k, mat=0, size=size)
                else:
                    yield label, _cover(crop, size)
