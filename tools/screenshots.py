"""Render the main window in every verdict state and in kiosk mode to PNGs.

Usage: ``python tools/screenshots.py [OUT_DIR]`` (default ``docs/screenshots``). Runs
offscreen or under Xvfb; uses a throwaway data dir with the demo event, so it never
touches a real node. ``make screenshots`` calls this for the README.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtGui import QFont  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from scanner_app.core.demo_data import build_demo  # noqa: E402
from scanner_app.core.node import Node  # noqa: E402
from scanner_app.gui import assets  # noqa: E402
from scanner_app.gui.settings import Settings  # noqa: E402
from scanner_app.gui.sounds import SoundPlayer  # noqa: E402
from scanner_app.gui.widgets.main_window import MainWindow  # noqa: E402

SIZE = (1280, 800)


def camera_frame(payload: str) -> tuple[np.ndarray, list[tuple[float, float]] | None]:
    """A synthetic door-camera frame with the ticket, as the demo reel shows it."""
    try:
        from scanner_app.camera.synth import render_ticket_frame
    except ImportError:  # camera layer absent: a plain grey frame still shows the layout
        return np.full((720, 1280, 3), 70, np.uint8), None
    frame = render_ticket_frame(payload, offset=(0.5, 0.5), seed=3)
    polygon = None if frame.polygon is None else [tuple(p) for p in frame.polygon.tolist()]
    return frame.image, polygon


def wait_for(signal: object, timeout_ms: int = 5000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def settle(ms: int = 150) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    app.setFont(QFont(app.font().family(), 11))
    app.setStyleSheet(assets.stylesheet())
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="tickitz-shots-") as tmp:
        node = Node.open(Path(tmp) / "data")
        scenario = build_demo(node, tickets=40)
        settings = Settings(gate_name="Gate 2", event_id=scenario.event_id, verdict_hold_ms=60_000)
        settings.set_kiosk_pin("0000")
        window = MainWindow(
            node, settings, settings_path=Path(tmp) / "s.json", sounds=SoundPlayer(muted=True)
        )
        window.resize(*SIZE)
        window.show()
        settle(300)

        def shot(name: str) -> None:
            settle()
            path = out_dir / f"{name}.png"
            window.grab().save(str(path))
            written.append(path)

        def scan(payload: str) -> None:
            window.show_frame(*camera_frame(payload))
            window.status.update_fields(camera_fps=30.0)  # as a live camera reports it
            window.submit_payload(payload)
            wait_for(window.scan_displayed)

        shot("ready")
        by_label = {s.label: s for s in scenario.samples}
        scan(by_label["valid VIP ticket"].payload)
        shot("admit")
        scan(by_label["valid VIP ticket"].payload)
        shot("already-in")
        scan(by_label["forged ticket"].payload)
        shot("rejected-forged")
        scan(by_label["cancelled ticket"].payload)
        shot("rejected-cancelled")
        window.apply_settings(replace(settings, direction="out"))
        scan(by_label["valid VIP ticket"].payload)
        shot("exit")
        window.apply_settings(settings)
        window.set_camera_message("Camera disconnected — reconnecting…")
        window.verdict.reset()
        shot("camera-disconnected")
        window.enter_kiosk()
        settle(300)
        scan(scenario.ticket_payloads[4])
        shot("kiosk-admit")
        window.kiosk.leave()
        window.shutdown()
        node.close()
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=Path("docs/screenshots"))
    for written_path in main(parser.parse_args().out_dir):
        print(written_path)
