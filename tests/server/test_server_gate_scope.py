"""A gate device's key reaches only the event it was made for (server/auth.py).

Another event is answered as an unknown one (404 not_found, same wording), a scan naming
another event is 403, a batch holding another event's check-in is 400 naming the item and
stores nothing, and a ticket of another event scanned under the gate's own event is the
usual verdict `wrong_event`. Organiser keys keep every event.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from hubkit import assert_envelope, client_for, create_event, enrolled, issue

from scanner_app.core.apikeys import ApiKeyStore, DeviceStore
from scanner_app.core.node import Node
from scanner_app.core.timeutil import iso_ms, utc_now
from scanner_app.sync.client import TickitzClient
from scanner_app.sync.push import Pusher
from scanner_app.sync.rounds import RoundReport

AT = "2026-08-10T20:00:00Z"


@dataclass
class Venue:
    a: dict
    b: dict
    a_tickets: list[dict]
    b_tickets: list[dict]
    device: dict


@pytest.fixture
def venue(api) -> Venue:
    a = create_event(api, title="Event A")
    b = create_event(api, title="Event B")
    device = api.post(
        "/v1/devices", json={"name": "North door", "eventId": a["id"], "gate": "north"}
    )
    assert device.status_code == 201, device.text
    return Venue(
        a,
        b,
        issue(api, a["id"], quantity=3),
        issue(api, b["id"], quantity=2),
        enrolled(api, device.json()),
    )


@pytest.fixture
def gate(hub, venue):
    with client_for(hub, venue.device["key"]) as client:
        yield client


def rows(hub_node, event_id: str | None = None) -> int:
    if event_id is None:
        return hub_node.db.query_one("SELECT COUNT(*) FROM checkins")[0]
    sql = "SELECT COUNT(*) FROM checkins WHERE event_id = ?"
    return hub_node.db.query_one(sql, (event_id,))[0]


def item(ticket: dict, checkin_id: str, event_id: str | None = None) -> dict:
    return {
        "id": checkin_id,
        "ticketId": ticket["id"],
        "eventId": event_id or ticket["eventId"],
        "scannedAt": iso_ms(utc_now()),  # after the ticket was made, or it is implausible
        "scannedBy": "north",
        "direction": "in",
        "success": True,
        "reason": None,
        "qrPayload": ticket["qrPayload"],  # the proof of presentation (DESIGN.md §10)
    }


def scan_body(ticket: dict, event_id: str, **extra) -> dict:
    return {"qrPayload": ticket["qrPayload"], "eventId": event_id, "scannedBy": "north", **extra}


# The FastAPI twin of a hot route: a JSON type the fast path leaves to the framework.
TWIN = {"content-type": "application/vnd.tickitz+json"}


def test_listing_shows_only_the_gates_event(gate, api, venue):
    listed = gate.get("/v1/events")
    assert listed.status_code == 200
    assert [e["id"] for e in listed.json()["data"]] == [venue.a["id"]]
    assert [e["id"] for e in gate.get("/v1/events?status=published").json()["data"]] == [
        venue.a["id"]
    ]
    assert gate.get("/v1/events?status=draft").json()["data"] == []
    # An organiser key sees both.
    seen = {e["id"] for e in api.get("/v1/events").json()["data"]}
    assert {venue.a["id"], venue.b["id"]} <= seen


@pytest.mark.parametrize(
    "path",
    [
        "/v1/events/{id}",
        "/v1/events/{id}/keys",
        "/v1/events/{id}/tickets",
        "/v1/events/{id}/tickets?after=0&limit=10",
        "/v1/events/{id}/checkins",
        "/v1/events/{id}/stats",
        "/v1/events/{id}/conflicts",
        "/v1/events/{id}/export.csv",
    ],
)
def test_another_events_resources_look_unknown(gate, api, venue, path):
    refused = assert_envelope(gate.get(path.format(id=venue.b["id"])), 404, "not_found")
    unknown = assert_envelope(gate.get(path.format(id="evt_nope")), 404, "not_found")
    # Worded as for an id that does not exist: nothing says B is there.
    assert refused["message"] == unknown["message"].replace("evt_nope", venue.b["id"])
    assert refused["message"] == f"No event with ID {venue.b['id']} exists."
    assert api.get(path.format(id=venue.b["id"])).status_code == 200  # the organiser's view
    assert gate.get(path.format(id=venue.a["id"])).status_code == 200  # the gate's own event


def test_a_gate_key_reads_no_ticket_token_of_any_event(gate, venue, api):
    """DESIGN.md §10: the ticket by id carries its signed token and the PNG is the token, so
    a gate key gets 403 for both, for its own event's tickets and another's alike (the same
    answer either way: it learns nothing about which ids exist)."""
    messages = set()
    for ticket in (venue.b_tickets[0], venue.a_tickets[0], {"id": "tkt_nosuchticket"}):
        for path in (f"/v1/tickets/{ticket['id']}", f"/v1/tickets/{ticket['id']}/qr.png"):
            error = assert_envelope(gate.get(path), 403, "forbidden")
            assert "Event B" not in error["message"] and ticket["id"] not in error["message"]
            messages.add(error["message"])
    assert len(messages) == 1
    ours = venue.a_tickets[0]["id"]  # the organiser still can
    assert api.get(f"/v1/tickets/{ours}").json()["qrPayload"] == venue.a_tickets[0]["qrPayload"]
    assert api.get(f"/v1/tickets/{ours}/qr.png").content.startswith(b"\x89PNG")


def test_the_gates_own_event_works_fully(gate, api, hub_node, venue):
    a = venue.a["id"]
    assert gate.get(f"/v1/events/{a}").json()["title"] == "Event A"
    assert gate.get(f"/v1/events/{a}/keys").json()["keys"]
    manifest = gate.get(f"/v1/events/{a}/tickets").json()["data"]
    assert {t["id"] for t in manifest} == {t["id"] for t in venue.a_tickets}
    first, second, third = venue.a_tickets
    assert gate.post("/v1/checkin/scan", json=scan_body(first, a)).json()["success"] is True
    again = gate.post("/v1/checkin/scan", content=_json(scan_body(first, a)), headers=TWIN)
    assert again.status_code == 200 and again.json()["reason"] == "already_checked_in"
    answers = gate.post(
        "/v1/checkin/batch", json={"checkins": [item(second, "chk_a2"), item(third, "chk_a3")]}
    ).json()["data"]
    assert [x["status"] for x in answers] == ["recorded", "recorded"]
    feed = gate.get(f"/v1/events/{a}/checkins").json()["data"]
    assert {"chk_a2", "chk_a3"} <= {c["id"] for c in feed} and len(feed) == 4
    assert gate.get(f"/v1/events/{a}/stats").status_code == 200
    assert gate.get(f"/v1/events/{a}/export.csv").text.count("\n") >= 4
    assert rows(hub_node, a) == 4


def test_scanning_another_events_ticket_is_wrong_event_and_recorded(gate, hub_node, venue):
    theirs = venue.b_tickets[0]
    before = rows(hub_node, venue.a["id"])
    for headers in ({}, TWIN):  # the fast path and its FastAPI twin agree
        response = gate.post(
            "/v1/checkin/scan", content=_json(scan_body(theirs, venue.a["id"])), headers=headers
        )
        assert response.status_code == 200, response.text
        verdict = response.json()
        assert verdict["success"] is False and verdict["reason"] == "wrong_event"
    # Recorded as usual, filed under the gate's own event; B has no check-in.
    assert rows(hub_node, venue.a["id"]) == before + 2
    assert rows(hub_node, venue.b["id"]) == 0


def test_a_scan_naming_another_event_is_forbidden(gate, api, hub_node, venue):
    theirs = venue.b_tickets[0]
    before = rows(hub_node)
    for headers in ({}, TWIN):
        body = _json(scan_body(theirs, venue.b["id"], id="chk_sneak"))
        response = gate.post("/v1/checkin/scan", content=body, headers=headers)
        error = assert_envelope(response, 403, "forbidden")
        assert error["field"] == "eventId"
        assert venue.a["id"] in error["message"] and venue.b["id"] in error["message"]
    # Even an unknown event id is refused the same way (nothing to learn from the answer).
    unknown = gate.post("/v1/checkin/scan", json=scan_body(theirs, "evt_nope"))
    assert_envelope(unknown, 403, "forbidden")
    assert rows(hub_node) == before
    # The organiser's key scans B as before.
    assert api.post("/v1/checkin/scan", json=scan_body(theirs, venue.b["id"])).json()["success"]


def test_a_batch_with_another_events_checkin_is_refused_and_not_stored(gate, hub_node, venue):
    ours, theirs = venue.a_tickets[0], venue.b_tickets[0]
    before = rows(hub_node)
    cases = [
        [item(ours, "chk_ok"), item(theirs, "chk_b")],  # B's ticket under B
        [item(ours, "chk_ok"), item(ours, "chk_moved", venue.b["id"])],  # ours claimed for B
        [item(theirs, "chk_b")],
    ]
    for checkins in cases:
        for headers in ({}, TWIN):
            response = gate.post(
                "/v1/checkin/batch", content=_json({"checkins": checkins}), headers=headers
            )
            error = assert_envelope(response, 400, "validation_error")
            assert error["field"] == f"checkins[{len(checkins) - 1}].eventId"
            assert error["message"].startswith(error["field"])
            assert rows(hub_node) == before  # all or nothing: not even the good one
    assert hub_node.db.query_one("SELECT 1 FROM checkins WHERE id = 'chk_ok'") is None
    accepted = gate.post("/v1/checkin/batch", json={"checkins": [item(ours, "chk_ok")]})
    assert accepted.json()["data"][0]["status"] == "recorded"


def test_a_gates_uploader_delivers_its_events_checkins_and_keeps_the_refused(
    hub, gate, venue, hub_node, tmp_path
):
    """The sync Pusher splits a refused batch: B's row is set aside (with its reason, out of
    the outbox so it never blocks it), A's rows arrive."""
    with Node.open(tmp_path / "gate") as node:
        rows_in = [
            item(venue.a_tickets[0], "chk_up_a1"),
            item(venue.b_tickets[0], "chk_up_b"),
            item(venue.a_tickets[1], "chk_up_a2"),
        ]
        node.ledger.merge(rows_in, source="downstream", device_id=node.device_id)
        with TickitzClient(hub.url, venue.device["key"]) as client:
            pusher = Pusher(node, client)
            report = RoundReport()
            pusher.push(report)
        assert set(pusher.refused) == {"chk_up_b"}
        assert node.ledger.pending_count() == 0
        assert node.ledger.set_aside_summary()[0] == 1
    stored = {r[0] for r in hub_node.db.query("SELECT id FROM checkins")}
    assert {"chk_up_a1", "chk_up_a2"} <= stored and "chk_up_b" not in stored


