"""Tickets: issue (box office, demo), look up, QR image, cancel, and the manifest feed.

A gate device's key reaches only its own event's tickets (auth.py): another event's
manifest, or a ticket of another event by id, answers 404 not_found worded as for an
unknown id, so attendee names and the event's existence stay hidden.
"""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from scanner_app.core.apikeys import ApiKey
from scanner_app.core.errors import NotFound
from scanner_app.server.auth import (
    check_ticket,
    check_token_reader,
    get_hub,
    request_event,
    require,
)
from scanner_app.server.hub import Hub
from scanner_app.server.routes import ERRORS, Cursor, Id, public_base
from scanner_app.server.schemas import ManifestPage, Ticket, TicketIssue, TicketList

router = APIRouter(tags=["tickets"], responses=ERRORS)
READ = Depends(require("bookings:read"))
WRITE = Depends(require("bookings:write"))
HUB = Depends(get_hub)
BOUND = Depends(request_event)
PNG = {200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}}


def qr_png(text: str, scale: int = 6) -> bytes:
    """A QR at error level M, as the CLI writes them (DESIGN.md §9)."""
    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def with_url(ticket: dict[str, Any], base: str) -> dict[str, Any]:
    return {**ticket, "qrUrl": f"{base}/v1/tickets/{ticket['id']}/qr.png"}


@router.post(
    "/v1/events/{event_id}/tickets",
    response_model=TicketList,
    status_code=201,
    summary="Issue tickets for a tier",
)
def issue_tickets(
    event_id: Id, body: TicketIssue, request: Request, _: ApiKey = WRITE, hub: Hub = HUB
) -> dict[str, Any]:
    """One booking of `quantity` signed tickets; 409 sold_out past the tier's quantity,
    409 conflict for a draft or cancelled event."""
    tickets = hub.issue(event_id, body.tierName, body.attendeeName, body.quantity)
    base = public_base(request, hub)
    return {"data": [with_url(t, base) for t in tickets]}


@router.get(
    "/v1/events/{event_id}/tickets", response_model=ManifestPage, summary="Manifest changes"
)
def ticket_feed(
    event_id: Id,
    after: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    names: Annotated[
        Literal["plain", "sealed"],
        Query(description="sealed: each name as `sealedName`, opened only with its token"),
    ] = "plain",
    _: ApiKey = READ,
    hub: Hub = HUB,
) -> dict[str, Any] | Response:
    """Tickets changed since `after`, oldest first; cancelled tickets are the revocations.

    `names=sealed` is for a gate set to private (DESIGN.md §10): `attendeeName` is null
    and `sealedName` holds the name sealed with a key derived from the ticket's token."""
    if names == "sealed":  # not in ManifestPage, whose entries have no sealedName
        return JSONResponse(hub.node.tickets.feed(event_id, after, limit, sealed=True))
    return hub.node.tickets.feed(event_id, after, limit)


@router.get("/v1/tickets/{ticket_id}", response_model=Ticket, summary="Get a ticket")
def get_ticket(
    ticket_id: Id,
    request: Request,
    key: ApiKey = READ,
    bound: str | None = BOUND,
    hub: Hub = HUB,
) -> dict:
    """The ticket with its signed token (`qrPayload`); 403 for a gate key."""
    check_token_reader(key)
    ticket = check_ticket(bound, hub.node.tickets.get(ticket_id))
    return with_url(ticket, public_base(request, hub))


@router.get(
    "/v1/tickets/{ticket_id}/qr.png",
    response_class=Response,
    responses=PNG,
    summary="The ticket's QR code as PNG",
)
def ticket_qr(
    ticket_id: Id, key: ApiKey = READ, bound: str | None = BOUND, hub: Hub = HUB
) -> Response:
    """403 for a gate key (the QR is the token)."""
    check_token_reader(key)
    ticket = check_ticket(bound, hub.node.tickets.get(ticket_id))
    if not ticket.get("qrPayload"):
        raise NotFound(f"Ticket {ticket_id} was issued elsewhere; this hub has no QR for it.")
    return Response(
        qr_png(ticket["qrPayload"]),
        media_type="image/png",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.post("/v1/tickets/{ticket_id}/cancel", response_model=Ticket, summary="Cancel a ticket")
def cancel_ticket(
    ticket_id: Id,
    request: Request,
    _: ApiKey = WRITE,
    bound: str | None = BOUND,
    hub: Hub = HUB,
) -> dict:
    """Revoked at once here, and at every gate on its next manifest pull."""
    if bound is not None:  # gate keys lack bookings:write; should one ever hold it
        check_ticket(bound, hub.node.tickets.get(ticket_id))
    return with_url(hub.cancel_ticket(ticket_id), public_base(request, hub))
