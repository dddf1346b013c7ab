"""Check-in: online scans, batch uploads from gates, and the check-ins feed (DESIGN.md §6)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from scanner_app.core.apikeys import ApiKey
from scanner_app.server.auth import get_hub, require
from scanner_app.server.hub import Hub
from scanner_app.server.routes import ERRORS, Cursor, Id
from scanner_app.server.schemas import (
    BatchRequest,
    BatchResponse,
    CheckinPage,
    ScanRequest,
    ScanResult,
)

router = APIRouter(tags=["checkin"], responses=ERRORS)
CHECKIN = Depends(require("checkin:write"))
HUB = Depends(get_hub)


@router.post("/v1/checkin/scan", response_model=ScanResult, summary="Scan a ticket (online)")
async def scan(body: ScanRequest, key: ApiKey = CHECKIN, hub: Hub = HUB) -> dict[str, Any]:
    """Verify, apply the door rules and record, in one call. HTTP 200 whether admitted or
    not: the verdict is in the body. Send `id` (a client check-in id) so a retry, or a
    gate's local fallback with the same id, is never counted twice."""
    # async: the work runs on the hub's writer thread, no thread-pool hop per request.
    return await hub.scan_async(body.model_dump(exclude_none=True), key)


@router.post("/v1/checkin/batch", response_model=BatchResponse, summary="Upload check-ins")
async def batch(body: BatchRequest, key: ApiKey = CHECKIN, hub: Hub = HUB) -> dict[str, Any]:
    """At most 500 check-ins, all validated before any is stored; idempotent by `id`.
    The earliest door time is the canonical admission; later ones come back `conflict`."""
    items = [item.model_dump(exclude_none=True) for item in body.checkins]
    return {"data": await hub.batch_async(body.deviceId, items, key)}


@router.get("/v1/events/{event_id}/checkins", response_model=CheckinPage, summary="Check-ins feed")
def checkin_feed(
    event_id: Id,
    after: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    _: ApiKey = CHECKIN,
    hub: Hub = HUB,
) -> dict[str, Any]:
    """Every node's check-ins for the event in the order this hub stored them."""
    return hub.checkin_feed(event_id, after, limit)
