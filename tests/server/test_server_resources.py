"""Events, tickets, the manifest feed, gates (devices), reports and the dashboard page."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import time
from datetime import datetime

from hubkit import assert_envelope, client_for, create_event, enrolled, issue

from scanner_app.core.timeutil import iso_ms, utc_now
from scanner_app.core.tokens import TicketVerifier


def test_event_lifecycle_in_the_seeds_shape(api):
    body = {
        "title": "Neon Nights",
        "description": "An immersive outdoor music experience.",
        "startsAt": "2025-08-10T20:00:00Z",
        "endsAt": "2025-08-11T04:00:00Z",
        "venue": {"name": "Riverside Amphitheatre", "address": "123 River Rd, Austin TX"},
        "tiers": [
            {"name": "Early Bird", "price": 2999, "quantity": 200},
            {"name": "General", "price": 4999, "quantity": 800},
            {"name": "VIP", "price": 12999, "quantity": 100},
        ],
        "maxCapacity": 1100,
        "settings": {"requiresApproval": False, "resaleEnabled": True, "queueEnabled": True},
    }
    created = api.post("/v1/events", json=body)
    assert created.status_code == 201
    event = created.json()
    assert event["status"] == "draft" and event["id"].startswith("evt_")
    assert [t["name"] for t in event["tiers"]] == ["Early Bird", "General", "VIP"]
    assert event["maxCapacity"] == 1100 and event["venue"]["name"] == "Riverside Amphitheatre"
    assert event["settings"]["resaleEnabled"] is True
    assert api.get(f"/v1/events/{event['id']}").json() == event
    assert api.post(f"/v1/events/{event['id']}/publish").json()["status"] == "published"
    listed = api.get("/v1/events").json()["data"]
    assert [e["id"] for e in listed] == [event["id"]]
    assert api.get("/v1/events", params={"status": "draft"}).json() == {"data": []}
    assert api.delete(f"/v1/events/{event['id']}").json()["status"] == "cancelled"
    assert api.get(f"/v1/events/{event['id']}").json()["status"] == "cancelled"


def test_issued_tickets_verify_against_the_published_key_set(api, event):
    tickets = issue(api, event["id"], "VIP", quantity=2, name="Grace H.")
    assert len({t["bookingId"] for t in tickets}) == 1
    jwks = api.get(f"/v1/events/{event['id']}/keys").json()
    assert jwks["keys"] and all("d" not in key for key in jwks["keys"])  # public only

    from scanner_app.core.keys import parse_jwks

    keys = {key.kid: key for key in parse_jwks(jwks)}
    verifier = TicketVerifier(lambda event_id, kid: keys)
    from datetime import UTC, datetime

    claims = verifier.verify(tickets[0]["qrPayload"], [event["id"]], datetime.now(UTC))
    assert claims.jti == tickets[0]["id"] and claims.tier == "VIP" and claims.name == "Grace H."


def test_ticket_get_qr_png_and_cancel(api, event):
    ticket = issue(api, event["id"])[0]
    assert ticket["qrUrl"].endswith(f"/v1/tickets/{ticket['id']}/qr.png")
    fetched = api.get(f"/v1/tickets/{ticket['id']}").json()
    assert fetched["qrPayload"] == ticket["qrPayload"] and fetched["status"] == "valid"
    png = api.get(ticket["qrUrl"])
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    cancelled = api.post(f"/v1/tickets/{ticket['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"
    assert api.post(f"/v1/tickets/{ticket['id']}/cancel").json()["status"] == "cancelled"


def test_manifest_feed_carries_cancellations_by_cursor(api, event):
    tickets = issue(api, event["id"], quantity=3)
    page = api.get(f"/v1/events/{event['id']}/tickets").json()
    assert [t["id"] for t in page["data"]] == [t["id"] for t in tickets]
    assert set(page["data"][0]) == {
        "id",
        "eventId",
        "bookingId",
        "attendeeName",
        "tierName",
        "status",
        "updatedAt",
    }
    assert page["hasMore"] is False
    api.post(f"/v1/tickets/{tickets[1]['id']}/cancel")
    after = api.get(
        f"/v1/events/{event['id']}/tickets", params={"after": page["nextCursor"]}
    ).json()
    assert [(t["id"], t["status"]) for t in after["data"]] == [(tickets[1]["id"], "cancelled")]
    first = api.get(f"/v1/events/{event['id']}/tickets", params={"limit": 1}).json()
    assert len(first["data"]) == 1 and first["hasMore"] is True


def _setup(payload: str) -> dict:
    assert payload.startswith("tickitz-setup:")
    return json.loads(base64.urlsafe_b64decode(payload.removeprefix("tickitz-setup:")))


def test_gate_device_key_setup_qr_and_counts(hub, api, event):
    created = api.post(
        "/v1/devices",
        json={"name": "Laptop 1", "eventId": event["id"], "gate": "north-1"},
    )
    assert created.status_code == 201
    device = created.json()
    assert "key" not in device and device["checkinsReceived"] == 0
    setup = _setup(device["setupPayload"])
    assert setup.pop("enrol").startswith("tk_enrol_")
    expires = datetime.fromisoformat(device["enrolExpiresAt"].replace("Z", "+00:00"))
    assert setup.pop("exp") == int(expires.timestamp())
    assert 14 * 60 < expires.timestamp() - time.time() <= 15 * 60
    assert setup == {
        "v": 2,
        "url": hub.url,
        "fp": None,  # a plain-HTTP loopback hub has no certificate to pin
        "eventId": event["id"],
        "gate": "north-1",
    }
    device = enrolled(api, device)
    setup["key"] = device["key"]
    key = hub.hub.keys.get(device["keyId"])
    assert key.kind == "gate" and key.rate_limit == 6000 and key.rate_burst == 9000
    assert key.scopes == {"events:read", "bookings:read", "checkin:write"}
    tickets = issue(api, event["id"], quantity=3)
    with client_for(hub, setup["key"]) as gate:
        body = {"qrPayload": tickets[0]["qrPayload"], "eventId": event["id"], "scannedBy": "n"}
        assert gate.post("/v1/checkin/scan", json=body).json()["success"]
        items = [
            {
                "id": f"chk_{t['id']}",
                "ticketId": t["id"],
                "eventId": event["id"],
                "scannedAt": iso_ms(utc_now()),
                "scannedBy": "north-1",
                "success": True,
                "qrPayload": t["qrPayload"],
            }
            for t in tickets[1:]
        ]
        gate.post("/v1/checkin/batch", json={"deviceId": "dev_local", "checkins": items})
        gate.post("/v1/checkin/batch", json={"deviceId": "dev_local", "checkins": items})
        listed = api.get("/v1/devices").json()["data"]
        assert listed[0]["checkinsReceived"] == 3 and listed[0]["lastSeenAt"]
        png = api.post("/v1/qr.png", json={"text": device["setupPayload"]})
        assert png.content.startswith(b"\x89PNG")
        revoked = api.delete(f"/v1/devices/{device['id']}").json()
        assert revoked["revoked"] is True
        assert_envelope(gate.get("/v1/events"), 401, "unauthorized")


def test_device_url_override_for_the_lan_address(api, event):
    device = api.post(
        "/v1/devices",
        json={"name": "L", "eventId": event["id"], "gate": "g", "url": "http://192.168.1.20:8765/"},
    ).json()
    assert _setup(device["setupPayload"])["url"] == "http://192.168.1.20:8765"


def test_stats_and_csv_export(api, event):
    tickets = issue(api, event["id"], quantity=2, name="=HYPERLINK(evil)")
    for ticket in tickets:
        body = {"qrPayload": ticket["qrPayload"], "eventId": event["id"], "scannedBy": "north"}
        api.post("/v1/checkin/scan", json=body)
    api.post("/v1/checkin/scan", json={**body, "scannedBy": "south"})
    stats = api.get(f"/v1/events/{event['id']}/stats").json()
    assert stats["checkedIn"] == 2 and stats["capacity"] == 103 and stats["scans"] == 3
    assert stats["byTier"][0] == {"tierName": "GA", "checkedIn": 2, "quantity": 100}
    assert stats["byGate"] == [{"gate": "north", "admissions": 2}]
    assert stats["rejected"] == {"already_checked_in": 1}
    export = api.get(f"/v1/events/{event['id']}/export.csv")
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(export.text)))
    assert len(table) == 3 and {r["scannedBy"] for r in table} == {"north", "south"}
    assert all(r["attendeeName"].startswith("'=") for r in table)  # no formula injection


def test_dashboard_is_self_contained(api):
    for path in ("/", "/dashboard"):
        page = api.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text
        assert not re.search(r"(src|href)=[\"']?https?://", html)  # no CDN: works offline
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "unsafe-inline" not in policy
        assert "<script>" not in html  # no inline script: script-src 'self' only
    assets = re.findall(r'(?:src|href)="(/dashboard/assets/[^"]+)"', api.get("/").text)
    assert {"/dashboard/assets/app.js", "/dashboard/assets/style.css"} <= set(assets)
    scripts = ""
    for name in ("app.js", "api.js", "dom.js", "live.js", "gates.js", "tickets.js", "exports.js"):
        served = api.get(f"/dashboard/assets/{name}")
        assert served.status_code == 200 and "javascript" in served.headers["content-type"]
        scripts += served.text
    assert "innerHTML" not in scripts  # data from gates is shown as text only
    assert "sessionStorage" not in scripts and "Authorization" not in scripts  # no key kept
    assert "/live" in scripts and "export.json" in scripts and "export.csv" in scripts
    assert api.get("/favicon.ico").headers["content-type"] == "image/svg+xml"
    assert api.get("/dashboard/assets/nope.js").status_code == 404


def test_openapi_document(api):
    spec = api.get("/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/v1/checkin/batch" in spec["paths"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
            # Every route needs a key but enrolment, whose one-time code is the credential.
            assert bool(operation.get("security")) == (path != "/v1/devices/enrol"), path
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_event_for_another_issuer_cannot_sell_tickets(api, hub):
    imported = hub.hub.node.events.import_event(
        {"id": "evt_central", "title": "Central", "tiers": [{"name": "GA"}]}
    )
    error = assert_envelope(
        api.post(f"/v1/events/{imported['id']}/tickets", json={"tierName": "GA"}), 409
    )
    assert "private key" in error["message"]
    assert create_event(api)["status"] == "published"
