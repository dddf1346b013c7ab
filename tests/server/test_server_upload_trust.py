"""Uploads a gate key cannot abuse (DESIGN.md §10, issue 10 item 5, issue 14 item 5).

Against the real hub under uvicorn: check-in ids and `voids` reach the caller's own event
only, and a batch's answers are computed after the whole batch is applied, so a resend
answers exactly what the first send did.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from hubkit import assert_envelope, client_for, create_event, enrolled, issue

from scanner_app.core.timeutil import iso_ms
from scanner_app.core.tokens import TicketClaims, sign_ticket


def ago(minutes: float) -> str:
    return iso_ms(datetime.now(UTC) - timedelta(minutes=minutes))


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
        made[name] = enrolled(api, response.json())
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


def admission(ticket: dict, checkin_id: str, at: str | None = None, **extra) -> dict:
    body = {
        "id": checkin_id,
        "ticketId": ticket["id"],
        "eventId": ticket["eventId"],
        "scannedAt": at or ago(0),
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
    at, later = ago(0), ago(-1)  # door times after the tickets were issued
    batch = {
        "checkins": [
            admission(ticket, "chk_later", later, scannedBy="south"),
            admission(ticket, "chk_earlier", at),
        ]
    }
    first = gate_a.post("/v1/checkin/batch", json=batch).json()["data"]
    assert [a["status"] for a in first] == ["conflict", "recorded"]
    # A gate key's rows are filed under the gate it was enrolled as ("a"), whatever the body says.
    assert first[0]["firstCheckedInAt"] == at and first[0]["firstScannedBy"] == "a"
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
        "scannedAt": ago(-1),
        "scannedBy": "north",
        "success": True,
        "reason": None,
        "kind": "void",
        "voids": "chk_b1",
    }
    assert gate_a.post("/v1/checkin/batch", json={"checkins": [void]}).status_code == 200
    assert stats(api, venue["b"]["id"])["checkedIn"] == 1  # B's admission still stands
    assert stats(api, venue["a"]["id"])["checkedIn"] == 0


def forged(hub_node, event_id: str, ticket_id: str, iat: int | None = None) -> str:
    """A token signed with the event's real key for a ticket id the hub never issued (what a
    leaked signing key or an insider could make): its signature verifies."""
    claims = TicketClaims(jti=ticket_id, evt=event_id, tier="GA", iat=iat or int(time.time()))
    return sign_ticket(claims, hub_node.events.signing_key(event_id))


def test_uploads_that_cannot_prove_presentation_are_refused_and_change_no_stats(
    gates, venue, api, hub_node
):
    gate_a, _ = gates
    event_id = venue["a"]["id"]
    one, two, three = venue["a_tickets"]
    cancelled = api.post(f"/v1/tickets/{three['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    before = stats(api, event_id)
    abuse = [
        # no proof at all: a gate key claiming an admission of every ticket
        ({**admission(one, "chk_bare"), "qrPayload": None}, "missing_proof"),
        # back-dated to 2020 (before the token was made and the gate enrolled)
        (admission(one, "chk_2020", "2020-01-01T10:00:00.000Z"), "implausible_time"),
        # "by hand" does not lift the time checks: before the gate was enrolled
        (
            {**admission(one, "chk_hand_2020", "2020-01-01T10:00:00.000Z"), "kind": "manual"}
            | {"qrPayload": None},
            "implausible_time",
        ),
        # a door time an hour ahead of the hub's clock
        (admission(one, "chk_future", ago(-60)), "implausible_time"),
        # another ticket's token under this ticket's id
        (admission(one, "chk_swap", qrPayload=two["qrPayload"]), "bad_proof"),
        # a token with its signature bytes damaged
        (admission(one, "chk_tamper", qrPayload=one["qrPayload"][:-4] + "AAAA"), "bad_proof"),
        # not a token
        (admission(one, "chk_junk", qrPayload="hello"), "bad_proof"),
        # a validly signed token of a ticket id the manifest does not hold
        (
            {
                **admission(one, "chk_ghost", qrPayload=forged(hub_node, event_id, "tkt_ghost")),
                "ticketId": "tkt_ghost",
            },
            "unknown_ticket",
        ),
        # a ticket cancelled before its door time
        (admission(three, "chk_cancelled"), "revoked"),
    ]
    batch = {"checkins": [item for item, _ in abuse]}
    answers = gate_a.post("/v1/checkin/batch", json=batch).json()["data"]
    assert [(a["status"], a["reason"]) for a in answers] == [("refused", why) for _, why in abuse]
    assert gate_a.post("/v1/checkin/batch", json=batch).json()["data"] == answers  # resend
    after = stats(api, event_id)
    assert after == before  # checkedIn, scans, rejected, conflicts: nothing counts
    # Kept as audit on the hub, never forwarded upstream, never in the gates' feed.
    kept = hub_node.db.query(
        "SELECT id, refused, success, pushed_at FROM checkins WHERE refused IS NOT NULL"
    )
    assert {r["id"] for r in kept} == {item["id"] for item, _ in abuse}
    assert all(r["success"] == 0 and r["pushed_at"] for r in kept)
    feed = gate_a.get(f"/v1/events/{event_id}/checkins").json()["data"]
    assert not {c["id"] for c in feed} & {item["id"] for item, _ in abuse}
    # A refused row makes nobody a duplicate: the real holder of ticket one gets in.
    real = gate_a.post(
        "/v1/checkin/scan",
        json={"qrPayload": one["qrPayload"], "eventId": event_id, "scannedBy": "north"},
    ).json()
    assert real["success"] is True and real["reason"] is None
    assert stats(api, event_id)["checkedIn"] == before["checkedIn"] + 1


def test_an_admission_by_hand_needs_no_token_and_counts(gates, venue, api):
    """Staff check a guest in by name (phone dead, no QR): the gate has no token to send, so
    the admission stands on the gate's enrolment and a plausible door time."""
    gate_a, _ = gates
    event_id = venue["a"]["id"]
    ticket = venue["a_tickets"][0]
    before = stats(api, event_id)["checkedIn"]
    by_hand = {**admission(ticket, "chk_by_hand"), "kind": "manual", "qrPayload": None}
    answers = gate_a.post("/v1/checkin/batch", json={"checkins": [by_hand]}).json()["data"]
    assert [a["status"] for a in answers] == ["recorded"]
    assert stats(api, event_id)["checkedIn"] == before + 1


