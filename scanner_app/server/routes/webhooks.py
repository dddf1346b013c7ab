"""Webhook endpoints: register (the answer carries the signing secret), list, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from scanner_app.core.apikeys import ApiKey
from scanner_app.server.auth import get_hub, require
from scanner_app.server.hub import Hub
from scanner_app.server.routes import ERRORS, Id
from scanner_app.server.schemas import (
    DeliveryList,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERRORS)
WEBHOOKS = Depends(require("webhooks:write"))
HUB = Depends(get_hub)


@router.post("", response_model=WebhookCreated, status_code=201, summary="Register a webhook")
def create_webhook(body: WebhookCreate, _: ApiKey = WEBHOOKS, hub: Hub = HUB) -> dict[str, Any]:
    """Deliveries are POSTed with `Tickitz-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
    "<t>.<raw body>" with the secret>`; the body is {id, type, createdAt, data}."""
    return hub.webhooks.register(
        body.url, list(body.events), allow_private=hub.config.allow_private_webhooks
    )


@router.get("", response_model=WebhookList, summary="List webhooks")
def list_webhooks(_: ApiKey = WEBHOOKS, hub: Hub = HUB) -> dict[str, Any]:
    return {"data": hub.webhooks.list()}


@router.delete("/{webhook_id}", response_model=Webhook, summary="Delete a webhook")
def delete_webhook(webhook_id: Id, _: ApiKey = WEBHOOKS, hub: Hub = HUB) -> dict[str, Any]:
    return hub.webhooks.delete(webhook_id)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryList, summary="Delivery log")
def list_deliveries(
    webhook_id: Id,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    _: ApiKey = WEBHOOKS,
    hub: Hub = HUB,
) -> dict[str, Any]:
    return {"data": hub.webhooks.deliveries(webhook_id, limit)}
