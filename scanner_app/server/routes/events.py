"""Events (the seed's Events API), their key sets, stats, conflicts and the CSV export.

A gate device's key reaches only the event it was made for (auth.py): the list holds that
event alone, and every /v1/events/{id}... route of another event answers 404 not_found
worded as for an unknown id (not 403: a stolen gate must not learn which events exist;
gates' sync already skips an event the upstream answers 404 for). The check is in
`auth.require`, so it covers every route with an {event_id} in its path. Organiser keys
and hub-to-central keys reach every event.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from scanner_app.core.apikeys import ApiKey
from scanner_app.server.auth import get_hub, request_event, require
from scanner_app.server.hub import Hub
from scanner_app.server.routes import ERRORS, Id
from scanner_app.server.schemas import ConflictList, Event, EventCreate, EventList, Jwks, Stats

router = APIRouter(prefix="/v1/events", tags=["events"], responses=ERRORS)
READ = Depends(require("events:read"))
WRITE = Depends(require("events:write"))
REPORTS = Depends(require("bookings:read"))
HUB = Depends(get_hub)
BOUND = Depends(request_event)


@router.get("", response_model=EventList, summary="List events")
def list_events(
    status: Literal["draft", "published", "cancelled"] | None = None,
    _: ApiKey = READ,
    bound: str | None = BOUND,
    hub: Hub = HUB,
) -> dict[str, Any]:
    """Every event; for a gate device's key only its own."""
    events = hub.node.events.list(status)
    if bound is not None:
        events = [event for event in events if event["id"] == bound]
    return {"data": events}


@router.post("", response_model=Event, status_code=201, summary="Create an event (draft)")
def create_event(body: EventCreate, _: ApiKey = WRITE, hub: Hub = HUB) -> dict[str, Any]:
    """A draft event with its own signing key: this hub issues its tickets."""
    return hub.node.events.create(body.model_dump(mode="json", exclude_none=True))


@router.get("/{event_id}", response_model=Event, summary="Get an event")
def get_event(event_id: Id, _: ApiKey = READ, hub: Hub = HUB) -> dict[str, Any]:
    return hub.node.events.get(event_id)


@router.post("/{event_id}/publish", response_model=Event, summary="Publish an event")
def publish_event(event_id: Id, _: ApiKey = WRITE, hub: Hub = HUB) -> dict[str, Any]:
    return hub.node.events.publish(event_id)


@router.delete("/{event_id}", response_model=Event, summary="Cancel an event")
def cancel_event(event_id: Id, _: ApiKey = WRITE, hub: Hub = HUB) -> dict[str, Any]:
    """Cancelled, not deleted: its tickets are refused as event_cancelled from now on."""
    return hub.node.events.cancel(event_id)


@router.get("/{event_id}/keys", response_model=Jwks, summary="The event's key set (JWKS)")
def event_keys(event_id: Id, _: ApiKey = READ, hub: Hub = HUB) -> dict[str, Any]:
    return hub.node.events.jwks(event_id)


@router.get("/{event_id}/stats", response_model=Stats, summary="Attendance figures")
def event_stats(event_id: Id, _: ApiKey = REPORTS, hub: Hub = HUB) -> dict[str, Any]:
    hub.node.events.get(event_id)
    stats = hub.node.reports.stats(event_id)
    # An uploaded failure may lack a reason; JSON keys must be strings.
    stats["rejected"] = {reason or "unknown": n for reason, n in stats["rejected"].items()}
    return stats


@router.get("/{event_id}/conflicts", response_model=ConflictList, summary="Double admissions")
def event_conflicts(event_id: Id, _: ApiKey = REPORTS, hub: Hub = HUB) -> dict[str, Any]:
    """Later admissions of a ticket admitted elsewhere first (possible shared screenshots)."""
    hub.node.events.get(event_id)
    return {"data": hub.node.reports.conflicts(event_id)}


@router.get(
    "/{event_id}/export.csv",
    response_class=Response,
    summary="Every check-in as CSV",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_csv(event_id: Id, _: ApiKey = REPORTS, hub: Hub = HUB) -> Response:
    hub.node.events.get(event_id)
    return Response(
        hub.node.reports.export_csv(event_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _attachment(event_id, "csv")},
    )


@router.get(
    "/{event_id}/export.json",
    response_class=JSONResponse,
    summary="Every check-in as JSON",
    responses={200: {"content": {"application/json": {"schema": {"type": "array"}}}}},
)
def export_json(event_id: Id, _: ApiKey = REPORTS, hub: Hub = HUB) -> JSONResponse:
    """The CSV export's rows as one JSON array (booleans as true/false)."""
    hub.node.events.get(event_id)
    return JSONResponse(
        hub.node.reports.checkins(event_id),
        headers={"Content-Disposition": _attachment(event_id, "json")},
    )


def _attachment(event_id: str, extension: str) -> str:
    # Imported event ids are free text: keep the header value plain.
    filename = re.sub(r"[^A-Za-z0-9_.-]", "_", event_id) + f"-checkins.{extension}"
    return f'attachment; filename="{filename}"'
