"""Gate devices (a scoped key and a setup QR per gate) and QR images for the dashboard."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from scanner_app.core.apikeys import ApiKey
from scanner_app.core.errors import ValidationError
from scanner_app.server.auth import get_hub, require
from scanner_app.server.hub import Hub
from scanner_app.server.routes import ERRORS, Id, public_base
from scanner_app.server.routes.tickets import PNG, qr_png
from scanner_app.server.schemas import (
    Device,
    DeviceCreate,
    DeviceCreated,
    DeviceList,
    Enrolled,
    EnrolRequest,
    QrRequest,
)

router = APIRouter(tags=["devices"], responses=ERRORS)
ORGANISER = Depends(require("events:write"))
HUB = Depends(get_hub)


@router.post("/v1/devices", response_model=DeviceCreated, status_code=201, summary="Add a gate")
def create_device(
    body: DeviceCreate, request: Request, _: ApiKey = ORGANISER, hub: Hub = HUB
) -> dict[str, Any]:
    """A gate device and the text of its v2 setup QR: a one-time enrolment code valid until
    `enrolExpiresAt` (15 min), the hub's address and certificate fingerprint. The gate
    exchanges it at POST /v1/devices/enrol for its key (events:read, bookings:read,
    checkin:write), which appears nowhere else. `url` overrides the hub address put in the
    QR (e.g. the LAN address when the dashboard is opened on localhost); on an HTTPS hub it
    must be https:// (400 otherwise)."""
    url = body.url or public_base(request, hub)
    if hub.config.fingerprint and not url.lower().startswith("https://"):
        # The code would pin a certificate on a plain-HTTP address: the gate would speak HTTP
        # to a TLS port and never get an answer.
        raise ValidationError(
            f"This hub speaks HTTPS: the gates' address must start with https://, not {url}.",
            field="url",
        )
    return hub.create_gate(body.name, body.eventId, body.gate, url)


@router.post("/v1/devices/enrol", response_model=Enrolled, summary="Enrol a gate")
def enrol_device(body: EnrolRequest, hub: Hub = HUB) -> dict[str, Any]:
    """No API key: the one-time `enrol` code of a setup QR is the credential. Answers the
    device's key once; the code is then spent (401 for an unknown, used or expired code)."""
    return hub.enrol(body.enrol)


@router.get("/v1/devices", response_model=DeviceList, summary="List gates")
def list_devices(
    eventId: str | None = None,  # noqa: N803 - the query parameter's wire name
    _: ApiKey = ORGANISER,
    hub: Hub = HUB,
) -> dict[str, Any]:
    """Gates with when they were last seen and how many check-ins they delivered."""
    return {"data": hub.devices.list(eventId)}


@router.delete("/v1/devices/{device_id}", response_model=Device, summary="Revoke a gate")
def revoke_device(device_id: Id, _: ApiKey = ORGANISER, hub: Hub = HUB) -> dict[str, Any]:
    """The gate's key stops working at once (a lost or stolen laptop)."""
    device = hub.devices.revoke(device_id)
    hub.changes.notify()  # the dashboard's gate list shows it at once
    return device


@router.post("/v1/qr.png", response_class=Response, responses=PNG, summary="Render a QR code")
def render_qr(body: QrRequest, _: ApiKey = ORGANISER) -> Response:
    """Any text as a QR PNG: the dashboard shows a new gate's setup QR with it (keys are
    not stored, so the QR cannot be fetched again later)."""
    return Response(
        qr_png(body.text), media_type="image/png", headers={"Cache-Control": "no-store"}
    )
