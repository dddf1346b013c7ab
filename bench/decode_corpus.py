"""The real-photo part of bench_decode.py: ../shared/realworld/qr-photos, bare and in frame.

Every figure is printed beside raw zxing-cpp (QR only, default settings: what anyone
calling `zxingcpp.read_barcodes` gets) measured in the same run, plus pyzbar and
OpenCV. Times are the best of 3 runs (wall clock and this thread's CPU time: the
machine is shared, and CPU time is what contention inflates least).

The live decoder (what ScanPipeline runs) shares its passes between consecutive
frames, so it is shown each image as a still code in front of the camera:
`LIVE_FRAMES` consecutive frames, read when any of them gives the text, false when
any gives another; every frame is one time sample. The one-frame decoder (every pass
on every frame, the live path before issue 14) is printed beside it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import zxingcpp

from scanner_app.camera import decode_image_file
from scanner_app.camera import realphotos as rp
from scanner_app.camera.decoders import to_gray
from scanner_app.camera.synth import scene

Decode = Callable[[np.ndarray], list[str]]
LIVE_FRAMES = 2  # a live decoder's passes take turns over 2 frames


@dataclass
class Run:
    ok: int = 0
    other: int = 0  # frames that gave some other text (a false or wrong read)
    n: int = 0
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def cell(self) -> str:
        return (
            f"{self.ok:4d}/{self.n:<4d} {med(self.wall):6.2f} {p95(self.wall):6.2f}"
            f" {med(self.cpu):6.2f} {p95(self.cpu):6.2f}"
        )


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))] if s else float("nan")


def raw_zxing(mode: str = "HRI") -> Decode:
    text_mode = getattr(zxingcpp.TextMode, mode)

    def decode(image: np.ndarray) -> list[str]:
        found = zxingcpp.read_barcodes(
            image, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=text_mode
        )
        return [b.text for b in found]

    return decode


def texts_of(decoder: object) -> Decode:
    return lambda image: [r.text for r in decoder.decode(image)]  # type: ignore[attr-defined]


def frames_for(decoder: object) -> int:
    """Frames a still image is shown for: LIVE_FRAMES for a live decoder, else 1."""
    return LIVE_FRAMES if getattr(decoder, "live", False) else 1


def measure(
    decode: Decode, items: list[tuple[str | None, np.ndarray]], repeats: int, frames: int = 1
) -> Run:
    """Reads and times over (expected text or None, grey image); best of `repeats` runs.

    Each image is decoded `frames` times in a row (a still code, as a live decoder sees
    it); every call is one time sample and the texts of all calls count.
    """
    best: Run | None = None
    for _ in range(repeats):
        run = Run()
        for expected, image in items:
            texts: list[str] = []
            for _ in range(frames):
                t0, c0 = time.perf_counter(), time.thread_time()
                texts += decode(image)
                run.cpu.append((time.thread_time() - c0) * 1000)
                run.wall.append((time.perf_counter() - t0) * 1000)
            run.n += 1
            run.ok += expected in texts if expected is not None else not texts
            run.other += bool(texts) and expected not in texts
        if best is None or med(run.wall) < med(best.wall):
            best = run
    assert best is not None
    return best


def header(title: str) -> None:
    print(f"\n{title}")
    print(f"{'decoder':28s} {'read':>9s} {'med':>6s} {'p95 ms':>6s} {'cpu med':>7s} {'p95':>6s}")


def row(name: str, run: Run, base: Run | None) -> None:
    ratio = ""
    if base is not None and base is not run:
        ratio = f"  time x{med(run.wall) / med(base.wall):.2f} of raw zxing-cpp"
    extra = f"  other text {run.other}" if run.other else ""
    print(f"{name:28s} {run.cell()}{ratio}{extra}")


def pipelines(decoders: dict[str, object]) -> list[tuple[str, str, object]]:
    """(label, key, decoder) of the live decoder and, when given, the one-frame one."""
    out = [("pipeline, live", "default", decoders["default"])]
    if "one frame" in decoders:
        out.append(("pipeline, one frame", "one frame", decoders["one frame"]))
    return out


def measure_decoder(dec: object, items: list[tuple[str | None, np.ndarray]], repeats: int) -> Run:
    return measure(texts_of(dec), items, repeats, frames_for(dec))


def corpus_figures(
    root: Path, decoders: dict[str, object], repeats: int, quick: bool
) -> dict[str, Run]:
    """Print the corpus tables; return the runs the budgets are checked on.

    Keys: "raw_bare", and per pipeline (key "default" = live, "one frame") its "bare",
    "frame_mat8" (in frame), "negatives" and "scenes" runs, e.g. "default/scenes".
    """
    photos = rp.load_photos(root)
    out: dict[str, Run] = {}
    bare = [(p.text, to_gray(p.image)) for p in photos]
    header(f"== real photos, bare ({len(photos)} from {root})")
    raw = measure(raw_zxing(), bare, repeats)
    row("raw zxing-cpp (HRI default)", raw, None)
    row("raw zxing-cpp (Plain)", measure(raw_zxing("Plain"), bare, repeats), raw)
    for label, key, dec in pipelines(decoders):
        out[f"{key}/bare"] = measure_decoder(dec, bare, repeats)
        row(f"{label} (photo as frame)", out[f"{key}/bare"], raw)
    files = [(p.text, root / p.name) for p in photos]
    still = measure(lambda path: decode_image_file(path), files, 1)  # type: ignore[arg-type]
    row("scan --image (file)", still, raw)
    for name in ("pyzbar", "opencv"):
        if name in decoders:
            row(name, measure(texts_of(decoders[name]), bare, 1), raw)
    out["raw_bare"] = raw
    for mat, label in ((rp.DEFAULT_MAT, f"on an {rp.DEFAULT_MAT} px paper mat"), (0, "strict")):
        frames = [(p.text, to_gray(f)) for p, f in rp.framed(photos, mat=mat)]
        header(f"== real photos pasted 1:1 into a cluttered 1280x720 frame, {label}")
        raw_in = measure(raw_zxing(), frames, repeats)
        row("raw zxing-cpp (HRI default)", raw_in, None)
        for plabel, key, dec in pipelines(decoders):
            out[f"{key}/frame_mat{mat}"] = measure_decoder(dec, frames, repeats)
            row(plabel, out[f"{key}/frame_mat{mat}"], raw_in)
        for name in ("pyzbar", "opencv"):
            if name in decoders and not quick:
                row(name, measure(texts_of(decoders[name]), frames, 1), raw_in)
    negs = [(None, to_gray(f)) for _, f in rp.negatives(photos, all_views=not quick)]
    scenes = [(None, to_gray(scene(rp.FRAME, 5000 + i))) for i in range(rp.SCENES)]
    for what, items, title in (
        ("negatives", negs, f"real imagery without a code ({len(negs)} frames, 720p)"),
        ("scenes", scenes, f"cluttered synthetic scenes without a code ({len(scenes)}, 720p)"),
    ):
        header(f"== {title}: 'read' = frames with no result")
        raw_e = measure(raw_zxing(), items, repeats)
        row("raw zxing-cpp (HRI default)", raw_e, None)
        for label, key, dec in pipelines(decoders):
            before = dict(dec.paths)  # type: ignore[attr-defined]
            run = measure_decoder(dec, items, repeats)
            row(label, run, raw_e)
            retries = dec.paths["retry"] - before["retry"]  # type: ignore[attr-defined]
            print(f"{'':28s} mean {statistics.fmean(run.cpu):.2f} ms cpu; full-size retry on "
                  f"{retries / repeats / len(run.cpu):.0%} of frames")  # fmt: skip
            out[f"{key}/{what}"] = run
    return out
