"""Check-in: online scans, batch uploads from gates, and the check-ins feed (DESIGN.md §6).

A gate device's key reaches only its own event (auth.py): another event's feed is 404
not_found (as for an unknown event, so its existence is not revealed); a scan whose
`eventId` names another event is 403 forbidden, while a ticket of another event scanned
under the gate's own `eventId` is the usual scan result with reason `wrong_event`
(recorded as usual); a batch holding a check-in of another event is 400 validation_error
naming the item (`checkins[i].eventId`), and nothing of it is stored - the batch's answer
for any item it will not take, which a gate's uploader narrows down to the refused rows.
The fast path (fastpath.py) applies the same checks.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from scanner_app.core.apikeys import ApiKey
from scanner_app.server.auth import check_batch, check_scan, get_hub, request_event, require
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
BOUND = Depends(request_event)


@router.post("/v1/checkin/scan", response_model=ScanResult, summary="Scan a ticket (online)")
async def scan(
    body: ScanRequest, key: ApiKey = CHECKIN, bound: str | None = BOUND, hub: Hub = HUB
) -> dict[str, Any]:
    """Verify, apply the door rules and record, in one call. HTTP 200 whether admitted or
    not: the verdict is in the body. Send `id` (a client check-in id) so a retry, or a
    gate's local fallback with the same id, is never counted twice. A gate's key may name
    only its own event (403 otherwise)."""
    check_scan(bound, body.eventId)
    # async: the work runs on the hub's writer thread, no thread-pool hop per request.
    return await hub.scan_async(body.model_dump(exclude_none=True), key)


@router.post("/v1/checkin/batch", response_model=BatchResponse, summary="Upload check-ins")
async def batch(
    body: BatchRequest,
    request: Request,
    key: ApiKey = CHECKIN,
    bound: str | None = BOUND,
    hub: Hub = HUB,
) -> dict[str, Any]:
    """At most 500 check-ins, all validated before any is stored; idempotent by `id`.
    The earliest door time is the canonical admission; later ones come back `conflict`.
    A gate's key may upload only its own event's check-ins (400 naming the item otherwise).
    `pending` (optional): how many check-ins the gate still holds after this batch; with the
    app version in its User-Agent it is shown per gate on the dashboard."""
    items = [item.model_dump(exclude_none=True) for item in body.checkins]
    check_batch(bound, items)
    report = (body.pending, request.headers.get("user-agent"))
    return {"data": await hub.batch_async(body.deviceId, items, key, report)}


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
