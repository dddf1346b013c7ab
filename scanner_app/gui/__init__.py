"""The PySide6 desktop app: the only package that imports Qt (DESIGN.md section 2)."""

import os

# QtMultimedia lists every codec library it cannot find when it loads, before any
# QApplication exists, so the rule must be in place before Qt is imported at all.
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false")
