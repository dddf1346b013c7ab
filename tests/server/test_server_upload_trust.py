"""Uploads a gate key cannot abuse (DESIGN.md §10, issue 10 item 5, issue 14 item 5).

Against the real hub under uvicorn: check-in ids and `voids` reach the caller's own event
only, and a batch's answers are computed after the whole batch is applied, so a resend
answers exactly what the first send did.
"""

from __future__ import annotations

import pytest
from hubkit import assert_envelope, client_for, create_event, issue

AT = "2026-08-10T20:00:00.000Z"
LATER = "2026-08-10T20:05:00.000Z"


@pytest.fixture
def venue(api):
    a = create_event(api, title="Event A")
    b = create_event(api, title="Event B")
    made = {}
    for name, event in (("a", a), ("b", b)):
        response = api.post(
            "/v1/devices", json={"name": f"door {name}", "eventId": event["id"], "gate": name}
        )
        assert response.status_code == 201, response.text
        made[name] = response.json()
    return {
        "a": a,
        "b": b,
        "a_tickets": issue(api, a["id"], quantity=3),
        "b_tickets": issue(api, b["id"], quantity=2),
        "devices": made,
    }


@pytest.fixture
def gates(hub, venue):
    with (
        client_for(hub, venue["devices"]["a"]["key"]) as gate_a,
        client_for(hub, venue["devices"]["b"]["key"]) as gate_b,
    ):
        yield gate_a, gate_b


def admission(ticket: dict, checkin_id: str, at: str = AT, **extra) -> dict:
    body = {
        "id": checkin_id,
        "ticketId": ticket["id"],
        "eventId": ticket["eventId"],
        "scannedAt": at,
        "scannedBy": "north",
        "direction": "in",
        "success": True,
        "reason": None,
        "qrPayload": ticket["qrPayload"],
    }
    return {**body, **extra}


def stats(api, event_id: str) -> dict:
    response = api.get(f"/v1/events/{event_id}/stats")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_batch_with_the_later_admission_first_answers_conflict_at_once(gates, venue):
    gate_a, _ = gates
    ticket = venue["a_tickets"][0]
    batch = {
        "checkins": [
            admission(ticket, "chk_later", LATER, scannedBy="south"),
            admission(ticket, "chk_earlier", AT),
        ]
    }
    first = gate_a.post("/v1/checkin/batch", json=batch).json()["data"]
    assert [a["status"] for a in first] == ["conflict", "recorded"]
    # A gate key's rows are filed under the gate it was enrolled as ("a"), whatever the body says.
    assert first[0]["firstCheckedInAt"] == AT and first[0]["firstScannedBy"] == "a"
    again = gate_a.post("/v1/checkin/batch", json=batch).json()["data"]
    assert again == first
    reversed_again = gate_a.post(
        "/v1/checkin/batch", json={"checkins": batch["checkins"][::-1]}
    ).json()["data"]
    assert reversed_again == first[::-1]


def test_a_checkin_id_of_another_event_reads_nothing_through_scan(gates, venue, api):
    gate_a, gate_b = gates
    theirs = venue["b_tickets"][0]
    body = {"qrPayload": theirs["qrPayload"], "eventId": theirs["eventId"], "scannedBy": "b"}
    recorded = gate_b.post("/v1/checkin/scan", json={**body, "id": "chk_b_secret"}).json()
    assert recorded["success"] is True and recorded["attendeeName"] == "Ada L."
    mine = venue["a_tickets"][0]
    probe = {"qrPayload": mine["qrPayload"], "eventId": mine["eventId"], "scannedBy": "north"}
    refused = gate_a.post("/v1/checkin/scan", json={**probe, "id": "chk_b_secret"})
    error = assert_envelope(refused, 409, "conflict")
    assert theirs["id"] not in error["message"] and "Ada" not in refused.text
    # Nothing was recorded under A by the probe, and B's row is untouched.
    assert stats(api, venue["a"]["id"])["scans"] == 0
    assert stats(api, venue["b"]["id"])["checkedIn"] == 1


def test_a_void_reaches_only_its_own_events_checkins(gates, venue, api):
    gate_a, gate_b = gates
    theirs = venue["b_tickets"][0]
    answer = gate_b.post("/v1/checkin/batch", json={"checkins": [admission(theirs, "chk_b1")]})
    assert answer.json()["data"][0]["status"] == "recorded"
    mine = venue["a_tickets"][0]
    void = {
        "id": "chk_void_attempt",
        "ticketId": mine["id"],
        "eventId": mine["eventId"],
        "scannedAt": LATER,
        "scannedBy": "north",
        "success": True,
        "reason": None,
        "kind": "void",
        "voids": "chk_b1",
    }
    assert gate_a.post("/v1/checkin/batch", json={"checkins": [void]}).status_code == 200
    assert stats(api, venue["b"]["id"])["checkedIn"] == 1  # B's admission still stands
    assert stats(api, venue["a"]["id"])["checkedIn"] == 0
