"""The PySide6 desktop app: the only package that imports Qt (DESIGN.md section 2)."""
