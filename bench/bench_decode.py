"""QR decode benchmark: success rate and time per decoder, distortion class and frame size.

Run: .venv/bin/python bench/bench_decode.py [--quick] [--samples N]

Frames come from scanner_app.camera.synth (segno tickets composited with OpenCV).
Times include the BGR->grey conversion, as in the live pipeline. pyzbar at full
resolution is the baseline measured in the same run (DESIGN §7); the budgets are
checked against it and against absolute numbers (720p ticket median <= 5 ms, empty <= 3 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner_app.camera.decoders import DecoderUnavailable, available_decoders, to_gray  # noqa: E402
from scanner_app.camera.fastpath import make_decoder  # noqa: E402
from scanner_app.camera.synth import (  # noqa: E402
    DISTORTIONS,
    fake_ticket_payload,
    render_ticket_frame,
)

SIZES = ((640, 480), (1280, 720))
CLASSES = (*DISTORTIONS, "empty")
SLOW = {"pyzbar", "opencv", "opencv+half"}  # fewer samples for these keep the run short


@dataclass
class Cell:
    ok: int = 0
    n: int = 0
    ms: list[float] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.ms) if self.ms else float("nan")

    def p95(self) -> float:
        if not self.ms:
            return float("nan")
        s = sorted(self.ms)
        return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def make_frames(size: tuple[int, int], n: int) -> dict[str, list[tuple]]:
    """n frames per class; empty frames alternate clean and noisy scenes."""
    frames: dict[str, list[tuple]] = {}
    for ci, cls in enumerate(CLASSES):
        rows = []
        for i in range(n):
            seed = 10_000 + 101 * ci + i
            if cls == "empty":
                f = render_ticket_frame(None, size=size, distortion=DISTORTIONS[i % 8], seed=seed)
            else:
                payload = fake_ticket_payload(seed)
                f = render_ticket_frame(payload, size=size, distortion=cls, seed=seed)
            rows.append((f.image, f.payload))
        frames[cls] = rows
    return frames


def run(decoder: object, frames: dict[str, list[tuple]], limit: int) -> dict[str, Cell]:
    decode = decoder.decode  # type: ignore[attr-defined]
    decode(to_gray(frames["clean"][0][0]))  # warm-up: first call loads tables
    cells: dict[str, Cell] = {}
    for cls, rows in frames.items():
        cell = cells.setdefault(cls, Cell())
        for image, payload in rows[:limit]:
            t0 = time.perf_counter()
            texts = [r.text for r in decode(to_gray(image))]
            cell.ms.append((time.perf_counter() - t0) * 1000)
            cell.n += 1
            # Empty frames succeed when nothing (in particular no 1D misread) comes back.
            cell.ok += (payload in texts) if payload is not None else not texts
    return cells


def pooled(cells: dict[str, Cell], classes: tuple[str, ...]) -> Cell:
    out = Cell()
    for c in classes:
        out.ok += cells[c].ok
        out.n += cells[c].n
        out.ms += cells[c].ms
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer frames (about 20 s)")
    ap.add_argument("--samples", type=int, default=None, help="frames per class (default 24)")
    args = ap.parse_args()
    n = args.samples or (8 if args.quick else 24)
    slow_n = max(4, n // 3)
    cv2.setNumThreads(1)  # the live pipeline decodes on one worker thread; measure that
    names = available_decoders()
    print(f"decoders available: {', '.join(names)}; {n} frames per class ({slow_n} for slow ones)")
    if "pyzbar" not in names:
        print("WARNING: pyzbar/libzbar0 missing: no baseline ratio can be computed")
    decoders: dict[str, object] = {"default": make_decoder("auto")}
    for name in names:
        decoders[name] = make_decoder(name, fast=False)
        decoders[f"{name}+half"] = make_decoder(name, fast=True)
    decoders.pop("zxing+half", None)  # the same as "default"
    failures = []
    for size in SIZES:
        t0 = time.perf_counter()
        frames = make_frames(size, n)
        label = f"{size[0]}x{size[1]}"
        print(f"\n== {label}  (rendered in {time.perf_counter() - t0:.1f} s)")
        results = {}
        for dname, dec in decoders.items():
            try:
                results[dname] = run(dec, frames, slow_n if dname in SLOW else n)
            except DecoderUnavailable as exc:  # pragma: no cover
                print(f"{dname}: unavailable: {exc}")
        head = f"{'class':13s}" + "".join(f"{d:>24s}" for d in results)
        print(head + "\n" + f"{'':13s}" + "".join(f"{'ok%  med  p95 ms':>24s}" for _ in results))
        for cls in CLASSES:
            row = f"{cls:13s}"
            for cells in results.values():
                c = cells[cls]
                row += f"{100 * c.ok / c.n:>10.0f}% {c.median():5.1f} {c.p95():6.1f}"
            print(row)
        tickets = {d: pooled(c, DISTORTIONS) for d, c in results.items()}
        row = f"{'all tickets':13s}"
        for c in tickets.values():
            row += f"{100 * c.ok / c.n:>10.0f}% {c.median():5.1f} {c.p95():6.1f}"
        print(row)
        d, e = tickets["default"], results["default"]["empty"]
        print(f"default: ticket median {d.median():.2f} ms, empty median {e.median():.2f} ms")
        if "pyzbar" in tickets:
            z = tickets["pyzbar"]
            ratio = z.median() / d.median()
            print(
                f"default vs pyzbar baseline: {ratio:.1f}x faster (median {d.median():.2f} vs "
                f"{z.median():.2f} ms); success {100 * d.ok / d.n:.0f}% vs {100 * z.ok / z.n:.0f}%"
            )
            if ratio < 8 or d.ok / d.n < z.ok / z.n:
                failures.append(f"{label}: default not >= 8x faster with >= success than pyzbar")
        if size == (1280, 720):
            if d.median() > 5.0:
                failures.append(f"{label}: ticket median {d.median():.2f} ms > 5 ms")
            if e.median() > 3.0:
                failures.append(f"{label}: empty median {e.median():.2f} ms > 3 ms")
        paths = decoders["default"].paths  # type: ignore[attr-defined]
        print(f"default paths so far: {paths}")
    print("\nbudgets: " + ("all met" if not failures else "MISSED: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
