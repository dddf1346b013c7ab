"""Render the app icon for each OS from scanner_app/resources/icons/app.svg.

    python tools/make_icons.py [OUT_DIR]   (default: packaging/icons)

Writes the freedesktop PNG sizes (Linux hicolor theme), tickitz-scanner.svg, a multi-size
tickitz-scanner.ico (Windows) and tickitz-scanner.icns (macOS). Qt's QSvgRenderer draws
the PNGs (the same renderer the app uses); Pillow packs .ico and .icns (pip install
'.[dist]'). The outputs are committed: the bundle build does not need this tool.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "scanner_app" / "resources" / "icons" / "app.svg"
NAME = "tickitz-scanner"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def main(out: Path) -> None:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"cannot render {SOURCE}")
    png_dir = out / "png"
    png_dir.mkdir(parents=True, exist_ok=True)
    largest: dict[int, Path] = {}
    for size in sorted(set(PNG_SIZES) | set(ICNS_SIZES)):
        path = png_dir / f"{size}x{size}.png"
        if not render(renderer, size).save(str(path)):
            raise SystemExit(f"cannot write {path}")
        largest[size] = path
    shutil.copyfile(SOURCE, out / f"{NAME}.svg")
    images = {size: Image.open(path) for size, path in largest.items()}
    images[256].save(out / f"{NAME}.ico", sizes=[(s, s) for s in ICO_SIZES])
    images[1024].save(out / f"{NAME}.icns")  # Pillow writes every standard size from it
    (png_dir / "1024x1024.png").unlink()  # only the .icns needs it; keep the repo small
    print(f"wrote {out}: {len(PNG_SIZES)} PNG sizes, .svg, .ico, .icns")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "packaging" / "icons")
