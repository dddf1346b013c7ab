"""Starting the desktop app from the command line."""

from __future__ import annotations

import click

from scanner_app.cli.base import data_dir, fail
from scanner_app.core.errors import TickitzError


def run_app(ctx: click.Context, kiosk: bool = False) -> int:
    try:
        from scanner_app.gui.app import run  # noqa: PLC0415
    except ImportError as exc:
        fail(f"the desktop app is not available: {exc}")
        return 2
    try:
        return run(data_dir=data_dir(ctx), kiosk=kiosk)
    except TickitzError as exc:  # the app showed it; the terminal gets the same line
        fail(exc.message, 1)
        return 1
