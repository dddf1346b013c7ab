"""`paths`: where this node keeps its data, settings, logs and upstream key, and the log set-up."""

from __future__ import annotations

import logging
import os
import platform
from pathlib import Path

import click
import platformdirs

from scanner_app.cli.base import HOME_ENV, data_dir, emit
from scanner_app.core import applog
from scanner_app.sync.credentials import KEY_FILENAME, KEYRING_SERVICE, keyring_usable

APP_NAME = "tickitz-scanner"
LOG_DIR_ENV = "TICKITZ_SCANNER_LOG_DIR"


def log_dir(ctx: click.Context) -> Path:
    """TICKITZ_SCANNER_LOG_DIR; else DATA_DIR/logs when a data dir was chosen (two gates on
    one laptop keep apart); else the platform's user log folder."""
    if os.environ.get(LOG_DIR_ENV):
        return Path(os.environ[LOG_DIR_ENV])
    root = ctx.find_root()
    if (root.params or {}).get("data_dir") or os.environ.get(HOME_ENV):
        return data_dir(ctx) / "logs"
    return Path(platformdirs.user_log_dir(APP_NAME))


def start_logging(ctx: click.Context, verbose: bool, *, chatty: bool) -> Path | None:
    """The rotating log file for this command; ``chatty`` (the app, the demo) also shows INFO
    in the terminal, as they always did; the hub and sync keep it to warnings there."""
    level = logging.INFO if chatty else logging.WARNING
    return applog.configure(log_dir(ctx), verbose=verbose, terminal_level=level)


def settings_file() -> Path:
    from scanner_app.gui.settings import default_path  # noqa: PLC0415 (no Qt in it)

    return default_path()


def node_paths(ctx: click.Context) -> dict[str, str]:
    data = data_dir(ctx)
    keys = (
        f"OS keyring ({platform.system()}), service {KEYRING_SERVICE!r}"
        if keyring_usable()
        else str(data / KEY_FILENAME)
    )
    return {
        "data": str(data),
        "settings": str(settings_file()),
        "logs": str(log_dir(ctx)),
        "logFile": str(log_dir(ctx) / applog.LOG_FILENAME),
        "upstreamKey": keys,
    }


@click.command("paths")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
@click.pass_context
def paths(ctx: click.Context, as_json: bool) -> None:
    """Print where data, settings, logs and the upstream key live on this machine."""
    found = node_paths(ctx)
    if as_json:
        emit(found)
        return
    for name, where in found.items():
        click.echo(f"{name + ':':<13}{where}")
