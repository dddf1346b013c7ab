"""The `tickitz-scanner` command. Subcommands live in modules beside this one."""

from __future__ import annotations

import faulthandler
import sys

import click

from scanner_app import __version__
from scanner_app.cli.base import HOME_ENV
from scanner_app.cli.configure import config
from scanner_app.cli.demo import demo
from scanner_app.cli.doctor import doctor
from scanner_app.cli.events import event_group
from scanner_app.cli.paths import paths, start_logging
from scanner_app.cli.scan import export, scan, stats, undo
from scanner_app.cli.serve import keys_group, serve
from scanner_app.cli.sync import connect, sync
from scanner_app.cli.tickets import tickets_group

LOGGED_COMMANDS = (None, "demo", "serve", "sync")


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tickitz-scanner")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar=HOME_ENV,
    help=f"Where this node keeps its database (env {HOME_ENV}; default: the user data dir).",
)
@click.option("--kiosk", is_flag=True, help="Start the desktop app in kiosk mode.")
@click.option("-v", "--verbose", is_flag=True, help="Debug detail in the terminal and log file.")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, kiosk: bool, verbose: bool) -> None:
    """Tickitz Scanner: the offline door scanner and venue hub for Tickitz events.

    With no command, starts the desktop app.
    """
    # The log file is for what runs for hours (app, demo, hub); one-shot commands answer on
    # the terminal. --verbose turns it on for any command.
    if verbose or ctx.invoked_subcommand in LOGGED_COMMANDS:
        start_logging(ctx, verbose, chatty=ctx.invoked_subcommand in (None, "demo"))
    if ctx.invoked_subcommand is None:
        from scanner_app.cli.app import run_app  # noqa: PLC0415 (Qt loads only for the GUI)

        ctx.exit(run_app(ctx, kiosk=kiosk))


for command in (
    event_group,
    tickets_group,
    scan,
    undo,
    stats,
    export,
    demo,
    connect,
    config,
    sync,
    serve,
    keys_group,
    paths,
    doctor,
):
    cli.add_command(command)


def main() -> None:
    # A crash in C code (Qt, OpenCV) then prints every thread's Python stack on stderr. The
    # PyInstaller bundle ignores PYTHONFAULTHANDLER, so without this a segfault said nothing.
    # Windows' windowed executable has no stderr: nothing to write to there.
    if sys.stderr is not None and not faulthandler.is_enabled():
        faulthandler.enable()
    cli(prog_name="tickitz-scanner")
