"""`scan`, `stats`, `export` and `undo`: the door from the terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from scanner_app.cli.base import emit, fail, handles_errors, open_node, say
from scanner_app.core.door import CheckProvider, Door
from scanner_app.core.models import DEFAULT_GATE
from scanner_app.core.node import Node
from scanner_app.core.node_config import NodeConfig
from scanner_app.sync.config import SyncConfig, SyncSettingsDamaged
from scanner_app.sync.door import check_provider, door_for


def saved_config(node: Node) -> SyncConfig | None:
    """The saved upstream, None when it is damaged: the door then decides locally (as a
    standalone one does) and check_provider says why."""
    try:
        return SyncConfig.load(node)
    except SyncSettingsDamaged:
        return None


@contextmanager
def door_provider(node: Node) -> Iterator[CheckProvider]:
    """This node's door (sync/door.py chooses: local, or strict after `connect --strict`)."""
    provider = check_provider(node, on_warning=lambda m: say(f"Warning: {m}; deciding locally."))
    try:
        yield provider
    finally:
        provider.close()  # a strict door's HTTP client and worker pool


@click.command("scan")
@click.option(
    "--event",
    "event_ids",
    multiple=True,
    help="Event(s) this gate admits  [default: the node's, from `connect` or `config`]",
)
@click.option(
    "--gate", help=f"Gate name (scannedBy)  [default: the node's gate, else {DEFAULT_GATE}]"
)
@click.option(
    "--exit/--entry",
    "exit_scan",
    default=None,
    help="Exit scans (only for events with re-entry)  [default: the node's mode]",
)
@click.option(
    "--allow-tier", "tiers", multiple=True, help="Admit only these tiers  [default: the node's]"
)
@click.option(
    "--image",
    "images",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Decode QR codes from an image file (repeatable).",
)
@click.argument("payloads", nargs=-1)
@click.pass_context
@handles_errors
def scan(
    ctx: click.Context,
    event_ids: tuple[str, ...],
    gate: str | None,
    exit_scan: bool | None,
    tiers: tuple[str, ...],
    images: tuple[str, ...],
    payloads: tuple[str, ...],
) -> None:
    """Scan payloads (or `-` for one per line on stdin); one ScanResult JSON per line.

    After `connect --strict` each scan asks the upstream first (short deadline) and falls
    back to the local verdict when it does not answer in time.
    """
    inputs: list[str] = []
    for image in images:
        from scanner_app.camera import decode_image_file  # noqa: PLC0415 (cv2 is slow to load)

        try:
            found = decode_image_file(image)
        except Exception as exc:  # the decoder names the problem (missing, unreadable...)
            fail(f"{image}: {exc}")
        if not found:
            say(f"{image}: no QR code found")
        inputs.extend(found)
    for payload in payloads:
        if payload == "-":
            inputs.extend(line.strip() for line in sys.stdin if line.strip())
        else:
            inputs.append(payload)
    if not inputs:
        fail("give at least one PAYLOAD, `-` to read stdin, or --image FILE")
    node = open_node(ctx)
    # The node's configuration (as the app's Settings show it) unless told otherwise here.
    saved = NodeConfig.load(node)
    event_ids = event_ids or saved.event_ids
    if not event_ids:
        fail("give --event EVT (or set this gate's event: `tickitz-scanner config --event EVT`)")
    if exit_scan is None:
        exit_scan = saved.direction == "out"
    tiers = tiers or saved.allowed_tiers
    for event_id in event_ids:
        event = node.events.get(event_id)  # a mistyped --event is refused, not red verdicts
        if exit_scan and not event["settings"]["allowReentry"]:
            # Without re-entry there is no way back in, so an exit is a mistake: recording
            # one would show the guest as gone (and the count as lower) for nothing.
            fail(
                f"{event_id} does not allow re-entry, so it has no exit scans; "
                "scan without --exit (or create the event with --reentry)"
            )
    # Without --gate, the name a gate was set up with (its setup QR) is its scannedBy.
    door = door_for(
        saved_config(node),
        event_ids=event_ids,
        direction="out" if exit_scan else "in",
        allowed_tiers=tiers,
        gate=gate or saved.gate_name,
    )
    with door_provider(node) as provider:
        for payload in inputs:
            emit(provider.scan(payload, door).to_wire())
            sys.stdout.flush()  # a printed verdict is a committed verdict (crash tests rely on it)


@click.command("undo")
@click.argument("checkin_id")
@click.option("--gate", help="Gate name  [default: the node's gate]")
@click.pass_context
@handles_errors
def undo(ctx: click.Context, checkin_id: str, gate: str | None) -> None:
    """Undo a check-in: recorded as a void entry, never deleted."""
    node = open_node(ctx)
    with door_provider(node) as provider:
        door = Door.of(gate=gate or NodeConfig.load(node).gate_name)
        emit(provider.undo(checkin_id, door).to_wire())


@click.command("stats")
@click.option("--event", "event_id", required=True)
@click.pass_context
@handles_errors
def stats(ctx: click.Context, event_id: str) -> None:
    """Checked in, capacity, by tier, by gate, conflicts."""
    node = open_node(ctx)
    node.events.get(event_id)
    emit(node.reports.stats(event_id))


@click.command("export")
@click.option("--event", "event_id", required=True)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("--output", type=click.Path(dir_okay=False), help="File to write (default stdout).")
@click.pass_context
@handles_errors
def export(ctx: click.Context, event_id: str, fmt: str, output: str | None) -> None:
    """Every check-in of an event, admitted or not, as CSV or one JSON array."""
    node = open_node(ctx)
    node.events.get(event_id)
    if fmt == "csv":
        text = node.reports.export_csv(event_id)
    else:
        # One document, not JSON lines: `json.load` of the file (or stdout) must just work.
        rows = node.reports.checkins(event_id)
        text = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8", newline="")  # keep CSV CRLFs as is
        say(f"Wrote {output}")
    else:
        click.echo(text, nl=False)
