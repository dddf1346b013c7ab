"""Camera-realistic distortions for `synth`: phone screens, motion, optics, low light, JPEG.

A door camera mostly sees tickets on phone screens, held by a moving hand, through a
cheap webcam lens and MJPEG compression. Each class sets its own pose and tones in
`camera_params`; `screen_effect` changes the code's own light (a screen is emissive),
`frame_effect` changes the whole frame as the camera records it. Severities are the
range a person at a door produces and a webcam records (see the bench for read rates).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

CAMERA_DISTORTIONS: tuple[str, ...] = (
    "screen_moire",  # display pixel grid beating with the sensor grid
    "screen_bloom",  # backlight bleeding from light modules into dark ones
    "screen_glare",  # a window or ceiling light reflected on the glass
    "screen_max",  # brightness at maximum: light modules clip, dark ones glow
    "screen_min",  # brightness at minimum: a dim, low-contrast code
    "motion_blur",  # the hand moving during the exposure
    "rolling_shutter",  # rows exposed one after another while the phone moves: skew
    "defocus",  # phone held closer than the fixed-focus lens focuses
    "low_light",  # dim venue: short exposure, high gain, sensor noise
    "jpeg",  # webcam MJPEG compression
)
SCREEN = frozenset(d for d in CAMERA_DISTORTIONS if d.startswith("screen_"))


def camera_params(distortion: str, p: dict[str, float], rng: np.random.Generator) -> None:
    """Set `p` (from synth._params, already scaled to the frame) for one camera class."""
    scale = p["module_px"] / 3.75  # synth's default module size is 3.0-4.5 px at 720p
    u = rng.uniform
    if distortion in SCREEN:
        p["dark"], p["light"] = float(u(15, 35)), float(u(205, 235))  # emissive screen
    if distortion == "screen_moire":
        p["moire_period"] = float(u(5, 14)) * scale
        p["moire_angle"] = float(u(0, 180))
        p["moire_depth"] = float(u(0.25, 0.4))
    elif distortion == "screen_bloom":
        p["light"] = float(u(240, 255))
        p["bloom"] = float(u(0.35, 0.6))
        p["bloom_sigma"] = p["module_px"] * float(u(0.6, 1.0))
    elif distortion == "screen_glare":
        p["sheen"] = float(u(60, 110))
        p["sheen_width"] = float(u(0.15, 0.3))
        p["sheen_angle"] = float(u(0, 180))
    elif distortion == "screen_max":
        p["dark"], p["light"] = float(u(55, 85)), 255.0
        p["gain"] = float(u(1.2, 1.5))
        p["bloom"] = float(u(0.2, 0.35))
        p["bloom_sigma"] = p["module_px"] * 0.6
    elif distortion == "screen_min":
        p["dark"], p["light"] = float(u(18, 28)), float(u(55, 80))
        p["noise"] = float(u(3, 5))
    elif distortion == "motion_blur":
        p["module_px"] = float(u(4.0, 5.0)) * scale
        p["motion_len"] = p["module_px"] * float(u(0.6, 1.1))
        p["motion_angle"] = float(u(0, 180))
    elif distortion == "rolling_shutter":
        p["module_px"] = float(u(3.5, 4.5)) * scale
        p["skew"] = float(rng.choice((-1.0, 1.0)) * u(0.06, 0.15))
        p["motion_len"] = p["module_px"] * 0.4
        p["motion_angle"] = 0.0
    elif distortion == "defocus":
        p["module_px"] = float(u(4.5, 5.5)) * scale
        p["defocus"] = p["module_px"] * float(u(0.3, 0.45))
    elif distortion == "low_light":
        p["exposure"] = float(u(0.12, 0.25))  # of a normal exposure; the gain makes it up
        p["read_noise"] = float(u(1.5, 2.5))
    elif distortion == "jpeg":
        p["jpeg_quality"] = float(u(20, 40))


def screen_effect(tone: np.ndarray, mask: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """The warped code's light (float BGR, 0-255) as a phone screen gives it off."""
    out = tone
    if "bloom" in p:
        bright = np.clip(out - 128.0, 0, None) * 2.0
        halo = cv2.GaussianBlur(bright, (0, 0), p["bloom_sigma"])
        out = out + p["bloom"] * halo
    if "gain" in p:
        out = out * p["gain"]
    h, w = mask.shape
    if "moire_period" in p:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        a = math.radians(p["moire_angle"])
        phase = (xx * math.cos(a) + yy * math.sin(a)) * (2 * math.pi / p["moire_period"])
        # Two beats at right angles, as a display's RGB stripes and rows give.
        beat = 0.5 + 0.25 * (np.cos(phase) + np.cos(phase * 0.83 + yy * 0.9))
        out = out * (1.0 - p["moire_depth"] * beat)[:, :, None]
    if "sheen" in p:
        ys, xs = np.nonzero(mask > 0.5)
        if len(xs):
            cx, cy, side = xs.mean(), ys.mean(), max(np.ptp(xs), np.ptp(ys)) + 1
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            a = math.radians(p["sheen_angle"])
            d = (xx - cx) * math.cos(a) + (yy - cy) * math.sin(a)
            band = np.exp(-(d**2) / (2 * (p["sheen_width"] * side) ** 2))
            out = out + (p["sheen"] * band)[:, :, None]
    return out.astype(np.float32, copy=False)


