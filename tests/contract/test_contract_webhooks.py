"""Webhooks (DESIGN.md §6, issue 3): register, deliver ticket.used signed with HMAC-SHA256."""

from __future__ import annotations

import hmac
import json
import re
import socket
import time

import pytest
from contractkit import ISO_MS_Z, Receiver, check_envelope, expected_signature, seed_event

SIGNATURE = re.compile(r"^t=(\d+),v1=([0-9a-f]{64})$")


@pytest.fixture(scope="module")
def receiver():
    started = Receiver()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def webhook(api, receiver):
    response = api.post(
        "/v1/webhooks", json={"url": receiver.url, "events": ["ticket.used", "ticket.created"]}
    )
    assert response.status_code in (200, 201), response.text
    created = response.json()
    assert {"id", "secret"} <= set(created)
    return created


def verify(headers: dict, raw: bytes, secret: str) -> int:
    """The receiver's check: Tickitz-Signature: t=<unix>,v1=<hex HMAC(secret, "<t>.<raw>")>."""
    value = {k.lower(): v for k, v in headers.items()}["tickitz-signature"]
    match = SIGNATURE.match(value)
    assert match, value
    timestamp, digest = match.groups()
    assert hmac.compare_digest(digest, expected_signature(secret, timestamp, raw))
    assert abs(int(timestamp) - time.time()) < 300
    return int(timestamp)


def test_ticket_used_is_delivered_signed_after_a_scan(api, event, webhook, receiver, issue_tickets):
    ticket = issue_tickets(event["id"], tier="VIP", name="Hooked")[0]
    scanned = api.post(
        "/v1/checkin/scan",
        json={"qrPayload": ticket["qrPayload"], "eventId": event["id"], "scannedBy": "gate-w"},
    ).json()
    assert scanned["success"] is True
    headers, raw = receiver.wait_for(
        lambda body: (
            body.get("type") == "ticket.used"
            and body.get("data", {}).get("ticketId") == ticket["id"]
        )
    )
    verify(headers, raw, webhook["secret"])
    body = json.loads(raw)
    assert body["data"]["eventId"] == event["id"]
    assert ISO_MS_Z.match(body["createdAt"]) and body["id"]
    # A wrong secret or a changed body does not verify.
    timestamp, digest = SIGNATURE.match(headers["Tickitz-Signature"]).groups()
    assert digest != expected_signature("whsec_wrong", timestamp, raw)
    assert digest != expected_signature(webhook["secret"], timestamp, raw + b" ")


def test_ticket_created_is_delivered_too(api, event, webhook, receiver, issue_tickets):
    ticket = issue_tickets(event["id"], tier="General", name="Fresh")[0]
    headers, raw = receiver.wait_for(
        lambda body: (
            body.get("type") == "ticket.created"
            and body.get("data", {}).get("id", body["data"].get("ticketId")) == ticket["id"]
        )
    )
    verify(headers, raw, webhook["secret"])
    assert ticket["qrPayload"] not in raw.decode()


def test_a_duplicate_scan_fires_no_second_ticket_used(api, event, webhook, receiver, issue_tickets):
    ticket = issue_tickets(event["id"], tier="VIP", name="Twice")[0]
    body = {"qrPayload": ticket["qrPayload"], "eventId": event["id"], "scannedBy": "gate-w"}
    assert api.post("/v1/checkin/scan", json=body).json()["success"] is True
    assert api.post("/v1/checkin/scan", json=body).json()["reason"] == "already_checked_in"

    def used(payload: dict) -> bool:
        return (
            payload.get("type") == "ticket.used" and payload["data"].get("ticketId") == ticket["id"]
        )

    receiver.wait_for(used)
    time.sleep(0.5)
    assert sum(used(json.loads(raw)) for _, raw in receiver.received) == 1


def test_webhooks_are_listed_without_secrets_and_deleted(api, webhook, receiver):
    listed = api.get("/v1/webhooks")
    assert listed.status_code == 200
    assert webhook["id"] in [w["id"] for w in listed.json()["data"]]
    assert webhook["secret"] not in listed.text
    extra = api.post("/v1/webhooks", json={"url": receiver.url, "events": ["event.sold_out"]})
    assert extra.status_code in (200, 201)
    assert api.delete(f"/v1/webhooks/{extra.json()['id']}").status_code in (200, 204)
    assert extra.json()["id"] not in [w["id"] for w in api.get("/v1/webhooks").json()["data"]]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "127.0.0.1:8000/hook",
        "http://",
        "data:text/plain,hi",
    ],
)
def test_webhook_urls_must_be_http_or_https(api, url):
    response = api.post("/v1/webhooks", json={"url": url, "events": ["ticket.used"]})
    check_envelope(response, 400, "validation_error")


def test_booking_cancelled_and_event_sold_out_are_delivered(api, receiver):
    created = api.post(
        "/v1/webhooks",
        json={"url": receiver.url, "events": ["booking.cancelled", "event.sold_out"]},
    ).json()
    small = api.post(
        "/v1/events",
        json=seed_event(title="Tiny", tiers=[{"name": "Solo", "price": 0, "quantity": 1}]),
    ).json()
    api.post(f"/v1/events/{small['id']}/publish")
    ticket = api.post(
        f"/v1/events/{small['id']}/tickets", json={"tierName": "Solo", "attendeeName": "Only"}
    ).json()["data"][0]
    headers, raw = receiver.wait_for(
        lambda body: body["type"] == "event.sold_out" and body["data"]["eventId"] == small["id"]
    )
    verify(headers, raw, created["secret"])
    assert api.post(f"/v1/tickets/{ticket['id']}/cancel").status_code == 200
    headers, raw = receiver.wait_for(
        lambda body: (
            body["type"] == "booking.cancelled" and body["data"].get("ticketId") == ticket["id"]
        )
    )
    verify(headers, raw, created["secret"])
    assert json.loads(raw)["data"]["bookingId"] == ticket["bookingId"]


def test_a_receiver_that_was_down_gets_the_delivery_when_it_is_back(api, event, issue_tickets):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there yet
    created = api.post(
        "/v1/webhooks", json={"url": f"http://127.0.0.1:{port}/hook", "events": ["ticket.used"]}
    ).json()
    ticket = issue_tickets(event["id"], tier="VIP", name="Patient")[0]
    body = {"qrPayload": ticket["qrPayload"], "eventId": event["id"], "scannedBy": "gate-w"}
    assert api.post("/v1/checkin/scan", json=body).json()["success"] is True
    time.sleep(0.5)  # the first attempt fails: connection refused
    late = Receiver(port=port)
    try:
        headers, raw = late.wait_for(
            lambda payload: payload["data"].get("ticketId") == ticket["id"], timeout=20
        )
        verify(headers, raw, created["secret"])
    finally:
        late.stop()
        api.delete(f"/v1/webhooks/{created['id']}")
