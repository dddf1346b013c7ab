"""A gate key reaches no ticket's signed token anywhere (DESIGN.md §10, issue 10 item 7).

Walks every route of the hub's own OpenAPI document with a gate device's key, filling path
parameters with real ids of its own event (tickets, devices, check-ins, webhooks), after the
gate has scanned and uploaded admissions with their proofs: no answer may carry any issued
token (in JSON or any other body) or a QR image.
"""

from __future__ import annotations

import re

from hubkit import client_for, create_event, enrolled, issue

from scanner_app.core.timeutil import iso_ms, utc_now

BODIES = {  # a plausible body per route; others get {} (and most answer 400/403)
    "/v1/checkin/scan": lambda t, e: {"qrPayload": t["qrPayload"], "eventId": e, "scannedBy": "n"},
    "/v1/checkin/batch": lambda t, e: {
        "checkins": [
            {
                "id": "chk_walk",
                "ticketId": t["id"],
                "eventId": e,
                "scannedAt": iso_ms(utc_now()),
                "scannedBy": "n",
                "success": True,
                "qrPayload": t["qrPayload"],
            }
        ]
    },
    "/v1/qr.png": lambda t, e: {"text": t["qrPayload"]},
}


def test_a_gate_key_walking_every_route_gets_no_ticket_token(hub, api):
    event = create_event(api)
    other = create_event(api, title="Other")
    tickets = issue(api, event["id"], quantity=3) + issue(api, other["id"], quantity=1)
    tokens = [t["qrPayload"] for t in tickets]
    device = api.post(
        "/v1/devices", json={"name": "walker", "eventId": event["id"], "gate": "n"}
    ).json()
    device = enrolled(api, device)
    hook = api.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["ticket.used"]})
    ids = {
        "event_id": event["id"],
        "ticket_id": tickets[1]["id"],
        "device_id": device["id"],
        "webhook_id": hook.json()["id"],
        "checkin_id": "chk_walk",
        "key_id": device["keyId"],
    }
    spec = api.get("/v1/openapi.json").json()
    answered = []
    with client_for(hub, device["key"]) as gate:
        # First the gate does its job (scans, uploads with proofs), so feeds hold its rows.
        for path in ("/v1/checkin/scan", "/v1/checkin/batch"):
            assert gate.post(path, json=BODIES[path](tickets[0], event["id"])).status_code == 200
        for path, operations in spec["paths"].items():
            for method in operations:
                url = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "x"), path)
                body = BODIES.get(path, lambda _t, _e: {})(tickets[2], event["id"])
                response = gate.request(method.upper(), url, json=body if method != "get" else None)
                answered.append((method, path, response.status_code))
                text = response.content.decode("utf-8", "replace")
                for token in tokens:
                    assert token not in text, (method, path)
                    assert token.split(".")[2] not in text, (method, path)  # not even its signature
                if response.status_code < 300:
                    assert not response.headers.get("content-type", "").startswith("image/"), (
                        method,
                        path,
                    )
    assert len(answered) >= 20  # the walk covered the API, not a handful of routes
    by_route = {(m, p): s for m, p, s in answered}
    assert by_route[("get", "/v1/tickets/{ticket_id}")] == 403
    assert by_route[("get", "/v1/tickets/{ticket_id}/qr.png")] == 403
    assert by_route[("get", "/v1/events/{event_id}/tickets")] == 200  # the manifest, tokenless
    assert by_route[("get", "/v1/events/{event_id}/checkins")] == 200  # the feed, proofless
