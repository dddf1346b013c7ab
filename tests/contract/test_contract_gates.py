"""Gate-facing API (DESIGN.md §5, §6): devices and setup QR, batch upload, check-ins feed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from contractkit import ISO_MS_Z, b64url_decode, check_envelope, enrolled, seed_event

GATE_SCOPE_PROBES = [  # (method, path template, allowed for a gate key)
    ("GET", "/v1/events", True),
    ("GET", "/v1/events/{evt}", True),
    ("GET", "/v1/events/{evt}/keys", True),
    ("GET", "/v1/events/{evt}/tickets", True),
    ("GET", "/v1/events/{evt}/checkins", True),
    ("POST", "/v1/events", False),
    ("POST", "/v1/events/{evt}/publish", False),
    ("DELETE", "/v1/events/{evt}", False),
    ("POST", "/v1/events/{evt}/tickets", False),
    ("POST", "/v1/devices", False),
    ("GET", "/v1/devices", False),
    ("POST", "/v1/webhooks", False),
    ("GET", "/v1/webhooks", False),
]


@pytest.fixture(scope="module")
def gate(api, hub, event):
    response = api.post(
        "/v1/devices", json={"name": "Laptop 1", "eventId": event["id"], "gate": "north-1"}
    )
    assert response.status_code in (200, 201), response.text
    return enrolled(hub, response.json())


def test_a_device_gets_a_v2_setup_payload_and_enrols_for_its_key(hub, gate, event):
    payload = gate["setupPayload"]
    assert payload.startswith("tickitz-setup:")
    setup = json.loads(b64url_decode(payload.removeprefix("tickitz-setup:").rstrip("=")))
    assert set(setup) == {"v", "url", "enrol", "fp", "eventId", "gate", "exp"}
    assert setup["v"] == 2 and setup["url"].rstrip("/") == hub.url
    assert (setup["eventId"], setup["gate"]) == (event["id"], "north-1")
    assert gate["key"].startswith("tk_") and gate["key"] not in payload  # DESIGN.md §10
    assert ISO_MS_Z.match(gate["enrolExpiresAt"])
    with hub.client(None) as anonymous:  # spent: a second enrolment with it is refused
        again = anonymous.post("/v1/devices/enrol", json={"enrol": setup["enrol"]})
    check_envelope(again, 401, "unauthorized")


@pytest.mark.parametrize(("method", "path", "allowed"), GATE_SCOPE_PROBES)
def test_the_gate_key_has_exactly_the_gate_scopes(hub, gate, event, method, path, allowed):
    with hub.client(gate["key"]) as client:
        response = client.request(method, path.format(evt=event["id"]), json={})
    if allowed:
        assert response.status_code == 200, response.text
    else:
        check_envelope(response, 403, "forbidden")


def test_gate_keys_get_the_gate_rate_limit(hub, gate):
    with hub.client(gate["key"]) as client:
        assert client.get("/v1/events").headers["X-RateLimit-Limit"] == "6000"  # issue 3


def test_a_gate_key_scans_online(hub, gate, event, issue_tickets):
    ticket = issue_tickets(event["id"], tier="General", name="Gate One")[0]
    with hub.client(gate["key"]) as client:
        response = client.post(
            "/v1/checkin/scan",
            json={"qrPayload": ticket["qrPayload"], "eventId": event["id"], "scannedBy": "north-1"},
        )
    assert response.status_code == 200 and response.json()["success"] is True


_SCRIPT_START = datetime(2026, 7, 15, 19, 30, tzinfo=UTC)
_start: list[datetime] = []


def door(text: str) -> str:
    """A door time of the script (evening of 2026-07-15) moved to now, ten times compressed:
    the hub refuses door times before the ticket was made or after it received them
    (DESIGN.md §10), and these tickets are made while the module runs. Order, and the
    written UTC offset, are kept."""
    if not _start:
        _start.append(datetime.now(UTC))
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    moved = _start[0] + (moment - _SCRIPT_START) / 10
    moved = moved.replace(microsecond=moved.microsecond // 1000 * 1000)
    if text.endswith("Z"):
        return moved.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return moved.astimezone(moment.tzinfo).isoformat(timespec="milliseconds")


def checkin(ticket: dict, at: str, gate: str, success=True, reason=None) -> dict:
    item = {
        "id": str(uuid.uuid4()),
        "ticketId": ticket["id"],
        "eventId": ticket["eventId"],
        "scannedAt": door(at) if at[:4].isdigit() else at,
        "scannedBy": gate,
        "direction": "in",
        "success": success,
        "reason": reason,
    }
    if success:
        item["qrPayload"] = ticket["qrPayload"]  # the proof of presentation (DESIGN.md §10)
    return item


def feed(api, event_id: str, limit: int = 3) -> list[dict]:
    """Every check-in of the feed, walking its cursor."""
    items, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit} | ({"after": cursor} if cursor is not None else {})
        response = api.get(f"/v1/events/{event_id}/checkins", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) >= {"data", "nextCursor", "hasMore"}
        assert len(page["data"]) <= limit and isinstance(page["hasMore"], bool)
        items += page["data"]
        cursor, pages = page["nextCursor"], pages + 1
        assert pages < 1000
        if not page["hasMore"]:
            return items


@pytest.fixture(scope="module")
def batch_event(api):
    created = api.post("/v1/events", json=seed_event(title="Batch night")).json()
    return api.post(f"/v1/events/{created['id']}/publish").json()


def test_batch_upload_is_idempotent_and_the_earliest_door_time_wins(
    hub, api, gate, batch_event, issue_tickets
):
    shared, solo, bounced = issue_tickets(batch_event["id"], tier="VIP", name="Twin", quantity=3)
    late = checkin(shared, "2026-07-15T19:30:05.000Z", "north-1")
    upload = {
        "deviceId": "dev-north",
        "checkins": [
            late,
            checkin(solo, "2026-07-15T19:31:00.250Z", "north-1"),
            checkin(bounced, "2026-07-15T19:31:10.000Z", "north-1", False, "revoked"),
        ],
    }
    first = api.post("/v1/checkin/batch", json=upload)
    assert first.status_code == 200, first.text
    answers = first.json()["data"]
    assert [a["id"] for a in answers] == [c["id"] for c in upload["checkins"]]
    for answer in answers:
        assert set(answer) >= {"id", "status", "firstCheckedInAt", "firstScannedBy"}
        assert answer["status"] in ("recorded", "duplicate", "conflict")
    assert answers[0]["status"] == answers[1]["status"] == "recorded"
    rows = feed(api, batch_event["id"])
    assert {r["id"] for r in rows} == {c["id"] for c in upload["checkins"]}

    again = api.post("/v1/checkin/batch", json=upload)
    assert again.status_code == 200 and again.json() == first.json()
    assert feed(api, batch_event["id"]) == rows  # a resend adds no row
    # The id decides: a resend with other content is still the stored check-in.
    altered = {**upload["checkins"][1], "scannedAt": door("2026-07-15T18:00:00.000Z")}
    assert api.post("/v1/checkin/batch", json={"checkins": [altered]}).json()["data"] == [
        answers[1]
    ]
    assert feed(api, batch_event["id"]) == rows

    # Another device admitted the same ticket earlier (it was offline); it uploads later.
    # A gate's key reaches only its own event, so this device is one of batch_event's.
    south = api.post(
        "/v1/devices", json={"name": "Laptop 2", "eventId": batch_event["id"], "gate": "south-2"}
    ).json()
    south = enrolled(hub, south)
    with hub.client(south["key"]) as gate_client:
        early = checkin(shared, "2026-07-15T19:30:01.000Z", "south-2")
        answer = gate_client.post(
            "/v1/checkin/batch", json={"deviceId": "dev-south", "checkins": [early]}
        ).json()["data"][0]
    assert answer["status"] == "recorded", answer
    # The earlier admission is canonical; the later one is kept and flagged, never deleted.
    resent = api.post("/v1/checkin/batch", json={"checkins": [late]}).json()["data"][0]
    assert resent["status"] == "conflict"
    assert resent["firstCheckedInAt"] == door("2026-07-15T19:30:01.000Z")
    assert resent["firstScannedBy"] == "south-2"
    rows = feed(api, batch_event["id"])
    assert {late["id"], early["id"]} <= {r["id"] for r in rows}

    # Online, the ticket is a duplicate pointing at the canonical admission.
    scanned = api.post(
        "/v1/checkin/scan",
        json={"qrPayload": shared["qrPayload"], "eventId": batch_event["id"], "scannedBy": "x"},
    ).json()
    assert scanned["reason"] == "already_checked_in"
    assert scanned["firstCheckedInAt"] == door("2026-07-15T19:30:01.000Z")
    assert scanned["firstScannedBy"] == "south-2"

    stats = api.get(f"/v1/events/{batch_event['id']}/stats")
    assert stats.status_code == 200
    assert stats.json()["checkedIn"] == 2 and stats.json()["conflicts"] == 1


def test_the_checkins_feed_pages_by_cursor_without_gaps_or_repeats(api, batch_event):
    everything = api.get(f"/v1/events/{batch_event['id']}/checkins", params={"limit": 1000}).json()
    assert everything["hasMore"] is False
    paged = feed(api, batch_event["id"], limit=2)
    assert [r["id"] for r in paged] == [r["id"] for r in everything["data"]]
    assert len({r["id"] for r in paged}) == len(paged) >= 4
    for row in paged:
        assert {
            "id",
            "ticketId",
            "eventId",
            "scannedAt",
            "scannedBy",
            "direction",
            "success",
            "reason",
        } <= set(row)
        assert ISO_MS_Z.match(row["scannedAt"])
    last = everything["nextCursor"]
    tail = api.get(f"/v1/events/{batch_event['id']}/checkins", params={"after": last}).json()
    assert tail["data"] == [] and tail["hasMore"] is False


def test_a_bad_batch_is_refused_whole_and_changes_nothing(api, batch_event, issue_tickets):
    ticket = issue_tickets(batch_event["id"], tier="General", name="Nobody")[0]
    before = feed(api, batch_event["id"], limit=1000)
    good = checkin(ticket, "2026-07-15T20:00:00.000Z", "north-1")
    bad = checkin(ticket, "not a time", "north-1")
    response = api.post("/v1/checkin/batch", json={"checkins": [good, bad]})
    check_envelope(response, 400, "validation_error")
    too_many = [checkin(ticket, "2026-07-15T20:00:00.000Z", "g") for _ in range(501)]
    check_envelope(api.post("/v1/checkin/batch", json={"checkins": too_many}), 400)
    assert feed(api, batch_event["id"], limit=1000) == before


def test_devices_are_listed_with_what_they_delivered(api, gate, batch_event):
    listed = api.get("/v1/devices")
    assert listed.status_code == 200
    mine = next(d for d in listed.json()["data"] if d["id"] == gate["id"])
    assert "key" not in mine and mine["gate"] == "north-1"
    assert gate["key"] not in listed.text
    # Issue 3: gates are listed with when they were last seen and check-ins received.
    assert mine["checkinsReceived"] >= 1  # its online scan
    assert ISO_MS_Z.match(mine["lastSeenAt"])
    # The upload came from batch_event's own gate (a gate key reaches only its event).
    south = next(d for d in listed.json()["data"] if d["eventId"] == batch_event["id"])
    assert south["checkinsReceived"] >= 1 and ISO_MS_Z.match(south["lastSeenAt"])


def test_door_times_with_offsets_are_compared_in_utc(api, batch_event, issue_tickets):
    ticket = issue_tickets(batch_event["id"], tier="General", name="Zoned")[0]
    later = checkin(ticket, "2026-07-15T19:40:00.500Z", "east")
    earlier = checkin(ticket, "2026-07-15T21:39:59+02:00", "west")  # 19:39:59 UTC
    assert api.post("/v1/checkin/batch", json={"checkins": [later]}).status_code == 200
    answer = api.post("/v1/checkin/batch", json={"checkins": [earlier]}).json()["data"][0]
    assert answer["status"] == "recorded"
    stored = {r["id"]: r for r in feed(api, batch_event["id"], limit=1000)}
    assert stored[earlier["id"]]["scannedAt"] == door("2026-07-15T19:39:59.000Z")
    resent = api.post("/v1/checkin/batch", json={"checkins": [later]}).json()["data"][0]
    assert resent["status"] == "conflict" and resent["firstScannedBy"] == "west"
    assert resent["firstCheckedInAt"] == door("2026-07-15T19:39:59.000Z")