def test_organiser_routes_stay_closed_to_a_gate_key(gate, venue):
    a, b = venue.a["id"], venue.b["id"]
    ticket = venue.a_tickets[0]["id"]
    refused = [
        ("GET", "/v1/devices", None),
        ("POST", "/v1/devices", {"name": "x", "eventId": a, "gate": "g"}),
        ("DELETE", f"/v1/devices/{venue.device['id']}", None),
        ("POST", "/v1/qr.png", {"text": "x"}),
        ("GET", "/v1/webhooks", None),
        ("POST", "/v1/webhooks", {"url": "https://example.com/h", "events": ["ticket.used"]}),
        ("POST", "/v1/events", {"title": "x", "startsAt": AT, "tiers": [{"name": "GA"}]}),
        ("POST", f"/v1/events/{a}/publish", None),
        ("POST", f"/v1/events/{b}/publish", None),
        ("DELETE", f"/v1/events/{b}", None),
        ("POST", f"/v1/events/{a}/tickets", {"tierName": "GA", "quantity": 1}),
        ("POST", f"/v1/events/{b}/tickets", {"tierName": "GA", "quantity": 1}),
        ("POST", f"/v1/tickets/{ticket}/cancel", None),
        ("POST", f"/v1/tickets/{venue.b_tickets[0]['id']}/cancel", None),
    ]
    for method, path, body in refused:
        error = assert_envelope(gate.request(method, path, json=body), 403, "forbidden")
        assert "lacks the" in error["message"], (method, path)
    # Stats, conflicts and the export need bookings:read, which a gate holds: its own event
    # only (the 404s are in test_another_events_resources_look_unknown).
    assert gate.get(f"/v1/events/{a}/conflicts").json() == {"data": []}


