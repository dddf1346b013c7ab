"""`config`: show or change how this node scans (the same settings the app's Settings edits)."""

from __future__ import annotations

import click

from scanner_app.cli.base import emit, handles_errors, open_node, say
from scanner_app.core.node_config import DECODERS, PRIVATE, NodeConfig


@click.command("config")
@click.option("--gate", help="This gate's name (scannedBy).")
@click.option("--event", "event_ids", multiple=True, help="Event(s) this gate admits.")
@click.option("--any-event", is_flag=True, help="Admit any event on this node.")
@click.option("--mode", type=click.Choice(["entry", "exit"]), help="Entry or exit scans.")
@click.option("--allow-tier", "tiers", multiple=True, help="Admit only these tiers.")
@click.option("--all-tiers", is_flag=True, help="Admit every tier.")
@click.option("--strict/--no-strict", default=None, help="Ask the upstream for every scan.")
@click.option("--decoder", type=click.Choice(DECODERS), help="QR decoder of the app's camera.")
@click.option("--camera", help="The app's camera: an index (0, 1...) or a URL / file.")
@click.option(
    "--private",
    type=click.Choice(PRIVATE),
    help="Keep names only per ticket, shown when it is scanned (auto: in kiosk mode).",
)
@click.pass_context
@handles_errors
def config(
    ctx: click.Context,
    gate: str | None,
    event_ids: tuple[str, ...],
    any_event: bool,
    mode: str | None,
    tiers: tuple[str, ...],
    all_tiers: bool,
    strict: bool | None,
    decoder: str | None,
    camera: str | None,
    private: str | None,
) -> None:
    """Print this node's configuration as JSON; with options, change it first.

    The desktop app reads and writes the same configuration (it lives in the data
    directory), so a gate set up here is the same gate in the app. The upstream is set
    with `connect`.
    """
    node = open_node(ctx)
    changes: dict[str, object] = {}
    if gate is not None:
        changes["gate"] = gate.strip()
    if event_ids or any_event:
        if NodeConfig.load(node).standalone:  # a gate's events may come with its next sync
            for event_id in event_ids:
                node.events.get(event_id)  # a mistyped id is refused, not saved
        changes["event_ids"] = () if any_event else event_ids
    if mode is not None:
        changes["direction"] = "out" if mode == "exit" else "in"
    if tiers or all_tiers:
        changes["allowed_tiers"] = () if all_tiers else tiers
    if strict is not None:
        changes["strict"] = strict
    if decoder is not None:
        changes["decoder"] = decoder
    if camera is not None:
        changes["camera"] = camera.strip() or "0"
    if private is not None:
        changes["private"] = private
    with node.db.write():  # read and write under the writer lock: the app may be saving too
        current = NodeConfig.load(node)
        updated = current.with_changes(**changes)
        if changes:
            updated.save(node)
    if changes:
        say(f"Saved: {', '.join(sorted(changes))}.")
    emit(updated.to_dict())
