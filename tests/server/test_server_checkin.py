"""Online scans, batch uploads and the check-ins feed, exactly as DESIGN.md §6 says."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
from hubkit import assert_envelope, client_for, create_event, enrolled, issue

from scanner_app.core.timeutil import iso_ms

SCAN_FIELDS = {
    "success",
    "alreadyCheckedIn",
    "attendeeName",
    "tierName",
    "checkedInAt",
    "firstCheckedInAt",
    "reason",
    "ticketId",
    "eventId",
    "direction",
    "offline",
}


def scan(api, payload, event_id, gate="north-1", **extra):
    body = {"qrPayload": payload, "eventId": event_id, "scannedBy": gate, **extra}
    response = api.post("/v1/checkin/scan", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def soon(seconds: float) -> str:
    """A door time `seconds` from now: uploads before the ticket was made are implausible."""
    return iso_ms(datetime.now(UTC) + timedelta(seconds=seconds))


def checkin(ticket, checkin_id, at, gate="south", success=True, **extra):
    item = {
        "id": checkin_id,
        "ticketId": ticket["id"],
        "eventId": ticket["eventId"],
        "scannedAt": at,
        "scannedBy": gate,
        "direction": "in",
        "success": success,
        "reason": None if success else "already_checked_in",
    }
    if success and "voids" not in extra:
        item["qrPayload"] = ticket["qrPayload"]  # the proof of presentation (DESIGN.md §10)
    return {**item, **extra}


def rows(hub_node) -> int:
    return hub_node.db.query_one("SELECT COUNT(*) FROM checkins")[0]


def test_scan_admits_then_says_already_in(api, event):
    ticket = issue(api, event["id"])[0]
    first = scan(api, ticket["qrPayload"], event["id"])
    assert SCAN_FIELDS <= set(first)
    assert first["success"] is True and first["reason"] is None
    assert first["offline"] is False
    assert first["attendeeName"] == "Ada L." and first["tierName"] == "GA"
    assert first["checkedInAt"].endswith("Z")
    again = scan(api, ticket["qrPayload"], event["id"], gate="south-2")
    assert again["success"] is False and again["alreadyCheckedIn"] is True
    assert again["reason"] == "already_checked_in"
    assert again["firstCheckedInAt"] == first["checkedInAt"]
    assert again["firstScannedBy"] == "north-1"


def test_rejections_are_verdicts_not_http_errors(api, event):
    ticket = issue(api, event["id"])[0]
    other = create_event(api, title="Other")
    assert scan(api, "not a ticket", event["id"])["reason"] == "malformed"
    assert scan(api, ticket["qrPayload"], other["id"])["reason"] == "wrong_event"
    head, claims, signature = ticket["qrPayload"].split(".")
    flipped = "A" if signature[10] != "A" else "B"
    forged = f"{head}.{claims}.{signature[:10]}{flipped}{signature[11:]}"
    assert scan(api, forged, event["id"])["reason"] == "bad_signature"
    vip = issue(api, event["id"], "VIP")[0]
    verdict = scan(api, vip["qrPayload"], event["id"], allowedTiers=["GA"])
    assert verdict["reason"] == "tier_not_allowed"
    assert scan(api, ticket["qrPayload"], event["id"], direction="out")["reason"] == (
        "not_checked_in"
    )
    api.post(f"/v1/tickets/{ticket['id']}/cancel")
    assert scan(api, ticket["qrPayload"], event["id"])["reason"] == "revoked"
    api.delete(f"/v1/events/{event['id']}")
    assert scan(api, vip["qrPayload"], event["id"])["reason"] == "event_cancelled"


def test_repeated_client_id_returns_the_stored_result(api, hub_node, event):
    ticket = issue(api, event["id"])[0]
    first = scan(api, ticket["qrPayload"], event["id"], id="chk_gate1_0001", deviceId="dev_a")
    count = rows(hub_node)
    again = scan(api, ticket["qrPayload"], event["id"], id="chk_gate1_0001", deviceId="dev_a")
    assert again == first and again["success"] is True
    assert again["checkinId"] == "chk_gate1_0001"
    assert rows(hub_node) == count
    # The gate's local fallback uploads the same id later: nothing new.
    item = checkin(ticket, "chk_gate1_0001", first["checkedInAt"], gate="north-1")
    answer = api.post("/v1/checkin/batch", json={"deviceId": "dev_a", "checkins": [item]})
    assert answer.json()["data"][0]["status"] == "recorded"
    assert rows(hub_node) == count


def test_fifty_parallel_scans_of_one_ticket_admit_exactly_one(hub, api, event):
    ticket = issue(api, event["id"])[0]
    headers = dict(api.headers)

    def one(index: int) -> dict:
        with httpx.Client(base_url=hub.url, headers=headers, timeout=30) as client:
            body = {"qrPayload": ticket["qrPayload"], "eventId": event["id"]}
            return client.post("/v1/checkin/scan", json={**body, "scannedBy": f"g{index}"}).json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        verdicts = list(pool.map(one, range(50)))
    admitted = [v for v in verdicts if v["success"]]
    assert len(admitted) == 1
    assert all(v["reason"] == "already_checked_in" for v in verdicts if not v["success"])
    stats = api.get(f"/v1/events/{event['id']}/stats").json()
    assert stats["checkedIn"] == 1 and stats["scans"] == 50


def test_batch_records_is_idempotent_and_flags_conflicts(api, hub_node, event):
    tickets = issue(api, event["id"], quantity=3)
    online = scan(api, tickets[0]["qrPayload"], event["id"], gate="north-1")
    batch = {
        "deviceId": "dev_gate_b",
        "checkins": [
            checkin(tickets[1], "chk_b_1", soon(1)),
            checkin(tickets[2], "chk_b_2", soon(2)),
            # Admitted offline at the other gate after the online admission: a conflict.
            checkin(tickets[0], "chk_b_3", soon(60)),
        ],
    }
    first = api.post("/v1/checkin/batch", json=batch)
    assert first.status_code == 200, first.text
    answers = first.json()["data"]
    assert [a["status"] for a in answers] == ["recorded", "recorded", "conflict"]
    assert answers[2]["firstCheckedInAt"] == online["checkedInAt"]
    assert answers[2]["firstScannedBy"] == "north-1"
    count = rows(hub_node)
    resend = api.post("/v1/checkin/batch", json=batch).json()["data"]
    assert resend == answers
    assert rows(hub_node) == count
    stats = api.get(f"/v1/events/{event['id']}/stats").json()
    assert stats["checkedIn"] == 3 and stats["conflicts"] == 1
    conflicts = api.get(f"/v1/events/{event['id']}/conflicts").json()["data"]
    assert [c["checkinId"] for c in conflicts] == ["chk_b_3"]


def test_earliest_door_time_wins_even_when_it_arrives_later(api, event):
    ticket = issue(api, event["id"])[0]
    late = checkin(ticket, "chk_late", soon(120), gate="east")
    early = checkin(ticket, "chk_early", soon(0), gate="west")
    assert api.post("/v1/checkin/batch", json={"checkins": [late]}).json()["data"][0]["status"] == (
        "recorded"
    )
    answer = api.post("/v1/checkin/batch", json={"checkins": [early]}).json()["data"][0]
    assert answer["status"] == "recorded"
    again = api.post("/v1/checkin/batch", json={"checkins": [late]}).json()["data"][0]
    assert again["status"] == "conflict" and again["firstScannedBy"] == "west"


def test_batch_is_validated_before_anything_is_written(api, hub_node, event):
    ticket = issue(api, event["id"])[0]
    good = checkin(ticket, "chk_ok", soon(0))
    count = rows(hub_node)
    cases = [
        ({**good, "id": "chk_bad", "scannedAt": "yesterday"}, "checkins[1].scannedAt"),
        ({**good, "id": "chk_bad", "direction": "sideways"}, "checkins[1].direction"),
        ({**good, "id": "chk_bad", "success": "true"}, "checkins[1].success"),
        ({**good, "id": "chk_bad", "reason": "because"}, "checkins[1].reason"),
        ({**good, "id": "chk_bad", "ticketId": None}, "ticketId"),
        ({**good, "id": "chk_bad", "reason": "malformed"}, "reason"),
    ]
    for bad, field in cases:
        response = api.post("/v1/checkin/batch", json={"checkins": [good, bad]})
        error = assert_envelope(response, 400, "validation_error")
        assert error["field"] == field, (bad, error)
        assert rows(hub_node) == count


def test_batch_holds_at_most_500(api, hub_node, event):
    ticket = issue(api, event["id"])[0]
    items = [checkin(ticket, f"chk_{i}", soon(0)) for i in range(501)]
    error = assert_envelope(api.post("/v1/checkin/batch", json={"checkins": items}), 400)
    assert error["field"] == "checkins"
    assert rows(hub_node) == 0
    answers = api.post("/v1/checkin/batch", json={"checkins": items[:500]}).json()["data"]
    assert len(answers) == 500 and rows(hub_node) == 500
    assert api.post("/v1/checkin/batch", json={"checkins": []}).json() == {"data": []}


def test_voids_undo_an_admission(api, event):
    ticket = issue(api, event["id"])[0]
    admitted = checkin(ticket, "chk_a", soon(0))
    void = checkin(ticket, "chk_v", soon(5), voids="chk_a", kind="void")
    api.post("/v1/checkin/batch", json={"checkins": [admitted, void]})
    assert api.get(f"/v1/events/{event['id']}/stats").json()["checkedIn"] == 0
    assert scan(api, ticket["qrPayload"], event["id"])["success"] is True


def test_checkins_feed_pages_every_nodes_checkins(api, event):
    tickets = issue(api, event["id"], quantity=5)
    for ticket in tickets[:3]:
        scan(api, ticket["qrPayload"], event["id"])
    items = [checkin(t, f"chk_up_{t['id']}", soon(0)) for t in tickets[3:]]
    api.post("/v1/checkin/batch", json={"deviceId": "dev_b", "checkins": items})
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"after": cursor} if cursor else {})}
        page = api.get(f"/v1/events/{event['id']}/checkins", params=params).json()
        seen += page["data"]
        cursor = page["nextCursor"]
        if not page["hasMore"]:
            break
    assert len(seen) == 5
    assert {c["ticketId"] for c in seen} == {t["id"] for t in tickets}
    assert {"id", "scannedAt", "scannedBy", "direction", "success", "deviceId"} <= set(seen[0])
    assert not any("qrPayload" in c for c in seen)  # gate keys read the feed: no tokens in it
    assert api.get(f"/v1/events/{event['id']}/checkins", params={"after": cursor}).json() == {
        "data": [],
        "nextCursor": cursor,
        "hasMore": False,
    }


def test_gate_key_scans_for_its_hub(hub, api, event):
    device = api.post(
        "/v1/devices", json={"name": "Laptop 3", "eventId": event["id"], "gate": "west"}
    ).json()
    device = enrolled(api, device)
    ticket = issue(api, event["id"])[0]
    with client_for(hub, device["key"]) as gate:
        verdict = scan(gate, ticket["qrPayload"], event["id"], gate="west")
        assert verdict["success"]
        assert_envelope(gate.post(f"/v1/tickets/{ticket['id']}/cancel"), 403, "forbidden")