def test_a_key_made_beside_the_running_hub_is_bound_too(hub, hub_node, venue):
    """gate_key in tests/sync makes devices with a store of its own (no generation bump)."""
    node = hub_node
    _, secret = DeviceStore(node.db, ApiKeyStore(node.db, node.clock), node.clock).create(
        "side", venue.b["id"], "south"
    )
    with client_for(hub, secret) as side:
        assert [e["id"] for e in side.get("/v1/events").json()["data"]] == [venue.b["id"]]
        assert_envelope(side.get(f"/v1/events/{venue.a['id']}/tickets"), 404, "not_found")
        assert side.get(f"/v1/events/{venue.b['id']}/tickets").status_code == 200


def test_a_revoked_gate_key_is_refused_at_once(gate, api, venue):
    assert gate.get("/v1/events").status_code == 200
    api.delete(f"/v1/devices/{venue.device['id']}")
    assert_envelope(gate.get(f"/v1/events/{venue.a['id']}"), 401, "unauthorized")
    assert_envelope(gate.get(f"/v1/events/{venue.b['id']}"), 401, "unauthorized")


def test_organiser_key_reaches_every_event(api, venue):
    for event in (venue.a, venue.b):
        assert api.get(f"/v1/events/{event['id']}/tickets").status_code == 200
        assert api.get(f"/v1/events/{event['id']}/checkins").status_code == 200
    batch = [item(venue.a_tickets[0], "chk_org_a"), item(venue.b_tickets[0], "chk_org_b")]
    answers = api.post("/v1/checkin/batch", json={"checkins": batch}).json()["data"]
    assert [x["status"] for x in answers] == ["recorded", "recorded"]


