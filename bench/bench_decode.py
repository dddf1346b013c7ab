"""QR decode benchmark: read rate and time per decoder, distortion class and frame size,
then the real-photo corpus (../shared/realworld/qr-photos) bare and in a 720p frame.

Run: .venv/bin/python bench/bench_decode.py [--quick] [--samples N]

Synthetic frames come from scanner_app.camera.synth (segno tickets composited with
OpenCV, printed-ticket and camera-realistic classes), handed over as grey frames:
the BGR->grey conversion the live pipeline does first (~0.4 ms at 720p here) is not
in the times. The baseline measured in the same run is raw zxing-cpp (QR only,
default settings); pyzbar and OpenCV are printed beside it. "default" is the live
decoder ScanPipeline runs: its passes take turns over consecutive frames, so every
image is shown to it as a still code for 2 frames (read when either frame reads it;
each frame one time sample). "one frame" runs every pass on every frame (the live
path before issue 14). The pipelines and the baseline are timed best of 3; the slow
fallbacks once, on fewer frames. Budgets (DESIGN §7, issue 14), checked on the live
decoder and this thread's CPU time (the cores are shared; wall clock is printed too):
720p ticket median <= 5 ms; empty 720p frame median and mean <= 1.5 ms, p95 <= 4 ms;
in frame the pipeline reads >= what raw zxing-cpp reads of the bare photos; no read
on frames without a code.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from decode_corpus import (  # noqa: E402
    Run,
    corpus_figures,
    frames_for,
    measure,
    med,
    p95,
    raw_zxing,
    texts_of,
)

from scanner_app.camera import realphotos as rp  # noqa: E402
from scanner_app.camera.decoders import available_decoders, to_gray  # noqa: E402
from scanner_app.camera.fastpath import make_decoder  # noqa: E402
from scanner_app.camera.synth import (  # noqa: E402
    DISTORTIONS,
    PRINT_DISTORTIONS,
    fake_ticket_payload,
    render_ticket_frame,
)

SIZES = ((1280, 720), (640, 480))
CLASSES = (*DISTORTIONS, "empty")


def make_frames(size: tuple[int, int], n: int) -> dict[str, list[tuple[str | None, object]]]:
    """n grey frames per class; empty frames cycle through the printed classes' scenes."""
    frames: dict[str, list[tuple[str | None, object]]] = {}
    for ci, cls in enumerate(CLASSES):
        rows = []
        for i in range(n):
            seed = 10_000 + 101 * ci + i
            if cls == "empty":
                dist = PRINT_DISTORTIONS[i % len(PRINT_DISTORTIONS)]
                f = render_ticket_frame(None, size=size, distortion=dist, seed=seed)
            else:
                f = render_ticket_frame(fake_ticket_payload(seed), size=size, distortion=cls,
                                        seed=seed)  # fmt: skip
            rows.append((f.payload, to_gray(f.image)))
        frames[cls] = rows
    return frames


def pooled(runs: dict[str, Run], classes: tuple[str, ...]) -> Run:
    out = Run()
    for c in classes:
        out.ok += runs[c].ok
        out.n += runs[c].n
        out.wall += runs[c].wall
        out.cpu += runs[c].cpu
    return out


