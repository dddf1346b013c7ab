"""The PySide6 desktop app: the only package that imports Qt (DESIGN.md section 2)."""

from scanner_app.gui._compat import pin_singletons

# Before any Qt call: PySide6 6.12.0 on Python 3.11 leaks None/True/False references.
pin_singletons()
