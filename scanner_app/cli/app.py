"""Starting the desktop app from the command line."""

from __future__ import annotations

import click

from scanner_app.cli.base import data_dir, fail


def run_app(ctx: click.Context, kiosk: bool = False) -> int:
    try:
        from scanner_app.gui.app import run  # noqa: PLC0415
    except ImportError as exc:
        fail(f"the desktop app is not available: {exc}")
        return 2
    return run(data_dir=data_dir(ctx), kiosk=kiosk)