def frame_effect(
    img: np.ndarray, polygon: np.ndarray | None, p: dict[str, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray | None]:
    """The frame (float BGR) as the camera records it; the code's polygon follows any warp."""
    h, w = img.shape[:2]
    if "skew" in p:
        # Row y is exposed later than row 0, by which time the phone moved sideways.
        shear = np.float32([[1, p["skew"], -p["skew"] * h / 2], [0, 1, 0]])
        img = cv2.warpAffine(img, shear, (w, h), borderMode=cv2.BORDER_REFLECT)
        if polygon is not None:
            polygon = cv2.transform(polygon[None], shear)[0]
    if "motion_len" in p:
        img = cv2.filter2D(img, -1, _line_kernel(p["motion_len"], p["motion_angle"]))
    if "defocus" in p:
        img = cv2.filter2D(img, -1, _disk_kernel(p["defocus"]))
    if "exposure" in p:
        # Photons are counted (shot noise ~ sqrt(signal)), then read noise, then the
        # gain that brings a short exposure back up amplifies both.
        k = p["exposure"]
        signal = np.clip(img, 0, 255) * k
        noisy = signal + np.sqrt(signal * 0.6) * rng.standard_normal(signal.shape, np.float32)
        noisy += rng.standard_normal(signal.shape, np.float32) * np.float32(p["read_noise"])
        img = np.round(np.clip(noisy, 0, 255)) / k * 0.85
    return img.astype(np.float32, copy=False), polygon


def compress(img: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """JPEG round trip of the finished uint8 frame, as an MJPEG webcam sends it."""
    if "jpeg_quality" not in p:
        return img
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(p["jpeg_quality"])])
    if not ok:  # pragma: no cover - OpenCV always has a JPEG encoder
        raise RuntimeError("OpenCV could not encode JPEG")
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def _line_kernel(length: float, angle: float) -> np.ndarray:
    n = max(3, int(math.ceil(length)) | 1)
    k = np.zeros((n, n), np.float32)
    c, a = n // 2, math.radians(angle)
    dx, dy = math.cos(a) * length / 2, math.sin(a) * length / 2
    cv2.line(k, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1, cv2.LINE_AA)
    return k / k.sum()


def _disk_kernel(radius: float) -> np.ndarray:
    n = int(math.ceil(radius)) * 2 + 1
    k = np.zeros((n, n), np.float32)
    cv2.circle(k, (n // 2, n // 2), max(1, round(radius)), 1.0, -1, cv2.LINE_AA)
    return k / k.sum()
