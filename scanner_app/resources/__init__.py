"""Package data for the desktop app: SVG icons, WAV sounds and the Qt stylesheet.

Kept as a package so ``importlib.resources.files("scanner_app.resources")`` finds the
files from a source checkout, an installed wheel or a frozen bundle alike.
"""
