"""Desktop-app budgets of DESIGN.md §7 and issue 6, each beside a bare baseline from the same run.

- app start -> camera ready (first camera frame painted in the preview), in a fresh
  process so imports count; beside a bare baseline process that imports Qt + OpenCV,
  shows an empty window and reads one frame. Budget <= 3 s.
- frame with a ticket -> verdict painted, over a reel of tickets played by the real
  FileSource through the real decoder, node (SQLite, FULL sync) and widgets: from the
  frame reaching the decoder to the verdict panel's synchronous repaint. p50/p99 beside
  the bare decode time of the same frames. Budget p99 <= 50 ms (decode 5 ms + scan
  15 ms + paint, DESIGN.md §7).

Runs offscreen (QT_QPA_PLATFORM=offscreen) unless a display is set. Exit 1 when a
budget is missed.

    .venv/bin/python bench/bench_gui.py [--tickets 40] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

START_BUDGET_S = 3.0
VERDICT_P99_BUDGET_MS = 50.0


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


# --- child processes (start-up) -------------------------------------------------------
def child_app(reel: str, data_dir: str, t0: float) -> None:
    """Our app: import, build the window over a node, start the camera, wait for a frame."""
    from PySide6.QtCore import QTimer

    from scanner_app.camera import FileSource
    from scanner_app.core.node import Node
    from scanner_app.gui.app import ScannerApp, qt_app
    from scanner_app.gui.settings import Settings

    app = qt_app()
    node = Node.open(data_dir)
    scanner = ScannerApp(
        node,
        Settings(),
        settings_path=Path(data_dir) / "settings.json",
        source_factory=lambda _s: FileSource(reel, loop=True),
        sync=False,
    )
    scanner.start()

    def check() -> None:
        if scanner.window.preview.frames_shown:
            print(f"{time.time() - t0:.4f}", flush=True)
            scanner.shutdown()
            app.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(2)
    app.exec()
    node.close()


def child_baseline(reel: str, t0: float) -> None:
    """Bare: import Qt + OpenCV, show an empty window, read and show one frame."""
    import cv2
    from PySide6.QtGui import QImage, QPixmap
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication(sys.argv[:1])
    label = QLabel()
    label.resize(1280, 800)
    label.show()
    capture = cv2.VideoCapture(reel)
    ok, frame = capture.read()
    assert ok
    h, w = frame.shape[:2]
    label.setPixmap(QPixmap.fromImage(QImage(frame.data, w, h, w * 3, QImage.Format.Format_BGR888)))
    label.repaint()
    app.processEvents()
    print(f"{time.time() - t0:.4f}", flush=True)


def time_child(args: list[str]) -> float:
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, __file__, *args, f"{t0!r}"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return float(out.strip().splitlines()[-1])


# --- in-process: frame -> verdict painted ---------------------------------------------
def verdict_latencies(node, scenario, reel: Path) -> tuple[list[float], list[float], int]:
    from PySide6.QtCore import QEventLoop, QTimer

    from scanner_app.camera import FileSource
    from scanner_app.gui.app import ScannerApp, qt_app
    from scanner_app.gui.settings import Settings

    app = qt_app()
    settings = Settings(event_id=scenario.event_id, verdict_hold_ms=60_000)
    scanner = ScannerApp(
        node,
        settings,
        settings_path=reel.parent / "settings.json",
        source_factory=lambda _s: FileSource(reel),
        debounce_seconds=1.0,
        sync=False,
    )
    painted: list[float] = []
    decode: list[float] = []

    def on_scan(result: dict, source: str, latency_ms: float) -> None:
        start = time.perf_counter()
        scanner.window.verdict.repaint()  # synchronous: the verdict is on screen after this
        painted.append(latency_ms + (time.perf_counter() - start) * 1000)
        decode.append(scanner.camera.stats().decode_ms if scanner.camera else 0.0)

    scanner.window.scan_displayed.connect(on_scan)
    scanner.window.resize(1280, 800)
    scanner.start()
    loop = QEventLoop()

    def ended() -> None:
        if scanner.window.preview.message == "Video ended":
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(ended)
    timer.start(50)
    QTimer.singleShot(180_000, loop.quit)
    loop.exec()
    scanner.shutdown()
    app.processEvents()
    return painted, decode, len(scenario.samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=40, help="valid tickets in the reel")
    parser.add_argument("--runs", type=int, default=3, help="start-up runs (median)")
    args = parser.parse_args()

    from scanner_app.camera.synth import write_reel
    from scanner_app.core.demo_data import build_demo
    from scanner_app.core.node import Node

    missed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        root = Path(tmp)
        node = Node.open(root / "node")
        scenario = build_demo(node, tickets=max(args.tickets + 3, 10))
        payloads = [s.payload for s in scenario.samples]
        payloads += scenario.ticket_payloads[3 : 3 + args.tickets]
        print(f"rendering a reel of {len(payloads)} tickets…", flush=True)
        reel = write_reel(payloads, root / "reel.avi", fps=15, seconds_per_ticket=0.5,
                          gap_seconds=0.4)  # fmt: skip

        print(f"\napp start -> camera ready (median of {args.runs} fresh processes)")
        ours = [
            time_child(["--child-app", str(reel), str(root / f"s{i}")]) for i in range(args.runs)
        ]
        bare = [time_child(["--child-baseline", str(reel)]) for _ in range(args.runs)]
        start, base = statistics.median(ours), statistics.median(bare)
        ok = start <= START_BUDGET_S
        missed += [] if ok else ["start to camera ready"]
        print(
            f"  ScannerApp {start:5.2f} s   bare Qt+OpenCV window+frame {base:5.2f} s"
            f"   ratio {start / base:4.2f}x   budget <= {START_BUDGET_S:g} s"
            f" {'OK' if ok else 'MISSED'}"
        )

        print(f"\nframe with a ticket -> verdict painted ({len(payloads)} tickets, 1280x720 reel)")
        painted, decode, _ = verdict_latencies(node, scenario, reel)
        node.close()
        if len(painted) < len(payloads) * 0.9:
            missed.append(f"only {len(painted)} of {len(payloads)} tickets reached the screen")
        p50, p99 = percentile(painted, 50), percentile(painted, 99)
        d50, d99 = percentile(decode, 50), percentile(decode, 99)
        ok = p99 <= VERDICT_P99_BUDGET_MS
        missed += [] if ok else ["frame to verdict painted p99"]
        print(
            f"  {len(painted)} verdicts  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
            f"  max {max(painted):6.2f} ms"
            f"   bare decode p50 {d50:5.2f} ms  p99 {d99:5.2f} ms"
            f"   ratio p50 {p50 / d50:4.1f}x   budget p99 <= {VERDICT_P99_BUDGET_MS:g} ms"
            f" {'OK' if ok else 'MISSED'}"
        )
    print()
    if missed:
        print("MISSED budgets: " + ", ".join(missed))
        return 1
    print("all GUI budgets met")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-app":
        child_app(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-baseline":
        child_baseline(sys.argv[2], float(sys.argv[3]))
    else:
        sys.exit(main())
