"""Signed webhooks from a persistent queue: delivery, retries with backoff, restarts."""

from __future__ import annotations

import time

from hubkit import FAST_WEBHOOKS, assert_envelope, client_for, issue, verify_signature

from scanner_app.core.node import Node
from scanner_app.core.timeutil import iso_ms, utc_now
from scanner_app.server import HubServer

ALL = ["ticket.used", "ticket.created", "booking.cancelled", "event.sold_out"]


def register(api, url, events=ALL) -> dict:
    response = api.post("/v1/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    return response.json()


def by_type(payloads: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for payload in payloads:
        grouped.setdefault(payload["type"], []).append(payload)
    return grouped


def queue(hub_node, hook_id):
    """The hub's deliveries for a hook: (status, count) - what it will ever send."""
    rows = hub_node.db.query(
        "SELECT status, COUNT(*) FROM webhook_deliveries WHERE webhook_id = ? GROUP BY status",
        (hook_id,),
    )
    return {r[0]: r[1] for r in rows}


def settled(hub_node, hook_id, timeout=5.0):
    """Wait until nothing is pending for the hook: nothing more can arrive after that."""
    deadline = time.monotonic() + timeout
    while "pending" in queue(hub_node, hook_id):
        assert time.monotonic() < deadline, queue(hub_node, hook_id)
        time.sleep(0.02)
    return queue(hub_node, hook_id)


def test_every_event_type_arrives_signed(api, event, receiver, hub_node):
    hook = register(api, receiver.url)
    assert hook["secret"].startswith("whsec_")
    tickets = issue(api, event["id"], "VIP", quantity=3)  # VIP holds 3: sells out
    scan = {"qrPayload": tickets[0]["qrPayload"], "eventId": event["id"], "scannedBy": "north"}
    api.post("/v1/checkin/scan", json=scan)
    api.post("/v1/checkin/scan", json=scan)  # a duplicate is not a use
    batch = {
        "id": "chk_offline_1",
        "ticketId": tickets[1]["id"],
        "eventId": event["id"],
        "scannedAt": iso_ms(utc_now()),
        "scannedBy": "south",
        "success": True,
        "qrPayload": tickets[1]["qrPayload"],  # the proof of presentation (DESIGN.md §10)
    }
    api.post("/v1/checkin/batch", json={"deviceId": "dev_s", "checkins": [batch]})
    api.post("/v1/checkin/batch", json={"deviceId": "dev_s", "checkins": [batch]})  # resend
    api.post(f"/v1/tickets/{tickets[2]['id']}/cancel")
    payloads = receiver.wait_for(7)
    assert settled(hub_node, hook["id"]) == {"delivered": 7}  # so nothing more will come
    grouped = by_type([p for _, _, p in receiver.received])
    assert len(grouped["ticket.created"]) == 3
    assert len(grouped["event.sold_out"]) == 1
    assert grouped["event.sold_out"][0]["data"]["tierName"] == "VIP"
    used = grouped["ticket.used"]
    assert sorted(u["data"]["source"] for u in used) == ["batch", "scan"]
    assert {u["data"]["ticketId"] for u in used} == {tickets[0]["id"], tickets[1]["id"]}
    assert grouped["booking.cancelled"][0]["data"]["ticketId"] == tickets[2]["id"]
    assert len(payloads) == 7
    for headers, raw, payload in receiver.received:
        assert set(payload) == {"id", "type", "createdAt", "data"}
        assert verify_signature(hook["secret"], headers["Tickitz-Signature"], raw)
        assert not verify_signature("whsec_wrong", headers["Tickitz-Signature"], raw)
        assert not verify_signature(hook["secret"], headers["Tickitz-Signature"], raw + b" ")


def test_only_subscribed_types_are_sent(api, event, receiver, hub_node):
    hook = register(api, receiver.url, ["ticket.used"])
    ticket = issue(api, event["id"])[0]
    api.post(
        "/v1/checkin/scan",
        json={"qrPayload": ticket["qrPayload"], "eventId": event["id"], "scannedBy": "n"},
    )
    payloads = receiver.wait_for(1)
    assert settled(hub_node, hook["id"]) == {"delivered": 1}  # nothing else was queued
    assert [p["type"] for p in payloads] == ["ticket.used"]
    assert payloads[0]["data"]["checkinId"]


def test_receiver_down_then_back_gets_everything(api, event, receiver):
    hook = register(api, receiver.url)
    receiver.status = 503  # answering, but failing
    issue(api, event["id"], quantity=2)
    deliveries = api.get(f"/v1/webhooks/{hook['id']}/deliveries")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        deliveries = api.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["data"]
        if all(d["attempts"] >= 2 for d in deliveries):
            break
        time.sleep(0.1)
    assert all(
        d["status"] == "pending" and d["lastError"] == "delivery failed: HTTP 503"
        for d in deliveries
    )
    port = receiver.port
    receiver.stop()  # now not even listening
    time.sleep(0.5)
    receiver.status = 200
    receiver.port = port
    receiver.start()
    assert len(receiver.wait_for(2)) == 2
    deadline = time.monotonic() + 5  # the hub marks them just after the receiver answers
    while True:
        deliveries = api.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["data"]
        if {d["status"] for d in deliveries} == {"delivered"} or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert {d["status"] for d in deliveries} == {"delivered"}
    assert all(d["attempts"] >= 3 for d in deliveries)


def test_queued_deliveries_survive_a_restart(tmp_path, receiver):
    data_dir = tmp_path / "restart"
    node = Node.open(data_dir)
    server = HubServer(node, port=0, **FAST_WEBHOOKS).start()
    _, key = server.hub.keys.create("org", ["events:write", "bookings:write", "webhooks:write"])
    receiver.stop()  # down from the start
    with client_for(server, key) as api:
        register(api, receiver.url)
        event = api.post("/v1/events", json={"title": "R", "tiers": [{"name": "GA"}]}).json()
        api.post(f"/v1/events/{event['id']}/publish")
        issue(api, event["id"], quantity=3)
    server.stop()
    node.close()
    pending = Node.open(data_dir)
    left = pending.db.query_one("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")[
        0
    ]
    assert left == 3
    receiver.start()
    restarted = HubServer(pending, port=0, **FAST_WEBHOOKS).start()
    try:
        assert len(receiver.wait_for(3)) == 3
    finally:
        restarted.stop()
        pending.close()


def test_deleted_webhook_gets_nothing_more(api, event, receiver, hub_node):
    hook = register(api, receiver.url)
    assert [h["id"] for h in api.get("/v1/webhooks").json()["data"]] == [hook["id"]]
    assert "secret" not in api.get("/v1/webhooks").json()["data"][0]
    receiver.status = 500
    issue(api, event["id"])
    deadline = time.monotonic() + 5  # one attempt failed, so none is in flight now
    while not api.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["data"][0]["attempts"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    deleted = api.delete(f"/v1/webhooks/{hook['id']}").json()
    assert deleted["deletedAt"]
    receiver.status = 200
    issue(api, event["id"])
    # The failed delivery was dropped and the new ticket queued nothing for this hook.
    assert queue(hub_node, hook["id"]) == {"cancelled": 1}
    assert receiver.received == []
    assert api.get("/v1/webhooks").json() == {"data": []}
    assert_envelope(api.get(f"/v1/webhooks/{hook['id']}/deliveries"), 404, "not_found")


def test_webhook_registration_is_validated(api):
    for body, field in (
        ({"url": "ftp://example.org/x", "events": ["ticket.used"]}, "url"),
        ({"url": "not a url", "events": ["ticket.used"]}, "url"),
        ({"url": "http://" + "a" * 64 + ".example/x", "events": ["ticket.used"]}, "url"),
        ({"url": "http://[::zz]/x", "events": ["ticket.used"]}, "url"),
        ({"url": "http://127.0.0.1:99999/x", "events": ["ticket.used"]}, "url"),
        ({"url": "http://127.0.0.1:9/x", "events": []}, "events"),
        ({"url": "http://127.0.0.1:9/x", "events": ["fraud.alert"]}, "events[0]"),
    ):
        error = assert_envelope(api.post("/v1/webhooks", json=body), 400, "validation_error")
        assert error["field"] == field


def test_a_bad_endpoint_does_not_hold_up_the_others(hub, api, event, receiver):
    """A row the client cannot even send to (stored before host checks existed) is marked
    failed and retried later; deliveries queued behind it still go out."""
    broken = register(api, "http://placeholder.example/hook")
    with hub.hub.node.db.write() as conn:
        bad_url = "http://" + "a" * 70 + ".x/"
        conn.execute("UPDATE webhooks SET url = ? WHERE id = ?", (bad_url, broken["id"]))
    register(api, receiver.url)
    issue(api, event["id"], quantity=2)
    assert len(receiver.wait_for(2)) == 2
    deadline = time.monotonic() + 5
    while True:
        deliveries = api.get(f"/v1/webhooks/{broken['id']}/deliveries").json()["data"]
        if all(d["attempts"] for d in deliveries) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(deliveries) == 2
    assert all(d["status"] == "pending" and d["lastError"] == "delivery failed" for d in deliveries)


def test_tickets_and_their_notifications_commit_together(hub, api, event, receiver, monkeypatch):
    """Fault injection: if queuing ticket.created fails, no ticket is issued either."""
    register(api, receiver.url, ["ticket.created"])
    enqueue = hub.hub.webhooks.enqueue

    def failing(conn, event_type, data):
        enqueue(conn, event_type, data)
        raise RuntimeError("disk full")

    monkeypatch.setattr(hub.hub.webhooks, "enqueue", failing)
    response = api.post(f"/v1/events/{event['id']}/tickets", json={"tierName": "GA", "quantity": 2})
    assert_envelope(response, 500, "internal_error")
    count = "SELECT COUNT(*) FROM {} WHERE 1"
    assert hub.hub.node.db.query_one(count.format("tickets"))[0] == 0
    assert hub.hub.node.db.query_one(count.format("webhook_deliveries"))[0] == 0
    monkeypatch.setattr(hub.hub.webhooks, "enqueue", enqueue)
    tickets = issue(api, event["id"], quantity=2)
    payloads = receiver.wait_for(2)
    assert sorted(p["data"]["id"] for p in payloads) == sorted(t["id"] for t in tickets)
