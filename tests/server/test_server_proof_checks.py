"""Proofs checked ahead of the hub's writer (DESIGN.md §10, issue 10 item 8).

Against the real hub under uvicorn: a batch with enough signed proofs goes to the worker
processes (core/proof_signatures.py) and still gets every refusal the writer made itself
(forged, wrong ticket, wrong event, unknown key, implausible times); a resend answers the
same without verifying anything again; a cached verification ends with its key.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from hubkit import client_for, create_event, enrolled, issue

from scanner_app.core.keys import generate_signing_key
from scanner_app.core.proof_signatures import POOL_FROM
from scanner_app.core.timeutil import iso_ms
from scanner_app.core.tokens import TicketClaims, sign_ticket

TICKETS = 60


def now_iso(minutes: float = 0) -> str:
    return iso_ms(datetime.now(UTC) + timedelta(minutes=minutes))


@pytest.fixture
def venue(api):
    a = create_event(api, title="Event A", tiers=[{"name": "GA", "quantity": TICKETS}])
    b = create_event(api, title="Event B")
    device = api.post("/v1/devices", json={"name": "door a", "eventId": a["id"], "gate": "a"})
    assert device.status_code == 201, device.text
    return {
        "a": a,
        "tickets": issue(api, a["id"], quantity=TICKETS),
        "b_ticket": issue(api, b["id"])[0],
        "key": enrolled(api, device.json())["key"],
    }


def resigned(hub_node, ticket: dict, **claims) -> str:
    """A genuine token for `ticket` that is not the one the hub holds (another iat): the
    hub can only verify it by signature."""
    fields = {"jti": ticket["id"], "evt": ticket["eventId"], "tier": "GA"}
    fields |= {"iat": int(time.time()) - 60, **claims}
    return sign_ticket(TicketClaims(**fields), hub_node.events.signing_key(ticket["eventId"]))


def admission(ticket: dict, checkin_id: str, token: str, at: str | None = None) -> dict:
    return {
        "id": checkin_id,
        "ticketId": ticket["id"],
        "eventId": ticket["eventId"],
        "scannedAt": at or now_iso(),
        "scannedBy": "north",
        "direction": "in",
        "success": True,
        "qrPayload": token,
    }


def checked_in(api, event_id: str) -> int:
    return api.get(f"/v1/events/{event_id}/stats").json()["checkedIn"]


def test_a_big_batch_of_signed_proofs_is_checked_in_workers_with_every_refusal(
    hub, hub_node, api, venue
):
    tickets = venue["tickets"]
    stranger = generate_signing_key()  # a key that is not in the event's set
    alien = TicketClaims(jti=tickets[56]["id"], evt=venue["a"]["id"], tier="GA", iat=0)
    genuine = [(t, resigned(hub_node, t), "recorded", None) for t in tickets[:50]]
    abuse = [
        (tickets[50], resigned(hub_node, tickets[50])[:-4] + "AAAA", "refused", "bad_proof"),
        (tickets[51], resigned(hub_node, tickets[52]), "refused", "bad_proof"),  # other ticket
        (tickets[53], venue["b_ticket"]["qrPayload"], "refused", "bad_proof"),  # other event
        (
            tickets[54],
            resigned(hub_node, tickets[54], exp=int(time.time()) - 3600),
            "refused",
            "implausible_time",
        ),  # expired before its door time
        (
            tickets[55],
            resigned(hub_node, tickets[55], nbf=int(time.time()) + 3600),
            "refused",
            "implausible_time",
        ),  # not valid until an hour after its door time
        (
            tickets[56],
            sign_ticket(alien, stranger),
            "refused",
            "bad_proof",
        ),  # signed by a key the event does not have
    ]
    rows = [
        admission(t, f"chk_p{i:02d}", token) for i, (t, token, *_) in enumerate(genuine + abuse)
    ]
    # Back-dated before the token was made: the door time is the row's, not the cache's.
    late = resigned(hub_node, tickets[57])
    rows.append(admission(tickets[57], "chk_2020", late, "2020-01-01T10:00:00.000Z"))
    expected = [(status, why) for *_, status, why in genuine + abuse]
    expected.append(("refused", "implausible_time"))
    checks = hub.app.state.hub.proofs.signatures
    assert len(rows) >= POOL_FROM
    with client_for(hub, venue["key"]) as gate:
        answers = gate.post("/v1/checkin/batch", json={"checkins": rows}).json()["data"]
        assert [(a["status"], a["reason"]) for a in answers] == expected
        assert checks.verified_in_pool == len(rows)  # none was verified by the writer
        assert checked_in(api, venue["a"]["id"]) == 50
        again = gate.post("/v1/checkin/batch", json={"checkins": rows}).json()["data"]
        assert again == answers
        assert checks.verified_in_pool == len(rows)  # the resend verified nothing again
        # The same genuine tokens under new ids are conflicts (each verified once, ever);
        # the forged ones are still refused.
        renamed = [{**row, "id": row["id"] + "_again"} for row in rows]
        third = gate.post("/v1/checkin/batch", json={"checkins": renamed}).json()["data"]
        assert [a["status"] for a in third[:50]] == ["conflict"] * 50
        assert [(a["status"], a["reason"]) for a in third[50:]] == expected[50:]
    assert checked_in(api, venue["a"]["id"]) == 50


def test_a_cached_verification_ends_with_its_key(hub, hub_node, api, venue):
    ticket = venue["tickets"][0]
    event_id = venue["a"]["id"]
    token = resigned(hub_node, ticket)
    old_kid = hub_node.events.signing_key(event_id).kid

    def upload(checkin_id: str, proof: str) -> tuple[str, str | None]:
        batch = {"checkins": [admission(ticket, checkin_id, proof)]}
        answer = gate.post("/v1/checkin/batch", json=batch).json()["data"][0]
        return answer["status"], answer["reason"]

    with client_for(hub, venue["key"]) as gate:
        assert upload("chk_k1", token) == ("recorded", None)
        hub_node.events.rotate_key(event_id)
        hub_node.events.retire_key(event_id, old_kid)  # the key leaked: its tokens stop here
        assert upload("chk_k2", token) == ("refused", "bad_proof")
        assert upload("chk_k1", token) == ("recorded", None)  # a resend: the stored answer
        # A token signed with the new key verifies: a second admission of the ticket.
        assert upload("chk_k3", resigned(hub_node, ticket)) == ("conflict", None)
    assert checked_in(api, event_id) == 1


def test_a_mixed_batch_sends_only_the_tokens_the_hub_does_not_hold(hub, hub_node, api, venue):
    tickets = venue["tickets"]
    held = [admission(t, f"chk_h{i:02d}", t["qrPayload"]) for i, t in enumerate(tickets[:4])]
    signed = [
        admission(t, f"chk_s{i:02d}", resigned(hub_node, t)) for i, t in enumerate(tickets[4:])
    ]
    checks = hub.app.state.hub.proofs.signatures
    with client_for(hub, venue["key"]) as gate:
        batch = {"checkins": held + signed}
        answers = gate.post("/v1/checkin/batch", json=batch).json()["data"]
    assert [a["status"] for a in answers] == ["recorded"] * TICKETS
    assert checks.verified_in_pool == len(signed)  # the held ones were compared, not verified
    assert checked_in(api, venue["a"]["id"]) == TICKETS