def test_a_proof_the_hub_did_not_issue_is_checked_by_signature(gates, venue, api, hub_node):
    """A token this hub holds is compared; one it does not hold (re-issued elsewhere, say)
    is verified against the event's keys and accepted when it is genuine."""
    gate_a, _ = gates
    one = venue["a_tickets"][0]
    other_token = forged(hub_node, one["eventId"], one["id"], iat=int(time.time()) - 60)
    assert other_token != one["qrPayload"]
    answer = gate_a.post(
        "/v1/checkin/batch", json={"checkins": [admission(one, "chk_sig", qrPayload=other_token)]}
    ).json()["data"][0]
    assert answer["status"] == "recorded" and answer["reason"] is None
    assert stats(api, one["eventId"])["checkedIn"] == 1
    stored = hub_node.db.query_one("SELECT proof FROM checkins WHERE id = 'chk_sig'")
    assert stored["proof"] == other_token


def test_the_export_says_why_a_refused_upload_does_not_count(gates, venue, api):
    """Refused rows are the audit trail (DESIGN.md §10): in the export they read as failed
    scans with no reason unless the refusal itself is there."""
    gate_a, _ = gates
    event_id = venue["a"]["id"]
    one, two, _ = venue["a_tickets"]
    batch = {
        "checkins": [
            admission(one, "chk_backdated", "2020-01-01T10:00:00.000Z"),
            admission(two, "chk_real"),
            # an undo sent with success false is not a refusal of anyone at the door
            {**admission(two, "chk_undo", success=False, kind="void"), "voids": "chk_none"},
        ]
    }
    answers = gate_a.post("/v1/checkin/batch", json=batch).json()["data"]
    assert [a["status"] for a in answers] == ["refused", "recorded", "recorded"]
    rows = {r["checkinId"]: r for r in api.get(f"/v1/events/{event_id}/export.json").json()}
    assert rows["chk_backdated"]["refused"] == "implausible_time"
    assert rows["chk_backdated"]["success"] is False
    assert rows["chk_real"]["refused"] is None and rows["chk_real"]["success"] is True
    header, *lines = api.get(f"/v1/events/{event_id}/export.csv").text.splitlines()
    assert header.split(",")[-1] == "refused"
    assert [line for line in lines if "chk_backdated" in line][0].endswith(",implausible_time")
    assert stats(api, event_id)["rejected"] == {}  # neither counts as a refused scan
