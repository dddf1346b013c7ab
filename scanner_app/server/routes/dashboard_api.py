"""What the dashboard page reads and does beyond the /v1 API: the live event view (JSON and
server-sent events), ticket search and history, manual check-in and undo, sync to central.

Authenticated like any route (a session cookie from the page, or a Bearer key); manual
check-ins and undos go through the hub's check-in path, so a gate's door rules apply.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from scanner_app import __version__
from scanner_app.core.apikeys import ApiKey
from scanner_app.core.attendance import Attendance
from scanner_app.core.errors import NotFound
from scanner_app.server import dashboard_view as view
from scanner_app.server.auth import get_hub, require
from scanner_app.server.central import CentralSync
from scanner_app.server.errors import ApiError
from scanner_app.server.hub import Hub
from scanner_app.server.routes import Id
from scanner_app.server.schemas import Strict

router = APIRouter(prefix="/dashboard/api", include_in_schema=False)


def desk(scope: str) -> Any:
    """`require(scope)`, for organisers only: a gate's key holds bookings:read and
    checkin:write for its door, not for the venue's overview or the organiser's desk."""
    check = require(scope)

    async def dependency(request: Request) -> ApiKey:
        key = await check(request)
        if key.device_id is not None or key.kind == "gate":
            raise ApiError(403, "A gate's key cannot use the organiser's dashboard.")
        return key

    return Depends(dependency)


READ = desk("bookings:read")
CHECKIN = desk("checkin:write")
ORGANISER = desk("events:write")
HUB = Depends(get_hub)
HEARTBEAT_S = 5.0  # the page shows the hub as unreachable after two missed beats
COALESCE_S = 0.05  # a burst of commits becomes one update


class ManualCheckin(Strict):
    direction: Literal["in", "out"] = "in"


@router.get("/events")
def events(request: Request, _: ApiKey = READ, hub: Hub = HUB) -> dict[str, Any]:
    """Events for the picker, the one to show first, and what the page says about the hub."""
    listed = hub.node.events.list()
    public_url = hub.config.public_url or str(request.base_url).rstrip("/")
    bind_host = getattr(request.app.state, "bind_host", None)
    return {
        "data": [
            {k: e[k] for k in ("id", "title", "status", "startsAt", "endsAt")} for e in listed
        ],
        "suggested": view.suggested_event(listed, hub.node.clock()),
        "hub": {
            "version": __version__,
            "publicUrl": public_url,
            "bindHost": bind_host,
            "loopback": view.is_loopback(bind_host) or view.url_is_loopback(public_url),
            "upstream": request.app.state.central.upstream is not None,
        },
    }


@router.get("/events/{event_id}/overview")
def overview(event_id: Id, _: ApiKey = READ, hub: Hub = HUB) -> dict[str, Any]:
    return view.overview(hub, event_id)


@router.get("/events/{event_id}/live")
async def live(event_id: Id, request: Request, _: ApiKey = READ, hub: Hub = HUB) -> Any:
    """Server-sent events: `overview` whenever the figures change (woken by the hub's commits,
    so a scan shows within a fraction of a second), `ping` every few seconds otherwise, and
    `ended` when the session expires."""
    await run_in_threadpool(hub.node.events.get, event_id)  # 404 before the stream starts
    sessions = request.app.state.sessions
    token = getattr(request.state, "session_token", None)
    return StreamingResponse(
        _stream(hub, event_id, sessions, token),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(hub: Hub, event_id: str, sessions: Any, token: str | None) -> AsyncIterator:
    yield "retry: 1000\n\n"
    last = None
    while not hub.changes.closed:
        version = hub.changes.version
        data = await run_in_threadpool(view.overview, hub, event_id)
        stamp = data.pop("generatedAt")
        figures = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if figures != last:
            last = figures
            body = json.dumps({**data, "generatedAt": stamp}, separators=(",", ":"))
            yield f"event: overview\ndata: {body}\n\n"
        else:
            yield f'event: ping\ndata: "{stamp}"\n\n'
        if token is not None and sessions.lookup(token, touch=False) is None:
            yield "event: ended\ndata: {}\n\n"
            return
        await hub.changes.wait(version, HEARTBEAT_S)
        await asyncio.sleep(COALESCE_S)


@router.get("/events/{event_id}/tickets")
def search(
    event_id: Id,
    q: Annotated[str, Query(max_length=200)] = "",
    _: ApiKey = READ,
    hub: Hub = HUB,
) -> dict[str, Any]:
    """Tickets of the event by attendee name, ticket id or booking id (prefix of each word)."""
    hub.node.events.get(event_id)
    found = hub.node.tickets.search(q, event_id, limit=50)
    exact = hub.node.tickets.lookup(q.strip()) if q.strip() else None
    if exact is not None and exact["event_id"] == event_id:
        if all(t["id"] != exact["id"] for t in found):
            found.insert(0, hub.node.tickets.get(exact["id"]))
    return {"data": [{k: v for k, v in t.items() if k != "qrPayload"} for t in found]}


@router.get("/tickets/{ticket_id}")
def ticket(ticket_id: Id, _: ApiKey = READ, hub: Hub = HUB) -> dict[str, Any]:
    """A ticket (never its signed token) with every scan of it, admitted or refused."""
    data = {k: v for k, v in hub.node.tickets.get(ticket_id).items() if k != "qrPayload"}
    history = Attendance(hub.node.db, hub.node.names).ticket_history(ticket_id)
    standing = [s for s in history if s["success"] and s["kind"] != "void" and not s["voided"]]
    inside = bool(standing) and standing[-1]["direction"] == "in"
    return {**data, "history": history, "inside": inside, "admitted": bool(standing)}


@router.post("/tickets/{ticket_id}/checkin")
def manual_checkin(
    ticket_id: Id, body: ManualCheckin, _: ApiKey = CHECKIN, hub: Hub = HUB
) -> dict[str, Any]:
    """Check a ticket in (or out) by hand: the door rules of a gate, recorded as 'dashboard'."""
    row = hub.node.tickets.lookup(ticket_id)
    if row is None:
        raise NotFound(f"No ticket with ID {ticket_id} exists.")
    return hub.manual_checkin(ticket_id, row["event_id"], body.direction)


@router.post("/checkins/{checkin_id}/undo")
def undo(checkin_id: Id, _: ApiKey = CHECKIN, hub: Hub = HUB) -> dict[str, Any]:
    """Void an admission made by mistake; the original row is kept for the audit trail."""
    return hub.undo(checkin_id)


@router.post("/sync", status_code=202)
def sync_to_central(request: Request, _: ApiKey = ORGANISER) -> dict[str, Any]:
    central: CentralSync = request.app.state.central
    if not central.start():
        raise ApiError(
            409,
            "This hub has no central upstream. Connect it first: tickitz-scanner connect URL",
        )
    return central.state()


@router.get("/sync")
def sync_state(request: Request, _: ApiKey = READ) -> dict[str, Any]:
    return request.app.state.central.state()