def synthetic(decoders: dict[str, object], n: int, slow_n: int, failures: list[str]) -> None:
    for size in SIZES:
        frames = make_frames(size, n)
        label = f"{size[0]}x{size[1]}"
        runs: dict[str, dict[str, Run]] = {}
        for name, dec in decoders.items():
            fast = name in ("raw zxing-cpp", "default", "one frame")
            decode = dec if callable(dec) else texts_of(dec)
            runs[name] = {
                cls: measure(
                    decode, rows if fast else rows[:slow_n], 3 if fast else 1, frames_for(dec)
                )
                for cls, rows in frames.items()
            }
        print(f"\n== synthetic {label}: read % and median ms per class "
              f"({n} frames a class, {slow_n} for pyzbar/OpenCV)")  # fmt: skip
        print(f"{'class':16s}" + "".join(f"{d:>22s}" for d in runs) + "   default/raw time")
        for cls in (*CLASSES, "all tickets"):
            row = f"{cls:16s}"
            cells = {
                d: (pooled(r, DISTORTIONS) if cls == "all tickets" else r[cls])
                for d, r in runs.items()
            }
            for c in cells.values():
                row += f"{100 * c.ok / c.n:>12.0f}% {med(c.wall):7.2f}"
            d, z = cells["default"], cells["raw zxing-cpp"]
            row += f"   x{med(d.wall) / med(z.wall):.2f}"
            print(row)
        if size == (1280, 720):
            d = pooled(runs["default"], DISTORTIONS)
            z = pooled(runs["raw zxing-cpp"], DISTORTIONS)
            e = runs["default"]["empty"]
            print(f"default: ticket median {med(d.wall):.2f} ms wall / {med(d.cpu):.2f} cpu "
                  f"(raw zxing-cpp {med(z.wall):.2f} / {med(z.cpu):.2f}), empty median "
                  f"{med(e.wall):.2f} / {med(e.cpu):.2f}; "
                  f"read {d.ok}/{d.n} vs raw {z.ok}/{z.n}")  # fmt: skip
            if med(d.cpu) > 5.0:
                failures.append(f"{label}: ticket median {med(d.cpu):.2f} ms cpu > 5 ms")
            if d.ok < z.ok * 0.97:
                failures.append(f"{label}: pipeline read {d.ok} < raw zxing-cpp {z.ok} - 3%")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer frames (about a minute)")
    ap.add_argument("--samples", type=int, default=None, help="frames per class (default 16)")
    args = ap.parse_args()
    n = args.samples or (6 if args.quick else 16)
    slow_n = max(3, n // 4)
    cv2.setNumThreads(1)  # the live pipeline decodes on one worker thread; measure that
    names = available_decoders()
    print(f"decoders available: {', '.join(names)}")
    default = make_decoder("auto", live=True)
    decoders: dict[str, object] = {
        "raw zxing-cpp": raw_zxing(),
        "default": default,
        "one frame": make_decoder("auto"),
    }
    for name in ("pyzbar", "opencv"):
        if name in names:
            decoders[name] = make_decoder(name, fast=False)
    failures: list[str] = []
    synthetic(decoders, n, slow_n, failures)
    root = rp.corpus_dir(REPO)
    try:
        runs = corpus_figures(root, decoders, 3, args.quick)
    except rp.CorpusMissing as exc:
        print(f"\nreal-photo corpus: {exc}")
        failures.append("real-photo corpus missing")
        runs = {}
    if runs:
        target = runs["raw_bare"].ok
        got = runs[f"default/frame_mat{rp.DEFAULT_MAT}"].ok
        print(f"\nin frame: live pipeline {got}/179 (a still code over 2 frames) vs raw "
              f"zxing-cpp on the bare photos {target}/179")  # fmt: skip
        if got < target:
            failures.append(f"in-frame reads {got} < raw zxing-cpp bare {target}")
        for key in ("negatives", "scenes"):
            r = runs[f"default/{key}"]
            if r.ok < r.n:
                failures.append(f"{r.n - r.ok} false reads on {key}")
        e, one = runs["default/scenes"], runs.get("one frame/scenes")
        mean = statistics.fmean(e.cpu)
        print(f"empty 720p frame, live: median {med(e.wall):.2f} ms, p95 {p95(e.wall):.2f} ms "
              f"(cpu median {med(e.cpu):.2f}, mean {mean:.2f}, p95 {p95(e.cpu):.2f})")  # fmt: skip
        if one is not None:
            print(f"  one frame (before): cpu median {med(one.cpu):.2f}, mean "
                  f"{statistics.fmean(one.cpu):.2f}, p95 {p95(one.cpu):.2f}; live/one frame "
                  f"median x{med(e.cpu) / med(one.cpu):.2f}, mean "
                  f"x{mean / statistics.fmean(one.cpu):.2f}")  # fmt: skip
        # Checked on this thread's CPU time: the 2 cores are shared, and wall clock
        # then mostly measures the other processes (both are printed). The mean too:
        # the live decoder's frames alternate between a cheaper and a dearer half.
        if med(e.cpu) > 1.5 or mean > 1.5 or p95(e.cpu) > 4.0:
            failures.append(
                f"empty frame {med(e.cpu):.2f}/{mean:.2f}/{p95(e.cpu):.2f} ms cpu "
                "(median/mean/p95) > 1.5/1.5/4"
            )
    print(f"default paths: {default.paths}")  # type: ignore[attr-defined]
    print("\nbudgets: " + ("all met" if not failures else "MISSED: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
