"""The organiser dashboard's files (scanner_app/resources/dashboard), served by the hub itself:
the venue may have no internet, so nothing comes from a CDN.

The scripts write data with textContent only (attendee and gate names come from gates).
"""

from __future__ import annotations

from importlib import resources

ASSET_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
}


def _load() -> dict[str, bytes]:
    folder = resources.files("scanner_app.resources").joinpath("dashboard")
    files = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in ASSET_TYPES:
            files[entry.name] = entry.read_bytes()
    return files


ASSETS = _load()
PAGE = ASSETS.pop("index.html")
# Only the hub's own scripts, styles and images; no inline script, no framing, no forms
# posting elsewhere. blob: and data: images: the setup QR and the favicon.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
