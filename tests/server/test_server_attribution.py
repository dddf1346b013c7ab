"""A gate's check-ins are filed under the authenticated device and its gate, never under what
the body claims; control characters are refused in names (real hub, real httpx)."""

from __future__ import annotations

import pytest
from hubkit import assert_envelope, client_for, create_event, issue


@pytest.fixture
def gates(hub, api):
    event = create_event(api)
    north, north_key = hub.hub.devices.create("Laptop N", event["id"], "north")
    south, _ = hub.hub.devices.create("Laptop S", event["id"], "south")
    return event, north, north_key, south


def feed(api, event_id):
    return {c["id"]: c for c in api.get(f"/v1/events/{event_id}/checkins").json()["data"]}


def test_a_gate_cannot_file_its_scans_under_another_gate(hub, api, gates):
    event, north, north_key, south = gates
    tickets = issue(api, event["id"], quantity=2)
    with client_for(hub, north_key) as gate:
        scan = gate.post(
            "/v1/checkin/scan",
            json={
                "id": "chk_spoof_scan",
                "qrPayload": tickets[0]["qrPayload"],
                "eventId": event["id"],
                "scannedBy": "south",
                "deviceId": south["id"],
            },
        ).json()
        assert scan["success"] and scan["scannedBy"] == "north"
        batch = {
            "deviceId": south["id"],
            "checkins": [
                {
                    "id": "chk_spoof_batch",
                    "ticketId": tickets[1]["id"],
                    "eventId": event["id"],
                    "scannedAt": "2026-08-10T20:00:00Z",
                    "scannedBy": "south",
                    "deviceId": south["id"],
                    "success": False,
                    "reason": "revoked",
                }
            ],
        }
        assert gate.post("/v1/checkin/batch", json=batch).json()["data"][0]["status"]
    stored = feed(api, event["id"])
    for checkin_id in ("chk_spoof_scan", "chk_spoof_batch"):
        assert stored[checkin_id]["scannedBy"] == "north"
        assert stored[checkin_id]["deviceId"] == north["id"]
    devices = {d["id"]: d for d in api.get("/v1/devices").json()["data"]}
    assert devices[north["id"]]["checkinsReceived"] == 2
    assert devices[south["id"]]["checkinsReceived"] == 0


def test_an_organiser_or_forwarding_hub_keeps_the_bodys_attribution(api, gates):
    event, _north, _key, south = gates
    ticket = issue(api, event["id"])[0]
    body = {
        "qrPayload": ticket["qrPayload"],
        "eventId": event["id"],
        "scannedBy": "east",
        "deviceId": south["id"],
        "id": "chk_org",
    }
    assert api.post("/v1/checkin/scan", json=body).json()["scannedBy"] == "east"
    assert feed(api, event["id"])["chk_org"]["deviceId"] == south["id"]


@pytest.mark.parametrize("bad", ["Ada\x00", "Ada\nL.", "\x1b[31mRED", "Ada \u202eTIMDA"])
def test_control_characters_are_refused_in_names(hub, api, gates, bad):
    event, _north, north_key, _south = gates
    before = len(api.get(f"/v1/events/{event['id']}/tickets").json()["data"])
    answer = api.post(
        f"/v1/events/{event['id']}/tickets", json={"tierName": "GA", "attendeeName": bad}
    )
    error = assert_envelope(answer, 400, "validation_error")
    assert "control characters" in error["message"]
    assert len(api.get(f"/v1/events/{event['id']}/tickets").json()["data"]) == before
    titled = api.post("/v1/events", json={"title": bad, "tiers": [{"name": "GA"}]})
    assert_envelope(titled, 400, "validation_error")
    tier = api.post("/v1/events", json={"title": "T", "tiers": [{"name": bad}]})
    assert_envelope(tier, 400, "validation_error")
    ticket = issue(api, event["id"])[0]
    with client_for(hub, north_key) as gate:
        scan = {"qrPayload": ticket["qrPayload"], "eventId": event["id"], "scannedBy": bad}
        assert_envelope(gate.post("/v1/checkin/scan", json=scan), 400, "validation_error")
    device = api.post("/v1/devices", json={"name": bad, "eventId": event["id"], "gate": "g"})
    assert_envelope(device, 400, "validation_error")


def test_a_description_may_have_lines_but_no_other_controls(api):
    body = {
        "title": "Lines",
        "description": "Doors 19:00\nBar\tupstairs",
        "tiers": [{"name": "GA"}],
    }
    assert api.post("/v1/events", json=body).status_code == 201
    body["description"] = "bell\x07"
    assert_envelope(api.post("/v1/events", json=body), 400, "validation_error")


def test_a_node_id_held_by_one_gate_cannot_be_taken_by_another(hub, api):
    event = create_event(api)
    _, south_key = hub.hub.devices.create("Laptop S", event["id"], "south")
    north, north_key = hub.hub.devices.create("Laptop N", event["id"], "north")
    tickets = issue(api, event["id"], quantity=3)

    def scan(key, ticket, device, checkin_id):
        with client_for(hub, key) as gate:
            body = {"qrPayload": ticket["qrPayload"], "eventId": event["id"], "id": checkin_id}
            body |= {"scannedBy": "x", "deviceId": device}
            assert gate.post("/v1/checkin/scan", json=body).status_code == 200

    scan(south_key, tickets[0], "dev_southlaptop", "chk_s1")  # south's own node id: bound
    scan(north_key, tickets[1], "dev_southlaptop", "chk_n1")  # north claims it
    scan(north_key, tickets[2], "dev_northlaptop", "chk_n2")  # and then changes its mind
    stored = feed(api, event["id"])
    assert stored["chk_s1"]["deviceId"] == "dev_southlaptop"
    assert stored["chk_n1"]["deviceId"] == stored["chk_n2"]["deviceId"] == north["id"]
    assert {stored[c]["scannedBy"] for c in ("chk_n1", "chk_n2")} == {"north"}