def _json(body: dict) -> bytes:
    return httpx.Request("POST", "http://x", json=body).content


def test_naming_another_events_ticket_under_ours_learns_nothing(gate, hub_node, venue):
    """A check-in filed under the gate's event with B's ticket id is stored as sent, but
    the hub does not fill in B's attendee name or tier from its manifest."""
    theirs = venue.b_tickets[0]
    probe = {**item(theirs, "chk_probe", venue.a["id"]), "success": False, "reason": "malformed"}
    response = gate.post("/v1/checkin/batch", json={"checkins": [probe]})
    assert response.status_code == 200, response.text
    feed = gate.get(f"/v1/events/{venue.a['id']}/checkins").json()["data"]
    stored = next(c for c in feed if c["id"] == "chk_probe")
    assert stored.get("attendeeName") is None and stored.get("tierName") is None


def test_a_whole_foreign_event_is_set_aside_in_one_request(hub, gate, venue, hub_node, tmp_path):
    """The refusal names `checkins[i].eventId`: every row of that event is set aside at
    once (bisecting 200 refused rows would cost hundreds of requests and the rate limit)."""
    requests: list[str] = []

    class Counting(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            requests.append(request.url.path)
            return super().handle_request(request)

    foreign = [item(venue.b_tickets[i % 2], f"chk_b{i:03}") for i in range(200)]
    ours = [item(venue.a_tickets[0], "chk_a1"), item(venue.a_tickets[1], "chk_a2")]
    with Node.open(tmp_path / "gate") as node:
        node.ledger.merge(
            ours[:1] + foreign + ours[1:], source="downstream", device_id=node.device_id
        )
        with TickitzClient(hub.url, venue.device["key"], transport=Counting()) as client:
            pusher = Pusher(node, client)
            report = RoundReport()
            pusher.push(report)
        assert set(pusher.refused) == {row["id"] for row in foreign}
        assert report.pushed == 2 and node.ledger.pending_count() == 0
        assert node.ledger.set_aside_summary()[0] == 200
    assert requests == ["/v1/checkin/batch", "/v1/checkin/batch"]
    stored = {r[0] for r in hub_node.db.query("SELECT id FROM checkins")}
    assert {"chk_a1", "chk_a2"} <= stored and not stored & set(pusher.refused)
