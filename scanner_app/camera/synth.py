"""Synthetic camera frames with ticket QR codes, for tests, benchmarks and the demo.

Tickets are rendered with segno (level M) and composited into a textured scene with
OpenCV, then distorted the way door cameras distort them (rotation, blur, tilt, low
contrast, noise, glare, small codes). `write_reel` writes a real video file that
`FileSource` (or `WebcamSource` given a path) plays back.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import segno

from scanner_app.camera.synth_effects import (
    CAMERA_DISTORTIONS,
    SCREEN,
    camera_params,
    compress,
    frame_effect,
    screen_effect,
)

# Printed-ticket classes first (the original eight), then the camera-realistic ones.
PRINT_DISTORTIONS: tuple[str, ...] = (
    "clean",
    "rotation",
    "blur",
    "tilt",
    "low_contrast",
    "noise",
    "glare",
    "small",
)
DISTORTIONS: tuple[str, ...] = (*PRINT_DISTORTIONS, *CAMERA_DISTORTIONS)
# What the demo reel cycles through: a door's usual mix, every class read in the bench.
REEL_DISTORTIONS: tuple[str, ...] = (
    "clean",
    "screen_moire",
    "motion_blur",
    "screen_glare",
    "tilt",
    "low_light",
    "rolling_shutter",
    "jpeg",
)

_FIRST = ("Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Dennis", "Frances")
_LAST = ("Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Liskov", "Ritchie")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class SynthFrame:
    """A rendered BGR frame and where the code is (TL, TR, BR, BL in frame pixels)."""

    image: np.ndarray
    polygon: np.ndarray | None
    payload: str | None
    distortion: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _ulid(rng: random.Random) -> str:
    return "".join(rng.choice(_CROCKFORD) for _ in range(26))


def fake_ticket_payload(seed: int | random.Random | None = None) -> str:
    """A JWT-shaped ticket token (~350 chars) with a random, unverifiable signature.

    Shaped like DESIGN §3 (EdDSA header, jti/evt/tier/name/iat/exp claims) so the
    QR version and density match real tickets; tests needing a valid signature sign
    their own tokens.
    """
    rng = seed if isinstance(seed, random.Random) else random.Random(seed)
    header = {"alg": "EdDSA", "kid": f"k_{_ulid(rng)[:10].lower()}", "typ": "JWT"}
    iat = 1_780_000_000 + rng.randrange(10_000_000)
    claims = {
        "jti": f"tkt_{_ulid(rng)}",
        "evt": f"evt_{_ulid(rng)}",
        "tier": rng.choice(("General Admission", "VIP", "Early Bird", "Backstage")),
        "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        "iat": iat,
        "exp": iat + 86_400 * rng.randrange(1, 60),
    }
    sig = bytes(rng.randrange(256) for _ in range(64))  # Ed25519 signatures are 64 bytes
    parts = [json.dumps(header, separators=(",", ":")), json.dumps(claims, separators=(",", ":"))]
    return ".".join([*(_b64url(p.encode()) for p in parts), _b64url(sig)])


@functools.lru_cache(maxsize=64)
def qr_modules(payload: str) -> np.ndarray:
    """The QR module matrix (1 = dark) at error level M, without quiet zone (read-only).

    Cached: segno's mask selection takes ~40 ms and reels render a ticket many times.
    """
    code = segno.make(payload, error="m", micro=False, boost_error=False)
    modules = np.array(code.matrix, dtype=np.uint8)
    modules.setflags(write=False)
    return modules


def _background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A plausible cluttered scene: gradient, blobs, text-like and barcode-like stripes."""
    w, h = size
    # A lighting gradient: bilinear upscaling of 2x2 corner values is a plane.
    corners = rng.uniform(40, 180, (2, 2, 1)) + rng.uniform(-15, 15, 3)  # + colour cast
    img = cv2.resize(corners.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    for _ in range(int(rng.integers(4, 10))):
        colour = [float(c) for c in rng.uniform(20, 235, 3)]
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            axes = (int(rng.integers(20, w // 4)), int(rng.integers(20, h // 4)))
            cv2.ellipse(img, (x, y), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
        else:
            x2, y2 = x + int(rng.integers(30, w // 3)), y + int(rng.integers(20, h // 3))
            cv2.rectangle(img, (x, y), (x2, y2), colour, -1)
    # Stripes look like 1D barcodes and text: a QR-only decoder must ignore them.
    x0, y0 = int(rng.integers(0, w - w // 5)), int(rng.integers(0, h - h // 6))
    for _ in range(int(rng.integers(20, 40))):
        bw = int(rng.integers(1, 5))
        x0 += bw + int(rng.integers(1, 5))
        cv2.rectangle(img, (x0, y0), (x0 + bw, y0 + h // 8), (20, 20, 20), -1)
    img8 = np.clip(img, 0, 255).astype(np.uint8)  # putText only draws on 8-bit images
    for _ in range(3):
        org = (int(rng.integers(0, w - 200)), int(rng.integers(20, h)))
        scale = float(rng.uniform(0.5, 1.2))
        cv2.putText(img8, "TICKITZ GATE 3", org, cv2.FONT_HERSHEY_SIMPLEX, scale, (30, 30, 30), 2)
    return cv2.GaussianBlur(img8.astype(np.float32), (0, 0), 1.2)


def scene(size: tuple[int, int] = (1280, 720), seed: int = 0) -> np.ndarray:
    """A cluttered scene without a code (uint8 BGR), as `render_ticket_frame` draws behind one."""
    return np.clip(_background(size, np.random.default_rng(seed)), 0, 255).astype(np.uint8)


def _card(modules: np.ndarray, px: int, margin: int) -> tuple[np.ndarray, np.ndarray]:
    """The code on a light card (quiet zone + margin); returns image and code corners."""
    n = modules.shape[0]
    pad = 4 + margin
    m = np.pad(modules, pad, constant_values=0)
    side = m.shape[0] * px
    card = cv2.resize(1.0 - m.astype(np.float32), (side, side), interpolation=cv2.INTER_NEAREST)
    a, b = pad * px, (pad + n) * px
    corners = np.float32([[a, a], [b, a], [b, b], [a, b]])
    return card, corners


def _pose_quad(
    side: float, centre: tuple[float, float], angle: float, tilt_x: float, tilt_y: float, f: float
) -> np.ndarray:
    """Project a square of `side` px, rotated in plane and tilted about x/y, onto the frame."""
    s = side / 2
    pts = np.float64([[-s, -s, 0], [s, -s, 0], [s, s, 0], [-s, s, 0]])
    a, tx, ty = (math.radians(v) for v in (angle, tilt_x, tilt_y))
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(tx), -math.sin(tx)], [0, math.sin(tx), math.cos(tx)]])
    ry = np.array([[math.cos(ty), 0, math.sin(ty)], [0, 1, 0], [-math.sin(ty), 0, math.cos(ty)]])
    p = pts @ (ry @ rx @ rz).T
    z = p[:, 2] + f
    return np.float32(np.stack([centre[0] + f * p[:, 0] / z, centre[1] + f * p[:, 1] / z], 1))


def _params(distortion: str, h: int, rng: np.random.Generator) -> dict[str, float]:
    """Random pose and degradation for one distortion class, scaled to frame height."""
    scale = h / 720
    p = {
        "module_px": float(rng.uniform(3.0, 4.5)) * scale,
        "angle": float(rng.uniform(-12, 12)),
        "tilt_x": float(rng.uniform(-8, 8)),
        "tilt_y": float(rng.uniform(-8, 8)),
        "blur": 0.0,
        "dark": float(rng.uniform(10, 40)),
        "light": float(rng.uniform(200, 245)),
        "noise": 2.0,
        "glare": 0.0,
    }
    if distortion == "rotation":
        p["angle"] = float(rng.uniform(-180, 180))
    elif distortion == "blur":
        p["module_px"] = float(rng.uniform(4.0, 5.0)) * scale
        p["blur"] = p["module_px"] * float(rng.uniform(0.25, 0.35))
    elif distortion == "tilt":
        sign = rng.choice((-1.0, 1.0), 2)
        p["tilt_x"] = float(sign[0] * rng.uniform(20, 40))
        p["tilt_y"] = float(sign[1] * rng.uniform(0, 25))
        p["module_px"] = float(rng.uniform(3.5, 4.5)) * scale
    elif distortion == "low_contrast":
        p["dark"] = float(rng.uniform(95, 115))
        p["light"] = p["dark"] + float(rng.uniform(35, 55))
    elif distortion == "noise":
        p["noise"] = float(rng.uniform(12, 20))
    elif distortion == "glare":
        p["glare"] = float(rng.uniform(0.10, 0.16))
    elif distortion == "small":
        # Small frames get a floor: below ~1.75 px per module nothing can read a code.
        p["module_px"] = float(rng.uniform(2.1, 2.6)) * max(scale, 0.9)
    elif distortion in CAMERA_DISTORTIONS:
        camera_params(distortion, p, rng)
    elif distortion != "clean":
        raise ValueError(f"unknown distortion {distortion!r}; expected one of {DISTORTIONS}")
    return p


def render_ticket_frame(
    payload: str | None,
    *,
    size: tuple[int, int] = (1280, 720),
    distortion: str = "clean",
    seed: int = 0,
    offset: tuple[float, float] | None = None,
) -> SynthFrame:
    """Render one BGR frame of `size` (w, h); `payload=None` gives an empty frame.

    `offset` places the code centre as a fraction of the frame (0..1, 0..1); by default
    it is random but keeps the code inside the frame.
    """
    rng = np.random.default_rng(seed)
    w, h = size
    img = _background(size, rng)
    p = _params(distortion, h, rng)
    polygon = None
    if payload is not None:
        modules = qr_modules(payload)
        margin = 2
        side = (modules.shape[0] + 2 * (4 + margin)) * p["module_px"]
        # Render at ~2x the target module size, then warp down (bilinear) with an
        # anti-alias blur so edges look like optics rather than nearest-neighbour steps.
        px = max(2, math.ceil(p["module_px"] * 2))
        card, code_corners = _card(modules, px, margin)
        card = cv2.GaussianBlur(card, (0, 0), 0.5 * px / p["module_px"])
        ch = card.shape[0]
        half = side / 2 * 1.2
        if offset is None:
            cx, cy = (
                rng.uniform(half, max(half + 1, w - half)),
                rng.uniform(half, max(half + 1, h - half)),
            )
        else:
            cx, cy = offset[0] * w, offset[1] * h
        quad = _pose_quad(side, (cx, cy), p["angle"], p["tilt_x"], p["tilt_y"], 1.2 * w)
        src = np.float32([[0, 0], [ch, 0], [ch, ch], [0, ch]])
        hom = cv2.getPerspectiveTransform(src, quad)
        warped = cv2.warpPerspective(card, hom, size, flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(np.ones_like(card), hom, size, flags=cv2.INTER_LINEAR)
        tone = cv2.cvtColor(p["dark"] + warped * (p["light"] - p["dark"]), cv2.COLOR_GRAY2BGR)
        if distortion in SCREEN:
            tone = screen_effect(tone, mask, p)
        img = cv2.blendLinear(img, tone, 1.0 - mask, mask)
        polygon = cv2.perspectiveTransform(code_corners[None], hom)[0]
        if p["glare"] > 0:
            # A saturated specular blob over part of the code (level M restores ~15%).
            gx, gy = polygon.mean(0) + rng.uniform(-0.25, 0.25, 2) * side
            _add_glare(img, (float(gx), float(gy)), p["glare"] * side * 1.6)
    if p["blur"] > 0:
        img = cv2.GaussianBlur(img, (0, 0), p["blur"])
    img, polygon = frame_effect(img, polygon, p, rng)
    # Sensor noise, the same in all channels: the decoders only see grey anyway.
    noise = rng.standard_normal((h, w), dtype=np.float32) * np.float32(p["noise"])
    img += noise[:, :, None]
    np.clip(img, 0, 255, out=img)
    return SynthFrame(compress(img.astype(np.uint8), p), polygon, payload, distortion)


def _add_glare(img: np.ndarray, centre: tuple[float, float], r: float) -> None:
    """Add a bright, saturating elliptical blob in place (only its bounding box is computed)."""
    h, w = img.shape[:2]
    x0, x1 = max(0, int(centre[0] - 2 * r)), min(w, int(centre[0] + 2 * r) + 1)
    y0, y1 = max(0, int(centre[1] - 2 * r)), min(h, int(centre[1] + 2 * r) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d2 = (xx - centre[0]) ** 2 + ((yy - centre[1]) * 1.4) ** 2
    blob = np.exp(-d2 / (2 * (r / 2) ** 2))
    img[y0:y1, x0:x1] += 400.0 * np.clip(blob * 1.5 - 0.2, 0, 1)[:, :, None]


def write_reel(
    payloads: Sequence[str],
    path: str | Path,
    fps: float = 15.0,
    seconds_per_ticket: float = 1.0,
    size: tuple[int, int] = (1280, 720),
    *,
    gap_seconds: float = 0.5,
    distortions: Sequence[str] = ("clean",),
    seed: int = 0,
) -> Path:
    """Write a MJPG .avi of a queue of tickets, with empty frames before and between them.

    Each ticket is rendered once and then drifts a pixel or two per frame, as a held
    phone does; distortion classes are cycled through per ticket.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    if not writer.isOpened():
        raise OSError(f"cannot write video {out} (MJPG/AVI not supported by this OpenCV?)")
    rng = random.Random(seed)
    gap_frames = max(1, round(gap_seconds * fps))
    ticket_frames = max(1, round(seconds_per_ticket * fps))
    empty = render_ticket_frame(None, size=size, seed=seed).image
    try:
        for i, payload in enumerate(payloads):
            for _ in range(gap_frames):
                writer.write(empty)
            centre = (rng.uniform(0.4, 0.6), rng.uniform(0.45, 0.55))
            dist = distortions[i % len(distortions)]
            still = render_ticket_frame(
                payload, size=size, distortion=dist, seed=seed * 7919 + i, offset=centre
            ).image
            for k in range(ticket_frames):
                # Rendering is ~30-60 ms a frame; shifting the render is ~1 ms.
                shift = np.float32([[1, 0, 1.5 * k], [0, 1, 0.7 * k]])
                writer.write(cv2.warpAffine(still, shift, size, borderMode=cv2.BORDER_REFLECT))
        for _ in range(gap_frames):
            writer.write(empty)
    finally:
        writer.release()
    return out
