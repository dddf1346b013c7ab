"""tools/screenshots.py (make screenshots) renders every state to a real PNG."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PySide6.QtGui import QImage

TOOL = Path(__file__).resolve().parents[2] / "tools" / "screenshots.py"


def test_screenshots_cover_every_verdict_and_kiosk(qapp, tmp_path):
    spec = importlib.util.spec_from_file_location("screenshots_tool", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    written = tool.main(tmp_path)
    names = {p.stem for p in written}
    assert {"ready", "admit", "already-in", "rejected-forged", "exit", "kiosk-admit"} <= names
    for path in written:
        image = QImage(str(path))
        assert not image.isNull() and image.width() >= 640, path
    admit = QImage(str(tmp_path / "admit.png"))
    # The verdict panel spans the lower part of the window in the ADMIT green.
    assert admit.pixelColor(16, admit.height() - 120).name().upper() == "#1B7F3B"
