"""`tickets ...` commands: issue (with QR PNGs), cancel, show, search."""

from __future__ import annotations

from pathlib import Path

import click
import segno

from scanner_app.cli.base import emit, handles_errors, open_node, say


def write_qr_png(payload: str, path: Path, scale: int = 6) -> Path:
    """The ticket QR at error level M (DESIGN.md §9: ~350 chars is version 14)."""
    segno.make_qr(payload, error="m").save(str(path), scale=scale, border=4)
    return path


@click.group("tickets")
def tickets_group() -> None:
    """Issue, cancel and look up tickets."""


@tickets_group.command("issue")
@click.option("--event", "event_id", required=True)
@click.option("--tier", "tier_name", required=True)
@click.option("--name", "attendee_name", help="Attendee name printed on the ticket.")
@click.option("--count", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--qr-dir", type=click.Path(file_okay=False), help="Write each QR as PNG here.")
@click.pass_context
@handles_errors
def issue(
    ctx: click.Context,
    event_id: str,
    tier_name: str,
    attendee_name: str | None,
    count: int,
    qr_dir: str | None,
) -> None:
    """Issue signed tickets; prints one JSON object per ticket."""
    tickets = open_node(ctx).tickets.issue(event_id, tier_name, attendee_name, count)
    folder = Path(qr_dir) if qr_dir else None
    if folder:
        folder.mkdir(parents=True, exist_ok=True)
    for ticket in tickets:
        if folder:
            write_qr_png(ticket["qrPayload"], folder / f"{ticket['id']}.png")
        emit({k: ticket[k] for k in ("id", "bookingId", "tierName", "attendeeName", "qrPayload")})
    if folder:
        say(f"Wrote {len(tickets)} QR codes to {folder}")


@tickets_group.command("cancel")
@click.argument("ticket_id")
@click.pass_context
@handles_errors
def cancel(ctx: click.Context, ticket_id: str) -> None:
    """Cancel a ticket: it is refused as revoked (everywhere, after the next sync)."""
    emit(open_node(ctx).tickets.cancel(ticket_id))


@tickets_group.command("search")
@click.argument("query")
@click.option("--event", "event_id")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@click.pass_context
@handles_errors
def search(ctx: click.Context, query: str, event_id: str | None, limit: int) -> None:
    """Find attendees by name, ticket id or booking id."""
    for ticket in open_node(ctx).tickets.search(query, event_id, limit):
        emit(ticket)
